package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

func TestAccCredentialDataSource_lookups(t *testing.T) {
	s := newTestServer(t)
	f := newCredentialFixture(t, s)
	orgCred, err := s.Client.GetCredential(context.Background(), f.orgCred.ID) // with its connection
	if err != nil {
		t.Fatal(err)
	}
	orgChecks := func(addr string) []statecheck.StateCheck {
		return []statecheck.StateCheck{
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(orgCred.ID)),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("name"), knownvalue.StringExact("shared")),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("project_id"), knownvalue.Null()),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("description"), knownvalue.StringExact("organisation key")),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("model_provider"), knownvalue.StringExact("openai")),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("settings"), knownvalue.MapExact(map[string]knownvalue.Check{"organization_id": knownvalue.StringExact("org-123")})),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("labels"), knownvalue.MapExact(map[string]knownvalue.Check{"team": knownvalue.StringExact("ml")})),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("verify"), knownvalue.Bool(false)),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("secret_hint"), knownvalue.StringExact(orgCred.SecretHint)),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("secret_fingerprint"), knownvalue.StringExact(orgCred.SecretFingerprint)),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("secret_version"), knownvalue.Int64Exact(1)),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("status"), knownvalue.StringExact(api.StatusUnverified)),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("status_message"), knownvalue.StringExact(orgCred.StatusMessage)),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("verified_at"), knownvalue.Null()),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("connection_ids"), knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact(f.connection.ID)})),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("created_at"), knownvalue.StringExact(rfc3339(orgCred.CreatedAt))),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("updated_at"), knownvalue.StringExact(rfc3339(orgCred.UpdatedAt))),
		}
	}
	checks := append(orgChecks("data.modelkeys_credential.by_id"), orgChecks("data.modelkeys_credential.by_name")...)
	checks = append(checks,
		statecheck.ExpectKnownValue("data.modelkeys_credential.in_project", tfjsonpath.New("id"), knownvalue.StringExact(f.projCred.ID)),
		statecheck.ExpectKnownValue("data.modelkeys_credential.in_project", tfjsonpath.New("project_id"), knownvalue.StringExact(f.project.ID)),
		statecheck.ExpectKnownValue("data.modelkeys_credential.in_project", tfjsonpath.New("model_provider"), knownvalue.StringExact("mistral")),
		statecheck.ExpectKnownValue("data.modelkeys_credential.in_project", tfjsonpath.New("description"), knownvalue.StringExact("")),
		statecheck.ExpectKnownValue("data.modelkeys_credential.in_project", tfjsonpath.New("settings"), knownvalue.MapExact(map[string]knownvalue.Check{})),
		statecheck.ExpectKnownValue("data.modelkeys_credential.in_project", tfjsonpath.New("connection_ids"), knownvalue.SetExact([]knownvalue.Check{})),
		// By id, the project comes back from the credential.
		statecheck.ExpectKnownValue("data.modelkeys_credential.project_by_id", tfjsonpath.New("name"), knownvalue.StringExact("shared")),
		statecheck.ExpectKnownValue("data.modelkeys_credential.project_by_id", tfjsonpath.New("project_id"), knownvalue.StringExact(f.project.ID)),
	)
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []resource.TestStep{{
			Config:            s.providerConfig() + testConfig(t, "credential_lookups", map[string]string{"OrgCred": f.orgCred.ID, "Project": f.project.ID, "ProjCred": f.projCred.ID}),
			ConfigStateChecks: checks,
			Check:             stateHoldsNone(dsKeyOrg, dsKeyProject),
		}},
	})
}

// TestAccCredentialDataSource_defaultProject looks names up in the provider's project when project_id
// is omitted, as the resources do.
func TestAccCredentialDataSource_defaultProject(t *testing.T) {
	s := newTestServer(t)
	f := newCredentialFixture(t, s)
	key := dsKeyOrg
	dsCredential(t, s, api.CredentialCreate{Name: "org-only", Provider: "openai", APIKey: &key})
	provider := s.providerConfigInProject(f.project.ID)
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []resource.TestStep{
			{
				Config: provider + `
data "modelkeys_credential" "shared" {
  name = "shared"
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.modelkeys_credential.shared", tfjsonpath.New("id"), knownvalue.StringExact(f.projCred.ID)),
					statecheck.ExpectKnownValue("data.modelkeys_credential.shared", tfjsonpath.New("project_id"), knownvalue.StringExact(f.project.ID)),
				},
			},
			{
				Config: provider + `
data "modelkeys_credential" "org_only" {
  name = "org-only"
}
`,
				ExpectError: wrappedText(`Credential not found.*No credential named "org-only" exists in project "` + f.project.ID +
					`".*provider's default project.*exists in the organisation scope.*project_id`),
			},
			{
				// "" asks for the organisation scope in spite of the provider's project.
				Config: provider + `
data "modelkeys_credential" "org_only" {
  name       = "org-only"
  project_id = ""
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.modelkeys_credential.org_only", tfjsonpath.New("name"), knownvalue.StringExact("org-only")),
					statecheck.ExpectKnownValue("data.modelkeys_credential.org_only", tfjsonpath.New("project_id"), knownvalue.StringExact("")),
				},
			},
		},
	})
}

func TestAccCredentialDataSource_notFound(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	f := newCredentialFixture(t, s)
	other := dsProject(t, s, api.ProjectCreate{Name: "team-b"})
	cases := errorCases{
		"unknown id":   {`id = "cred_doesnotexist"`, `Credential not found.*No credential with id "cred_doesnotexist" exists`},
		"unknown name": {`name = "nope"`, `Credential not found.*No credential named "nope" exists in the organisation scope`},
		"name in another scope": {fmt.Sprintf("name = \"shared\"\n  project_id = %q", other.ID),
			`No credential named "shared" exists in project "` + other.ID + `". A credential of that name exists in project "` + f.project.ID +
				`" and in the organisation scope \(no project\); set project_id`},
		"id and name":           {fmt.Sprintf("id = %q\n  name = \"shared\"", f.orgCred.ID), `Invalid Attribute Combination.*id.*name`},
		"neither id nor name":   {``, `Missing Attribute Configuration.*Exactly one of these attributes must be configured: \[id,name\]`},
		"project_id with an id": {fmt.Sprintf("id = %q\n  project_id = %q", f.orgCred.ID, f.project.ID), `Invalid Attribute Combination.*project_id`},
	}
	errorTest{
		config: func(body string) string {
			return s.providerConfig() + "data \"modelkeys_credential\" \"x\" {\n  " + body + "\n}\n"
		},
		match: wrappedText,
	}.run(t, cases)
}
