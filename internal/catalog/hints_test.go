package catalog

import "testing"

func TestCredentialHints(t *testing.T) {
	for raw, warn := range map[string]bool{
		"http://127.0.0.1:11434/v1":            false,
		"http://127.0.0.1:11434/v1/":           false,
		"https://gpu.example.com/openai/v1":    false,
		"https://gpu.example.com/api/v1beta":   false,
		"http://127.0.0.1:11434":               true,
		"https://gpu.example.com/":             true,
		"https://gpu.example.com/openai":       true,
		"https://user:pw@gpu.example.com/nope": false, // invalid: ValidateCredential reports it
	} {
		got := CredentialHints("custom", map[string]string{"base_url": raw})
		if (len(got) > 0) != warn {
			t.Errorf("CredentialHints(%q) = %v, want a warning: %v", raw, got, warn)
		}
	}
	if got := CredentialHints("openai", map[string]string{"base_url": "https://proxy.example.com"}); got != nil {
		t.Errorf("openai: %v", got)
	}
}
