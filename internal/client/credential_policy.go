package client

import (
	"context"
	"net/http"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// GetCredentialPolicy reads the credential policy of a scope (GET /v1/credential-policy[?project_id=]);
// an empty projectID means the organisation's. A scope that never had one reads as no rules.
func (c *Client) GetCredentialPolicy(ctx context.Context, projectID string) (*api.CredentialPolicy, error) {
	return getObject[api.CredentialPolicy](ctx, c, "/v1/credential-policy", policyQuery(projectID))
}

// PutCredentialPolicy writes the whole credential policy of a scope (PUT /v1/credential-policy);
// expectedVersion, when non-zero, is sent as If-Match.
func (c *Client) PutCredentialPolicy(ctx context.Context, projectID string, in api.CredentialPolicyPut, expectedVersion int64) (*api.CredentialPolicy, error) {
	return send[api.CredentialPolicy](ctx, c, request{method: http.MethodPut, path: "/v1/credential-policy", query: policyQuery(projectID), body: in, ifMatch: expectedVersion})
}

// DeleteCredentialPolicy resets a scope's credential policy to no rules (DELETE /v1/credential-policy);
// expectedVersion, when non-zero, is sent as If-Match.
func (c *Client) DeleteCredentialPolicy(ctx context.Context, projectID string, expectedVersion int64) error {
	return c.do(ctx, request{method: http.MethodDelete, path: "/v1/credential-policy", query: policyQuery(projectID), ifMatch: expectedVersion}, nil)
}
