package provider

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	dsschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/provider/catalogtypes"
)

// credentialLifecycleModel holds the rotation and expiry attributes of modelkeys_credential.
type credentialLifecycleModel struct {
	RotationPeriod   catalogtypes.Duration  `tfsdk:"rotation_period"`
	ExpiresAt        catalogtypes.Timestamp `tfsdk:"expires_at"`
	RotatedAt        timetypes.RFC3339      `tfsdk:"rotated_at"`
	RotationDueAt    timetypes.RFC3339      `tfsdk:"rotation_due_at"`
	LifecycleStatus  types.String           `tfsdk:"lifecycle_status"`
	PolicyViolations types.List             `tfsdk:"policy_violations"`
}

const lifecycleStatusDoc = "`ok`, `rotation_due` (older than its rotation period), `expiring` (within the scope's `expiry_warning` of `expires_at`) " +
	"or `expired`; the most urgent applies. The server computes it from its clock on every read, and every refresh warns about a credential that is not `ok`; " +
	"a change of status is not a change of configuration, so it never makes a plan."

// credentialLifecycleAttributes are the resource's lifecycle attributes.
func credentialLifecycleAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"rotation_period": schema.StringAttribute{
			MarkdownDescription: "How often the key should be rotated: days with `d` (`\"90d\"`) or a Go duration (`\"2160h\"`, `\"36h30m\"`); `\"90d\"` and `\"2160h\"` are the same period. " +
				"The scope's credential policy may cap it with `max_rotation_period`, which also applies when this is unset.",
			Optional:      true,
			CustomType:    catalogtypes.DurationType{},
			PlanModifiers: []planmodifier.String{catalogtypes.UseStateWhenSemanticallyEqual(catalogtypes.DurationType{})},
		},
		"expires_at": schema.StringAttribute{
			MarkdownDescription: "When the provider's key stops working (RFC 3339, such as `2026-12-30T00:00:00Z`). Connections through an expired credential are `invalid`. " +
				"Set the new key's expiry with the new key.",
			Optional:      true,
			CustomType:    catalogtypes.TimestampType{},
			PlanModifiers: []planmodifier.String{catalogtypes.UseStateWhenSemanticallyEqual(catalogtypes.TimestampType{})},
		},
		"rotated_at": schema.StringAttribute{
			MarkdownDescription: "When the secret last changed (RFC 3339), by Terraform or not.",
			Computed:            true,
			CustomType:          timetypes.RFC3339Type{},
		},
		"rotation_due_at": schema.StringAttribute{
			MarkdownDescription: "`rotated_at` plus the effective rotation period (`rotation_period`, capped by the scope's `max_rotation_period`); null without either.",
			Computed:            true,
			CustomType:          timetypes.RFC3339Type{},
		},
		"lifecycle_status": schema.StringAttribute{
			MarkdownDescription: lifecycleStatusDoc,
			Computed:            true,
		},
		"policy_violations": schema.ListAttribute{
			MarkdownDescription: "The rules of the scope's credential policy this credential breaks, one sentence each: a policy made stricter after the credential was written " +
				"keeps it, but its next change is refused until it complies. Every refresh warns about them.",
			ElementType: types.StringType,
			Computed:    true,
		},
	}
}

// lifecycleToModel copies the API's lifecycle fields into m. rotation_period and expires_at keep the
// configuration's spelling when they mean what the server stored ("2160h" for "90d"): their types'
// semantic equality sees to it.
func lifecycleToModel(ctx context.Context, c *api.Credential, m *credentialLifecycleModel) diag.Diagnostics {
	m.RotationPeriod = catalogtypes.NewDurationValue(c.RotationPeriod)
	m.ExpiresAt = catalogtypes.NewTimestampPointerValue(c.ExpiresAt)
	m.RotatedAt = timeValue(&c.RotatedAt)
	m.RotationDueAt = timeValue(c.RotationDueAt)
	m.LifecycleStatus = types.StringValue(c.LifecycleStatus)
	violations := c.PolicyViolations
	if violations == nil {
		violations = []string{}
	}
	var diags diag.Diagnostics
	m.PolicyViolations, diags = types.ListValueFrom(ctx, types.StringType, violations)
	return diags
}

// planLifecycle keeps the computed lifecycle values of state in plan where nothing that decides them
// changes: the secret (secretKept), the period, the expiry. The values that move with time are
// refreshed by Read, so a plan without changes stays empty.
func planLifecycle(plan, state *credentialLifecycleModel, secretKept, anyChange bool) {
	// A new spelling of the same period or expiry is planned as the state's (UseStateWhenSemanticallyEqual).
	periodKept := plan.RotationPeriod.Equal(state.RotationPeriod)
	expiryKept := plan.ExpiresAt.Equal(state.ExpiresAt)
	if secretKept {
		plan.RotatedAt = state.RotatedAt
	}
	if secretKept && periodKept {
		plan.RotationDueAt = state.RotationDueAt
	}
	if secretKept && periodKept && expiryKept {
		plan.LifecycleStatus = state.LifecycleStatus
	}
	if !anyChange {
		plan.PolicyViolations = state.PolicyViolations
	}
}

// keepPlannedLifecycle puts back into m the lifecycle values the plan promised: the server computes
// them from its clock at the time of the apply, which may differ from the refresh's by the time in
// between; the next refresh brings them up to date.
func keepPlannedLifecycle(planned credentialLifecycleModel, m *credentialLifecycleModel) {
	if !planned.RotatedAt.IsUnknown() {
		m.RotatedAt = planned.RotatedAt
	}
	if !planned.RotationDueAt.IsUnknown() {
		m.RotationDueAt = planned.RotationDueAt
	}
	if !planned.LifecycleStatus.IsUnknown() {
		m.LifecycleStatus = planned.LifecycleStatus
	}
	if !planned.PolicyViolations.IsUnknown() {
		m.PolicyViolations = planned.PolicyViolations
	}
}

// lifecycleWarnings warns, on every refresh, about a credential that is not ok or breaks its scope's
// credential policy: a warning, not a diff. A check block turns it into a failed run (see the CI guide).
func lifecycleWarnings(c *api.Credential, diags *diag.Diagnostics) {
	if c.LifecycleStatus != "" && c.LifecycleStatus != api.LifecycleOK {
		summary := map[string]string{
			api.LifecycleRotationDue: "Credential key is due for rotation",
			api.LifecycleExpiring:    "Credential key expires soon",
			api.LifecycleExpired:     "Credential key has expired",
		}[c.LifecycleStatus]
		if summary == "" {
			summary = "Credential key needs attention"
		}
		since := "now"
		if c.LifecycleSince != nil {
			since = c.LifecycleSince.UTC().Format(time.RFC3339)
		}
		diags.AddWarning(summary, fmt.Sprintf("Credential %q (%s) is %s since %s. %s", c.Name, c.ID, c.LifecycleStatus, since, c.LifecycleMessage))
	}
	if len(c.PolicyViolations) > 0 {
		diags.AddWarning("Credential breaks its credential policy",
			fmt.Sprintf("Credential %q (%s) breaks the credential policy of its scope, which was made stricter after it was written:\n  - %s\n"+
				"It keeps working, but its next change is refused until it complies.", c.Name, c.ID, strings.Join(c.PolicyViolations, "\n  - ")))
	}
}

// credentialLifecycleDataModel holds the lifecycle attributes of the credential data sources.
type credentialLifecycleDataModel struct {
	RotationPeriod   types.String      `tfsdk:"rotation_period"`
	ExpiresAt        timetypes.RFC3339 `tfsdk:"expires_at"`
	RotatedAt        timetypes.RFC3339 `tfsdk:"rotated_at"`
	RotationDueAt    timetypes.RFC3339 `tfsdk:"rotation_due_at"`
	LifecycleStatus  string            `tfsdk:"lifecycle_status"`
	PolicyViolations []string          `tfsdk:"policy_violations"`
}

func credentialLifecycleDataAttributes() map[string]dsschema.Attribute {
	return map[string]dsschema.Attribute{
		"rotation_period":   dsschema.StringAttribute{MarkdownDescription: "How often the key should be rotated, such as `90d`; null when unset.", Computed: true},
		"expires_at":        dsschema.StringAttribute{MarkdownDescription: "When the provider's key stops working (RFC 3339); null when unset.", Computed: true, CustomType: timetypes.RFC3339Type{}},
		"rotated_at":        dsschema.StringAttribute{MarkdownDescription: "When the secret last changed (RFC 3339).", Computed: true, CustomType: timetypes.RFC3339Type{}},
		"rotation_due_at":   dsschema.StringAttribute{MarkdownDescription: "When the key is due for rotation (RFC 3339); null without a rotation period.", Computed: true, CustomType: timetypes.RFC3339Type{}},
		"lifecycle_status":  dsschema.StringAttribute{MarkdownDescription: "`ok`, `rotation_due`, `expiring` or `expired`, the most urgent that applies.", Computed: true},
		"policy_violations": dsschema.ListAttribute{MarkdownDescription: "The rules of the scope's credential policy the credential breaks.", ElementType: types.StringType, Computed: true},
	}
}

func lifecycleToDataModel(c *api.Credential) credentialLifecycleDataModel {
	m := credentialLifecycleDataModel{
		RotationPeriod:   stringOrNull(c.RotationPeriod),
		ExpiresAt:        timeValue(c.ExpiresAt),
		RotatedAt:        timeValue(&c.RotatedAt),
		RotationDueAt:    timeValue(c.RotationDueAt),
		LifecycleStatus:  c.LifecycleStatus,
		PolicyViolations: append([]string{}, c.PolicyViolations...),
	}
	return m
}

// credentialDataAttributes is the schema of a credential without its secrets, lifecycle included. With
// lookup, id, name and project_id are arguments of the modelkeys_credential data source; without,
// every attribute is read.
func credentialDataAttributes(lookup bool) map[string]dsschema.Attribute {
	attrs := credentialBaseDataAttributes(lookup)
	for name, a := range credentialLifecycleDataAttributes() {
		attrs[name] = a
	}
	return attrs
}
