package client

import (
	"context"
	"net/http"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// CredentialAccessToken fetches a minutes-lived vendor token of a keyless credential (POST
// /v1/credentials/{id}/access-token). A credential that stores a key has none (409).
func (c *Client) CredentialAccessToken(ctx context.Context, id string) (*api.CredentialAccessToken, error) {
	eid, err := escapeID("credential", id)
	if err != nil {
		return nil, err
	}
	return send[api.CredentialAccessToken](ctx, c, request{method: http.MethodPost, path: "/v1/credentials/" + eid + "/access-token"})
}
