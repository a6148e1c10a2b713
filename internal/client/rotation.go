package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// RotateCredential asks the server to rotate a managed credential's key now (POST
// /v1/credentials/{id}/rotate): the new key is minted, verified and switched to before it answers,
// and the old one is revoked when the overlap ends. trigger (api, console, terraform) is recorded in
// the audit log.
func (c *Client) RotateCredential(ctx context.Context, id, trigger string) (*api.Credential, error) {
	eid, err := escapeID("credential", id)
	if err != nil {
		return nil, err
	}
	var q url.Values
	if trigger != "" {
		q = url.Values{"trigger": {trigger}}
	}
	return send[api.Credential](ctx, c, request{method: http.MethodPost, path: "/v1/credentials/" + eid + "/rotate", query: q})
}
