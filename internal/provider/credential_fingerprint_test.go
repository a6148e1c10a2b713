package provider

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

func TestSecretDrifted(t *testing.T) {
	const (
		oldA = "hmac-sha256:0123456789abcdef0123456789abcdef"
		oldB = "hmac-sha256:fedcba9876543210fedcba9876543210"
		orgA = "hmac-sha256-org:00112233445566778899aabbccddeeff"
		orgB = "hmac-sha256-org:ffeeddccbbaa99887766554433221100"
	)
	v := types.Int64Value
	for _, tc := range []struct {
		name          string
		stateFP       string
		stateVersion  types.Int64
		serverFP      string
		serverVersion int64
		want          bool
	}{
		{"unchanged", oldA, v(3), oldA, 3, false},
		{"scheme upgrade, same secret_version", oldA, v(3), orgA, 3, false},
		{"scheme change back, same secret_version", orgA, v(3), oldA, 3, false},
		{"same scheme, another value", oldA, v(3), oldB, 4, true},
		{"same scheme, another value, same version", orgA, v(3), orgB, 3, true},
		{"scheme upgrade and another secret_version", oldA, v(3), orgA, 4, true},
		{"scheme upgrade, version not in state", oldA, types.Int64Null(), orgA, 3, true},
		{"scheme upgrade, version unknown", oldA, types.Int64Unknown(), orgA, 3, true},
		{"secret removed", oldA, v(3), "", 4, true},
		{"secret removed, same version", oldA, v(3), "", 3, true},
		{"secret added", "", v(0), orgA, 1, true},
		{"no scheme on either side", "abc", v(1), "abd", 1, true},
	} {
		if got := secretDrifted(tc.stateFP, tc.stateVersion, tc.serverFP, tc.serverVersion); got != tc.want {
			t.Errorf("%s: secretDrifted(%q, %v, %q, %d) = %v, want %v", tc.name, tc.stateFP, tc.stateVersion, tc.serverFP, tc.serverVersion, got, tc.want)
		}
	}
	for fp, want := range map[string]string{oldA: "hmac-sha256", orgA: "hmac-sha256-org", "": "", ":abc": "", "a:b:c": "a:b"} {
		if got := fingerprintScheme(fp); got != want {
			t.Errorf("fingerprintScheme(%q) = %q, want %q", fp, got, want)
		}
	}
}

// schemeUpgrade stands in front of a test server and rewrites every fingerprint in its answers into
// the old scheme, or once upgraded into the new one (with another value, as the per-organisation key
// gives), the way the server's answers change when it moves to per-organisation keys. Rewriting both
// ways keeps the test independent of the scheme the server in this tree uses.
type schemeUpgrade struct {
	URL      string
	upgraded atomic.Bool
}

var anyFingerprint = regexp.MustCompile(`"hmac-sha256(-org)?:[0-9a-f]{32}"`)

func newSchemeUpgrade(t *testing.T, s *testServer) *schemeUpgrade {
	t.Helper()
	target, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	u := &schemeUpgrade{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		scheme := "hmac-sha256"
		if u.upgraded.Load() {
			scheme = "hmac-sha256-org"
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		b = anyFingerprint.ReplaceAllFunc(b, func(m []byte) []byte {
			sum := sha256.Sum256(append([]byte(scheme+"|"), m...))
			return []byte(`"` + scheme + `:` + hex.EncodeToString(sum[:16]) + `"`)
		})
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
		return nil
	}
	hs := httptest.NewServer(proxy)
	t.Cleanup(hs.Close)
	u.URL = hs.URL
	return u
}

func fingerprintConfig(endpoint, token, key string) string {
	return fmt.Sprintf(`
provider "modelkeys" {
  endpoint = %q
  token    = %q
}

resource "modelkeys_credential" "test" {
  name           = "scheme"
  model_provider = "openai"
  api_key        = %q
  verify         = false
}
`, endpoint, token, key)
}

var (
	oldScheme = regexp.MustCompile(`^hmac-sha256:[0-9a-f]{32}$`)
	newScheme = regexp.MustCompile(`^hmac-sha256-org:[0-9a-f]{32}$`)
)

// TestAccCredential_fingerprintSchemeUpgrade: after the server moves to per-organisation fingerprint
// keys, a refresh takes the new fingerprint silently (the plan stays empty and the key stays in
// state); a key changed outside Terraform is still drift, with or without the scheme change.
func TestAccCredential_fingerprintSchemeUpgrade(t *testing.T) {
	t.Parallel()
	t.Run("upgrade only", func(t *testing.T) {
		s := newTestServer(t)
		up := newSchemeUpgrade(t, s)
		config := fingerprintConfig(up.URL, s.Token, keyOne)
		var id string
		resource.ParallelTest(t, resource.TestCase{
			PreCheck:                 func() { testAccPreCheck(t) },
			ProtoV6ProviderFactories: protoV6Providers,
			CheckDestroy:             checkAllDestroyed(s),
			Steps: []resource.TestStep{
				{
					Config: config,
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_fingerprint"), knownvalue.StringRegexp(oldScheme)),
					},
					Check: captureAttr(credAddr, "id", &id),
				},
				{
					// terraform plan -refresh-only right after the upgrade: nothing to report.
					PreConfig:    func() { up.upgraded.Store(true) },
					RefreshState: true,
					RefreshPlanChecks: resource.RefreshPlanChecks{
						PostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
					},
					Check: func(st *terraform.State) error {
						a := st.RootModule().Resources[credAddr].Primary.Attributes
						if !newScheme.MatchString(a["secret_fingerprint"]) {
							return fmt.Errorf("refresh left fingerprint %q, want the new scheme's", a["secret_fingerprint"])
						}
						if a["api_key"] != keyOne || a["secret_version"] != "1" {
							return fmt.Errorf("refresh forgot the key or moved secret_version (%q): it took the scheme change for drift", a["secret_version"])
						}
						return nil
					},
				},
				{
					Config: config,
					ConfigPlanChecks: resource.ConfigPlanChecks{
						PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
					},
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_fingerprint"), knownvalue.StringRegexp(newScheme)),
					},
				},
				{
					// Same (new) scheme, another value: drift as before, and apply puts the key back.
					PreConfig: func() {
						other := keyOther
						if _, err := s.Client.UpdateCredential(context.Background(), id, api.CredentialPatch{APIKey: &other}, 0); err != nil {
							t.Fatal(err)
						}
					},
					Config: config,
					ConfigPlanChecks: resource.ConfigPlanChecks{
						PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionUpdate)},
						PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
					},
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_version"), knownvalue.Int64Exact(3)),
						statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_fingerprint"), knownvalue.StringRegexp(newScheme)),
					},
				},
			},
		})
	})
	t.Run("upgrade and a key changed by hand", func(t *testing.T) {
		s := newTestServer(t)
		up := newSchemeUpgrade(t, s)
		config := fingerprintConfig(up.URL, s.Token, keyOne)
		var id string
		resource.ParallelTest(t, resource.TestCase{
			PreCheck:                 func() { testAccPreCheck(t) },
			ProtoV6ProviderFactories: protoV6Providers,
			CheckDestroy:             checkAllDestroyed(s),
			Steps: []resource.TestStep{
				{Config: config, Check: captureAttr(credAddr, "id", &id)},
				{
					// Another scheme and another secret_version: drift, as before the upgrade.
					PreConfig: func() {
						up.upgraded.Store(true)
						other := keyOther
						if _, err := s.Client.UpdateCredential(context.Background(), id, api.CredentialPatch{APIKey: &other}, 0); err != nil {
							t.Fatal(err)
						}
					},
					Config: config,
					ConfigPlanChecks: resource.ConfigPlanChecks{
						PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(credAddr, plancheck.ResourceActionUpdate)},
						PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
					},
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue(credAddr, tfjsonpath.New("secret_version"), knownvalue.Int64Exact(3)),
					},
				},
			},
		})
	})
}
