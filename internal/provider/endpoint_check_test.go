package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

// createOnly is a configuration that only creates: before the provider checked its endpoint and token,
// its plan never talked to the server, so a wrong one passed plan and failed at apply.
func createOnly(endpoint, token, extra string) string {
	return fmt.Sprintf(`
provider "modelkeys" {
  endpoint    = %q
  token       = %q
  max_retries = 1
%s
}

resource "modelkeys_project" "p" {
  name = "first-day"
}
`, endpoint, token, extra)
}

// TestAccProvider_wrongTokenFailsAtPlan: a token the server does not know fails the plan of a
// configuration that only creates, naming the token setting and what to check.
func TestAccProvider_wrongTokenFailsAtPlan(t *testing.T) {
	s := newTestServer(t)
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []resource.TestStep{{
			Config:      createOnly(s.URL, "mkt_not-a-token-of-this-server", ""),
			PlanOnly:    true,
			ExpectError: wrappedText(`refused the token .* answered 401: .*MODELKEYS_TOKEN.* token this server issued`),
		}},
	})
}

// TestAccProvider_deadEndpointFailsAtPlan: nothing listening at the endpoint fails the plan once, with
// what to check, whether the endpoint came from the configuration or from MODELKEYS_ENDPOINT.
func TestAccProvider_deadEndpointFailsAtPlan(t *testing.T) {
	dead := deadEndpoint(t)
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []resource.TestStep{{
			Config:      createOnly(dead, "mkt_whatever", ""),
			PlanOnly:    true,
			ExpectError: wrappedText(`Cannot reach the modelkeys server.*` + strings.ReplaceAll(dead, ".", `\.`) + `.*from the provider's endpoint argument.*Nothing answers at that address.*MODELKEYS_ENDPOINT`),
		}},
	})
}

// TestAccProvider_httpsToPlainHTTPServer: https:// against a plain-HTTP server says exactly that.
func TestAccProvider_httpsToPlainHTTPServer(t *testing.T) {
	s := newTestServer(t)
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []resource.TestStep{{
			Config:      createOnly(strings.Replace(s.URL, "http://", "https://", 1), s.Token, ""),
			PlanOnly:    true,
			ExpectError: wrappedText(`server speaks plain HTTP but the endpoint is https`),
		}},
	})
}

// TestAccProvider_serverDownWithStateFailsOnce: with 30 objects in state and the server gone, the
// plan fails at once with one error, instead of refreshing each object through its own retries.
func TestAccProvider_serverDownWithStateFailsOnce(t *testing.T) {
	s := newTestServer(t)
	dead := deadEndpoint(t)
	config := func(endpoint string) string {
		return fmt.Sprintf(`
provider "modelkeys" {
  endpoint = %q
  token    = %q
}

resource "modelkeys_project" "p" {
  count = 30
  name  = "down-${count.index}"
}
`, endpoint, s.Token)
	}
	var start time.Time
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyed(s),
		Steps: []resource.TestStep{
			{Config: config(s.URL)},
			{
				PreConfig:   func() { start = time.Now() },
				Config:      config(dead),
				ExpectError: wrappedText(`Cannot reach the modelkeys server`),
			},
			{
				// The default max_retries (4) backs off for about 15 s in all; 30 objects refreshed
				// through their own retries would take minutes.
				PreConfig: func() {
					if d := time.Since(start); d > 40*time.Second {
						t.Errorf("a plan against a dead server took %s", d)
					}
				},
				Config: config(s.URL),
			},
		},
	})
}

// TestProviderValidateRefusesNegativeMaxRetries: terraform validate (which never configures the
// provider) refuses a negative max_retries, naming it.
func TestProviderValidateRefusesNegativeMaxRetries(t *testing.T) {
	ctx := context.Background()
	srv := NewProtocol6Server("test")()
	sch, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	typ := sch.Provider.ValueType()
	for _, tc := range []struct {
		retries int64
		refused bool
	}{{-1, true}, {0, false}, {3, false}} {
		attrs := map[string]tftypes.Value{}
		for name, at := range typ.(tftypes.Object).AttributeTypes {
			attrs[name] = tftypes.NewValue(at, nil)
		}
		attrs["max_retries"] = tftypes.NewValue(tftypes.Number, tc.retries)
		cfg, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, attrs))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.ValidateProviderConfig(ctx, &tfprotov6.ValidateProviderConfigRequest{Config: &cfg})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range resp.Diagnostics {
			if d.Severity == tfprotov6.DiagnosticSeverityError {
				got = append(got, d.Summary+": "+d.Detail)
			}
		}
		if tc.refused != (len(got) > 0) || tc.refused && !strings.Contains(strings.Join(got, " "), "max_retries") {
			t.Errorf("max_retries = %d: errors %q, want refused=%v naming max_retries", tc.retries, got, tc.refused)
		}
	}
}

// TestCheckEndpointHTTPToTLSServer: http:// to a server that speaks only TLS says to use https://.
func TestCheckEndpointHTTPToTLSServer(t *testing.T) {
	hs := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(hs.Close)
	c, err := client.New(client.Config{BaseURL: strings.Replace(hs.URL, "https://", "http://", 1), MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	var diags diag.Diagnostics
	if checkEndpoint(context.Background(), c, &providerData{client: c}, endpointFromEnv, &diags) {
		t.Fatal("the check passed")
	}
	if len(diags) != 1 || diags[0].Summary() != "The modelkeys server speaks HTTPS" || !strings.Contains(diags[0].Detail(), "use https://") ||
		!strings.Contains(diags[0].Detail(), "MODELKEYS_ENDPOINT") {
		t.Errorf("diagnostics %v, want one saying the server speaks HTTPS", diags)
	}
}
