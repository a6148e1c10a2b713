package catalog

import (
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

func TestProviderCategories(t *testing.T) {
	want := map[string]string{"openai": api.CategoryModelProvider, "bedrock": api.CategoryCloud, "portkey": api.CategoryGateway, "custom": api.CategorySelfHosted}
	for id, cat := range want {
		if p, _ := Provider(id); p.Category != cat {
			t.Errorf("%s has category %q, want %q", id, p.Category, cat)
		}
	}
	bad := Providers()[0]
	bad.Category = "cloudy"
	if errs := checkProvider(&bad); len(errs) == 0 {
		t.Error("an unknown category passes the integrity check")
	}
}
