package server

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
)

// listingVerifier accepts every key and answers ListModels with models, as a provider's model
// list endpoint does; it counts the lists asked.
type listingVerifier struct {
	models []string
	mu     sync.Mutex
	lists  int
}

func (v *listingVerifier) Verify(context.Context, api.Provider, map[string]string, map[string]string) api.VerifyResult {
	return api.VerifyResult{OK: true, Message: "accepted"}
}

func (v *listingVerifier) ListModels(context.Context, api.Provider, map[string]string, map[string]string) ([]string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.lists++
	return v.models, nil
}

func (v *listingVerifier) count() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.lists
}

var _ service.ModelLister = (*listingVerifier)(nil)

func wantMessage(t *testing.T, err error, field string, wants ...string) {
	t.Helper()
	fe := fieldError(t, apiError(t, err, http.StatusUnprocessableEntity).Problem, field)
	for _, w := range wants {
		if !strings.Contains(fe.Message, w) {
			t.Errorf("%s: message %q lacks %q", field, fe.Message, w)
		}
	}
}

// A connection's model must be known to the catalog or to the provider's own list for the
// credential (issue 38): a fine-tune the provider lists is accepted, a typo is not, and the provider
// is asked only when the catalog does not know the model.
func TestConnectionModelMustBeKnown(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		v := &listingVerifier{models: []string{"gpt-4o", "ft:gpt-4o-mini:acme::x1"}}
		h := newHarness(t, withVerifier(v))
		ctx := context.Background()
		in := openAICred("live", h.secret("sk-"))
		in.Verify = ptr(true)
		live := h.mustCreate(h.admin, in)
		quiet := h.mustCreate(h.admin, openAICred("quiet", h.secret("sk-")))

		before := v.count()
		if _, err := h.editor.CreateConnection(ctx, api.ConnectionCreate{Name: "known", CredentialID: live.ID, Model: "gpt-4o"}); err != nil {
			t.Fatalf("a catalog model: %v", err)
		}
		if v.count() != before {
			t.Error("the provider's model list was asked for a model the catalog knows")
		}
		if _, err := h.editor.CreateConnection(ctx, api.ConnectionCreate{Name: "tuned", CredentialID: live.ID, Model: "ft:gpt-4o-mini:acme::x1"}); err != nil {
			t.Fatalf("a model the provider lists for the credential: %v", err)
		}
		_, err := h.editor.CreateConnection(ctx, api.ConnectionCreate{Name: "typo", CredentialID: live.ID, Model: "gpt-4o-mni"})
		wantMessage(t, err, "model", `model "gpt-4o-mni" is not a model of openai: the modelkeys catalog does not list it, and credential "live" reaches 2 models by openai's own list and this is not one of them.`,
			`Did you mean "gpt-4o-mini"`, "allow_unknown_model = true")
		// Without verification the provider is not asked, and the message says so.
		_, err = h.editor.CreateConnection(ctx, api.ConnectionCreate{Name: "typo", CredentialID: quiet.ID, Model: "ft:gpt-4o-mini:acme::x1"})
		wantMessage(t, err, "model", `credential "quiet" has verify = false, so openai was not asked for its model list`)
		if _, err := h.editor.CreateConnection(ctx, api.ConnectionCreate{Name: "typo", CredentialID: quiet.ID, Model: "ft:gpt-4o-mini:acme::x1", AllowUnknownModel: true}); err != nil {
			t.Fatalf("allow_unknown_model: %v", err)
		}
		// Providers without a model list (custom servers, Azure deployments) take any id.
		custom := h.mustCreate(h.admin, api.CredentialCreate{Name: "ollama", Provider: "custom", Settings: map[string]string{"base_url": "http://127.0.0.1:11434/v1"}, Verify: ptr(false)})
		if _, err := h.editor.CreateConnection(ctx, api.ConnectionCreate{Name: "local", CredentialID: custom.ID, Model: "llama3:8b"}); err != nil {
			t.Fatalf("a custom server's model: %v", err)
		}
	})
}

// A policy by publisher covers the same maker's models on every platform (issue 38): allowing openai
// and anthropic allows gpt-4o on Azure OpenAI and Claude Sonnet 4.5 on Bedrock, also as a new
// inference profile the catalog lacks; a refusal names the publisher, or says plainly that it is
// unknown and what to do.
func TestPublisherPolicyAcrossPlatforms(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		h := newHarness(t)
		ctx := context.Background()
		azure := h.mustCreate(h.admin, api.CredentialCreate{Name: "azure", Provider: "azure_openai", APIKey: ptr(h.secret("az-")), Verify: ptr(false),
			Settings: map[string]string{"endpoint": "https://acme.openai.azure.com", "deployment": "gpt-4o", "api_version": "2024-10-21"}})
		bedrock := h.mustCreate(h.admin, api.CredentialCreate{Name: "bedrock", Provider: "bedrock", APIKey: ptr(h.secret("br-")), Verify: ptr(false),
			Settings: map[string]string{"region": "us-east-1"}})
		custom := h.mustCreate(h.admin, api.CredentialCreate{Name: "ollama", Provider: "custom", Settings: map[string]string{"base_url": "http://127.0.0.1:11434/v1"}, Verify: ptr(false)})
		if _, err := h.admin.PutModelPolicy(ctx, "", api.ModelPolicyPut{Mode: api.PolicyAllowlist, Publishers: []string{"openai", "anthropic"}}, 0); err != nil {
			t.Fatal(err)
		}
		for _, c := range []api.ConnectionCreate{
			{Name: "azure-gpt-4o", CredentialID: azure.ID, Model: "gpt-4o"},
			{Name: "bedrock-sonnet", CredentialID: bedrock.ID, Model: "anthropic.claude-sonnet-4-5-20250929-v1:0"},
			{Name: "bedrock-sonnet-us", CredentialID: bedrock.ID, Model: "us.anthropic.claude-sonnet-4-5-20250929-v1:0"},
			{Name: "bedrock-next", CredentialID: bedrock.ID, Model: "eu.anthropic.claude-sonnet-9-v1:0", AllowUnknownModel: true},
		} {
			conn, err := h.editor.CreateConnection(ctx, c)
			if err != nil {
				t.Errorf("%s: %v", c.Name, err)
				continue
			}
			if conn.Status != api.ConnectionReady {
				t.Errorf("%s: status %q %q", c.Name, conn.Status, conn.StatusMessage)
			}
		}
		_, err := h.editor.CreateConnection(ctx, api.ConnectionCreate{Name: "llama", CredentialID: bedrock.ID, Model: "meta.llama4-maverick-17b-instruct-v1:0"})
		wantMessage(t, err, "model", `includes neither model "bedrock/meta.llama4-maverick-17b-instruct-v1:0" nor its publisher "meta"`)
		_, err = h.editor.CreateConnection(ctx, api.ConnectionCreate{Name: "local", CredentialID: custom.ID, Model: "gpt-4o"})
		wantMessage(t, err, "model", `its publisher is unknown`, `add "custom/gpt-4o" to the policy's models`)
		if strings.Contains(err.Error(), "(unknown)") {
			t.Errorf("the refusal says (unknown): %v", err)
		}
	})
}

// Policy entries are checked against the catalog with the same suggestions.
func TestPolicyEntriesMustBeKnown(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	_, err := h.admin.PutModelPolicy(ctx, "", api.ModelPolicyPut{Mode: api.PolicyAllowlist, Publishers: []string{"opneai"}}, 0)
	wantMessage(t, err, "publishers", `publisher "opneai" is not a publisher the modelkeys catalog knows. Did you mean "openai"?`)
	_, err = h.admin.PutModelPolicy(ctx, "", api.ModelPolicyPut{Mode: api.PolicyDenylist, Models: []string{"openai/gpt-4o-mni"}}, 0)
	wantMessage(t, err, "models", `"openai/gpt-4o-mni" is not a model the modelkeys catalog lists for openai. Did you mean "openai/gpt-4o-mini"`)
	if _, err := h.admin.PutModelPolicy(ctx, "", api.ModelPolicyPut{Mode: api.PolicyDenylist,
		Models: []string{"openai/gpt-4o", "openai/ft:gpt-4o-mini:acme::x1", "custom/llama3:8b", "azure_openai/my-deployment"}}, 0); err != nil {
		t.Fatalf("known models, a fine-tune and models of any-model providers: %v", err)
	}
}
