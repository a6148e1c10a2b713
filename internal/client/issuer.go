package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// Issuer reads the server's OpenID issuer (GET /v1/issuer): its issuer URL and JWKS URL and, when
// credentialID is not empty, the subject (sub) of that credential's assertions. A server started
// without --issuer-url answers 409 (IsConflict).
func (c *Client) Issuer(ctx context.Context, credentialID string) (api.Issuer, error) {
	var out api.Issuer
	q := url.Values{}
	if credentialID != "" {
		q.Set("credential_id", credentialID)
	}
	err := c.do(ctx, request{method: http.MethodGet, path: "/v1/issuer", query: q}, &out)
	return out, err
}
