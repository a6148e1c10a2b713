package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// route is one entry of the API. The router and /openapi.json are both built from this table.
type route struct {
	Method, Path, Summary string
	Query                 []string
	Request, Response     any // zero values of the body types; nil when there is none
	Status                int
	Public                bool // answered without a token
	// MetricsToken routes take the operator's --metrics-token instead of an API token: what they show
	// spans every organisation, which no organisation's token may see.
	MetricsToken bool
	handle       func(s *Server, w http.ResponseWriter, r *http.Request, p service.Principal) error
}

func routes() []route {
	return []route{
		{Method: "GET", Path: "/v1/providers", Summary: "List the provider catalog", Response: api.List[api.Provider]{}, Status: 200, handle: (*Server).listProviders},
		{Method: "GET", Path: "/v1/models", Summary: "List catalog models with whether the scope's policy allows them", Query: []string{"provider", "publisher", "capability", "project_id", "credential_id"}, Response: api.List[api.Model]{}, Status: 200, handle: (*Server).listModels},

		{Method: "POST", Path: "/v1/credentials", Summary: "Create a credential", Request: api.CredentialCreate{}, Response: api.Credential{}, Status: 201, handle: (*Server).createCredential},
		{Method: "GET", Path: "/v1/credentials", Summary: "List credentials", Query: []string{"project_id", "provider", "name", "name_prefix", "status", "lifecycle_status", "page_token", "limit"}, Response: api.List[api.Credential]{}, Status: 200, handle: (*Server).listCredentials},
		{Method: "GET", Path: "/v1/credentials/{id}", Summary: "Read a credential", Response: api.Credential{}, Status: 200, handle: (*Server).getCredential},
		{Method: "PATCH", Path: "/v1/credentials/{id}", Summary: "Update a credential", Request: api.CredentialPatch{}, Response: api.Credential{}, Status: 200, handle: (*Server).updateCredential},
		{Method: "DELETE", Path: "/v1/credentials/{id}", Summary: "Delete a credential", Query: []string{"force"}, Status: 204, handle: (*Server).deleteCredential},
		{Method: "POST", Path: "/v1/credentials/{id}/verify", Summary: "Check a credential against its provider again", Response: api.Credential{}, Status: 200, handle: (*Server).verifyCredential},
		{Method: "POST", Path: "/v1/credentials/{id}/rotate", Summary: "Rotate a managed credential's key now (mint, verify, switch; the old key is revoked after the overlap)", Query: []string{"trigger"}, Response: api.Credential{}, Status: 200, handle: (*Server).rotateCredential},
		{Method: "GET", Path: "/v1/credentials/{id}/models", Summary: "List the models the credential's key reaches", Response: api.List[api.Model]{}, Status: 200, handle: (*Server).credentialModels},
		{Method: "POST", Path: "/v1/credentials/{id}/reveal", Summary: "Read a credential's secrets (admin, --allow-reveal, audited)", Response: api.CredentialSecret{}, Status: 200, handle: (*Server).revealCredential},

		{Method: "POST", Path: "/v1/connections", Summary: "Create a connection", Request: api.ConnectionCreate{}, Response: api.Connection{}, Status: 201, handle: (*Server).createConnection},
		{Method: "GET", Path: "/v1/connections", Summary: "List connections", Query: []string{"project_id", "credential_id", "name", "model", "name_prefix", "page_token", "limit"}, Response: api.List[api.Connection]{}, Status: 200, handle: (*Server).listConnections},
		{Method: "GET", Path: "/v1/connections/{id}", Summary: "Read a connection", Response: api.Connection{}, Status: 200, handle: (*Server).getConnection},
		{Method: "PATCH", Path: "/v1/connections/{id}", Summary: "Update a connection", Request: api.ConnectionPatch{}, Response: api.Connection{}, Status: 200, handle: (*Server).updateConnection},
		{Method: "DELETE", Path: "/v1/connections/{id}", Summary: "Delete a connection", Status: 204, handle: (*Server).deleteConnection},

		{Method: "GET", Path: "/v1/model-policy", Summary: "Read a scope's model policy", Query: []string{"project_id"}, Response: api.ModelPolicy{}, Status: 200, handle: (*Server).getModelPolicy},
		{Method: "PUT", Path: "/v1/model-policy", Summary: "Write a scope's model policy", Query: []string{"project_id"}, Request: api.ModelPolicyPut{}, Response: api.ModelPolicy{}, Status: 200, handle: (*Server).putModelPolicy},
		{Method: "DELETE", Path: "/v1/model-policy", Summary: "Reset a scope's model policy to mode all", Query: []string{"project_id"}, Status: 204, handle: (*Server).deleteModelPolicy},

		{Method: "POST", Path: "/v1/projects", Summary: "Create a project", Request: api.ProjectCreate{}, Response: api.Project{}, Status: 201, handle: (*Server).createProject},
		{Method: "GET", Path: "/v1/projects", Summary: "List projects", Query: []string{"name", "name_prefix", "page_token", "limit"}, Response: api.List[api.Project]{}, Status: 200, handle: (*Server).listProjects},
		{Method: "GET", Path: "/v1/projects/{id}", Summary: "Read a project", Response: api.Project{}, Status: 200, handle: (*Server).getProject},
		{Method: "PATCH", Path: "/v1/projects/{id}", Summary: "Update a project", Request: api.ProjectPatch{}, Response: api.Project{}, Status: 200, handle: (*Server).updateProject},
		{Method: "DELETE", Path: "/v1/projects/{id}", Summary: "Delete an empty project", Status: 204, handle: (*Server).deleteProject},

		{Method: "POST", Path: "/v1/identity-providers", Summary: "Trust an OpenID identity provider (admin)", Request: api.IdentityProviderCreate{}, Response: api.IdentityProvider{}, Status: 201, handle: (*Server).createIdentityProvider},
		{Method: "GET", Path: "/v1/identity-providers", Summary: "List identity providers (admin)", Query: []string{"name", "page_token", "limit"}, Response: api.List[api.IdentityProvider]{}, Status: 200, handle: (*Server).listIdentityProviders},
		{Method: "GET", Path: "/v1/identity-providers/{id}", Summary: "Read an identity provider (admin)", Response: api.IdentityProvider{}, Status: 200, handle: (*Server).getIdentityProvider},
		{Method: "PATCH", Path: "/v1/identity-providers/{id}", Summary: "Update an identity provider (admin)", Request: api.IdentityProviderPatch{}, Response: api.IdentityProvider{}, Status: 200, handle: (*Server).updateIdentityProvider},
		{Method: "DELETE", Path: "/v1/identity-providers/{id}", Summary: "Delete an identity provider no rule trusts (admin)", Status: 204, handle: (*Server).deleteIdentityProvider},
		{Method: "POST", Path: "/v1/federation-rules", Summary: "Create a federation rule (admin)", Request: api.FederationRuleCreate{}, Response: api.FederationRule{}, Status: 201, handle: (*Server).createFederationRule},
		{Method: "GET", Path: "/v1/federation-rules", Summary: "List federation rules (admin)", Query: []string{"identity_provider_id", "kind", "name", "page_token", "limit"}, Response: api.List[api.FederationRule]{}, Status: 200, handle: (*Server).listFederationRules},
		{Method: "GET", Path: "/v1/federation-rules/{id}", Summary: "Read a federation rule (admin)", Response: api.FederationRule{}, Status: 200, handle: (*Server).getFederationRule},
		{Method: "PATCH", Path: "/v1/federation-rules/{id}", Summary: "Update a federation rule, ending the tokens it issued (admin)", Request: api.FederationRulePatch{}, Response: api.FederationRule{}, Status: 200, handle: (*Server).updateFederationRule},
		{Method: "DELETE", Path: "/v1/federation-rules/{id}", Summary: "Delete a federation rule and the tokens it issued (admin)", Status: 204, handle: (*Server).deleteFederationRule},
		{Method: "POST", Path: "/v1/oauth/token", Summary: "Exchange an identity token for a short-lived modelkeys token (RFC 8693)", Public: true, Response: api.TokenExchangeResponse{}, Status: 200, handle: (*Server).oauthToken},

		{Method: "GET", Path: "/v1/whoami", Summary: "Who the token speaks for: organisation, role, name, and the store's id", Response: api.WhoAmI{}, Status: 200, handle: (*Server).whoAmI},

		{Method: "GET", Path: "/v1/audit-events", Summary: "Page the organisation's audit events", Query: []string{"after", "limit"}, Response: api.List[api.AuditEvent]{}, Status: 200, handle: (*Server).listAudit},

		{Method: "GET", Path: "/healthz", Summary: "Liveness", Public: true, Status: 200, handle: (*Server).healthz},
		{Method: "GET", Path: "/readyz", Summary: "Readiness: the database answers", Public: true, Status: 200, handle: (*Server).readyz},
		{Method: "GET", Path: "/metrics", Summary: "Prometheus metrics (the operator's metrics token)", MetricsToken: true, Status: 200, handle: (*Server).metrics},
		{Method: "GET", Path: "/openapi.json", Summary: "This API's OpenAPI 3.1 document", Public: true, Status: 200, handle: (*Server).openAPI},
		{Method: "GET", Path: "/.well-known/openid-configuration", Summary: "The issuer's OpenID discovery document (serve --issuer-url)", Public: true, Status: 200, handle: (*Server).openIDConfiguration},
		{Method: "GET", Path: "/.well-known/jwks.json", Summary: "The issuer's public signing keys", Public: true, Status: 200, handle: (*Server).issuerJWKS},
		{Method: "GET", Path: "/v1/issuer", Summary: "The issuer's URLs and a credential's subject", Query: []string{"credential_id"}, Response: api.Issuer{}, Status: 200, handle: (*Server).getIssuer},

		{Method: "POST", Path: "/v1/credentials/{id}/access-token", Summary: "A minutes-lived vendor token of a keyless credential (admins and federated tokens that name it; rate-limited, audited)", Response: api.CredentialAccessToken{}, Status: 200, handle: (*Server).credentialAccessToken},
		{Method: "POST", Path: "/v1/credentials/{id}/secret-matches", Summary: "Compare secrets with a credential's stored ones (editor or admin, rate-limited, audited)", Request: api.SecretMatch{}, Response: api.SecretMatchResult{}, Status: 200, handle: (*Server).secretMatches},
		{Method: "GET", Path: "/v1/credential-policy", Summary: "Read a scope's credential policy", Query: []string{"project_id"}, Response: api.CredentialPolicy{}, Status: 200, handle: (*Server).getCredentialPolicy},
		{Method: "PUT", Path: "/v1/credential-policy", Summary: "Write a scope's credential policy", Query: []string{"project_id"}, Request: api.CredentialPolicyPut{}, Response: api.CredentialPolicy{}, Status: 200, handle: (*Server).putCredentialPolicy},
		{Method: "DELETE", Path: "/v1/credential-policy", Summary: "Reset a scope's credential policy to no rules", Query: []string{"project_id"}, Status: 204, handle: (*Server).deleteCredentialPolicy},
	}
}

// createRequest reads a POST body, decodes it into v and derives the idempotency key, if any.
func (s *Server) createRequest(r *http.Request, v any) (*service.IdempotencyKey, error) {
	body, err := readBody(r, s.svc.Limits().MaxBodyBytes)
	if err != nil {
		return nil, err
	}
	if err := decodeStrict(body, v); err != nil {
		return nil, err
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		return nil, nil
	}
	if len(key) > 255 {
		return nil, badRequest("Idempotency-Key must be at most 255 characters.")
	}
	return s.svc.NewIdempotencyKey(key, r.Method, r.URL.Path, body), nil
}

func (s *Server) decode(r *http.Request, v any) error {
	body, err := readBody(r, s.svc.Limits().MaxBodyBytes)
	if err != nil {
		return err
	}
	return decodeStrict(body, v)
}

func (s *Server) listProviders(w http.ResponseWriter, _ *http.Request, _ service.Principal) error {
	writeJSON(w, 200, api.List[api.Provider]{Items: catalog.Providers()})
	return nil
}

func (s *Server) listModels(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	q := r.URL.Query()
	out, err := s.svc.ListModels(r.Context(), p, service.ModelFilter{Provider: q.Get("provider"), Publisher: q.Get("publisher"), Capability: q.Get("capability"), ProjectID: q.Get("project_id"), CredentialID: q.Get("credential_id")})
	if err != nil {
		return err
	}
	writeJSON(w, 200, out)
	return nil
}

func (s *Server) createCredential(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	var in api.CredentialCreate
	idem, err := s.createRequest(r, &in)
	if err != nil {
		return err
	}
	c, _, err := s.svc.CreateCredential(r.Context(), p, in, idem)
	if err != nil {
		return err
	}
	writeObject(w, http.StatusCreated, c.Version, c)
	return nil
}

func (s *Server) listCredentials(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	q := r.URL.Query()
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	out, err := s.svc.ListCredentials(r.Context(), p, store.CredentialFilter{ProjectID: q.Get("project_id"), Provider: q.Get("provider"), Name: q.Get("name"),
		NamePrefix: q.Get("name_prefix"), Status: q.Get("status"), AfterID: q.Get("page_token"), Limit: limit, LifecycleStatus: q.Get("lifecycle_status")})
	if err != nil {
		return err
	}
	writeJSON(w, 200, out)
	return nil
}

func (s *Server) getCredential(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	c, err := s.svc.GetCredential(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeObject(w, 200, c.Version, c)
	return nil
}

func (s *Server) updateCredential(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	match, err := ifMatch(r)
	if err != nil {
		return err
	}
	body, err := readBody(r, s.svc.Limits().MaxBodyBytes)
	if err != nil {
		return err
	}
	var in api.CredentialPatch
	if err := decodeStrict(body, &in); err != nil {
		return err
	}
	nullRemovesSecrets(body, &in)
	c, err := s.svc.UpdateCredential(r.Context(), p, r.PathValue("id"), in, match)
	if err != nil {
		return err
	}
	writeObject(w, 200, c.Version, c)
	return nil
}

// nullRemovesSecrets gives "api_key": null the meaning of "": remove the secret. Decoding into a
// pointer cannot tell null from absent, and a client that sends null surely does not mean "keep it".
func nullRemovesSecrets(body []byte, in *api.CredentialPatch) {
	var raw map[string]json.RawMessage
	if json.Unmarshal(body, &raw) != nil {
		return
	}
	empty := ""
	for name, field := range map[string]**string{api.SecretAPIKey: &in.APIKey, api.SecretAuthToken: &in.AuthToken} {
		if v, ok := raw[name]; ok && string(bytes.TrimSpace(v)) == "null" {
			*field = &empty
		}
	}
}

func (s *Server) deleteCredential(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	match, err := ifMatch(r)
	if err != nil {
		return err
	}
	force, err := queryBool(r, "force")
	if err != nil {
		return err
	}
	if err := s.svc.DeleteCredential(r.Context(), p, r.PathValue("id"), match, force); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) verifyCredential(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	c, err := s.svc.VerifyCredential(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeObject(w, 200, c.Version, c)
	return nil
}

func (s *Server) credentialModels(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	out, err := s.svc.CredentialModels(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, 200, out)
	return nil
}

func (s *Server) revealCredential(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	out, err := s.svc.RevealCredential(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, 200, out)
	return nil
}

func (s *Server) createConnection(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	var in api.ConnectionCreate
	idem, err := s.createRequest(r, &in)
	if err != nil {
		return err
	}
	c, _, err := s.svc.CreateConnection(r.Context(), p, in, idem)
	if err != nil {
		return err
	}
	writeObject(w, http.StatusCreated, c.Version, c)
	return nil
}

func (s *Server) listConnections(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	q := r.URL.Query()
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	out, err := s.svc.ListConnections(r.Context(), p, store.ConnectionFilter{ProjectID: q.Get("project_id"), CredentialID: q.Get("credential_id"), Name: q.Get("name"),
		Model: q.Get("model"), NamePrefix: q.Get("name_prefix"), AfterID: q.Get("page_token"), Limit: limit})
	if err != nil {
		return err
	}
	writeJSON(w, 200, out)
	return nil
}

func (s *Server) getConnection(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	c, err := s.svc.GetConnection(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeObject(w, 200, c.Version, c)
	return nil
}

func (s *Server) updateConnection(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	match, err := ifMatch(r)
	if err != nil {
		return err
	}
	var in api.ConnectionPatch
	if err := s.decode(r, &in); err != nil {
		return err
	}
	c, err := s.svc.UpdateConnection(r.Context(), p, r.PathValue("id"), in, match)
	if err != nil {
		return err
	}
	writeObject(w, 200, c.Version, c)
	return nil
}

func (s *Server) deleteConnection(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	match, err := ifMatch(r)
	if err != nil {
		return err
	}
	if err := s.svc.DeleteConnection(r.Context(), p, r.PathValue("id"), match); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getModelPolicy(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	pol, err := s.svc.GetModelPolicy(r.Context(), p, r.URL.Query().Get("project_id"))
	if err != nil {
		return err
	}
	writeObject(w, 200, pol.Version, pol)
	return nil
}

func (s *Server) putModelPolicy(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	match, err := ifMatch(r)
	if err != nil {
		return err
	}
	var in api.ModelPolicyPut
	if err := s.decode(r, &in); err != nil {
		return err
	}
	pol, err := s.svc.PutModelPolicy(r.Context(), p, r.URL.Query().Get("project_id"), in, match)
	if err != nil {
		return err
	}
	writeObject(w, 200, pol.Version, pol)
	return nil
}

func (s *Server) deleteModelPolicy(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	match, err := ifMatch(r)
	if err != nil {
		return err
	}
	if err := s.svc.DeleteModelPolicy(r.Context(), p, r.URL.Query().Get("project_id"), match); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) createProject(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	var in api.ProjectCreate
	idem, err := s.createRequest(r, &in)
	if err != nil {
		return err
	}
	pr, _, err := s.svc.CreateProject(r.Context(), p, in, idem)
	if err != nil {
		return err
	}
	writeObject(w, http.StatusCreated, pr.Version, pr)
	return nil
}

func (s *Server) listProjects(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	out, err := s.svc.ListProjectsFiltered(r.Context(), p, q.Get("name"), q.Get("name_prefix"), q.Get("page_token"), limit)
	if err != nil {
		return err
	}
	writeJSON(w, 200, out)
	return nil
}

func (s *Server) getProject(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	pr, err := s.svc.GetProject(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeObject(w, 200, pr.Version, pr)
	return nil
}

func (s *Server) updateProject(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	match, err := ifMatch(r)
	if err != nil {
		return err
	}
	var in api.ProjectPatch
	if err := s.decode(r, &in); err != nil {
		return err
	}
	pr, err := s.svc.UpdateProject(r.Context(), p, r.PathValue("id"), in, match)
	if err != nil {
		return err
	}
	writeObject(w, 200, pr.Version, pr)
	return nil
}

func (s *Server) deleteProject(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	match, err := ifMatch(r)
	if err != nil {
		return err
	}
	if err := s.svc.DeleteProject(r.Context(), p, r.PathValue("id"), match); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	var after int64
	if v := r.URL.Query().Get("after"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil {
			return badRequest("query parameter after must be an audit event id.")
		}
	}
	out, err := s.svc.ListAudit(r.Context(), p, after, limit)
	if err != nil {
		return err
	}
	writeJSON(w, 200, out)
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request, _ service.Principal) error {
	writeJSON(w, 200, map[string]string{"status": "ok", "version": s.svc.Version()})
	return nil
}

// readyzTimeout bounds the database check of /readyz.
const readyzTimeout = 5 * time.Second

func (s *Server) readyz(w http.ResponseWriter, r *http.Request, _ service.Principal) error {
	// A database that hangs (a network partition) must fail the probe, not stall it.
	ctx, cancel := context.WithTimeout(r.Context(), readyzTimeout)
	defer cancel()
	if err := s.svc.Ping(ctx); err != nil {
		s.svc.Logger().Warn("readiness check failed", "error", err)
		return &service.Error{Status: http.StatusServiceUnavailable, Title: "Not ready", Detail: "The database does not answer."}
	}
	writeJSON(w, 200, map[string]string{"status": "ready", "database": s.svc.Dialect()})
	return nil
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request, _ service.Principal) error {
	s.metricsHandler.ServeHTTP(w, r)
	return nil
}

func (s *Server) openAPI(w http.ResponseWriter, _ *http.Request, _ service.Principal) error {
	writeJSON(w, 200, s.openAPIDoc)
	return nil
}

func (s *Server) getCredentialPolicy(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	pol, err := s.svc.GetCredentialPolicy(r.Context(), p, r.URL.Query().Get("project_id"))
	if err != nil {
		return err
	}
	writeObject(w, 200, pol.Version, pol)
	return nil
}

func (s *Server) putCredentialPolicy(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	match, err := ifMatch(r)
	if err != nil {
		return err
	}
	var in api.CredentialPolicyPut
	if err := s.decode(r, &in); err != nil {
		return err
	}
	pol, err := s.svc.PutCredentialPolicy(r.Context(), p, r.URL.Query().Get("project_id"), in, match)
	if err != nil {
		return err
	}
	writeObject(w, 200, pol.Version, pol)
	return nil
}

func (s *Server) deleteCredentialPolicy(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	match, err := ifMatch(r)
	if err != nil {
		return err
	}
	if err := s.svc.DeleteCredentialPolicy(r.Context(), p, r.URL.Query().Get("project_id"), match); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) secretMatches(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	var in api.SecretMatch
	if err := s.decode(r, &in); err != nil {
		return err
	}
	out, err := s.svc.SecretMatches(r.Context(), p, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, 200, out)
	return nil
}
