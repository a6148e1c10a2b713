package catalog

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

var versionSuffix = regexp.MustCompile(`/v[0-9]+[a-z0-9]*$`)

// CredentialHints returns warnings about a credential that is valid but probably not what was meant,
// with Field as in ValidateCredential. Today: a custom server's base_url without a version suffix
// (/v1), which OpenAI-compatible servers serve their API under.
func CredentialHints(providerID string, settings map[string]string) []api.FieldError {
	if providerID != "custom" {
		return nil
	}
	raw, ok := settings["base_url"]
	if !ok || checkURL(raw) != "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || versionSuffix.MatchString(strings.TrimRight(u.Path, "/")) {
		return nil
	}
	return []api.FieldError{{Field: "settings.base_url", Message: fmt.Sprintf(
		"base_url %q has no version suffix such as /v1: OpenAI-compatible servers (Ollama, vLLM, sglang) serve the API under /v1, "+
			"so requests would go to %s/models and likely fail. Add the suffix (for example %s/v1), unless this server serves the API at its root.",
		raw, strings.TrimRight(raw, "/"), strings.TrimRight(raw, "/"))}}
}
