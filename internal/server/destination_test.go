package server

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

func TestKeyDestinationNeedsTheKey(t *testing.T) { forEachBackend(t, testKeyDestinationNeedsTheKey) }

// testKeyDestinationNeedsTheKey: an editor who may change settings but not read keys must not be able
// to point a stored key at a host of their choosing.
func testKeyDestinationNeedsTheKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	key := h.secret("sk-proj-")
	in := openAICred("pointed", key)
	in.Settings = map[string]string{"base_url": "https://api.openai.com/v1"}
	c := h.mustCreate(h.admin, in)

	moved := map[string]string{"base_url": "https://attacker.example/v1"}
	_, err := h.editor.UpdateCredential(ctx, c.ID, api.CredentialPatch{Settings: &moved}, 0)
	fieldError(t, apiError(t, err, http.StatusUnprocessableEntity).Problem, "settings.base_url")

	removed := map[string]string{}
	_, err = h.editor.UpdateCredential(ctx, c.ID, api.CredentialPatch{Settings: &removed}, 0)
	fieldError(t, apiError(t, err, http.StatusUnprocessableEntity).Problem, "settings.base_url")

	// Whoever sends the key decides where it goes.
	if _, err := h.editor.UpdateCredential(ctx, c.ID, api.CredentialPatch{Settings: &moved, APIKey: &key}, 0); err != nil {
		t.Fatalf("moving the key with the key: %v", err)
	}
	// Other settings change freely.
	org := map[string]string{"base_url": "https://attacker.example/v1", "organization_id": "org-1"}
	if _, err := h.editor.UpdateCredential(ctx, c.ID, api.CredentialPatch{Settings: &org}, 0); err != nil {
		t.Fatalf("a non-URL setting: %v", err)
	}
}

// A Bedrock key goes to bedrock.{region}.amazonaws.com: the region is a destination too.
func TestRegionIsADestination(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	key := h.secret("ABSK")
	c := h.mustCreate(h.admin, api.CredentialCreate{Name: "bedrock", Provider: "bedrock", APIKey: &key,
		Settings: map[string]string{"region": "us-east-1"}, Verify: ptr(false)})
	moved := map[string]string{"region": "eu-west-1"}
	_, err := h.editor.UpdateCredential(ctx, c.ID, api.CredentialPatch{Settings: &moved}, 0)
	fe := fieldError(t, apiError(t, err, http.StatusUnprocessableEntity).Problem, "settings.region")
	if !strings.Contains(fe.Message, "api_key") {
		t.Fatalf("the error should say which secret to send: %q", fe.Message)
	}
	if _, err := h.editor.UpdateCredential(ctx, c.ID, api.CredentialPatch{Settings: &moved, APIKey: &key}, 0); err != nil {
		t.Fatalf("moving the key with the key: %v", err)
	}
}
