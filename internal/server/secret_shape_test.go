package server

import (
	"context"
	"net/http"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

func TestSecretShape(t *testing.T) {
	h := newHarness(t)
	in := openAICred("newline", "sk-proj-from-a-file-000000000000000001\n")
	_, err := h.admin.CreateCredential(context.Background(), in)
	fieldError(t, apiError(t, err, http.StatusUnprocessableEntity).Problem, "api_key")

	// A service-account document spans lines and ends with one: accepted.
	sa := "{\n  \"type\": \"service_account\",\n  \"project_id\": \"p\"\n}\n"
	vertex := api.CredentialCreate{Name: "vertex", Provider: "vertex_ai", APIKey: &sa, Verify: ptr(false),
		Settings: map[string]string{"project_id": "p", "location": "us-central1"}}
	if _, err := h.admin.CreateCredential(context.Background(), vertex); err != nil {
		t.Fatalf("service-account JSON refused: %v", err)
	}
	// Only a provider whose key is a JSON key file takes a multi-line document: an OpenAI "key" that
	// starts with { is refused like any other secret with a newline.
	_, err = h.admin.CreateCredential(context.Background(), openAICred("json-looking", sa))
	fieldError(t, apiError(t, err, http.StatusUnprocessableEntity).Problem, "api_key")
}

// TestServerWithARotatedAwayKeyWritesNoSecret: a server still running with the old master key after
// rotate-master-key must not seal new secrets that nobody could open after the restart.
func TestServerWithARotatedAwayKeyWritesNoSecret(t *testing.T) {
	h := newHarness(t)
	newKey := secrets.NewMasterKey()
	ring, err := secrets.NewKeyring(newKey, h.key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := service.RotateMasterKey(context.Background(), h.store, ring); err != nil {
		t.Fatal(err)
	}
	_, err = h.admin.CreateCredential(context.Background(), openAICred("after-rotation", h.secret("sk-proj-")))
	if e := apiError(t, err, http.StatusServiceUnavailable); e.Problem.Title != "Master key rotated" {
		t.Fatalf("problem %+v", e.Problem)
	}
	if n := h.countCredentials("acme"); n != 0 {
		t.Fatalf("%d credentials written", n)
	}
}
