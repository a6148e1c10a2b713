package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify"
)

const entraTenant, entraClient, entraSecret = "72f988bf-86f1-41af-91ab-2d7cd011db47", "00001111-aaaa-2222-bbbb-3333cccc4444", "Qx8Q~fake.client.secret-0123456789abcdef"

// fakeAzureEntra is Microsoft Entra ID's token endpoint and an Azure OpenAI resource that takes only
// its tokens, on one loopback server.
func fakeAzureEntra(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/" + entraTenant + "/oauth2/v2.0/token":
		_ = r.ParseForm()
		if r.PostForm.Get("client_id") != entraClient || r.PostForm.Get("client_secret") != entraSecret {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}`))
			return
		}
		_, _ = w.Write([]byte(`{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ0eXAiOiJKV1QifQ.entra"}`))
	case "/openai/models":
		if r.Header.Get("Authorization") != "Bearer eyJ0eXAiOiJKV1QifQ.entra" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint."}}`))
			return
		}
		_, _ = w.Write([]byte(`{"object":"list","data":[{"id":"gpt-4o","object":"model"}]}`))
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

// TestCreateAzureCredentialWithEntraID creates an Azure OpenAI credential that authenticates with
// Entra ID client credentials, against the operator's azure_entra authority (a loopback fake), and
// checks that a refused exchange is a 422 showing the OAuth error.
func TestCreateAzureCredentialWithEntraID(t *testing.T) {
	ctx := context.Background()
	fake := httptest.NewServer(http.HandlerFunc(fakeAzureEntra))
	t.Cleanup(fake.Close)
	_, c := newServerVerifyingAt(t, map[string]string{verify.EntraBaseURLKey: fake.URL})

	settings := map[string]string{"endpoint": fake.URL, "deployment": "gpt-4o-prod", "api_version": "2024-10-21",
		"auth_method": "entra_id", "tenant_id": entraTenant, "client_id": entraClient}
	cred, err := c.CreateCredential(ctx, api.CredentialCreate{Name: "azure-entra", Provider: "azure_openai", APIKey: ptr(entraSecret), Settings: settings})
	if err != nil {
		t.Fatal(err)
	}
	if cred.Status != api.StatusVerified {
		t.Fatalf("status = %s (%s)", cred.Status, cred.StatusMessage)
	}

	_, err = c.CreateCredential(ctx, api.CredentialCreate{Name: "azure-wrong", Provider: "azure_openai", APIKey: ptr("wrong-" + entraSecret), Settings: settings})
	if ae, ok := client.AsAPIError(err); !ok || ae.Problem.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(err.Error(), "token exchange: HTTP 401: invalid_client: AADSTS7000215: Invalid client secret provided.") ||
		strings.Contains(err.Error(), "wrong-"+entraSecret) {
		t.Errorf("wrong secret: %v", err)
	}

	// auth_method decides who receives the raw secret (Entra ID or the resource), so changing it
	// needs the secret itself.
	toKey := map[string]string{"endpoint": fake.URL, "deployment": "gpt-4o-prod", "api_version": "2024-10-21", "auth_method": "api_key"}
	_, err = c.UpdateCredential(ctx, cred.ID, api.CredentialPatch{Settings: &toKey}, 0)
	if ae, ok := client.AsAPIError(err); !ok || ae.Problem.Status != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), "auth_method") {
		t.Errorf("auth_method change without the secret: %v", err)
	}

	// entra_id without client_id is refused by the catalog's rule before any exchange.
	delete(settings, "client_id")
	_, err = c.CreateCredential(ctx, api.CredentialCreate{Name: "azure-incomplete", Provider: "azure_openai", APIKey: ptr(entraSecret), Settings: settings})
	if ae, ok := client.AsAPIError(err); !ok || ae.Problem.Status != http.StatusUnprocessableEntity ||
		len(ae.Problem.Errors) != 1 || ae.Problem.Errors[0].Field != "settings.client_id" {
		t.Errorf("entra_id without client_id: %v", err)
	}

	// GET /v1/providers lists the methods and the auth_method setting's values.
	providers, err := c.ListProviders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range providers {
		if p.ID != "azure_openai" {
			continue
		}
		var values []string
		for _, s := range p.Settings {
			if s.Name == api.SettingAuthMethod {
				values = s.AllowedValues
			}
		}
		if want := []string{"api_key", "entra_id", "workload_identity"}; !slices.Equal(p.AuthMethods, want) || !slices.Equal(values, want) {
			t.Errorf("azure_openai: auth_methods %v, auth_method values %v", p.AuthMethods, values)
		}
	}
}
