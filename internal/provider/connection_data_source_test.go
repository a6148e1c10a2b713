package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

func TestAccConnectionDataSource_lookups(t *testing.T) {
	s := newTestServer(t)
	f := newCredentialFixture(t, s) // org connection "chat" to gpt-4o-mini, without parameters
	// A connection of the same name in the project, through the project's Mistral key, with parameters.
	projConn := dsConnection(t, s, api.ConnectionCreate{
		Name: "chat", CredentialID: f.projCred.ID, Model: "mistral-small-2603", ProjectID: f.project.ID,
		Parameters: `{ "temperature": 0.2, "max_tokens": 256 }`,
	})
	orgChecks := func(addr string) []statecheck.StateCheck {
		c := f.connection
		return []statecheck.StateCheck{
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(c.ID)),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("name"), knownvalue.StringExact("chat")),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("project_id"), knownvalue.Null()),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("credential_id"), knownvalue.StringExact(f.orgCred.ID)),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("model"), knownvalue.StringExact("gpt-4o-mini")),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("parameters"), knownvalue.Null()),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("enabled"), knownvalue.Bool(true)),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("model_provider"), knownvalue.StringExact("openai")),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("status"), knownvalue.StringExact(api.ConnectionReady)),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("created_at"), knownvalue.StringExact(rfc3339(c.CreatedAt))),
			statecheck.ExpectKnownValue(addr, tfjsonpath.New("updated_at"), knownvalue.StringExact(rfc3339(c.UpdatedAt))),
		}
	}
	checks := append(orgChecks("data.modelkeys_connection.by_id"), orgChecks("data.modelkeys_connection.by_name")...)
	const inProject = "data.modelkeys_connection.in_project"
	checks = append(checks,
		statecheck.ExpectKnownValue(inProject, tfjsonpath.New("id"), knownvalue.StringExact(projConn.ID)),
		statecheck.ExpectKnownValue(inProject, tfjsonpath.New("project_id"), knownvalue.StringExact(f.project.ID)),
		statecheck.ExpectKnownValue(inProject, tfjsonpath.New("credential_id"), knownvalue.StringExact(f.projCred.ID)),
		statecheck.ExpectKnownValue(inProject, tfjsonpath.New("model_provider"), knownvalue.StringExact("mistral")),
		// The server keeps parameters compact, with sorted keys.
		statecheck.ExpectKnownValue(inProject, tfjsonpath.New("parameters"), knownvalue.StringExact(`{"max_tokens":256,"temperature":0.2}`)),
		statecheck.ExpectKnownValue("terraform_data.temperature", tfjsonpath.New("output"), knownvalue.Float64Exact(0.2)),
	)
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []resource.TestStep{{
			Config:            s.providerConfig() + testConfig(t, "connection_lookups", map[string]string{"Connection": f.connection.ID, "Project": f.project.ID}),
			ConfigStateChecks: checks,
		}},
	})
}

func TestAccConnectionDataSource_notFound(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	f := newCredentialFixture(t, s)
	cases := errorCases{
		"unknown id": {`id = "conn_doesnotexist"`, `Connection not found.*No connection with id "conn_doesnotexist" exists`},
		"name in another scope": {fmt.Sprintf("name = \"chat\"\n  project_id = %q", f.project.ID),
			`No connection named "chat" exists in project "` + f.project.ID + `". A connection of that name exists in the organisation scope`},
		"neither id nor name": {``, `Exactly one of these attributes must be configured: \[id,name\]`},
	}
	errorTest{
		config: func(body string) string {
			return s.providerConfig() + "data \"modelkeys_connection\" \"x\" {\n  " + body + "\n}\n"
		},
		match: wrappedText,
	}.run(t, cases)
}
