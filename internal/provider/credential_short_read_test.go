package provider

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// TestReadCredentialAnswersAsTheFramework holds the short path of a refresh to the framework's answer
// for the same request: state, warnings, identity and private state, for a credential as stored, one
// whose timestamps and duration are spelt otherwise than the server spells them, one whose key was
// rotated outside Terraform, one the API refuses to read and one deleted outside Terraform.
func TestReadCredentialAnswersAsTheFramework(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	c, err := s.Client.CreateCredential(ctx, api.CredentialCreate{Name: "read-me", Provider: "mistral", APIKey: ptrTo(keyOne),
		Verify: ptrTo(false), RotationPeriod: "90d", ExpiresAt: "2031-01-02T03:04:05Z", Labels: map[string]string{"team": "ml"}})
	if err != nil {
		t.Fatal(err)
	}
	f := newPlanFixture(t, s, c.ID, "")
	rs := f.srv
	request := func(edit func(st map[string]tftypes.Value)) *tfprotov6.ReadResourceRequest {
		st := map[string]tftypes.Value{}
		for k, v := range f.state {
			st[k] = v
		}
		if edit != nil {
			edit(st)
		}
		return &tfprotov6.ReadResourceRequest{TypeName: credentialTypeName, CurrentState: f.dynamic(t, st),
			Private: f.private, CurrentIdentity: f.identity}
	}
	gone, err := s.Client.CreateCredential(ctx, api.CredentialCreate{Name: "gone", Provider: "mistral", APIKey: ptrTo(keyOne), Verify: ptrTo(false)})
	if err != nil {
		t.Fatal(err)
	}
	goneFixture := newPlanFixture(t, s, gone.ID, "")
	if err := s.Client.DeleteCredential(ctx, gone.ID, 0); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name     string
		req      func() *tfprotov6.ReadResourceRequest
		short    bool
		warnings int
		errors   int
	}{
		{name: "as stored", short: true, req: func() *tfprotov6.ReadResourceRequest { return request(nil) }},
		{name: "no identity from Terraform before 1.12", short: true, req: func() *tfprotov6.ReadResourceRequest {
			r := request(nil)
			r.CurrentIdentity = nil
			return r
		}},
		{name: "no private state", short: true, req: func() *tfprotov6.ReadResourceRequest {
			r := request(nil)
			r.Private = nil
			return r
		}},
		{name: "other spellings of the same instants and period", short: true, req: func() *tfprotov6.ReadResourceRequest {
			return request(func(st map[string]tftypes.Value) {
				st["rotation_period"] = tftypes.NewValue(tftypes.String, "2160h")
				st["expires_at"] = tftypes.NewValue(tftypes.String, "2031-01-02T04:04:05+01:00")
				st["created_at"] = tftypes.NewValue(tftypes.String, "2000-01-01T00:00:00Z") // a different instant: refreshed
			})
		}},
		{name: "a key rotated outside Terraform: the drift warning", short: true, warnings: 1, req: func() *tfprotov6.ReadResourceRequest {
			return request(func(st map[string]tftypes.Value) {
				var fp string
				if err := st["secret_fingerprint"].As(&fp); err != nil {
					t.Fatal(err)
				}
				st["secret_fingerprint"] = tftypes.NewValue(tftypes.String, fingerprintScheme(fp)+":0000000000000000")
			})
		}},
		{name: "a refresh that fails: the error, the state as it was", short: true, errors: 1, req: func() *tfprotov6.ReadResourceRequest {
			return request(func(st map[string]tftypes.Value) { st["id"] = tftypes.NewValue(tftypes.String, "") })
		}},
		{name: "deleted outside Terraform", short: true, req: func() *tfprotov6.ReadResourceRequest {
			return &tfprotov6.ReadResourceRequest{TypeName: credentialTypeName, CurrentState: goneFixture.dynamic(t, goneFixture.state),
				Private: goneFixture.private, CurrentIdentity: goneFixture.identity}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			short, ok := rs.short.read(ctx, tc.req())
			if ok != tc.short {
				t.Fatalf("short path answered %v, want %v", ok, tc.short)
			}
			framework, err := rs.ProviderServer.ReadResource(ctx, tc.req())
			if err != nil || hasError(framework.Diagnostics) != (tc.errors > 0) {
				t.Fatalf("framework: %v %v", err, framework.Diagnostics)
			}
			if !ok {
				return
			}
			if len(short.Diagnostics) != tc.warnings+tc.errors {
				t.Errorf("%d diagnostics, want %d warnings and %d errors: %v", len(short.Diagnostics), tc.warnings, tc.errors, short.Diagnostics)
			}
			sameRead(t, f.typ, framework, short)
			viaServer, err := rs.ReadResource(ctx, tc.req())
			if err != nil {
				t.Fatal(err)
			}
			// The protocol server stamps the store's id (store_guard.go) on whichever path answered;
			// the framework keeps the one the request had.
			viaServer.Private = withoutStoreStamp(t, viaServer, true)
			framework.Private = withoutStoreStamp(t, framework, false)
			sameRead(t, f.typ, framework, viaServer)
		})
	}
}

// sameRead compares two refreshes as Terraform reads them.
func sameRead(t *testing.T, typ tftypes.Object, want, got *tfprotov6.ReadResourceResponse) {
	t.Helper()
	wp := &tfprotov6.PlanResourceChangeResponse{PlannedState: want.NewState, PlannedPrivate: want.Private, PlannedIdentity: want.NewIdentity}
	gp := &tfprotov6.PlanResourceChangeResponse{PlannedState: got.NewState, PlannedPrivate: got.Private, PlannedIdentity: got.NewIdentity}
	if d := samePlan(t, typ, wp, gp); d != "" {
		t.Errorf("refreshes differ: %s", d)
	}
	if string(want.Private) != string(got.Private) {
		t.Errorf("private state %s, want %s", got.Private, want.Private)
	}
	if len(want.Diagnostics) != len(got.Diagnostics) {
		t.Fatalf("diagnostics %v, want %v", got.Diagnostics, want.Diagnostics)
	}
	for i, w := range want.Diagnostics {
		if g := got.Diagnostics[i]; g.Severity != w.Severity || g.Summary != w.Summary || g.Detail != w.Detail || g.Attribute.String() != w.Attribute.String() {
			t.Errorf("diagnostic %d: %+v, want %+v", i, g, w)
		}
	}
}

// withoutStoreStamp is a Read's private state without the store id the protocol server adds to every
// Read that keeps a resource; with stamped, it fails t when that id is missing.
func withoutStoreStamp(t *testing.T, resp *tfprotov6.ReadResourceResponse, stamped bool) []byte {
	t.Helper()
	if isNullState(resp.NewState) || protoHasError(resp.Diagnostics) {
		return resp.Private
	}
	m := map[string][]byte{}
	if err := json.Unmarshal(resp.Private, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m[privateStoreKey]; !ok && stamped {
		t.Errorf("private state %s has no store id", resp.Private)
	}
	delete(m, privateStoreKey)
	if len(m) == 0 {
		return nil
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
