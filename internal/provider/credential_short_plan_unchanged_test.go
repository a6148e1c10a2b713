package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// planFixture is a configured protocol server and a credential's state as a refresh leaves it.
type planFixture struct {
	srv      releasingServer
	typ      tftypes.Object
	state    map[string]tftypes.Value
	identity *tfprotov6.ResourceIdentityData
	private  []byte
	computed map[string]bool // attributes the configuration cannot set
}

// newPlanFixture configures a protocol server against s (with the provider's project when project is
// set) and refreshes an imported credential through it, as Terraform does before it plans.
func newPlanFixture(t *testing.T, s *testServer, credentialID, project string) *planFixture {
	t.Helper()
	ctx := context.Background()
	srv, sch := configuredProtocolServer(t, s, project)
	rs := sch.ResourceSchemas[credentialTypeName]
	f := &planFixture{srv: srv.(releasingServer), typ: rs.ValueType().(tftypes.Object), computed: map[string]bool{}}
	for _, a := range rs.Block.Attributes {
		if (a.Computed && !a.Optional) || a.WriteOnly {
			f.computed[a.Name] = true
		}
	}
	vals := map[string]tftypes.Value{}
	for name, at := range f.typ.AttributeTypes {
		vals[name] = tftypes.NewValue(at, nil)
	}
	vals["id"] = tftypes.NewValue(tftypes.String, credentialID)
	cur := f.dynamic(t, vals)
	resp, err := f.srv.ReadResource(ctx, &tfprotov6.ReadResourceRequest{TypeName: credentialTypeName, CurrentState: cur})
	if err != nil || hasError(resp.Diagnostics) {
		t.Fatalf("ReadResource: %v %v", err, resp.Diagnostics)
	}
	st, err := resp.NewState.Unmarshal(f.typ)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.As(&f.state); err != nil {
		t.Fatal(err)
	}
	f.identity, f.private = resp.NewIdentity, resp.Private
	return f
}

func (f *planFixture) dynamic(t *testing.T, vals map[string]tftypes.Value) *tfprotov6.DynamicValue {
	t.Helper()
	dv, err := tfprotov6.NewDynamicValue(f.typ, tftypes.NewValue(f.typ, vals))
	if err != nil {
		t.Fatal(err)
	}
	return &dv
}

// request is the no-change plan Terraform sends for the fixture's state: the configuration is the
// state without what only the provider sets, edited by configure.
func (f *planFixture) request(t *testing.T, configure func(cfg map[string]tftypes.Value)) *tfprotov6.PlanResourceChangeRequest {
	t.Helper()
	cfg := map[string]tftypes.Value{}
	for name, v := range f.state {
		if f.computed[name] {
			v = tftypes.NewValue(f.typ.AttributeTypes[name], nil)
		}
		cfg[name] = v
	}
	if configure != nil {
		configure(cfg)
	}
	return &tfprotov6.PlanResourceChangeRequest{
		TypeName:         credentialTypeName,
		PriorState:       f.dynamic(t, f.state),
		ProposedNewState: f.dynamic(t, f.state),
		Config:           f.dynamic(t, cfg),
		PriorPrivate:     f.private,
		PriorIdentity:    f.identity,
	}
}

// TestUnchangedCredentialPlanAnswersAsTheFramework holds the short path of a no-change plan to the
// framework's answer for the same request, and checks that it stands aside wherever the framework or
// ModifyPlan would plan something other than the state.
func TestUnchangedCredentialPlanAnswersAsTheFramework(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	c, err := s.Client.CreateCredential(ctx, api.CredentialCreate{Name: "plan-me", Provider: "mistral", APIKey: ptrTo(keyOne),
		Verify: ptrTo(false), RotationPeriod: "90d", Labels: map[string]string{"team": "ml"}})
	if err != nil {
		t.Fatal(err)
	}
	plain := newPlanFixture(t, s, c.ID, "")
	withProject := newPlanFixture(t, s, c.ID, "proj_0000000000000000000000")

	for _, tc := range []struct {
		name  string
		f     *planFixture
		edit  func(t *testing.T, f *planFixture, req *tfprotov6.PlanResourceChangeRequest)
		short bool // the short path answers
		want  string
	}{
		{name: "nothing changed", f: plain, short: true, want: "the state"},
		{name: "no identity from Terraform before 1.12", f: plain, short: true, want: "the state, a null identity",
			edit: func(t *testing.T, f *planFixture, req *tfprotov6.PlanResourceChangeRequest) { req.PriorIdentity = nil }},
		{name: "verify omitted while the state holds false", f: plain, want: "verify planned back to its default, true",
			edit: func(t *testing.T, f *planFixture, req *tfprotov6.PlanResourceChangeRequest) {
				*req = *f.request(t, func(cfg map[string]tftypes.Value) { cfg["verify"] = tftypes.NewValue(tftypes.Bool, nil) })
			}},
		{name: "the provider's project differs from the stored one", f: withProject, want: "project_id replaced"},
		{name: "an adoption marker in the private state", f: plain, want: "the marker cleared",
			edit: func(t *testing.T, f *planFixture, req *tfprotov6.PlanResourceChangeRequest) {
				req.PriorPrivate = []byte(`{"` + privateAdoptedKey + `":"` + "e30=" + `"}`)
			}},
		{name: "a configured change", f: plain, want: "the new name",
			edit: func(t *testing.T, f *planFixture, req *tfprotov6.PlanResourceChangeRequest) {
				proposed := map[string]tftypes.Value{}
				for k, v := range f.state {
					proposed[k] = v
				}
				proposed["name"] = tftypes.NewValue(tftypes.String, "renamed")
				req.ProposedNewState = f.dynamic(t, proposed)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.f.request(t, nil)
			if tc.edit != nil {
				tc.edit(t, tc.f, req)
			}
			short, ok := tc.f.srv.short.plan(ctx, req)
			if ok != tc.short {
				t.Fatalf("short path answered %v, want %v (%s)", ok, tc.short, tc.want)
			}
			framework, err := tc.f.srv.ProviderServer.PlanResourceChange(ctx, req)
			if err != nil || hasError(framework.Diagnostics) {
				t.Fatalf("framework: %v %v", err, framework.Diagnostics)
			}
			if !ok {
				// Standing aside is right only where the framework plans something else than the state.
				if samePlan(t, tc.f.typ, framework, &tfprotov6.PlanResourceChangeResponse{PlannedState: req.PriorState,
					PlannedPrivate: req.PriorPrivate, PlannedIdentity: framework.PlannedIdentity}) == "" {
					t.Errorf("the framework planned no change: the short path could have answered")
				}
				return
			}
			if d := samePlan(t, tc.f.typ, framework, short); d != "" {
				t.Errorf("short path and framework differ: %s", d)
			}
			if len(short.Diagnostics) != len(framework.Diagnostics) {
				t.Errorf("diagnostics: short path %v, framework %v", short.Diagnostics, framework.Diagnostics)
			}
		})
	}
}
