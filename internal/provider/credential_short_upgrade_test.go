package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// TestUpgradeCredentialAnswersAsTheFramework holds the short path of UpgradeResourceState to the
// framework's answer for state of the schema's version (with the attributes Terraform stores, and
// with one the schema no longer has), and checks that it stands aside for anything else.
func TestUpgradeCredentialAnswersAsTheFramework(t *testing.T) {
	ctx := context.Background()
	srv, sch := configuredProtocolServer(t, newTestServer(t), "")
	rs := srv.(releasingServer)
	typ := sch.ResourceSchemas[credentialTypeName].ValueType().(tftypes.Object)
	stored := `{"id":"cred_0000000000000000000000","name":"stored","model_provider":"mistral","api_key":"` + keyOne + `",` +
		`"verify":false,"labels":{"team":"ml"},"settings":null,"connection_ids":[],"secret_version":1,` +
		`"secret_fingerprint":"hmac-sha256:00","rotation_period":"90d","expires_at":null,"created_at":"2026-01-02T03:04:05Z"`
	for _, tc := range []struct {
		name  string
		req   tfprotov6.UpgradeResourceStateRequest
		short bool
	}{
		{name: "the schema's version", short: true,
			req: tfprotov6.UpgradeResourceStateRequest{RawState: &tfprotov6.RawState{JSON: []byte(stored + `}`)}}},
		{name: "an attribute the schema no longer has", short: true,
			req: tfprotov6.UpgradeResourceStateRequest{RawState: &tfprotov6.RawState{JSON: []byte(stored + `,"retired":"x"}`)}}},
		{name: "another version", req: tfprotov6.UpgradeResourceStateRequest{Version: 7, RawState: &tfprotov6.RawState{JSON: []byte(stored + `}`)}}},
		{name: "flatmap state", req: tfprotov6.UpgradeResourceStateRequest{RawState: &tfprotov6.RawState{Flatmap: map[string]string{"id": "x"}}}},
		{name: "state that does not decode", req: tfprotov6.UpgradeResourceStateRequest{RawState: &tfprotov6.RawState{JSON: []byte(`{"verify":"maybe"}`)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			req.TypeName = credentialTypeName
			short, ok := rs.short.upgrade(&req)
			if ok != tc.short {
				t.Fatalf("short path answered %v, want %v", ok, tc.short)
			}
			if !ok {
				return
			}
			framework, err := rs.ProviderServer.UpgradeResourceState(ctx, &req)
			if err != nil || len(framework.Diagnostics) > 0 {
				t.Fatalf("framework: %v %v", err, framework.Diagnostics)
			}
			want, err1 := framework.UpgradedState.Unmarshal(typ)
			got, err2 := short.UpgradedState.Unmarshal(typ)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if d, err := want.Diff(got); err != nil || len(d) > 0 {
				t.Errorf("upgraded states differ: %v %v", d, err)
			}
			if string(framework.UpgradedState.MsgPack) != string(short.UpgradedState.MsgPack) {
				t.Errorf("upgraded states are encoded apart, so a no-change plan would miss its short path")
			}
		})
	}
}
