package provider

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify"
)

// TestCredentialCreateWarnsWhenUnverified: a create with verify = true whose provider cannot be
// reached succeeds, unverified, and says so in a warning that carries the status message; it used to
// pass in silence.
func TestCredentialCreateWarnsWhenUnverified(t *testing.T) {
	unreachable := deadEndpoint(t)
	s := newTestServer(t, func(c *service.Config) {
		c.Verifier = verify.New(verify.Options{BaseURLs: map[string]string{"openai": unreachable}, Timeout: 5 * time.Second})
	})
	ctx := context.Background()
	srv, sch := configuredProtocolServer(t, s, "")
	typ := sch.ResourceSchemas["modelkeys_credential"].ValueType().(tftypes.Object)
	vals := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		vals[name] = tftypes.NewValue(at, nil)
	}
	vals["name"] = tftypes.NewValue(tftypes.String, "openai-unchecked")
	vals["model_provider"] = tftypes.NewValue(tftypes.String, "openai")
	vals["api_key"] = tftypes.NewValue(tftypes.String, keyOne)
	vals["verify"] = tftypes.NewValue(tftypes.Bool, true)
	cfg, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, vals))
	if err != nil {
		t.Fatal(err)
	}
	null, _ := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, nil))
	plan, err := srv.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{TypeName: "modelkeys_credential", PriorState: &null, ProposedNewState: &cfg, Config: &cfg})
	if err != nil || protoHasError(plan.Diagnostics) {
		t.Fatalf("plan: %v %+v", err, plan.Diagnostics)
	}
	applied, err := srv.ApplyResourceChange(ctx, &tfprotov6.ApplyResourceChangeRequest{TypeName: "modelkeys_credential", PriorState: &null,
		PlannedState: plan.PlannedState, Config: &cfg, PlannedPrivate: plan.PlannedPrivate})
	if err != nil || protoHasError(applied.Diagnostics) {
		t.Fatalf("apply: %v %+v", err, applied.Diagnostics)
	}
	var warned bool
	for _, d := range applied.Diagnostics {
		if d.Severity == tfprotov6.DiagnosticSeverityWarning && strings.Contains(d.Summary, "not verified") &&
			strings.Contains(d.Detail, "openai-unchecked") && strings.Contains(d.Detail, "Could not reach the provider") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no warning naming the credential and its status message: %+v", applied.Diagnostics)
	}
}
