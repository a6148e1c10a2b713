package catalog

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// idPattern is the shape of provider ids and setting names: they become HCL map keys and JSON
// field names, so they stay lowercase snake_case.
var idPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// publisherPattern is the shape of publisher ids, which users write in model policies.
var publisherPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// knownModalities are the modality names the catalog may use; HasCapability relies on them.
var knownModalities = map[string]bool{"text": true, "image": true, "audio": true, "video": true, "pdf": true}

// secretNames are the only secret fields a credential has (see api.SecretAPIKey).
var secretNames = map[string]bool{api.SecretAPIKey: true, api.SecretAuthToken: true}

// validateFile checks the whole catalog and reports every problem at once, so fixing the data file
// takes one test run rather than one per mistake.
func validateFile(f *file) error {
	var errs []error
	if len(f.Providers) == 0 {
		errs = append(errs, errors.New("the catalog has no providers"))
	}
	ids := map[string]bool{}
	for i := range f.Providers {
		p := &f.Providers[i]
		if ids[p.ID] {
			errs = append(errs, fmt.Errorf("provider %q appears twice", p.ID))
		}
		ids[p.ID] = true
		errs = append(errs, checkProvider(p)...)
	}
	seen := map[modelKey]bool{}
	for i := range f.Models {
		m := &f.Models[i]
		k := modelKey{m.Provider, m.ID}
		if seen[k] {
			errs = append(errs, fmt.Errorf("model %s/%s appears twice", m.Provider, m.ID))
		}
		seen[k] = true
		errs = append(errs, checkModel(m, ids)...)
	}
	return errors.Join(errs...)
}

func checkProvider(p *api.Provider) []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("provider %q: "+format, append([]any{p.ID}, args...)...))
	}
	if !idPattern.MatchString(p.ID) {
		bad("the id must match %s", idPattern)
	}
	if p.DisplayName == "" {
		bad("display_name is empty")
	}
	if !slices.Contains(api.ProviderCategories, p.Category) {
		bad("category %q is not one of %v", p.Category, api.ProviderCategories)
	}
	if u, err := url.Parse(p.DocsURL); err != nil || u.Scheme != "https" || u.Host == "" {
		bad("docs_url %q is not an https URL", p.DocsURL)
	}
	if p.DefaultBaseURL != "" {
		if msg := checkURL(p.DefaultBaseURL); msg != "" {
			bad("default_base_url %q: %s", p.DefaultBaseURL, msg)
		}
	}
	if len(p.AuthMethods) == 0 {
		bad("auth_methods is empty")
	}
	if len(p.Secrets) == 0 {
		bad("secrets is empty; every provider takes at least an optional api_key")
	}
	errs = append(errs, checkSettingDefs(p)...)
	errs = append(errs, checkSecretDefs(p)...)
	errs = append(errs, checkAuthMethodDefs(p)...)
	errs = append(errs, checkSettingRoles(p)...)
	return errs
}

func checkSettingDefs(p *api.Provider) []error {
	var errs []error
	names := map[string]bool{}
	for _, s := range p.Settings {
		where := fmt.Sprintf("provider %q: setting %q", p.ID, s.Name)
		switch {
		case !idPattern.MatchString(s.Name):
			errs = append(errs, fmt.Errorf("%s: the name must match %s", where, idPattern))
		case secretNames[s.Name]:
			errs = append(errs, fmt.Errorf("%s: secrets belong in secrets, not settings", where))
		case names[s.Name]:
			errs = append(errs, fmt.Errorf("%s appears twice", where))
		}
		names[s.Name] = true
		if s.Description == "" {
			errs = append(errs, fmt.Errorf("%s: description is empty", where))
		}
		if IsURLSetting(s.Name) && s.Example != "" {
			if msg := checkURL(s.Example); msg != "" {
				errs = append(errs, fmt.Errorf("%s: example %q: %s", where, s.Example, msg))
			}
		}
	}
	return errs
}

func checkSecretDefs(p *api.Provider) []error {
	var errs []error
	names := map[string]bool{}
	for _, s := range p.Secrets {
		where := fmt.Sprintf("provider %q: secret %q", p.ID, s.Name)
		if !secretNames[s.Name] {
			errs = append(errs, fmt.Errorf("%s: a secret must be %s or %s", where, api.SecretAPIKey, api.SecretAuthToken))
		}
		if names[s.Name] {
			errs = append(errs, fmt.Errorf("%s appears twice", where))
		}
		names[s.Name] = true
		if s.Description == "" {
			errs = append(errs, fmt.Errorf("%s: description is empty", where))
		}
	}
	return errs
}

func checkModel(m *api.Model, providers map[string]bool) []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("model %s/%s: "+format, append([]any{m.Provider, m.ID}, args...)...))
	}
	if m.ID == "" {
		bad("id is empty")
	}
	if !providers[m.Provider] {
		bad("provider %q is not in the catalog", m.Provider)
	}
	if !publisherPattern.MatchString(m.Publisher) {
		bad("publisher %q must match %s", m.Publisher, publisherPattern)
	}
	if m.DisplayName == "" {
		bad("display_name is empty")
	}
	if m.ContextWindow < 0 {
		bad("context_window must not be negative (0: not published, as for image models)")
	}
	if m.MaxOutputTokens < 0 {
		bad("max_output_tokens must not be negative")
	}
	if m.Allowed {
		bad("allowed depends on the caller's policy and must not be set in the catalog")
	}
	for _, list := range [][]string{m.InputModalities, m.OutputModalities} {
		if len(list) == 0 {
			bad("a modality list is empty")
		}
		for _, mod := range list {
			if !knownModalities[mod] {
				bad("unknown modality %q", mod)
			}
		}
	}
	return errs
}
