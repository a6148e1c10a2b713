package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// createRequest is the plan Terraform sends for a new credential configured with set (every other
// attribute null): no prior state, the configuration as the proposed new state.
func createRequest(t *testing.T, typ tftypes.Object, set map[string]tftypes.Value) *tfprotov6.PlanResourceChangeRequest {
	t.Helper()
	vals := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		vals[name] = tftypes.NewValue(at, nil)
	}
	for name, v := range set {
		vals[name] = v
	}
	cfg, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, vals))
	if err != nil {
		t.Fatal(err)
	}
	prior, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, nil))
	if err != nil {
		t.Fatal(err)
	}
	return &tfprotov6.PlanResourceChangeRequest{TypeName: credentialTypeName, PriorState: &prior, ProposedNewState: &cfg, Config: &cfg}
}

// TestCreateCredentialPlanAnswersAsTheFramework holds the short path of a new credential's plan to the
// framework's answer for the same request, over configurations that exercise each step it replaces
// (defaults, write-only, computed, the provider's project, unknown values), and checks that it
// stands aside where ModifyPlan has something to say.
func TestCreateCredentialPlanAnswersAsTheFramework(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	plainSrv, sch := configuredProtocolServer(t, s, "")
	projectSrv, _ := configuredProtocolServer(t, s, "proj_0000000000000000000000")
	typ := sch.ResourceSchemas[credentialTypeName].ValueType().(tftypes.Object)
	str := func(v string) tftypes.Value { return tftypes.NewValue(tftypes.String, v) }
	unknown := tftypes.NewValue(tftypes.String, tftypes.UnknownValue)
	strMap := func(kv ...string) tftypes.Value {
		m := map[string]tftypes.Value{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = str(kv[i+1])
		}
		return tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, m)
	}
	minimal := map[string]tftypes.Value{"name": str("new-cred"), "model_provider": str("mistral"), "api_key": str(keyOne)}
	with := func(extra map[string]tftypes.Value) map[string]tftypes.Value {
		m := map[string]tftypes.Value{}
		for k, v := range minimal {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	nullIdentity := newCredentialShortPaths(&modelkeysProvider{}).nullIdentity

	for _, tc := range []struct {
		name   string
		srv    tfprotov6.ProviderServer
		config map[string]tftypes.Value
		edit   func(req *tfprotov6.PlanResourceChangeRequest)
		short  bool
	}{
		{name: "verify and every computed attribute left to the provider", srv: plainSrv, config: minimal, short: true},
		{name: "a null identity from Terraform 1.12 and later", srv: plainSrv, config: minimal, short: true,
			edit: func(req *tfprotov6.PlanResourceChangeRequest) { req.PriorIdentity = nullIdentity }},
		{name: "every optional attribute set", srv: plainSrv, short: true, config: with(map[string]tftypes.Value{
			"description": str("for the batch jobs"), "verify": tftypes.NewValue(tftypes.Bool, false),
			"labels": strMap("team", "ml"), "settings": strMap(), "rotation_period": str("90d"),
			"expires_at": str("2030-01-02T03:04:05Z"), "project_id": str("proj_1111111111111111111111")})},
		{name: "the provider's project planned for an omitted project_id", srv: projectSrv, config: minimal, short: true},
		{name: "a configured project_id over the provider's", srv: projectSrv, short: true,
			config: with(map[string]tftypes.Value{"project_id": str("proj_1111111111111111111111")})},
		{name: "a write-only key, planned as null", srv: plainSrv, short: true, config: map[string]tftypes.Value{
			"name": str("new-cred"), "model_provider": str("mistral"), "api_key_wo": str(keyOne),
			"api_key_wo_version": tftypes.NewValue(tftypes.Number, 1)}},
		{name: "values known only after apply", srv: plainSrv, short: true,
			config: with(map[string]tftypes.Value{"api_key": unknown, "name": unknown, "labels": tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, tftypes.UnknownValue)})},
		{name: "no API key: ModifyPlan's error comes from the framework", srv: plainSrv,
			config: map[string]tftypes.Value{"name": str("new-cred"), "model_provider": str("mistral")}},
		{name: "a private state without a prior state", srv: plainSrv, config: minimal,
			edit: func(req *tfprotov6.PlanResourceChangeRequest) { req.PriorPrivate = []byte(`{"x":"e30="}`) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := createRequest(t, typ, tc.config)
			if tc.edit != nil {
				tc.edit(req)
			}
			rs := tc.srv.(releasingServer)
			short, ok := rs.short.plan(ctx, req)
			if ok != tc.short {
				t.Fatalf("short path answered %v, want %v", ok, tc.short)
			}
			framework, err := rs.ProviderServer.PlanResourceChange(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				return
			}
			if hasError(framework.Diagnostics) {
				t.Fatalf("framework: %v", framework.Diagnostics)
			}
			if d := samePlan(t, typ, framework, short); d != "" {
				t.Errorf("short path and framework differ: %s", d)
			}
			if len(short.Diagnostics) != len(framework.Diagnostics) {
				t.Errorf("diagnostics: short path %v, framework %v", short.Diagnostics, framework.Diagnostics)
			}
			// Through the server as Terraform calls it, the short path answers.
			viaServer, err := rs.PlanResourceChange(ctx, req)
			if err != nil || samePlan(t, typ, framework, viaServer) != "" {
				t.Errorf("PlanResourceChange: %v %s", err, samePlan(t, typ, framework, viaServer))
			}
		})
	}
}
