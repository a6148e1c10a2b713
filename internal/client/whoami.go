package client

import (
	"context"
	"net/http"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// WhoAmI returns the organisation, role and name of the client's token and the id of the server's
// database (GET /v1/whoami). It is retried like any call, so a server in a rolling restart passes; a
// wrong scheme or certificate fails at the first attempt, and a wrong token is a 401, never retried.
func (c *Client) WhoAmI(ctx context.Context) (api.WhoAmI, error) {
	var out api.WhoAmI
	err := c.do(ctx, request{method: http.MethodGet, path: "/v1/whoami"}, &out)
	return out, err
}
