package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

// Keys of the credentials the data source tests create out of band. None may reach the state.
const (
	dsKeyOrg     = "sk-proj-datasource-org-key-00000000000000a1"
	dsKeyProject = "sk-proj-datasource-project-key-000000000b2"
)

// dsProject creates a project through the API, outside Terraform.
func dsProject(t *testing.T, s *testServer, in api.ProjectCreate) *api.Project {
	t.Helper()
	p, err := s.Client.CreateProject(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// dsCredential creates a credential through the API, outside Terraform, without asking the provider.
func dsCredential(t *testing.T, s *testServer, in api.CredentialCreate) *api.Credential {
	t.Helper()
	verify := false
	in.Verify = &verify
	c, err := s.Client.CreateCredential(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// dsConnection creates a connection through the API, outside Terraform.
func dsConnection(t *testing.T, s *testServer, in api.ConnectionCreate) *api.Connection {
	t.Helper()
	c, err := s.Client.CreateConnection(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// wrappedText matches an error message that Terraform may have wrapped: every space of pattern
// matches any run of white space.
func wrappedText(pattern string) *regexp.Regexp {
	return regexp.MustCompile("(?s)" + strings.ReplaceAll(pattern, " ", `\s+`))
}

// stateHoldsNone fails when any attribute of any object in the state contains one of the secrets.
func stateHoldsNone(secrets ...string) resource.TestCheckFunc {
	return func(st *terraform.State) error {
		scanned := 0
		for _, m := range st.Modules {
			for addr, rs := range m.Resources {
				for name, v := range rs.Primary.Attributes {
					scanned++
					for _, sec := range secrets {
						if strings.Contains(v, sec) {
							return fmt.Errorf("%s.%s holds a credential's secret", addr, name)
						}
					}
				}
			}
		}
		if scanned == 0 {
			return fmt.Errorf("the state has no attributes: the scan proves nothing")
		}
		return nil
	}
}

// credentialFixture is an organisation credential and a project credential of the same name, and a
// connection that uses the organisation one.
type credentialFixture struct {
	project    *api.Project
	orgCred    *api.Credential
	projCred   *api.Credential
	connection *api.Connection
}

func newCredentialFixture(t *testing.T, s *testServer) credentialFixture {
	t.Helper()
	var f credentialFixture
	f.project = dsProject(t, s, api.ProjectCreate{Name: "team-a"})
	key, projKey := dsKeyOrg, dsKeyProject
	f.orgCred = dsCredential(t, s, api.CredentialCreate{
		Name: "shared", Description: "organisation key", Provider: "openai", APIKey: &key,
		Settings: map[string]string{"organization_id": "org-123"}, Labels: map[string]string{"team": "ml"},
	})
	f.projCred = dsCredential(t, s, api.CredentialCreate{Name: "shared", Provider: "mistral", ProjectID: f.project.ID, APIKey: &projKey})
	f.connection = dsConnection(t, s, api.ConnectionCreate{Name: "chat", CredentialID: f.orgCred.ID, Model: "gpt-4o-mini"})
	return f
}

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
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []resource.TestStep{{
			Config: s.providerConfig() + fmt.Sprintf(`
data "modelkeys_credential" "by_id" {
  id = %q
}
data "modelkeys_credential" "by_name" {
  name = "shared"
}
data "modelkeys_credential" "in_project" {
  name       = "shared"
  project_id = %q
}
data "modelkeys_credential" "project_by_id" {
  id = %q
}
`, f.orgCred.ID, f.project.ID, f.projCred.ID),
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
	provider := fmt.Sprintf(`
provider "modelkeys" {
  endpoint = %q
  token    = %q
  project  = %q
}
`, s.URL, s.Token, f.project.ID)
	resource.Test(t, resource.TestCase{
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
	s := newTestServer(t)
	f := newCredentialFixture(t, s)
	other := dsProject(t, s, api.ProjectCreate{Name: "team-b"})
	cases := map[string]struct {
		body string
		want string
	}{
		"unknown id":   {`id = "cred_doesnotexist"`, `Credential not found.*No credential with id "cred_doesnotexist" exists`},
		"unknown name": {`name = "nope"`, `Credential not found.*No credential named "nope" exists in the organisation scope`},
		"name in another scope": {fmt.Sprintf("name = \"shared\"\n  project_id = %q", other.ID),
			`No credential named "shared" exists in project "` + other.ID + `". A credential of that name exists in project "` + f.project.ID +
				`" and in the organisation scope \(no project\); set project_id`},
		"id and name":           {fmt.Sprintf("id = %q\n  name = \"shared\"", f.orgCred.ID), `Invalid Attribute Combination.*id.*name`},
		"neither id nor name":   {``, `Missing Attribute Configuration.*Exactly one of these attributes must be configured: \[id,name\]`},
		"project_id with an id": {fmt.Sprintf("id = %q\n  project_id = %q", f.orgCred.ID, f.project.ID), `Invalid Attribute Combination.*project_id`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: protoV6Providers,
				Steps: []resource.TestStep{{
					Config:      s.providerConfig() + "data \"modelkeys_credential\" \"x\" {\n  " + tc.body + "\n}\n",
					ExpectError: wrappedText(tc.want),
				}},
			})
		})
	}
}
