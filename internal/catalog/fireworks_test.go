package catalog

import "testing"

func TestFireworksBaseURL(t *testing.T) {
	if errs := ValidateCredential("fireworks", nil, true, false); errs != nil {
		t.Errorf("fireworks without base_url: %v", errs)
	}
	if errs := ValidateCredential("fireworks", map[string]string{"base_url": "https://fw-proxy.example.com/inference/v1"}, true, false); errs != nil {
		t.Errorf("fireworks with base_url: %v", errs)
	}
	if errs := ValidateCredential("fireworks", map[string]string{"base_url": "http://fw-proxy.example.com/v1"}, true, false); len(errs) != 1 || errs[0].Field != "settings.base_url" {
		t.Errorf("fireworks with a cleartext remote base_url: %v", errs)
	}
}
