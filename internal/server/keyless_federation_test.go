package server

import (
	"context"
	"net"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify/vendortest"
)

// TestKeylessAccessTokenForWorkloads: a token exchanged from a federation rule gets vendor tokens of
// the keyless credentials its rule's credentials list names, and of no other; "*" covers the
// credentials of the rule's project only.
func TestKeylessAccessTokenForWorkloads(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		vendor := vendortest.NewVendor(t, "openai", "", "")
		// The server's issuer URL is an address taken before it starts; a proxy there reaches it.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		issuer := "http://" + ln.Addr().String()
		vendor.Issuer = issuer
		h := newHarness(t, withFederationTest(func(c *service.Config) {
			c.IssuerURL = issuer
			c.Verifier = verify.New(verify.Options{BaseURLs: vendor.BaseURLs(), Timeout: 5 * time.Second})
		}))
		target, _ := url.Parse(h.ts.URL)
		front := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(target))
		_ = front.Listener.Close()
		front.Listener = ln
		front.Start()
		t.Cleanup(front.Close)

		proj, err := h.admin.CreateProject(ctx, api.ProjectCreate{Name: "ml"})
		if err != nil {
			t.Fatal(err)
		}
		org := mustOrg(t, h)
		keyless := func(name, project string) *api.Credential {
			c, err := h.admin.CreateCredential(ctx, api.CredentialCreate{Name: name, Provider: "openai", ProjectID: project, Settings: vendor.Settings(), Verify: ptr(false)})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		named, unnamed, inProject := keyless("named", ""), keyless("unnamed", ""), keyless("in-project", proj.ID)

		f := setupFederation(t, h, api.FederationRuleCreate{Name: "names-one", Role: api.RoleViewer, Credentials: []string{named.ID}})
		workload := func(ruleID string) *client.Client {
			return h.client(h.exchanged(ruleID, f.iss.Mint(ciClaims(nil))).AccessToken)
		}
		ci := workload(f.rule.ID)
		vendor.Trust(service.CredentialSubject(org, named.ID))
		tok, err := ci.CredentialAccessToken(ctx, named.ID)
		if err != nil || !vendor.Issued(tok.AccessToken) {
			t.Fatalf("the named credential: %+v, %v", tok, err)
		}
		h.remember(tok.AccessToken)
		if _, err := ci.CredentialAccessToken(ctx, unnamed.ID); !client.IsForbidden(err) {
			t.Errorf("a credential the rule does not name: %v, want 403", err)
		}

		star, err := h.admin.CreateFederationRule(ctx, api.FederationRuleCreate{Name: "all-in-ml", IdentityProviderID: f.provider.ID, Role: api.RoleViewer,
			ProjectID: proj.ID, Conditions: f.rule.Conditions, Credentials: []string{"*"}})
		if err != nil {
			t.Fatal(err)
		}
		scoped := workload(star.ID)
		vendor.Trust(service.CredentialSubject(org, inProject.ID))
		if tok, err := scoped.CredentialAccessToken(ctx, inProject.ID); err != nil || !vendor.Issued(tok.AccessToken) {
			t.Errorf("\"*\" in its project: %v", err)
		} else {
			h.remember(tok.AccessToken)
		}
		if _, err := scoped.CredentialAccessToken(ctx, named.ID); err == nil {
			t.Error("\"*\" reached a credential outside the rule's project")
		}
	})
}
