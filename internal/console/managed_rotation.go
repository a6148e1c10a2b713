package console

import (
	"fmt"
	"net/http"
)

// rotateManaged rotates a managed credential's key now (issue 35): the service mints, verifies and
// switches before it answers; the page then says which key is live and until when the old one works.
func (c *Console) rotateManaged(w http.ResponseWriter, r *http.Request, req *request) {
	id := r.PathValue("id")
	cr, err := c.svc.RotateCredential(r.Context(), req.p, id, "console")
	if err != nil {
		c.flashOrFail(w, r, req, id, err, "")
		return
	}
	msg := fmt.Sprintf("Rotated: the credential now uses key %s (secret version %d).", cr.SecretHint, cr.SecretVersion)
	if cr.Rotation != nil && cr.Rotation.PreviousKeyRevokeAt != nil {
		msg += " The previous key keeps working until " + *cr.Rotation.PreviousKeyRevokeAt + ", then it is revoked at the vendor."
	}
	c.sessions.setFlash(req.id, msg, "")
	backToCredential(w, r, id)
}
