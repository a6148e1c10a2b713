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
)

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

// samePlan compares two plans as Terraform reads them: values, not encodings; "" when they agree.
func samePlan(t *testing.T, typ tftypes.Object, a, b *tfprotov6.PlanResourceChangeResponse) string {
	t.Helper()
	var diffs []string
	av, err := a.PlannedState.Unmarshal(typ)
	if err != nil {
		t.Fatal(err)
	}
	bv, err := b.PlannedState.Unmarshal(typ)
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

// TestCredentialShortPathModifiers lists the plan modifiers of modelkeys_credential. The short paths
// rely on each of them leaving a plan that equals the state as it is (credential_short_plan_unchanged.go)
// and leaving a new credential's plan alone (credential_short_plan_create.go): a new one fails this test until it is checked to do the same, and listed here.
func TestCredentialShortPathModifiers(t *testing.T) {
	if newCredentialShortPaths(&modelkeysProvider{}) == nil {
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
		"created_at: stringplanmodifier.useStateForUnknownModifier",    // keeps a known plan as it is; nothing without a state
		"expires_at: catalogtypes.semanticStateModifier",               // nothing when plan equals state or without a state
		"id: stringplanmodifier.useStateForUnknownModifier",            // keeps a known plan as it is; nothing without a state
		"model_provider: stringplanmodifier.requiresReplaceIfModifier", // nothing when plan equals state or without a state
		"purpose: stringplanmodifier.requiresReplaceIfModifier",        // nothing when plan equals state or without a state
		"rotation_period: catalogtypes.semanticStateModifier",          // nothing when plan equals state or without a state
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
