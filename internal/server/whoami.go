package server

import (
	"net/http"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

func (s *Server) whoAmI(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	out, err := s.svc.WhoAmI(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
