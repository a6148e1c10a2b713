package server

import (
	"net/http"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

// credentialAccessToken answers POST /v1/credentials/{id}/access-token: a keyless credential's vendor
// token. It is a secret of minutes, so no cache may keep the answer.
func (s *Server) credentialAccessToken(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	out, err := s.svc.CredentialAccessToken(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, 200, out)
	return nil
}
