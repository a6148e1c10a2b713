package server

// The OpenAPI document's words: what each operation, tag, error, query parameter, field and schema
// means. openapi.go builds the document's shapes from the wire types and the route table.

import (
	"slices"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
)

// ---- side tables ---------------------------------------------------------------------------------

// operationDoc is what the route table does not say about an operation.
type operationDoc struct {
	ID, Tag, Description string
	// Success describes the success response; the route's Summary when empty.
	Success string
	// Errors are the error statuses the route can answer, each a problem document.
	Errors []int
	// Body is the success content of the routes whose answer is no wire type (operations).
	Body map[string]any
	// NoStore: the answer carries Cache-Control: no-store.
	NoStore bool
	// Form is the schema of a form body (application/x-www-form-urlencoded), for a route that takes
	// one instead of JSON (the token endpoint).
	Form map[string]any
	// OAuthErrors are error statuses answered as RFC 6749 §5.2 JSON (api.OAuthError) instead of a
	// problem document (the token endpoint).
	OAuthErrors []int
}

// The statuses every route can answer: 400 (a control or format character, or bytes that are not UTF-8,
// in the URL) and 500. Routes that need a
// token add 401 (none, unknown or revoked) and 429 (the per-token rate limit, failed authentications).
var (
	publicErrors = []int{400, 500}
	tokenErrors  = []int{400, 401, 429, 500}
)

func errs(base []int, more ...int) []int {
	out := slices.Concat(base, more)
	slices.Sort(out)
	return slices.Compact(out)
}

var operationDocs = map[string]operationDoc{
	"GET /v1/providers": {ID: "listProviders", Tag: "Catalog", Errors: tokenErrors,
		Description: "Every provider credentials can be made for: its settings, which secrets it takes, how the key is presented, and whether any model id is accepted."},
	"GET /v1/models": {ID: "listModels", Tag: "Catalog", Errors: errs(tokenErrors, 404, 422, 502),
		Description: "The catalog's models, filtered, each with whether the effective model policy of the scope (the organisation, or project_id's project) allows it. " +
			"With credential_id, the models that credential's key reaches instead (asking the provider when the server can), judged by the policy of the credential's own scope; " +
			"project_id and credential_id do not go together (422)."},

	"POST /v1/credentials": {ID: "createCredential", Tag: "Credentials", Errors: errs(tokenErrors, 403, 409, 413, 422, 503),
		Description: "Stores a provider key, sealed under the master key. Unless verify is false the server checks the key with the provider first and records the outcome in status. " +
			"Names are unique per scope (409). 503 when this server's master key was rotated away and it must be restarted with the new one.",
		Success: "The credential created, or (a retry with the same Idempotency-Key) the one created before"},
	"GET /v1/credentials": {ID: "listCredentials", Tag: "Credentials", Errors: errs(tokenErrors, 422),
		Description: "The organisation's credentials in id order, a page at a time; no answer carries a secret. " +
			"lifecycle_status keeps those in that status, computed at the time of the request (422 for an unknown one)."},
	"GET /v1/credentials/{id}": {ID: "getCredential", Tag: "Credentials", Errors: errs(tokenErrors, 404),
		Description: "One credential, with its version as ETag."},
	"PATCH /v1/credentials/{id}": {ID: "updateCredential", Tag: "Credentials", Errors: errs(tokenErrors, 403, 404, 409, 412, 413, 422, 428, 503),
		Description: "Changes the fields the body carries and leaves the others. An empty string or null in api_key or auth_token removes that secret; an empty map clears settings or labels. " +
			"A change of the destination (the URL settings, the settings a host or token endpoint is built from, such as region, location and tenant_id, and the effective auth_method, set or implied) " +
			"or of verify to true must carry every secret the credential keeps, so a key is never sent somewhere it was not stored for. " +
			"A new secret sent without settings and without If-Match is refused (428) when another token set the destination (destination_set_by): a key goes only to a destination its sender saw. " +
			"secrets_resent marks secrets sent again only because the change needs them: one that is not the stored secret is refused (422) rather than rotated."},
	"DELETE /v1/credentials/{id}": {ID: "deleteCredential", Tag: "Credentials", Errors: errs(tokenErrors, 403, 404, 409, 412),
		Description: "Deletes a credential no connection uses (409 lists the connections that do). With force=true an admin deletes it anyway: its connections lose their credential_id and are invalid until pointed at another credential; each is audited.", Success: "Deleted"},
	"POST /v1/credentials/{id}/verify": {ID: "verifyCredential", Tag: "Credentials", Errors: errs(tokenErrors, 403, 404),
		Description: "Checks the stored key with its provider again and records the outcome in status, status_message and verified_at, without changing the version. " +
			"An outage, or a destination the egress policy refuses (nothing is then sent), keeps the last status and says why in status_message; " +
			"429 when the organisation has too many provider checks in flight."},
	"POST /v1/credentials/{id}/rotate": {ID: "rotateCredential", Tag: "Credentials", Errors: errs(tokenErrors, 403, 404, 409, 422, 429, 503),
		Description: "Rotates a managed credential's key now (rotation.mode managed): the server mints a new key through the admin credential, verifies it, and switches to it " +
			"(a new secret_version, fingerprint, hint and rotated_at) before it answers; the previous key stays live for rotation.overlap and is then revoked at the vendor. " +
			"A new key that fails verification is revoked and the old one kept (422, naming why). 409 when the credential is not managed or a rotation is under way " +
			"(or its previous key is still in its overlap); 503 when the server cannot reach admin APIs. trigger (api, console, terraform) is recorded in the audit log."},
	"GET /v1/credentials/{id}/models": {ID: "listCredentialModels", Tag: "Credentials", Errors: errs(tokenErrors, 404, 422, 502),
		Description: "The models the credential's key reaches: the provider's own list when the server can ask it (and the credential's verify is true), otherwise the catalog's models of the provider, " +
			"each with whether the policy of the credential's scope allows it. 422 when the egress policy refuses the destination, 502 when the provider fails."},
	"POST /v1/credentials/{id}/access-token": {ID: "getCredentialAccessToken", Tag: "Credentials", Errors: errs(tokenErrors, 403, 404, 409, 422, 429, 502, 503), NoStore: true,
		Description: "A vendor access token of a keyless credential (auth_method workload_identity), valid for minutes: the server signs an assertion for the credential as its OpenID issuer and exchanges it at the vendor, " +
			"and hands the same token out again until a minute before it expires (it is kept in memory only). For admins, and for tokens exchanged from a federation rule whose credentials list names the credential (or \"*\", within the rule's project). " +
			"A credential that stores a key is a 409: keys never leave modelkeys; so is one its scope's credential policy refuses. 422 when the vendor refuses the exchange or the egress policy refuses its token endpoint, 502 when the vendor fails; " +
			"rate-limited per caller (429); every call is audited as access_token with the caller, never the token.",
		Success: "The vendor token"},
	"POST /v1/credentials/{id}/secret-matches": {ID: "matchCredentialSecrets", Tag: "Credentials", Errors: errs(tokenErrors, 403, 404, 413, 422), NoStore: true,
		Description: "Whether the secrets in the body are the ones the credential holds, compared in constant time and never written: " +
			"for editors and admins, rate-limited per token (429), audited as compare with the field names only. The provider asks it when adopting a credential, so a key the server already holds is not rotated.",
		Success: "Whether the secrets match"},
	"POST /v1/credentials/{id}/reveal": {ID: "revealCredential", Tag: "Credentials", Errors: errs(tokenErrors, 403, 404), NoStore: true,
		Description: "The credential's secrets in clear, for an admin token on a server started with --allow-reveal (403 otherwise). Every reveal is audited.",
		Success:     "The secrets"},

	"POST /v1/connections": {ID: "createConnection", Tag: "Connections", Errors: errs(tokenErrors, 403, 409, 413, 422),
		Description: "Connects a model through a credential of the same scope (or of the organisation, when the project inherits organisation credentials). " +
			"The model policy of the scope decides whether the model may be used (422 names the rule); status says whether the connection is ready.",
		Success: "The connection created, or (a retry with the same Idempotency-Key) the one created before"},
	"GET /v1/connections": {ID: "listConnections", Tag: "Connections", Errors: tokenErrors,
		Description: "The organisation's connections in id order, a page at a time."},
	"GET /v1/connections/{id}": {ID: "getConnection", Tag: "Connections", Errors: errs(tokenErrors, 404),
		Description: "One connection, with its version as ETag."},
	"PATCH /v1/connections/{id}": {ID: "updateConnection", Tag: "Connections", Errors: errs(tokenErrors, 403, 404, 409, 412, 413, 422),
		Description: "Changes the fields the body carries and leaves the others, under the same rules as a create."},
	"DELETE /v1/connections/{id}": {ID: "deleteConnection", Tag: "Connections", Errors: errs(tokenErrors, 403, 404, 412),
		Description: "Deletes a connection.", Success: "Deleted"},

	"GET /v1/model-policy": {ID: "getModelPolicy", Tag: "Model policy", Errors: errs(tokenErrors, 404),
		Description: "The model policy of the organisation, or of project_id's project; a scope that never had one answers mode all at version 0."},
	"PUT /v1/model-policy": {ID: "putModelPolicy", Tag: "Model policy", Errors: errs(tokenErrors, 403, 404, 412, 413, 422),
		Description: "Replaces the scope's model policy. Mode all allows every model (models and publishers must then be empty); allowlist allows only the listed models " +
			"(provider/model) and publishers; denylist allows all but those. A project's policy narrows the organisation's, never widens it."},
	"DELETE /v1/model-policy": {ID: "deleteModelPolicy", Tag: "Model policy", Errors: errs(tokenErrors, 403, 404, 412),
		Description: "Resets the scope's model policy to mode all.", Success: "Reset"},

	"GET /v1/credential-policy": {ID: "getCredentialPolicy", Tag: "Credential policy", Errors: errs(tokenErrors, 404),
		Description: "The credential policy of the organisation, or of project_id's project; a scope that never had one answers no rules at version 0."},
	"PUT /v1/credential-policy": {ID: "putCredentialPolicy", Tag: "Credential policy", Errors: errs(tokenErrors, 403, 404, 412, 413, 422),
		Description: "Replaces the scope's credential policy: the providers its credentials may be for, the longest rotation period (also the period of credentials without one), " +
			"how long before expires_at a credential is expiring, and whether verify = false is refused. A project's effective policy is the organisation's and its own, " +
			"the stricter of each rule. Existing credentials that break it are kept, with policy_violations; their next change is refused until they comply."},
	"DELETE /v1/credential-policy": {ID: "deleteCredentialPolicy", Tag: "Credential policy", Errors: errs(tokenErrors, 403, 404, 412),
		Description: "Resets the scope's credential policy to no rules.", Success: "Reset"},

	"POST /v1/projects": {ID: "createProject", Tag: "Projects", Errors: errs(tokenErrors, 403, 409, 413, 422),
		Description: "Creates a project, a scope for credentials, connections and a model policy. Project names are unique in an organisation (409).",
		Success:     "The project created, or (a retry with the same Idempotency-Key) the one created before"},
	"GET /v1/projects": {ID: "listProjects", Tag: "Projects", Errors: tokenErrors,
		Description: "The organisation's projects in id order, a page at a time."},
	"GET /v1/projects/{id}": {ID: "getProject", Tag: "Projects", Errors: errs(tokenErrors, 404),
		Description: "One project, with its version as ETag."},
	"PATCH /v1/projects/{id}": {ID: "updateProject", Tag: "Projects", Errors: errs(tokenErrors, 403, 404, 409, 412, 413, 422),
		Description: "Changes the fields the body carries. Turning inherit_organization_credentials off is a 409 while connections of the project use organisation credentials."},
	"DELETE /v1/projects/{id}": {ID: "deleteProject", Tag: "Projects", Errors: errs(tokenErrors, 403, 404, 409, 412),
		Description: "Deletes a project that holds nothing (409 lists what it still holds).", Success: "Deleted"},

	"GET /v1/audit-events": {ID: "listAuditEvents", Tag: "Audit", Errors: tokenErrors,
		Description: "The organisation's audit events, oldest first, a page at a time: pass next_page_token as after. Events name the fields a change touched, never their values " +
			"(except the destination settings in changes)."},

	"GET /v1/whoami": {ID: "whoAmI", Tag: "Identity", Errors: tokenErrors,
		Description: "The organisation (id and name), role and name of the request's token, and the id of the database the server keeps (the same on every replica; another database has another). " +
			"Any role may call it; it changes nothing and costs one token check and one read, so clients call it once to check an endpoint and a token before relying on them."},

	"GET /healthz": {ID: "healthz", Tag: "Operations", Errors: publicErrors,
		Description: "Answers 200 while the process serves HTTP; it does not touch the database.", Success: "Alive",
		Body: map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Health"}}}},
	"GET /readyz": {ID: "readyz", Tag: "Operations", Errors: errs(publicErrors, 503),
		Description: "Answers 200 when the database answers within 5 seconds, 503 otherwise.", Success: "Ready",
		Body: map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Readiness"}}}},
	"GET /metrics": {ID: "metrics", Tag: "Operations", Errors: errs(tokenErrors, 404),
		Description: "Prometheus metrics in the text exposition format: requests by method, route and status, latency by route, credentials by lifecycle status, and the Go runtime's. " +
			"They span every organisation, so this route takes the operator's metrics token (--metrics-token), not an API token, and is a 404 on a server started without one; " +
			"the --metrics-listen address serves the same metrics without a token, for Prometheus on a private network.",
		Success: "The metrics",
		Body:    map[string]any{"text/plain": map[string]any{"schema": map[string]any{"type": "string"}}}},
	"GET /openapi.json": {ID: "getOpenAPI", Tag: "Operations", Errors: publicErrors,
		Description: "This document, generated from the server's route table and wire types.", Success: "The OpenAPI document",
		Body: map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object",
			"description": "An OpenAPI 3.1 document.", "required": []any{"openapi", "info", "paths"},
			"properties": map[string]any{
				"openapi": map[string]any{"type": "string", "enum": strs("3.1.0")},
				"info":    map[string]any{"type": "object"},
				"paths":   map[string]any{"type": "object"},
			}}}}},
}

type tagDoc struct{ name, description string }

// tagDocs are the resource families, in the order the document lists them.
var tagDocs = []tagDoc{
	{"Catalog", "The providers credentials can be made for, and the models the catalog knows, with whether policy allows each."},
	{"Credentials", "Provider keys. The server stores them sealed and never answers with one, except reveal."},
	{"Connections", "Models reachable through a credential, admitted by the model policy of their scope."},
	{"Model policy", "Which models and publishers a scope (the organisation or a project) may use."},
	{"Credential policy", "Rules for the credentials of a scope: providers, rotation, expiry warning, verification."},
	{"Projects", "Scopes for credentials, connections and a model policy."},
	{"Audit", "The record of every change and reveal."},
	{"Identity", "Whom a token speaks for, to check an endpoint and a token."},
	{"Operations", "Health, readiness, metrics and this document, answered without a token."},
}

type errorResponse struct{ name, description string }

// errorResponses are the error answers, each a problem document (application/problem+json).
var errorResponses = map[int]errorResponse{
	400: {"BadRequest", "The request is malformed: the body is not exactly one JSON object, a query parameter or header has the wrong form, or the URL, a query parameter or the Idempotency-Key holds bytes that are not UTF-8 or a control or format character (detail names which)."},
	401: {"Unauthorized", "No API token, or an unknown or revoked one."},
	403: {"Forbidden", "The token's role does not allow this: viewer tokens only read; revealing secrets takes an admin token on a server started with --allow-reveal."},
	404: {"NotFound", "The object (or the project a query names) does not exist in this organisation."},
	409: {"Conflict", "The change conflicts with other objects: a name taken in the scope, a per-organisation limit of the provider, or objects that still use this one; conflicts lists their ids."},
	412: {"PreconditionFailed", "If-Match names a version the object no longer has, or another write overtook this one; read it again and retry."},
	428: {"PreconditionRequired", "A new secret without the settings and without If-Match, for a credential whose destination another token set: read the credential, check destination_set_by and where it sends keys, then send the secret with If-Match (or with the settings)."},
	413: {"PayloadTooLarge", "The body is larger than the server's limit."},
	415: {"UnsupportedMediaType", "The request has a body that is not declared JSON: send it with Content-Type: application/json (a charset, if any, must be utf-8)."},
	422: {"UnprocessableEntity", "The request is well-formed but invalid: errors names each field and what is wrong with it (an unknown field, a wrong type, a value the rules refuse, text that is not UTF-8, a reused Idempotency-Key, a query filter value outside its enum)."},
	429: {"TooManyRequests", "Too many requests for this token, too many failed authentications from this address, or too many provider checks in flight for the organisation; retry after Retry-After."},
	500: {"InternalError", "The server failed; its log has the details under the X-Request-Id this answer carries."},
	502: {"BadGateway", "The provider failed to answer the server's request."},
	503: {"ServiceUnavailable", "The server cannot serve this now: the database does not answer, or the master key was rotated and this server must be restarted with the new one."},
}

type queryDoc struct {
	description string
	schema      map[string]any
}

// queryDocs describe query parameters by name, or by "path name" where a route gives one its own meaning.
var queryDocs = map[string]queryDoc{
	"provider":      {"Only objects of this provider.", map[string]any{"type": "string", "enum": providerIDs()}},
	"publisher":     {"Only models of this publisher (the company that made the model), such as meta.", nil},
	"capability":    {"Only models with this capability.", map[string]any{"type": "string", "enum": strs(catalog.Capabilities()...)}},
	"project_id":    {"Only objects of this project.", nil},
	"credential_id": {"Only connections through this credential.", nil},
	"name":          {"Only the object with this name.", nil},
	"name_prefix":   {"Only objects whose name starts with this text.", nil},
	"model":         {"Only connections to this model id.", nil},
	"status": {"Only credentials with this status.",
		map[string]any{"type": "string", "enum": []any{api.StatusVerified, api.StatusUnverified, api.StatusInvalid}}},
	"page_token": {"The next_page_token of the previous page.", nil},
	"limit": {"The page size: 0 or absent for 100, at most 500 (more is cut to 500).",
		map[string]any{"type": "integer", "format": "int32", "minimum": 0}},
	"after": {"Only events after this id: the next_page_token of the previous page.",
		map[string]any{"type": "integer", "format": "int64"}},

	"/v1/models provider":              {"Only models of this provider.", map[string]any{"type": "string", "enum": providerIDs()}},
	"/v1/models project_id":            {"Judge the models by this project's effective policy instead of the organisation's.", nil},
	"/v1/models credential_id":         {"List the models this credential's key reaches instead of the catalog's.", nil},
	"/v1/model-policy project_id":      {"The project whose policy this is; absent for the organisation's.", nil},
	"/v1/credential-policy project_id": {"The project whose policy this is; absent for the organisation's.", nil},
	"/v1/credentials/{id} force": {"Delete the credential even though connections use it (admin tokens only): they are left without a credential, invalid.",
		map[string]any{"type": "boolean", "default": false}},
	"lifecycle_status": {"Only credentials in this lifecycle status.", map[string]any{"type": "string", "enum": strs(api.LifecycleStatuses...)}},
}

type fieldDoc struct {
	description string
	enum        []any
	extra       map[string]any
}

func strs(values ...string) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}

// providerIDs are the catalog's provider ids, the values every provider field takes.
func providerIDs() []any {
	var ids []string
	for _, p := range catalog.Providers() {
		ids = append(ids, p.ID)
	}
	return strs(ids...)
}

var (
	credentialStatuses = strs(api.StatusVerified, api.StatusUnverified, api.StatusInvalid)
	connectionStatuses = strs(api.ConnectionReady, api.ConnectionBlocked, api.ConnectionInvalid)
	policyModes        = strs(api.PolicyAll, api.PolicyAllowlist, api.PolicyDenylist)

	// nameRule is catalog.ValidateName.
	nameRule = map[string]any{"minLength": 1, "maxLength": catalog.MaxNameLen, "pattern": `^[a-z0-9._-]+$`}
	// descriptionRule and labelsRule are catalog.ValidateDescription and ValidateLabels (their length
	// and count limits; the control-character rule has no JSON Schema form).
	descriptionRule = map[string]any{"maxLength": catalog.MaxDescriptionLen}
	labelsRule      = map[string]any{"maxProperties": catalog.MaxLabels}
)

// fieldDocs annotate fields by "Schema.json_name".
var fieldDocs = map[string]fieldDoc{
	"Credential.provider":                   {enum: providerIDs()},
	"Credential.purpose":                    {description: "inference: a key connections use; admin: a vendor admin key that mints and revokes the keys of managed credentials, never used by connections and never revealed.", enum: strs(api.Purposes...)},
	"Credential.status":                     {description: "verified: the provider accepted the key; unverified: not checked; invalid: the provider refused it.", enum: credentialStatuses},
	"Credential.secret_hint":                {description: "The last characters of the key, for people to recognise it."},
	"Credential.project_id":                 {description: "The project of the credential; absent for an organisation credential."},
	"CredentialCreate.provider":             {description: "A provider id of GET /v1/providers.", enum: providerIDs()},
	"CredentialCreate.name":                 {extra: nameRule},
	"CredentialCreate.description":          {extra: descriptionRule},
	"CredentialCreate.labels":               {extra: labelsRule},
	"CredentialCreate.verify":               {description: "Whether to check the key with the provider; true when absent."},
	"CredentialCreate.managed_by":           {description: "The tool that owns the credential, such as terraform (the provider sends it); the console warns that changes made there show as drift."},
	"Credential.managed_by":                 {description: "The tool that owns the credential (terraform when the provider wrote it); absent when none claimed it."},
	"CredentialPatch.managed_by":            {description: "A new owner mark; an empty string clears it."},
	"CredentialCreate.project_id":           {description: "The project the credential belongs to; absent for the organisation."},
	"CredentialPatch.provider":              {enum: providerIDs()},
	"CredentialPatch.name":                  {extra: nameRule},
	"CredentialPatch.description":           {extra: descriptionRule},
	"CredentialPatch.labels":                {extra: labelsRule},
	"CredentialPatch.api_key":               {description: "The new key; an empty string or null removes it."},
	"CredentialPatch.auth_token":            {description: "The new auth token; an empty string or null removes it."},
	"Connection.provider":                   {description: "The provider of the connection's credential; absent without one.", enum: providerIDs()},
	"Connection.status":                     {description: "ready: usable; blocked: the model policy now refuses the model; invalid: the credential is invalid or expired, or was deleted with force (credential_id is then absent).", enum: connectionStatuses},
	"Connection.credential_id":              {description: "The credential the connection uses; absent when it was deleted with force=true, until the connection is pointed at another."},
	"Connection.parameters":                 {description: "Model parameters, a JSON object as a string."},
	"ConnectionCreate.name":                 {extra: nameRule},
	"ConnectionCreate.parameters":           {description: "Model parameters, a JSON object as a string."},
	"ConnectionCreate.enabled":              {description: "true when absent."},
	"ConnectionCreate.model":                {description: "The provider's model id, such as gpt-4o. It must be one the catalog lists for the credential's provider, or one the provider lists for the credential, unless allow_unknown_model is true; providers without a model list (custom servers, gateways, Azure) take any id."},
	"ConnectionCreate.allow_unknown_model":  {description: "Accept a model that neither the catalog nor the credential's provider lists, such as a release newer than the catalog. It governs this request only and is not stored."},
	"ConnectionPatch.allow_unknown_model":   {description: "As in ConnectionCreate, for a change of model or credential."},
	"ConnectionPatch.name":                  {extra: nameRule},
	"ModelPolicy.mode":                      {enum: policyModes},
	"ModelPolicy.project_id":                {description: "The project of the policy; absent for the organisation's."},
	"ModelPolicyPut.mode":                   {enum: policyModes},
	"ModelPolicyPut.models":                 {description: "Models as provider/model, such as openai/gpt-4o."},
	"ProjectCreate.name":                    {extra: nameRule},
	"ProjectCreate.description":             {extra: descriptionRule},
	"ProjectPatch.name":                     {extra: nameRule},
	"ProjectPatch.description":              {extra: descriptionRule},
	"Model.provider":                        {enum: providerIDs()},
	"Model.allowed":                         {description: "Whether the effective model policy of the request's scope lets this model be used."},
	"Provider.id":                           {enum: providerIDs()},
	"Problem.type":                          {description: "A URI naming the kind of problem; clients may branch on it.", extra: map[string]any{"format": "uri"}},
	"Problem.status":                        {description: "The HTTP status of the answer.", extra: map[string]any{"minimum": 400, "maximum": 599}},
	"Problem.errors":                        {description: "The invalid fields of a 422."},
	"Problem.conflicts":                     {description: "The ids of the objects that stand in the way of a 409."},
	"AuditEvent.action":                     {description: "What was done; lifecycle: the server saw a credential's lifecycle_status change (changes holds the old and new status).", enum: strs("create", "update", "delete", "reveal", "compare", "lifecycle", "access_token", "token_exchange", "token_exchange_refused", "sign_in")},
	"AuditEvent.object_type":                {description: "The kind of object it was done to.", enum: strs("credential", "connection", "project", "model_policy", "credential_policy", "identity_provider", "federation_rule")},
	"AuditEvent.id":                         {description: "Increasing; pass the last one seen as after to read on."},
	"AuditEvent.changes":                    {description: "Old and new values, never secret: of the settings that decide where a credential's secrets are sent, of a credential's lifecycle_status, of a connection's credential_id when a forced delete of its credential detached it."},
	"Credential.lifecycle_status":           {description: "ok; rotation_due: older than its effective rotation period; expiring: within the scope's expiry_warning of expires_at; expired. The most urgent applies.", enum: strs(api.LifecycleStatuses...)},
	"Credential.rotation_period":            {description: "How often the key should be rotated, as days (90d) and a Go duration; absent when unset."},
	"Credential.policy_violations":          {description: "The rules of the scope's effective credential policy the credential breaks, one sentence each."},
	"CredentialCreate.rotation_period":      {description: "Days with d (90d) or a Go duration (2160h)."},
	"CredentialCreate.expires_at":           {description: "When the provider's key stops working (RFC 3339).", extra: map[string]any{"format": "date-time"}},
	"CredentialPatch.rotation_period":       {description: "Days with d (90d) or a Go duration (2160h); an empty string removes it."},
	"CredentialPatch.expires_at":            {description: "RFC 3339; an empty string removes it. A new secret without expires_at removes the old key's expiry."},
	"CredentialPolicy.allowed_providers":    {description: "Empty: every provider.", extra: map[string]any{"items": map[string]any{"type": "string", "enum": providerIDs()}}},
	"CredentialPolicyPut.allowed_providers": {description: "Absent or empty: every provider.", extra: map[string]any{"items": map[string]any{"type": "string", "enum": providerIDs()}}},
	"CredentialPolicy.project_id":           {description: "The project of the policy; absent for the organisation's."},
	"Provider.category":                     {description: "model_provider, cloud, gateway or self_hosted.", enum: strs(api.ProviderCategories...)},
}

// requestRequired are the fields each request body must carry (the server's validation refuses the
// request without them).
var requestRequired = map[string][]string{
	"CredentialCreate": {"name", "provider"},
	"ConnectionCreate": {"name", "credential_id", "model"},
	"ModelPolicyPut":   {"mode"},
	"ProjectCreate":    {"name"},
}

// typeDocs describe the schemas.
var typeDocs = map[string]string{
	"Credential":          "A provider key as the API returns it. It never carries the secret itself.",
	"CredentialCreate":    "The body of POST /v1/credentials.",
	"CredentialPatch":     "The body of PATCH /v1/credentials/{id}: absent fields are left as they are.",
	"CredentialSecret":    "The answer of POST /v1/credentials/{id}/reveal.",
	"Connection":          "A model reachable through a credential.",
	"ConnectionCreate":    "The body of POST /v1/connections.",
	"ConnectionPatch":     "The body of PATCH /v1/connections/{id}: absent fields are left as they are.",
	"ModelPolicy":         "Which models a scope may use.",
	"ModelPolicyPut":      "The body of PUT /v1/model-policy.",
	"CredentialPolicy":    "The rules for the credentials of a scope.",
	"CredentialPolicyPut": "The body of PUT /v1/credential-policy.",
	"Project":             "A scope for credentials, connections and a model policy.",
	"WhoAmI":              "Whom a token speaks for, and which database the server keeps.",
	"ProjectCreate":       "The body of POST /v1/projects.",
	"ProjectPatch":        "The body of PATCH /v1/projects/{id}: absent fields are left as they are.",
	"Model":               "A catalog model.",
	"AuditEvent":          "One recorded change. It names the fields changed, never their values, except the destination settings in changes.",
	"AuditChange":         "One setting's value before and after a change; an empty string means absent.",
	"Problem":             "An RFC 9457 problem document, the body of every error answer.",
	"FieldError":          "One invalid field of a request, by its JSON name, with dots for nesting (settings.endpoint).",
	"Provider":            "A catalog entry: a model provider credentials can be made for.",
	"ProviderSetting":     "One non-secret setting of a provider.",
	"ProviderSecret":      "One secret field of a provider.",
	"ProviderList":        "A page of providers.",
	"ModelList":           "A page of models.",
	"CredentialList":      "A page of credentials; next_page_token is absent on the last page.",
	"ConnectionList":      "A page of connections; next_page_token is absent on the last page.",
	"ProjectList":         "A page of projects; next_page_token is absent on the last page.",
	"AuditEventList":      "A page of audit events; next_page_token is absent on the last page.",
}

// extraSchemas are the answers of the operational routes, which have no wire type.
var extraSchemas = map[string]any{
	"Health": map[string]any{"type": "object", "description": "The answer of GET /healthz.", "required": []any{"status", "version"},
		"properties": map[string]any{
			"status":  map[string]any{"type": "string", "enum": strs("ok")},
			"version": map[string]any{"type": "string", "description": "The server's version."},
		}},
	"Readiness": map[string]any{"type": "object", "description": "The answer of GET /readyz.", "required": []any{"status", "database"},
		"properties": map[string]any{
			"status":   map[string]any{"type": "string", "enum": strs("ready")},
			"database": map[string]any{"type": "string", "enum": strs("sqlite", "postgres"), "description": "The kind of database the server runs on."},
		}},
}

const apiDescription = `The API of modelkeys-server: provider credentials (sealed at rest), the connections that reach models through them,
projects, model policies and the audit log, for the modelkeys Terraform provider and anything else that speaks HTTP.

* **Authentication**: every route under /v1 takes an API token as ` + "`Authorization: Bearer mkt_...`" + `; its role (viewer,
  editor, admin) decides what it may do. /healthz, /readyz and /openapi.json need none; /metrics takes the operator's metrics token.
* **Errors** are RFC 9457 problem documents (application/problem+json); a 422 lists the invalid fields in errors.
* **Concurrency**: objects carry a version, answered as ETag; send it back in If-Match and a write to a changed object is a 412.
* **Retries**: a create with an Idempotency-Key can be retried safely. A 429 says when to retry in Retry-After.
* **Pages**: lists answer at most limit items and a next_page_token while there are more.
* **Request bodies** are JSON sent as Content-Type: application/json (anything else is a 415) and closed: an unknown field is a 422, not ignored.
* **Text** in paths, query parameters, headers and bodies is UTF-8 without control or format characters (a 400, or a 422 naming the field).
* **Methods**: a path served with another method answers 405 with the methods it takes in Allow.
* **Answers** carry X-Content-Type-Options: nosniff and Cache-Control: no-store, and Strict-Transport-Security over TLS.`
