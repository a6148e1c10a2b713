package verify

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// summary words a provider's non-2xx answer: "HTTP 401: <its message>", trimmed, with secrets redacted.
func summary(status int, body []byte, red func(string) string) string {
	msg := red(errorMessage(body))
	if msg == "" {
		msg = http.StatusText(status)
	}
	return fmt.Sprintf("HTTP %d: %s", status, trim(msg, maxSummary))
}

// errorMessage finds the human message in the error shapes providers send:
// {"error":{"message":...}} (OpenAI, Anthropic, Google, Azure), {"error":"..."} with an optional
// "error_description" (OAuth), {"message":...} or {"Message":...} (AWS, Databricks, Portkey),
// {"detail":...} (FastAPI servers), and otherwise the body as text.
func errorMessage(body []byte) string {
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err == nil {
		if m := messageOf(doc); m != "" {
			return m
		}
	}
	var arr []map[string]any // Gemini behind some proxies answers a one-element array
	if err := json.Unmarshal(body, &arr); err == nil && len(arr) > 0 {
		if m := messageOf(arr[0]); m != "" {
			return m
		}
	}
	text := string(body)
	if !utf8.ValidString(text) {
		return ""
	}
	text = htmlTags.ReplaceAllString(text, " ")
	return strings.Join(strings.Fields(text), " ")
}

var htmlTags = regexp.MustCompile(`<[^>]*>`)

func messageOf(doc map[string]any) string {
	switch e := doc["error"].(type) {
	case map[string]any:
		if m := messageOf(e); m != "" {
			return m
		}
		if s, ok := e["code"].(string); ok && s != "" {
			return s
		}
	case string:
		if d, ok := doc["error_description"].(string); ok && d != "" {
			return e + ": " + d
		}
		if e != "" {
			return e
		}
	}
	for _, k := range []string{"message", "Message", "detail", "error_message"} {
		if s, ok := doc[k].(string); ok && strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

func trim(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n])) + "…"
}

// newRedactor replaces every secret (and, for a service-account file, its private key and the lines
// of it) with "[redacted]". Longest first, so that one secret containing another is wholly removed.
func newRedactor(secrets map[string]string) func(string) string {
	var values []string
	for _, v := range secrets {
		v = strings.TrimSpace(v)
		if len(v) >= 4 {
			values = append(values, v)
		}
		if sa, err := parseServiceAccount(v); err == nil {
			for _, line := range strings.Split(sa.PrivateKey, "\n") {
				if len(line) >= 16 {
					values = append(values, line)
				}
			}
		}
	}
	sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
	return func(s string) string {
		for _, v := range values {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
		return s
	}
}
