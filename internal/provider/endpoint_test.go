package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

func TestCleartextToRemote(t *testing.T) {
	for u, want := range map[string]bool{
		"http://modelkeys.example:8080":  true,
		"http://10.0.0.5:8080":           true,
		"http://[2001:db8::1]:8080":      true,
		"http://127.0.0.1.example:8080":  true, // a name, not the loopback address
		"http://127.0.0.1:8080":          false,
		"http://127.0.0.53":              false,
		"http://[::1]:8080":              false,
		"http://[::ffff:127.0.0.1]:8080": false,
		"http://localhost:8080":          false,
		"http://LocalHost.:8080":         false,
		"https://modelkeys.example:8443": false,
		"https://10.0.0.5":               false,
	} {
		if got := cleartextToRemote(u); got != want {
			t.Errorf("cleartextToRemote(%q) = %v, want %v", u, got, want)
		}
	}
}

// configureWith runs the provider's Configure on a config holding only endpoint and token. Configure
// makes the client but sends nothing, so a non-loopback endpoint here costs no packet.
func configureWith(t *testing.T, endpoint string) *provider.ConfigureResponse {
	t.Helper()
	ctx := context.Background()
	p := New("test")()
	var sresp provider.SchemaResponse
	p.Schema(ctx, provider.SchemaRequest{}, &sresp)
	typ := sresp.Schema.Type().TerraformType(ctx).(tftypes.Object)
	vals := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		vals[name] = tftypes.NewValue(at, nil)
	}
	vals["endpoint"] = tftypes.NewValue(tftypes.String, endpoint)
	vals["token"] = tftypes.NewValue(tftypes.String, "tok")
	var resp provider.ConfigureResponse
	p.Configure(ctx, provider.ConfigureRequest{Config: tfsdk.Config{Schema: sresp.Schema, Raw: tftypes.NewValue(typ, vals)}}, &resp)
	if resp.Diagnostics.HasError() {
		t.Fatalf("Configure(%s): %v", endpoint, resp.Diagnostics)
	}
	return &resp
}

func TestConfigureWarnsOnCleartextEndpoint(t *testing.T) {
	t.Setenv("MODELKEYS_ENDPOINT", "")
	for endpoint, warn := range map[string]bool{
		"http://modelkeys.example:8080":  true,
		"http://127.0.0.1:18080":         false,
		"http://[::1]:18080":             false,
		"http://localhost:18080":         false,
		"https://modelkeys.example:8443": false,
	} {
		t.Run(endpoint, func(t *testing.T) {
			resp := configureWith(t, endpoint)
			var found bool
			for _, d := range resp.Diagnostics.Warnings() {
				if d.Summary() != "Endpoint is not encrypted" {
					continue
				}
				found = true
				wd, ok := d.(interface{ Path() path.Path })
				if !ok || !wd.Path().Equal(path.Root("endpoint")) {
					t.Errorf("warning is not on the endpoint attribute: %#v", d)
				}
				if !strings.Contains(d.Detail(), endpoint) || !strings.Contains(d.Detail(), "https://") {
					t.Errorf("warning detail does not name the endpoint and the fix: %s", d.Detail())
				}
			}
			if found != warn {
				t.Fatalf("warning shown = %v, want %v (diagnostics: %v)", found, warn, resp.Diagnostics)
			}
			if resp.ResourceData == nil {
				t.Fatal("a warning must not stop the provider from configuring")
			}
		})
	}
}
