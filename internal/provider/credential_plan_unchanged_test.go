package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
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

// configuredProtocolServer is the provider's protocol server configured against s, as Terraform
// configures it (with the provider's project when project is set), and its schemas.
func configuredProtocolServer(t *testing.T, s *testServer, project string) (tfprotov6.ProviderServer, *tfprotov6.GetProviderSchemaResponse) {
	t.Helper()
	ctx := context.Background()
	srv := NewProtocol6Server("test")()
	sch, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	ptyp := sch.Provider.ValueType().(tftypes.Object)
	pvals := map[string]tftypes.Value{}
	for name, at := range ptyp.AttributeTypes {
		pvals[name] = tftypes.NewValue(at, nil)
	}
	pvals["endpoint"] = tftypes.NewValue(tftypes.String, s.URL)
	pvals["token"] = tftypes.NewValue(tftypes.String, s.Token)
	if project != "" {
		pvals["project"] = tftypes.NewValue(tftypes.String, project)
	}
	pcfg, err := tfprotov6.NewDynamicValue(ptyp, tftypes.NewValue(ptyp, pvals))
	if err != nil {
		t.Fatal(err)
	}
	if cresp, err := srv.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: &pcfg}); err != nil || len(cresp.Diagnostics) > 0 {
		t.Fatalf("ConfigureProvider: %v %v", err, cresp.Diagnostics)
	}
	return srv, sch
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
			short, ok := tc.f.srv.unchanged.plan(req)
			if ok != tc.short {
				t.Fatalf("short path answered %v, want %v (%s)", ok, tc.short, tc.want)
			}
			framework, err := tc.f.srv.ProviderServer.PlanResourceChange(ctx, req)
			if err != nil || hasError(framework.Diagnostics) {
				t.Fatalf("framework: %v %v", err, framework.Diagnostics)
			}
			if !ok {
				// Standing aside is right only where the framework plans something else than the state.
				if samePlan(t, tc.f, framework, &tfprotov6.PlanResourceChangeResponse{PlannedState: req.PriorState,
					PlannedPrivate: req.PriorPrivate, PlannedIdentity: framework.PlannedIdentity}) == "" {
					t.Errorf("the framework planned no change: the short path could have answered")
				}
				return
			}
			if d := samePlan(t, tc.f, framework, short); d != "" {
				t.Errorf("short path and framework differ: %s", d)
			}
			if len(short.Diagnostics) != len(framework.Diagnostics) {
				t.Errorf("diagnostics: short path %v, framework %v", short.Diagnostics, framework.Diagnostics)
			}
		})
	}
}

// samePlan compares two plans as Terraform reads them: values, not encodings; "" when they agree.
func samePlan(t *testing.T, f *planFixture, a, b *tfprotov6.PlanResourceChangeResponse) string {
	t.Helper()
	var diffs []string
	av, err := a.PlannedState.Unmarshal(f.typ)
	if err != nil {
		t.Fatal(err)
	}
	bv, err := b.PlannedState.Unmarshal(f.typ)
	if err != nil {
		t.Fatal(err)
	}
	if vd, err := av.Diff(bv); err != nil || len(vd) > 0 {
		diffs = append(diffs, fmt.Sprintf("planned state %v %v", vd, err))
	}
	if len(a.RequiresReplace) != len(b.RequiresReplace) {
		diffs = append(diffs, fmt.Sprintf("requires replace %v and %v", a.RequiresReplace, b.RequiresReplace))
	}
	if ap, bp := privateKeys(t, a.PlannedPrivate), privateKeys(t, b.PlannedPrivate); ap != bp {
		diffs = append(diffs, fmt.Sprintf("private state %q and %q", ap, bp))
	}
	if (a.PlannedIdentity == nil) != (b.PlannedIdentity == nil) {
		diffs = append(diffs, "identity on one side only")
	} else if a.PlannedIdentity != nil {
		var ir resource.IdentitySchemaResponse
		(&credentialResource{}).IdentitySchema(context.Background(), resource.IdentitySchemaRequest{}, &ir)
		ityp := ir.IdentitySchema.Type().TerraformType(context.Background())
		ai, err1 := a.PlannedIdentity.IdentityData.Unmarshal(ityp)
		bi, err2 := b.PlannedIdentity.IdentityData.Unmarshal(ityp)
		if err1 != nil || err2 != nil || !ai.Equal(bi) {
			diffs = append(diffs, fmt.Sprintf("identity %v and %v (%v %v)", ai, bi, err1, err2))
		}
	}
	return strings.Join(diffs, "; ")
}

// privateKeys lists the keys of a private state, which is all its values here are compared by.
func privateKeys(t *testing.T, b []byte) string {
	t.Helper()
	if len(b) == 0 {
		return ""
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("private state %q: %v", b, err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

func hasError(ds []*tfprotov6.Diagnostic) bool {
	for _, d := range ds {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			return true
		}
	}
	return false
}

// TestUnchangedCredentialPlanModifiers lists the plan modifiers of modelkeys_credential. The short path
// of a no-change plan (credential_plan_unchanged.go) relies on each of them leaving a plan that equals
// the state as it is: a new one fails this test until it is checked to do the same, and listed here.
func TestUnchangedCredentialPlanModifiers(t *testing.T) {
	if newUnchangedCredentialPlans(&modelkeysProvider{}) == nil {
		t.Fatal("the credential's schema has a default the short path cannot compare: every plan takes the framework's path")
	}
	var sr resource.SchemaResponse
	NewCredentialResource().Schema(context.Background(), resource.SchemaRequest{}, &sr)
	var got []string
	for name, a := range sr.Schema.Attributes {
		for _, m := range planModifiers(a) {
			got = append(got, name+": "+fmt.Sprintf("%T", m))
		}
	}
	sort.Strings(got)
	want := []string{
		"created_at: stringplanmodifier.useStateForUnknownModifier",    // keeps a known plan as it is
		"expires_at: catalogtypes.semanticStateModifier",               // nothing when plan equals state
		"id: stringplanmodifier.useStateForUnknownModifier",            // keeps a known plan as it is
		"model_provider: stringplanmodifier.requiresReplaceIfModifier", // nothing when plan equals state
		"rotation_period: catalogtypes.semanticStateModifier",          // nothing when plan equals state
	}
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("plan modifiers of modelkeys_credential:\n%s\nwant (checked against the short path):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// planModifiers are the PlanModifiers of any kind of attribute (each kind has its own slice type).
func planModifiers(a schema.Attribute) []any {
	f := reflect.ValueOf(a).FieldByName("PlanModifiers")
	if !f.IsValid() {
		return []any{fmt.Sprintf("attribute of kind %T, unknown to this test", a)}
	}
	ms := make([]any, f.Len())
	for i := range ms {
		ms[i] = f.Index(i).Interface()
	}
	return ms
}
