package server

import (
	"log/slog"
	"net/http"
)

// This file holds what the web console (internal/console) needs of the server beyond the Service's
// ordinary methods: it signs people in through the same token check and failed-authentication limit
// as the API, and mounts its pages on the API's handler, behind the same request ids, logs and metrics.

// CanWrite reports whether the principal may change things (an editor or admin token), the rule the
// Service applies to every write.
func (p Principal) CanWrite() bool { return p.canWrite() }

// SignIn checks a token a person typed into the console, behind the per-address limit on failed
// authentication that guards the API: a wrong token uses up one unit of the client's address, and an
// address that has used them all gets a 429 (with Retry-After on w) without a database read.
func (s *Server) SignIn(w http.ResponseWriter, r *http.Request, token string) (Principal, error) {
	return s.gated(w, r, func() (Principal, error) {
		if token == "" {
			return Principal{}, unauthorized("Enter an API token; make one with `modelkeys-server token create`.")
		}
		return s.svc.PrincipalOfTokenHash(r.Context(), HashToken(token))
	})
}

// Mount serves h for pattern (a net/http ServeMux pattern such as "/ui/") beside the API's routes.
// Call it before serving.
func (s *Server) Mount(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Logger is the service's logger, for the console's own failures.
func (s *Service) Logger() *slog.Logger { return s.log }
