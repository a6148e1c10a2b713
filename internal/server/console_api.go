package server

import (
	"context"
	"net/http"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

// This file holds what the web console (internal/console) needs of the server beyond the Service's
// ordinary methods: it signs people in through the same token check and failed-authentication limit
// as the API, and mounts its pages on the API's handler, behind the same request ids, logs and metrics.

// SignIn checks a token a person typed into the console, behind the per-address limit on failed
// authentication that guards the API: a wrong token uses up one unit of the client's address, and an
// address that has used them all gets a 429 (with Retry-After on w) without a database read.
func (s *Server) SignIn(w http.ResponseWriter, r *http.Request, token string) (service.Principal, error) {
	return s.gated(w, r, token, func(ctx context.Context) (service.Principal, error) {
		if token == "" {
			return service.Principal{}, &service.Error{Status: http.StatusUnauthorized, Title: "Unauthorized", Detail: "Enter an API token; make one with `modelkeys-server token create`."}
		}
		return s.svc.PrincipalOfTokenHash(ctx, service.HashToken(token))
	})
}

// Mount serves h for pattern (a net/http ServeMux pattern such as "/ui/") beside the API's routes.
// Call it before serving.
func (s *Server) Mount(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }
