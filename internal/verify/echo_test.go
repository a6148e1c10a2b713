package verify

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
)

const hostile = "SECRET-INTERNAL-PAGE"

// TestVerifyNeverEchoesBodies: whatever an answer holds outside a provider's documented error shape,
// and whatever a 2xx holds that is not a model list, none of it reaches a message or an error.
func TestVerifyNeverEchoesBodies(t *testing.T) {
	p, _ := catalog.Provider("custom")
	ctx := context.Background()
	secrets := map[string]string{api.SecretAPIKey: goodKey}
	for _, tc := range []struct {
		status int
		body   string
	}{
		{401, `<html><body>` + hostile + `</body></html>`},
		{403, hostile},
		{500, `{"detail":"` + hostile + `"}`},
		{404, `{"error":"` + hostile + `"}`},
		{502, `{"error":{"code":"` + hostile + ` x"}}`},
		{400, `{"data":[{"id":"` + hostile + `"}]}`},
		{200, `{"config":"` + hostile + `"}`},
		{200, `<html>` + hostile + `</html>`},
		{200, `{"data":[{"id":"` + hostile + ` with spaces"}]}`},
		{200, `{"data":[{"id":"ok"},{"id":"` + strings.Repeat("x", 300) + hostile + `"}]}`},
		{200, `{"data":"` + hostile + `"}`},
		{200, `{"data":[{"id":"line\n` + hostile + `"}]}`},
	} {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tc.status)
			_, _ = w.Write([]byte(tc.body))
		}))
		v := New(Options{})
		settings := map[string]string{"base_url": ts.URL}
		r := v.Verify(ctx, p, settings, secrets)
		models, err := v.ListModels(ctx, p, settings, secrets)
		ts.Close()
		if strings.Contains(r.Message, hostile) {
			t.Errorf("HTTP %d %s: status message %q echoes the body", tc.status, tc.body, r.Message)
		}
		if err == nil {
			t.Errorf("HTTP %d %s: ListModels = %q, want an error", tc.status, tc.body, models)
		} else if strings.Contains(err.Error(), hostile) {
			t.Errorf("HTTP %d %s: ListModels error %q echoes the body", tc.status, tc.body, err)
		}
	}
}

// TestVerifyNeverEchoesBanners: a service that does not speak HTTP (Redis, SSH) answers with a
// banner, which net/http quotes in its error; the message must not.
func TestVerifyNeverEchoesBanners(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			// Answer after the request is in, as such a server does; writing first would race the
			// client's write and end in a reset instead of a reply.
			for rd := bufio.NewReader(c); ; {
				if line, err := rd.ReadString('\n'); err != nil || line == "\r\n" {
					break
				}
			}
			_, _ = c.Write([]byte("-ERR " + hostile + " redis-ish banner\r\n\r\n"))
			_ = c.Close()
		}
	}()
	p, _ := catalog.Provider("custom")
	v := New(Options{})
	settings := map[string]string{"base_url": "http://" + ln.Addr().String()}
	r := v.Verify(context.Background(), p, settings, map[string]string{api.SecretAPIKey: goodKey})
	_, lerr := v.ListModels(context.Background(), p, settings, map[string]string{api.SecretAPIKey: goodKey})
	if r.OK || strings.Contains(r.Message, hostile) || lerr == nil || strings.Contains(lerr.Error(), hostile) {
		t.Errorf("banner echoed: %+v / %v", r, lerr)
	}
	t.Logf("message: %s; list: %v", r.Message, lerr)
	if !strings.Contains(r.Message, "not HTTP") && !strings.Contains(r.Message, "closed before an answer") {
		t.Errorf("message %q does not say what happened", r.Message)
	}
}

// TestVerifyShowsDocumentedErrorsRedacted: a provider's documented error message is shown, trimmed to
// 200 characters, with the key and anything key-shaped redacted.
func TestVerifyShowsDocumentedErrorsRedacted(t *testing.T) {
	const otherToken = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
	const awsSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	for name, body := range map[string]string{
		"openai":    `{"error":{"message":"Incorrect API key provided: ` + badKey + `. Also ` + otherToken + ` is not valid. ` + strings.Repeat("padding ", 60) + `","type":"invalid_request_error"}}`,
		"anthropic": `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key ` + badKey + ` or ` + otherToken + `"}}`,
		"gemini":    `{"error":{"code":401,"message":"API key ` + badKey + ` not valid ` + otherToken + `","status":"UNAUTHENTICATED"}}`,
		"azure":     `{"error":{"code":"401","message":"Access denied for ` + badKey + ` ` + otherToken + `"}}`,
		"bedrock":   `{"message":"The security token ` + awsSecret + ` ` + otherToken + ` is invalid"}`,
		"aws":       `{"Message":"The security token ` + awsSecret + ` ` + otherToken + ` is invalid"}`,
	} {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(401)
			_, _ = w.Write([]byte(body))
		}))
		p, _ := catalog.Provider("custom")
		secrets := map[string]string{api.SecretAPIKey: badKey, api.SecretAuthToken: awsSecret}
		r := New(Options{}).Verify(context.Background(), p, map[string]string{"base_url": ts.URL}, secrets)
		ts.Close()
		msg := strings.TrimPrefix(r.Message, "HTTP 401: ")
		switch {
		case !r.Refused || msg == r.Message:
			t.Errorf("%s: %+v, want a refusal with the provider's message", name, r)
		case strings.Contains(msg, badKey) || strings.Contains(msg, otherToken) || strings.Contains(msg, awsSecret) || strings.Contains(msg, "sk-proj"):
			t.Errorf("%s: %q shows a key", name, msg)
		case !strings.Contains(msg, "[redacted]"):
			t.Errorf("%s: %q has no [redacted]", name, msg)
		case len([]rune(msg)) > maxSummary+1:
			t.Errorf("%s: %d characters, more than %d", name, len([]rune(msg)), maxSummary)
		}
	}
}
