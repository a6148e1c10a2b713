package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/actionvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/action/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/catalog"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

var (
	_ action.ActionWithConfigure        = (*credentialVerifyAction)(nil)
	_ action.ActionWithConfigValidators = (*credentialVerifyAction)(nil)
)

// NewCredentialVerifyAction is the modelkeys_credential_verify action (Terraform 1.14+).
func NewCredentialVerifyAction() action.Action { return &credentialVerifyAction{} }

type credentialVerifyAction struct{ data *providerData }

type credentialVerifyModel struct {
	CredentialID  types.String `tfsdk:"credential_id"`
	ModelProvider types.String `tfsdk:"model_provider"`
	ProjectID     types.String `tfsdk:"project_id"`
}

func (a *credentialVerifyAction) Metadata(_ context.Context, req action.MetadataRequest, resp *action.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_credential_verify"
}

func (a *credentialVerifyAction) Schema(_ context.Context, _ action.SchemaRequest, resp *action.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Checks keys with their model providers now, through the server (`POST /v1/credentials/{id}/verify`), " +
			"and records each one's `status`, `status_message` and `verified_at` on the server. Terraform 1.14+: run it with " +
			"`terraform apply -invoke=action.modelkeys_credential_verify.NAME`, or from a resource's `action_trigger` after create or update " +
			"(with Terraform 1.16+, the trigger's `on_failure` says what a refused key does to the run: `halt`, the default, fails it; " +
			"`continue` reports it as a warning; `taint` fails it and marks a just-created resource for replacement). " +
			"It reports each key as it is checked and fails, naming every refused key and what its provider answered, when any key is refused " +
			"(`status = \"invalid\"`). A provider that cannot be reached is a warning: the key keeps its last status. " +
			"Check one credential with `credential_id`, or many with `model_provider` and `project_id`; with none of them, every credential of the organisation.",
		Attributes: map[string]schema.Attribute{
			"credential_id": schema.StringAttribute{
				MarkdownDescription: "The credential to check, `cred_...`. Conflicts with `model_provider` and `project_id`.",
				Optional:            true,
			},
			"model_provider": schema.StringAttribute{
				MarkdownDescription: "Check every credential of this catalog provider: " + quotedList(catalog.ProviderIDs()) + ".",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.OneOf(catalog.ProviderIDs()...)},
			},
			"project_id": schema.StringAttribute{
				MarkdownDescription: "Check every credential of this project. Omitted: every scope (the provider's `project` does not apply).",
				Optional:            true,
			},
		},
	}
}

func (a *credentialVerifyAction) ConfigValidators(context.Context) []action.ConfigValidator {
	return []action.ConfigValidator{
		actionvalidator.Conflicting(path.MatchRoot("credential_id"), path.MatchRoot("model_provider")),
		actionvalidator.Conflicting(path.MatchRoot("credential_id"), path.MatchRoot("project_id")),
	}
}

func (a *credentialVerifyAction) Configure(_ context.Context, req action.ConfigureRequest, resp *action.ConfigureResponse) {
	a.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (a *credentialVerifyAction) Invoke(ctx context.Context, req action.InvokeRequest, resp *action.InvokeResponse) {
	if !a.data.ready(&resp.Diagnostics) {
		return
	}
	var cfg credentialVerifyModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = a.data.requestContext(ctx)
	progress := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		tflog.Info(ctx, msg)
		if resp.SendProgress != nil {
			resp.SendProgress(action.InvokeProgressEvent{Message: msg})
		}
	}

	var creds []api.Credential
	if id := cfg.CredentialID.ValueString(); id != "" {
		c, err := a.data.client.GetCredential(ctx, id)
		if err != nil {
			addAPIError(&resp.Diagnostics, "Cannot read credential "+id, err)
			return
		}
		creds = []api.Credential{*c}
	} else {
		var err error
		creds, err = a.data.client.ListAllCredentials(ctx, client.CredentialListOptions{
			Provider: cfg.ModelProvider.ValueString(), ProjectID: cfg.ProjectID.ValueString(), Limit: listPageSize})
		if err != nil {
			addAPIError(&resp.Diagnostics, "Cannot list the credentials to verify", err)
			return
		}
	}
	if len(creds) == 0 {
		resp.Diagnostics.AddWarning("No credentials to verify", "No credential matches "+verifyScope(cfg)+".")
		return
	}
	progress("verifying %d credential(s) of %s", len(creds), verifyScope(cfg))

	var refused, unchecked []string
	verified := 0
	for i, before := range creds {
		label := fmt.Sprintf("%s (%s, %s)", before.Name, before.ID, before.Provider)
		c, err := a.data.client.VerifyCredential(ctx, before.ID)
		if err != nil {
			if client.IsNotFound(err) {
				progress("[%d/%d] %s: deleted meanwhile, skipped", i+1, len(creds), label)
				continue
			}
			addAPIError(&resp.Diagnostics, "Cannot verify credential "+label, err)
			return
		}
		fresh := c.VerifiedAt != nil && (before.VerifiedAt == nil || !c.VerifiedAt.Equal(*before.VerifiedAt))
		switch {
		case c.Status == api.StatusInvalid:
			if !fresh {
				refused = append(refused, fmt.Sprintf("%s: %s (still refused as of %s; the provider could not be asked again)", label, c.StatusMessage, c.VerifiedAt.UTC().Format("2006-01-02T15:04:05Z")))
			} else {
				refused = append(refused, label+": "+c.StatusMessage)
			}
			progress("[%d/%d] %s: refused: %s", i+1, len(creds), label, c.StatusMessage)
		case fresh && c.Status == api.StatusVerified:
			verified++
			progress("[%d/%d] %s: verified", i+1, len(creds), label)
		default:
			unchecked = append(unchecked, label+": "+c.StatusMessage)
			progress("[%d/%d] %s: not checked (status %s): %s", i+1, len(creds), label, c.Status, c.StatusMessage)
		}
	}
	progress("%d verified, %d refused, %d not checked", verified, len(refused), len(unchecked))
	if len(unchecked) > 0 {
		sort.Strings(unchecked)
		resp.Diagnostics.AddWarning(fmt.Sprintf("%d credential(s) could not be checked", len(unchecked)),
			"Their provider could not be reached, or the server does not verify keys; each keeps its last status:\n  - "+strings.Join(unchecked, "\n  - "))
	}
	if len(refused) > 0 {
		sort.Strings(refused)
		resp.Diagnostics.AddError(fmt.Sprintf("%d credential(s) refused by their provider", len(refused)),
			"Rotate or remove these keys:\n  - "+strings.Join(refused, "\n  - "))
	}
}

func verifyScope(cfg credentialVerifyModel) string {
	if id := cfg.CredentialID.ValueString(); id != "" {
		return "credential " + id
	}
	var parts []string
	if p := cfg.ModelProvider.ValueString(); p != "" {
		parts = append(parts, "provider "+p)
	}
	if p := cfg.ProjectID.ValueString(); p != "" {
		parts = append(parts, "project "+p)
	}
	if len(parts) == 0 {
		return "the organisation"
	}
	return strings.Join(parts, ", ")
}
