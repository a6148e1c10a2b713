package catalog

import (
	"fmt"
	"slices"
	"strings"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// AuthMethod returns the authentication method a credential of p uses: the auth_method setting when
// set; otherwise the method implied by a setting that belongs to methods other than the default (a
// Bedrock access_key_id means sigv4, as before auth_method existed); otherwise the provider's default,
// its first auth method. It returns "" for a provider without an auth_method setting.
func AuthMethod(p api.Provider, settings map[string]string) string {
	m, _ := authMethod(p, settings)
	return m
}

// authMethod is AuthMethod with how the method was chosen, for messages. Empty settings imply
// nothing: they are reported as empty.
func authMethod(p api.Provider, settings map[string]string) (method, how string) {
	def, ok := settingDef(p, api.SettingAuthMethod)
	if !ok || len(def.AllowedValues) == 0 {
		return "", ""
	}
	if m := strings.TrimSpace(settings[api.SettingAuthMethod]); m != "" {
		return m, fmt.Sprintf("auth_method %q", m)
	}
	dflt := def.AllowedValues[0]
	for _, s := range p.Settings {
		if strings.TrimSpace(settings[s.Name]) != "" && len(s.AuthMethods) > 0 && !slices.Contains(s.AuthMethods, dflt) {
			return s.AuthMethods[0], fmt.Sprintf("auth_method %q (implied by the setting %s, since auth_method is not set)", s.AuthMethods[0], s.Name)
		}
	}
	return dflt, fmt.Sprintf("auth_method %q (the default, since auth_method is not set)", dflt)
}

// checkAuthMethodSettings reports the settings that belong to an authentication method other than
// the credential's (refused) and the ones its method needs but that are absent (required), in catalog
// order. An unknown auth_method is reported by checkSettingValues alone.
func checkAuthMethodSettings(p api.Provider, settings map[string]string) []api.FieldError {
	def, ok := settingDef(p, api.SettingAuthMethod)
	if !ok {
		return nil
	}
	method, how := authMethod(p, settings)
	if !slices.Contains(def.AllowedValues, method) {
		return nil
	}
	var errs []api.FieldError
	for _, s := range p.Settings {
		if len(s.AuthMethods) == 0 {
			continue
		}
		value, present := settings[s.Name]
		belongs := slices.Contains(s.AuthMethods, method)
		switch {
		case strings.TrimSpace(value) == "" && present: // reported as empty
		case present && !belongs:
			errs = append(errs, api.FieldError{Field: "settings." + s.Name, Message: fmt.Sprintf(
				"The setting %s goes only with auth_method %s, but the credential uses %s. Remove %s, or set auth_method to %q.",
				s.Name, quotedList(s.AuthMethods), how, s.Name, s.AuthMethods[0])})
		case !present && belongs && !s.Optional:
			errs = append(errs, api.FieldError{Field: "settings." + s.Name, Message: fmt.Sprintf(
				"%s credentials with %s require the setting %s: %s Add it to settings with a value%s.",
				p.ID, how, s.Name, s.Description, exampleClause(s))})
		}
	}
	return errs
}

func quotedList(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, " or ")
}

// checkAuthMethodDefs checks the catalog's auth_method facts: the auth_method setting's allowed
// values are the provider's auth_methods, default first; a setting that belongs to auth methods names
// only those; and a provider with several auth methods has the setting that chooses among them.
func checkAuthMethodDefs(p *api.Provider) []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("provider %q: "+format, append([]any{p.ID}, args...)...))
	}
	def, ok := settingDef(*p, api.SettingAuthMethod)
	switch {
	case !ok && len(p.AuthMethods) > 1:
		bad("it has %d auth_methods but no %s setting to choose among them", len(p.AuthMethods), api.SettingAuthMethod)
	case ok && !slices.Equal(def.AllowedValues, p.AuthMethods):
		bad("the allowed_values of setting %s (%v) must be its auth_methods (%v), the default first", api.SettingAuthMethod, def.AllowedValues, p.AuthMethods)
	case ok && def.Required:
		bad("setting %s must be optional: its first value is the default", api.SettingAuthMethod)
	}
	for _, s := range p.Settings {
		if len(s.AllowedValues) > 0 && s.Example != "" && !slices.Contains(s.AllowedValues, s.Example) {
			bad("setting %q: example %q is not one of its allowed_values", s.Name, s.Example)
		}
		if len(s.AuthMethods) == 0 {
			continue
		}
		if !ok {
			bad("setting %q belongs to auth methods, but the provider has no %s setting", s.Name, api.SettingAuthMethod)
		}
		if s.Required {
			bad("setting %q belongs to auth methods, so it is required only with them: required must be false", s.Name)
		}
		if s.Optional && s.Name == api.SettingAuthMethod {
			bad("setting %q: optional is only for settings of auth methods", s.Name)
		}
		for _, m := range s.AuthMethods {
			if !slices.Contains(p.AuthMethods, m) {
				bad("setting %q: auth method %q is not one of the provider's auth_methods", s.Name, m)
			}
		}
	}
	return errs
}
