package server

// The OpenAPI document's words for identity providers, federation rules and the token exchange
// (issue 33), kept beside the side tables of openapi_docs.go.

import (
	"reflect"
	"slices"
	"strings"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

func init() {
	adminErrors := errs(tokenErrors, 403)
	for key, d := range map[string]operationDoc{
		"POST /v1/identity-providers": {ID: "createIdentityProvider", Tag: "Federation", Errors: errs(adminErrors, 409, 413, 422, 503),
			Description: "Trusts an OpenID issuer: its tokens can then be exchanged (workload rules) or used to sign in to the console (people rules). " +
				"The issuer is https (plain http only on a loopback address the egress policy allows); jwks_json, when set, holds its public keys instead of discovery. " +
				"client_secret is write-only and sealed under the master key. Admin tokens of the whole organisation only.",
			Success: "The identity provider created, or (a retry with the same Idempotency-Key) the one created before"},
		"GET /v1/identity-providers": {ID: "listIdentityProviders", Tag: "Federation", Errors: adminErrors,
			Description: "The organisation's identity providers in id order, a page at a time (admin)."},
		"GET /v1/identity-providers/{id}": {ID: "getIdentityProvider", Tag: "Federation", Errors: errs(adminErrors, 404),
			Description: "One identity provider, with its version as ETag (admin). It never carries the client secret, only has_client_secret."},
		"PATCH /v1/identity-providers/{id}": {ID: "updateIdentityProvider", Tag: "Federation", Errors: errs(adminErrors, 404, 409, 412, 413, 422, 503),
			Description: "Changes the fields the body carries (admin). The issuer never changes. client_secret \"\" removes the secret. " +
				"Any change ends the tokens exchanged with the provider's previous version (a key withdrawn from jwks_json stops counting at once). " +
				"Audiences cannot be emptied while workload rules trust the provider, nor client_id removed while people rules do (409 names them)."},
		"DELETE /v1/identity-providers/{id}": {ID: "deleteIdentityProvider", Tag: "Federation", Errors: errs(adminErrors, 404, 409, 412),
			Description: "Deletes an identity provider that no federation rule trusts (409 names the rules that do: delete them first).", Success: "Deleted"},
		"POST /v1/federation-rules": {ID: "createFederationRule", Tag: "Federation", Errors: errs(adminErrors, 409, 413, 422),
			Description: "Says which tokens of an identity provider are trusted, as which role, in which scope, for how long: every condition must match a claim " +
				"(`*` is a wildcard; a list claim matches when one item does; a rule of wildcards only is refused). Workload rules take viewer or editor; people rules may also take admin.",
			Success: "The federation rule created, or (a retry with the same Idempotency-Key) the one created before"},
		"GET /v1/federation-rules": {ID: "listFederationRules", Tag: "Federation", Errors: adminErrors,
			Description: "The organisation's federation rules in id order, a page at a time (admin)."},
		"GET /v1/federation-rules/{id}": {ID: "getFederationRule", Tag: "Federation", Errors: errs(adminErrors, 404),
			Description: "One federation rule, with its version as ETag (admin)."},
		"PATCH /v1/federation-rules/{id}": {ID: "updateFederationRule", Tag: "Federation", Errors: errs(adminErrors, 404, 409, 412, 413, 422),
			Description: "Changes the fields the body carries (admin). Any change ends every token the rule issued before it; the identity provider and kind never change."},
		"DELETE /v1/federation-rules/{id}": {ID: "deleteFederationRule", Tag: "Federation", Errors: errs(adminErrors, 404, 412),
			Description: "Deletes a federation rule and ends every token it issued.", Success: "Deleted"},
		"POST /v1/oauth/token": {ID: "exchangeToken", Tag: "Federation", Errors: []int{500}, OAuthErrors: []int{400, 429}, NoStore: true,
			Description: "RFC 8693 token exchange: a CI job or run sends its identity provider's JWT and the id of a workload federation rule, and gets a modelkeys token " +
				"(mkx_...) that acts with the rule's role, in its project when it names one, until expires_in seconds have passed or the rule changes or goes. " +
				"The token is verified strictly (the issuer's keys, asymmetric algorithms only, exact iss, one of the provider's audiences, exp required, at most 60 s skew, at most 24 h lifetime) " +
				"and its claims must meet the rule's conditions. Errors are RFC 6749 §5.2 JSON that never say which check failed (the server's log and the audit log do); " +
				"every refusal counts toward the failed-authentication limit of the client's address (429).",
			Success: "The exchanged token",
			Form: map[string]any{"type": "object", "required": []any{"grant_type", "subject_token", "subject_token_type", "federation_rule"},
				"properties": map[string]any{
					"grant_type":           map[string]any{"type": "string", "enum": []any{api.GrantTypeTokenExchange}},
					"subject_token":        map[string]any{"type": "string", "description": "The identity token (a JWT) of the CI job or run."},
					"subject_token_type":   map[string]any{"type": "string", "enum": []any{api.TokenTypeJWT, api.TokenTypeIDToken}},
					"federation_rule":      map[string]any{"type": "string", "description": "The id of the workload federation rule to exchange the token under."},
					"requested_token_type": map[string]any{"type": "string", "enum": []any{api.TokenTypeAccessToken}},
				}}},
	} {
		operationDocs[key] = d
	}
	// A token exchanged under a rule with a project_id is confined to that project (the service's
	// project_scope.go): a 403 where a request names another scope, a 404 for an object outside it.
	for key, d := range operationDocs {
		if !slices.Contains(d.Errors, 401) || key == "GET /v1/whoami" || key == "GET /v1/providers" {
			continue
		}
		d.Errors = errs(d.Errors, 403)
		if key == "POST /v1/connections" || strings.HasSuffix(key, "/{id}") || strings.Contains(key, "/{id}/") {
			d.Errors = errs(d.Errors, 404)
		}
		operationDocs[key] = d
	}
	e403, e404 := errorResponses[403], errorResponses[404]
	e403.description += " A token exchanged under a federation rule with a project_id is refused outside that project, and an admin of it cannot manage identity providers or federation rules."
	e404.description += " To a token confined to a project, objects outside that project do not exist."
	errorResponses[403], errorResponses[404] = e403, e404

	tagDocs = append(tagDocs, tagDoc{"Federation", "Identity providers the organisation trusts, the federation rules that say whose tokens count as whom, and the token exchange that turns a CI job's identity token into a short-lived modelkeys token."})

	queryDocs["/v1/federation-rules identity_provider_id"] = queryDoc{"Only rules of this identity provider.", nil}
	queryDocs["/v1/federation-rules kind"] = queryDoc{"Only rules of this kind.", map[string]any{"type": "string", "enum": strs(api.FederationWorkload, api.FederationPeople)}}

	kinds := strs(api.FederationWorkload, api.FederationPeople)
	for key, fd := range map[string]fieldDoc{
		"IdentityProvider.issuer":                 {description: "The exact iss of the tokens; discovery starts there unless jwks_json is set."},
		"IdentityProvider.audiences":              {description: "The aud values a workload token may carry (one must match)."},
		"IdentityProvider.jwks_json":              {description: "The issuer's public keys (a JSON Web Key Set), uploaded instead of discovered; absent means discovery."},
		"IdentityProvider.client_id":              {description: "The console's OAuth client at the issuer; people sign in only with a provider that has one."},
		"IdentityProvider.has_client_secret":      {description: "Whether a client secret is stored (it is never returned)."},
		"IdentityProviderCreate.name":             {extra: nameRule},
		"IdentityProviderCreate.issuer":           {description: "https://...; plain http only on a loopback address the server's egress policy allows. It never changes."},
		"IdentityProviderCreate.client_secret":    {description: "Write-only: sealed under the master key, never returned."},
		"IdentityProviderPatch.name":              {extra: nameRule},
		"IdentityProviderPatch.client_secret":     {description: "A new client secret; an empty string removes it."},
		"FederationRule.kind":                     {description: "workload: token exchange at /v1/oauth/token; people: console sign-in.", enum: kinds},
		"FederationRule.role":                     {enum: strs(api.RoleViewer, api.RoleEditor, api.RoleAdmin)},
		"FederationRule.project_id":               {description: "The project the rule's tokens are confined to; absent for the whole organisation."},
		"FederationRule.token_ttl":                {description: "How long a token issued under the rule lives, as a Go duration (at most 1h)."},
		"FederationRuleCreate.name":               {extra: nameRule},
		"FederationRuleCreate.kind":               {description: "workload when absent.", enum: kinds},
		"FederationRuleCreate.role":               {description: "viewer or editor; admin only for people rules.", enum: strs(api.RoleViewer, api.RoleEditor, api.RoleAdmin)},
		"FederationRuleCreate.token_ttl":          {description: "A Go duration above 0 and at most 1h; 15m when absent."},
		"FederationRuleCreate.credentials":        {description: "The keyless credentials (ids in the rule's scope, or \"*\" alone) whose vendor tokens the rule's tokens may fetch."},
		"FederationRulePatch.name":                {extra: nameRule},
		"FederationRulePatch.role":                {enum: strs(api.RoleViewer, api.RoleEditor, api.RoleAdmin)},
		"TokenExchangeResponse.token_type":        {enum: strs("Bearer")},
		"TokenExchangeResponse.issued_token_type": {enum: strs(api.TokenTypeAccessToken)},
		"TokenExchangeResponse.expires_in":        {description: "Seconds until the token expires."},
		"AuditEvent.actor_federation_rule":        {description: "The federation rule whose token did this; absent for an API token."},
		"AuditEvent.actor_claims":                 {description: "The claims of the identity token that was exchanged (sub, repository, ref, environment, workflow, run_id, job_workflow_ref, namespace_path, terraform_run_phase, email, where present). Never a token."},
		"WhoAmI.project_id":                       {description: "The project a token exchanged under a federation rule is confined to; absent for a token of the whole organisation."},
		"AuditEvent.detail":                       {description: "Why, for a refusal: which check of a token exchange failed. Never a token."},
	} {
		fieldDocs[key] = fd
	}
	requestRequired["IdentityProviderCreate"] = []string{"name", "issuer"}
	requestRequired["FederationRuleCreate"] = []string{"name", "identity_provider_id", "conditions", "role"}
	for name, doc := range map[string]string{
		"IdentityProvider":       "An OpenID issuer the organisation trusts. It never carries the client secret.",
		"IdentityProviderCreate": "The body of POST /v1/identity-providers.",
		"IdentityProviderPatch":  "The body of PATCH /v1/identity-providers/{id}: absent fields are left as they are.",
		"IdentityProviderList":   "A page of identity providers; next_page_token is absent on the last page.",
		"FederationRule":         "Which tokens of an identity provider are trusted, as whom, in which scope and for how long.",
		"FederationRuleCreate":   "The body of POST /v1/federation-rules.",
		"FederationRulePatch":    "The body of PATCH /v1/federation-rules/{id}: absent fields are left as they are.",
		"FederationRuleList":     "A page of federation rules; next_page_token is absent on the last page.",
		"TokenExchangeResponse":  "The answer of POST /v1/oauth/token (RFC 8693 §2.2.1).",
		"OAuthError":             "An error of POST /v1/oauth/token (RFC 6749 §5.2). It never says which check failed.",
	} {
		typeDocs[name] = doc
	}
}

// oauthError is the response of a token endpoint error: RFC 6749 §5.2 JSON, never a problem document.
func (g *schemaGen) oauthError(status int) map[string]any {
	desc := "The request is malformed (invalid_request, unsupported_grant_type), or the subject token is not accepted for the rule (invalid_grant; the same answer whichever check failed)."
	headers := map[string]any{"Cache-Control": map[string]any{"$ref": "#/components/headers/CacheControl"}}
	if status == 429 {
		desc = "Too many failed authentications from this address; retry after Retry-After."
		headers["Retry-After"] = map[string]any{"$ref": "#/components/headers/RetryAfter429"}
	}
	return map[string]any{"description": desc, "headers": headers, "content": map[string]any{
		"application/json": map[string]any{"schema": g.ref(reflect.TypeOf(api.OAuthError{}))}}}
}
