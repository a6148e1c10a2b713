package catalog

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// MaxNameLen is the longest object name (credentials, connections, projects) DESIGN.md allows.
const MaxNameLen = 64

// urlSettings are the setting names whose values are URLs. Keeping the rule by name (rather than a
// flag per setting) means a new provider with a base_url gets the check without anyone remembering.
var urlSettings = map[string]bool{"base_url": true, "endpoint": true, "host": true, "token_url": true}

// IsURLSetting reports whether a setting names where requests (and the key) are sent.
func IsURLSetting(name string) bool { return urlSettings[name] }

// ValidateCredential checks a credential's provider, settings and the presence of its secrets
// against the catalog. It is the one rule set used by the Terraform provider at plan time and by the
// server on create and update, so both reject the same input with the same words. It returns nil
// when the credential is valid; otherwise one api.FieldError per problem, in a stable order, with
// Field as the request's JSON name ("provider", "settings.endpoint", "api_key").
//
// hasAPIKey and hasAuthToken say whether the secret will be present after the request (for a PATCH,
// whether it is kept or set). Callers that do not yet know every setting value (Terraform plans with
// unknown values) should wait until they do: an absent key counts as missing.
func ValidateCredential(providerID string, settings map[string]string, hasAPIKey, hasAuthToken bool) []api.FieldError {
	p, ok := Provider(providerID)
	if !ok {
		return []api.FieldError{{Field: "provider", Message: unknownProviderMessage(providerID)}}
	}
	errs := checkSettingValues(p, settings)
	errs = append(errs, checkRequiredSettings(p, settings)...)
	errs = append(errs, checkAuthMethodSettings(p, settings)...)
	if keyless(p, settings) {
		errs = append(errs, checkKeyless(p, settings, hasAPIKey, hasAuthToken)...)
	} else {
		errs = append(errs, checkSecrets(p, map[string]bool{
			api.SecretAPIKey:    hasAPIKey,
			api.SecretAuthToken: hasAuthToken,
		})...)
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func unknownProviderMessage(id string) string {
	ids := strings.Join(ProviderIDs(), ", ")
	if id == "" {
		return fmt.Sprintf("The model provider is missing. Set it to one of: %s.", ids)
	}
	return fmt.Sprintf("%q is not a known model provider. Use one of: %s (custom fits any OpenAI-compatible server).", id, ids)
}

// checkSettingValues reports unknown keys, empty values and malformed URLs, in key order.
func checkSettingValues(p api.Provider, settings map[string]string) []api.FieldError {
	var errs []api.FieldError
	for _, key := range sortedKeys(settings) {
		def, ok := settingDef(p, key)
		field := "settings." + key
		switch {
		case !ok:
			errs = append(errs, api.FieldError{Field: field, Message: unknownSettingMessage(p, key)})
		case strings.TrimSpace(settings[key]) == "":
			errs = append(errs, api.FieldError{Field: field, Message: emptySettingMessage(p, def)})
		case ValidateText(settings[key]) != nil:
			errs = append(errs, api.FieldError{Field: field, Message: fmt.Sprintf("The setting %s: %v.", key, ValidateText(settings[key]))})
		case len(def.AllowedValues) > 0 && !slices.Contains(def.AllowedValues, settings[key]):
			errs = append(errs, api.FieldError{Field: field, Message: fmt.Sprintf(
				"The setting %s is %q, which %s credentials do not know. Use one of: %s.", key, settings[key], p.ID, strings.Join(def.AllowedValues, ", "))})
		case IsURLSetting(key):
			if msg := checkURL(settings[key]); msg != "" {
				errs = append(errs, api.FieldError{Field: field, Message: fmt.Sprintf(
					"The setting %s %s. Give it a value%s.", key, msg, exampleClause(def))})
			}
		}
	}
	return errs
}

// checkRequiredSettings reports required settings that are absent, in catalog order. An empty value
// is reported by checkSettingValues instead, so one mistake yields one error.
func checkRequiredSettings(p api.Provider, settings map[string]string) []api.FieldError {
	var errs []api.FieldError
	for _, s := range p.Settings {
		if _, present := settings[s.Name]; present || !s.Required {
			continue
		}
		errs = append(errs, api.FieldError{Field: "settings." + s.Name, Message: fmt.Sprintf(
			"%s credentials require the setting %s: %s Add it to settings with a value%s.",
			p.ID, s.Name, s.Description, exampleClause(s))})
	}
	return errs
}

// checkSecrets reports required secrets that are missing and secrets the provider does not take.
func checkSecrets(p api.Provider, present map[string]bool) []api.FieldError {
	var errs []api.FieldError
	for _, name := range []string{api.SecretAPIKey, api.SecretAuthToken} {
		def, takes := secretDef(p, name)
		switch {
		case !takes && present[name]:
			errs = append(errs, api.FieldError{Field: name, Message: fmt.Sprintf(
				"%s credentials do not take %s; remove it. They take only %s.", p.ID, name, secretList(p))})
		case takes && def.Required && !present[name]:
			errs = append(errs, api.FieldError{Field: name, Message: missingSecretMessage(p, def)})
		}
	}
	return errs
}

func missingSecretMessage(p api.Provider, s api.ProviderSecret) string {
	what := "an API key"
	if s.Name == api.SecretAuthToken {
		what = "an auth token"
	}
	return fmt.Sprintf("%s credentials need %s, but none was given. Set %s: %s", p.ID, what, s.Name, s.Description)
}

func unknownSettingMessage(p api.Provider, key string) string {
	if len(p.Settings) == 0 {
		return fmt.Sprintf("%s credentials take no settings; remove %q.", p.ID, key)
	}
	msg := fmt.Sprintf("%q is not a setting of %s credentials; remove it. Allowed settings: %s.",
		key, p.ID, strings.Join(settingNames(p), ", "))
	if guess := closeSetting(p, key); guess != "" {
		msg += fmt.Sprintf(" Did you mean %s?", guess)
	}
	if secretNames[key] {
		msg += fmt.Sprintf(" Secrets do not go in settings: set the %s argument instead.", key)
	}
	return msg
}

func emptySettingMessage(p api.Provider, s api.ProviderSetting) string {
	if s.Required {
		return fmt.Sprintf("The setting %s is empty, but %s credentials require it. Give it a value%s.",
			s.Name, p.ID, exampleClause(s))
	}
	return fmt.Sprintf("The setting %s is empty. Give it a value%s, or remove it.", s.Name, exampleClause(s))
}

// exampleClause shows the catalog's example value, when it has one, so the fix can be copied.
func exampleClause(s api.ProviderSetting) string {
	if s.Example == "" {
		return ""
	}
	return fmt.Sprintf(" such as %q", s.Example)
}

// closeSetting suggests the allowed setting a mistyped key most likely meant: the same name in
// another case or with dashes, or one that the key is a prefix of (organization → organization_id).
func closeSetting(p api.Provider, key string) string {
	norm := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(key)), "-", "_")
	if norm == "" {
		return ""
	}
	for _, s := range p.Settings {
		if s.Name == norm || strings.HasPrefix(s.Name, norm+"_") {
			return s.Name
		}
	}
	return ""
}

// CheckURL returns what is wrong with a URL that will receive a key, or "" when it is fine. It is the
// one rule of URL settings (checked at plan time and by the server) and of the server's own
// --provider-base-url and token endpoints. Plain http is refused except on loopback, because the key
// travels with every request to that URL. A query, a fragment or user info is refused too: the probe
// appends its path (such as /models) to the URL, and a "?" or "#" would swallow that path and let the
// setting choose the request's path and query.
func CheckURL(raw string) string { return checkURL(raw) }

func checkURL(raw string) string {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Hostname() == "" || u.Opaque != "" {
		return "must be an absolute URL with a scheme and a host"
	}
	if u.User != nil || strings.Contains(u.Host, "@") {
		return "must not contain a user name or password; put secrets in api_key or auth_token instead"
	}
	// url.Parse drops an empty "?" or "#" (ForceQuery aside), so look at the text itself.
	if strings.Contains(raw, "?") {
		return "must not contain a query (?...); give the base URL only, and modelkeys adds the path and query of each call"
	}
	if strings.Contains(raw, "#") {
		return "must not contain a fragment (#...); give the base URL only"
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		if isLoopback(u.Hostname()) {
			return ""
		}
		return "must use https; plain http is allowed only for loopback hosts (localhost, 127.0.0.1, ::1), so change the scheme to https"
	default:
		return fmt.Sprintf("must use https (or http on a loopback host), not %s", u.Scheme)
	}
}

// isLoopback reports whether a host name or address stays on this machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func settingDef(p api.Provider, name string) (api.ProviderSetting, bool) {
	for _, s := range p.Settings {
		if s.Name == name {
			return s, true
		}
	}
	return api.ProviderSetting{}, false
}

func secretDef(p api.Provider, name string) (api.ProviderSecret, bool) {
	for _, s := range p.Secrets {
		if s.Name == name {
			return s, true
		}
	}
	return api.ProviderSecret{}, false
}

func settingNames(p api.Provider) []string {
	names := make([]string, len(p.Settings))
	for i, s := range p.Settings {
		names[i] = s.Name
	}
	return names
}

func secretList(p api.Provider) string {
	names := make([]string, len(p.Secrets))
	for i, s := range p.Secrets {
		names[i] = s.Name
	}
	return strings.Join(names, " and ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ValidateName checks an object name (credential, connection, project): 1 to 64 characters, each a
// lowercase letter, a digit, '-', '_' or '.'. Names appear in URLs, HCL and logs, so the alphabet is
// kept small enough to need no quoting anywhere.
func ValidateName(name string) error {
	const rule = "use 1 to 64 characters, each a lowercase letter a-z, a digit 0-9, '-', '_' or '.' (for example \"openai-prod\")"
	if name == "" {
		return fmt.Errorf("the name is empty; %s", rule)
	}
	if n := len([]rune(name)); n > MaxNameLen {
		return fmt.Errorf("the name is %d characters long, more than the limit of %d; %s", n, MaxNameLen, rule)
	}
	for i, r := range name {
		if !isNameRune(r) {
			return fmt.Errorf("the name has %q at byte %d, which is not allowed; %s", r, i, rule)
		}
	}
	return nil
}

func isNameRune(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' || r == '_' || r == '.'
}

// ParseModelRef splits a model policy entry "provider/model" at its first slash; the model part may
// hold more slashes, as Vertex AI and Fireworks model ids do (vertex_ai/meta/llama-3.3-70b-instruct-maas).
func ParseModelRef(ref string) (provider, model string, err error) {
	if err := ValidateModelRef(ref); err != nil {
		return "", "", err
	}
	provider, model, _ = strings.Cut(ref, "/")
	return provider, model, nil
}

// ValidateModelRef checks a model policy entry of the form provider/model: the provider must be in
// the catalog, the model id must be non-empty without spaces, and the catalog must know the model
// (ModelListed) unless it is one of the customer's own models in its provider's form (a fine-tune
// ft:..., a Bedrock ARN, a Vertex AI projects/... path): a typo in a policy would otherwise allow or
// deny nothing, silently.
func ValidateModelRef(ref string) error {
	const form = `write it as provider/model, for example "openai/gpt-4o"`
	provider, model, found := strings.Cut(ref, "/")
	if !found || provider == "" || model == "" {
		return fmt.Errorf("%q is not a model reference; %s", ref, form)
	}
	if _, ok := Provider(provider); !ok {
		msg := fmt.Sprintf("%q names the unknown provider %q", ref, provider)
		if near := Nearest(provider, ProviderIDs(), 1); len(near) > 0 {
			msg += fmt.Sprintf(" (did you mean %q?)", near[0])
		}
		return fmt.Errorf("%s; use one of: %s", msg, strings.Join(ProviderIDs(), ", "))
	}
	if i := strings.IndexFunc(model, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }); i >= 0 {
		return fmt.Errorf("%q has a space or control character in its model id; model ids have none, so remove it", ref)
	}
	if !ModelListed(provider, model) && !ownModel(provider, model) {
		return fmt.Errorf("%s", unknownPolicyModelMessage(ref, provider, model))
	}
	return nil
}

// ValidatePublisher checks a publisher id of a model policy (openai, meta, mistral, ...).
// The publisher must be one the catalog knows (Publishers): a misspelt publisher would match no model,
// so an allowlist would refuse what it meant to allow and a denylist would deny nothing.
func ValidatePublisher(id string) error {
	if !publisherPattern.MatchString(id) {
		return fmt.Errorf("publisher %q is not a publisher id: use lower-case ids such as openai, meta or mistral", id)
	}
	if !KnownPublisher(id) {
		pubs := Publishers()
		return fmt.Errorf("publisher %q is not a publisher the modelkeys catalog knows.%s Known publishers: %s",
			id, didYouMean(id, pubs), strings.Join(pubs, ", "))
	}
	return nil
}
