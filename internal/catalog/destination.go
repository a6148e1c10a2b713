package catalog

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// A credential's destination is everything that decides where, or how, its secrets are sent: the URL
// settings, the settings a probe builds a host or a token endpoint from, and the effective
// authentication method (which decides whether a secret goes to the endpoint, to a token exchange, or
// only signs requests). Whoever sends a key decides where it goes, so a change of destination needs
// every stored secret in the same request, and a new key goes only to a destination its sender saw.
//
// Every setting of every provider is classified here, once: the catalog's integrity check refuses a
// setting that is not (checkSettingRoles), so a new provider or setting cannot escape the rule by being
// forgotten.

// settingRole says what a setting does with the secrets.
type settingRole int

const (
	// roleDestination: the setting names, or builds, the host or token endpoint a secret is sent to.
	roleDestination settingRole = iota + 1
	// roleAuthMethod: the setting chooses, or implies, the authentication method; the effective
	// method is part of the destination, the setting's own value is not.
	roleAuthMethod
	// roleRequest: the setting shapes a request sent to the same host (a path, a query parameter or a
	// header), so it cannot move a secret elsewhere.
	roleRequest
)

// settingRoles classifies every setting name the catalog's providers use.
var settingRoles = map[string]settingRole{
	"base_url": roleDestination, // the host itself
	"endpoint": roleDestination, // Azure's resource endpoint
	"host":     roleDestination, // Databricks' workspace
	"region":   roleDestination, // bedrock-runtime.{region}.amazonaws.com
	"location": roleDestination, // {location}-aiplatform.googleapis.com
	// Entra ID's token endpoint is {authority}/{tenant_id}/oauth2/v2.0/token: the tenant decides who
	// receives the client secret. client_id names the application the secret is presented as.
	"tenant_id": roleDestination,
	"client_id": roleDestination,
	// A keyless credential's assertion goes to token_url, and is good only for its audience: whoever
	// receives it may exchange it for a vendor token until it expires, so both decide where it goes.
	"token_url": roleDestination,
	"audience":  roleDestination,

	"auth_method": roleAuthMethod,
	// With sigv4 the secret access key only signs; access_key_id implies sigv4 when auth_method is
	// unset, so its presence is a change of method (caught through the effective method).
	"access_key_id": roleAuthMethod,

	"deployment":  roleRequest, // a path segment at the Azure endpoint
	"api_version": roleRequest, // a query parameter
	// OpenAI-Organization header for openai; for anthropic a field of the workload identity exchange
	// (the organisation the federation rule belongs to), a setting of that method.
	"organization_id": roleAuthMethod,
	// Fields of a workload identity exchange, sent to token_url with the assertion: they name the
	// vendor's federation objects, not a host. Each belongs to, and so implies, workload_identity.
	"identity_provider_id":       roleAuthMethod,
	"service_account_id":         roleAuthMethod,
	"federation_rule_id":         roleAuthMethod,
	"workspace_id":               roleAuthMethod,
	"federation_policy_id":       roleAuthMethod,
	"workload_identity_provider": roleAuthMethod,
	"service_account_email":      roleAuthMethod, // the Google service account impersonated
	"project":                    roleRequest,    // OpenAI-Project header
	"project_id":                 roleRequest,    // a path segment at Vertex AI's regional host
	// Portkey's virtual_key and config are headers to Portkey that pick which upstream key, stored in
	// Portkey, Portkey uses: the Portkey key itself still goes only to base_url (SECURITY.md).
	"virtual_key": roleRequest,
	"config":      roleRequest,
	// Azure's managed rotation scope: the path of the resource at Azure Resource Manager, a fixed host,
	// where the admin credential's token goes; the inference key still goes only to endpoint.
	"subscription_id": roleRequest,
	"resource_group":  roleRequest,
	"account_name":    roleRequest,
	// Bedrock's managed rotation scope: the IAM user, named to IAM (a fixed host) with the admin key.
	"iam_user_name": roleRequest,
}

// destinationAuthMethod is the key of the effective authentication method in a Destination.
const destinationAuthMethod = "settings." + api.SettingAuthMethod

// Destination is the effective destination of a credential of provider p with these settings:
// "settings.NAME" -> value for each destination setting that is set, and "settings.auth_method" ->
// the effective authentication method (set or implied) for a provider that has several.
func Destination(p api.Provider, settings map[string]string) map[string]string {
	d := map[string]string{}
	for _, s := range p.Settings {
		if settingRoles[s.Name] == roleDestination && settings[s.Name] != "" {
			d["settings."+s.Name] = settings[s.Name]
		}
	}
	if m := AuthMethod(p, settings); m != "" && len(p.AuthMethods) > 1 {
		d[destinationAuthMethod] = m
	}
	return d
}

// DestinationChanges lists what differs between two destinations, added and removed entries included,
// in key order, as audit changes: Field is "settings.NAME", From and To the effective values ("" for
// unset). The effective auth_method appears as settings.auth_method even when implied.
func DestinationChanges(before, after map[string]string) []api.AuditChange {
	keys := slices.Collect(maps.Keys(before))
	for k := range after {
		if _, ok := before[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []api.AuditChange
	for _, k := range keys {
		if before[k] != after[k] {
			out = append(out, api.AuditChange{Field: k, From: before[k], To: after[k]})
		}
	}
	return out
}

// DestinationMoves lists how a change of settings moves the destination of a credential of provider
// id (nothing for an unknown provider, which the catalog refuses anyway).
func DestinationMoves(id string, before, after map[string]string) []api.AuditChange {
	p, ok := Provider(id)
	if !ok {
		return nil
	}
	return DestinationChanges(Destination(p, before), Destination(p, after))
}

// SecretsNeeded reports whether a change of a credential of provider id needs every stored secret in
// the same request: when it moves the destination, or when it turns verification on (which sends the
// stored key to its provider). The server enforces it; the Terraform provider uses it to decide when it
// must send a write-only secret again.
func SecretsNeeded(id string, settingsBefore, settingsAfter map[string]string, verifyBefore, verifyAfter bool) bool {
	if IsKeyless(id, settingsAfter) {
		return false // it keeps no secret to send
	}
	return (verifyAfter && !verifyBefore) || len(DestinationMoves(id, settingsBefore, settingsAfter)) > 0
}

// checkSettingRoles refuses a provider setting that settingRoles does not classify.
func checkSettingRoles(p *api.Provider) []error {
	var errs []error
	for _, s := range p.Settings {
		if _, ok := settingRoles[s.Name]; !ok {
			errs = append(errs, fmt.Errorf("provider %q: setting %q is not classified in catalog.settingRoles: say whether it decides where secrets are sent", p.ID, s.Name))
		}
		if len(s.AuthMethods) > 0 && settingRoles[s.Name] == roleRequest {
			errs = append(errs, fmt.Errorf("provider %q: setting %q implies an auth method, so its role cannot be a plain request setting", p.ID, s.Name))
		}
	}
	return errs
}

// DescribeDestination says where a credential's secrets are sent, for messages and the console:
// `base_url https://..., auth_method entra_id` in catalog order, or the provider's default address
// when no destination setting is set.
func DescribeDestination(p api.Provider, settings map[string]string) string {
	d := Destination(p, settings)
	var parts []string
	for _, s := range p.Settings {
		if v, ok := d["settings."+s.Name]; ok {
			parts = append(parts, s.Name+" "+v)
		}
	}
	hasURL := slices.ContainsFunc(p.Settings, func(s api.ProviderSetting) bool { return IsURLSetting(s.Name) && settings[s.Name] != "" })
	if !hasURL && p.DefaultBaseURL != "" {
		parts = append([]string{p.DefaultBaseURL + " (the default)"}, parts...)
	}
	if len(parts) == 0 {
		return p.DisplayName + "'s default address"
	}
	return strings.Join(parts, ", ")
}

// jsonKeyFileAuthMethods are the auth methods whose api_key is a JSON key file (Vertex AI's service
// account), a document that may span lines; every other secret is one line.
var jsonKeyFileAuthMethods = map[string]bool{"service_account": true}

// SecretIsJSONKeyFile reports whether the secret field of provider id is a JSON key file.
func SecretIsJSONKeyFile(id, field string) bool {
	p, ok := Provider(id)
	return ok && field == api.SecretAPIKey && slices.ContainsFunc(p.AuthMethods, func(m string) bool { return jsonKeyFileAuthMethods[m] })
}
