package server

import (
	"net/http"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

// The issuer's documents are public and change rarely: vendors fetch them without a token and may
// cache them. The JWKS is cached for less than issuer.RetireDelay - issuer.MaxLifetime, and a
// rotation publishes new keys before they sign when asked to (rotate-signing-key --activate-in),
// so a cached set never lacks a key a vendor needs for long; verifiers also fetch again on an
// unknown kid.
const (
	discoveryCacheControl = "public, max-age=3600"
	jwksCacheControl      = "public, max-age=300"
)

func (s *Server) openIDConfiguration(w http.ResponseWriter, _ *http.Request, _ service.Principal) error {
	doc, err := s.svc.IssuerDiscovery()
	if err != nil {
		return err
	}
	writeRawJSON(w, discoveryCacheControl, doc)
	return nil
}

func (s *Server) issuerJWKS(w http.ResponseWriter, r *http.Request, _ service.Principal) error {
	doc, err := s.svc.IssuerJWKS(r.Context())
	if err != nil {
		return err
	}
	writeRawJSON(w, jwksCacheControl, doc)
	return nil
}

func writeRawJSON(w http.ResponseWriter, cacheControl string, doc []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", cacheControl)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(doc)
}

func (s *Server) getIssuer(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	out, err := s.svc.Issuer(r.Context(), p, r.URL.Query().Get("credential_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// The OpenAPI words of the issuer's routes, kept beside them.
func init() {
	tagDocs = append(tagDocs, tagDoc{"Issuer", "This server as an OpenID issuer (serve --issuer-url): the documents vendors read to trust its assertions, and the subject of a credential's assertions."})
	queryDocs["/v1/issuer credential_id"] = queryDoc{"Also answer the subject (sub) of this credential's assertions.", nil}
	jsonBody := func(description string) map[string]any {
		return map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object", "description": description}}}
	}
	operationDocs["GET /.well-known/openid-configuration"] = operationDoc{ID: "getOpenIDConfiguration", Tag: "Issuer", Errors: errs(publicErrors, 404),
		Description: "The OpenID Provider Metadata of this server as an issuer: issuer, jwks_uri, the signing algorithms (ES256, and RS256 for Microsoft Entra ID). " +
			"Public and cacheable (Cache-Control: public, max-age=3600). A 404 on a server started without --issuer-url.",
		Success: "The discovery document",
		Body:    jsonBody("OpenID Connect Discovery 1.0 provider metadata.")}
	operationDocs["GET /.well-known/jwks.json"] = operationDoc{ID: "getJWKS", Tag: "Issuer", Errors: errs(publicErrors, 404),
		Description: "The public keys that verify this server's assertions (RFC 7517): the signing keys, the ones that will sign after a rotation, and the replaced ones until every token they signed has expired. " +
			"Public and cacheable (Cache-Control: public, max-age=300); never a private key. A 404 on a server started without --issuer-url.",
		Success: "The key set",
		Body:    jsonBody("A JSON Web Key Set: {\"keys\": [...]}.")}
	operationDocs["GET /v1/issuer"] = operationDoc{ID: "getIssuer", Tag: "Issuer", Errors: errs(tokenErrors, 404, 409),
		Description: "Where vendors find this server's issuer (issuer, jwks_uri, discovery_url) and, with credential_id, the subject (sub) of that credential's assertions: " +
			"modelkeys:org:<organisation id>:credential:<credential id>, stable for the credential's life, to write into the vendor's federation rule. " +
			"Any role may read it; 404 when the credential does not exist, 409 on a server started without --issuer-url."}
}
