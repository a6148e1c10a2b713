package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/querycheck"
	"github.com/hashicorp/terraform-plugin-testing/querycheck/queryfilter"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
)

// seededPolicies are the policies seedPolicies wrote out of band, as someone else would have: the
// organisation's model and credential policies, a model policy of project ml and a credential policy
// of project web. Project idle has neither.
type seededPolicies struct {
	ml, web, idle *api.Project
}

func seedPolicies(t *testing.T, s *testServer) seededPolicies {
	t.Helper()
	ctx := context.Background()
	var out seededPolicies
	for _, p := range []struct {
		name string
		dst  **api.Project
	}{{"ml", &out.ml}, {"web", &out.web}, {"idle", &out.idle}} {
		proj, err := s.Client.CreateProject(ctx, api.ProjectCreate{Name: p.name})
		if err != nil {
			t.Fatal(err)
		}
		*p.dst = proj
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.Client.PutModelPolicy(ctx, "", api.ModelPolicyPut{Mode: api.PolicyDenylist, Publishers: []string{"meta"}}, 0)
	must(err)
	_, err = s.Client.PutModelPolicy(ctx, out.ml.ID, api.ModelPolicyPut{Mode: api.PolicyAllowlist, Models: []string{"openai/gpt-4.1", "custom/llama3:8b"}}, 0)
	must(err)
	_, err = s.Client.PutCredentialPolicy(ctx, "", api.CredentialPolicyPut{RequireVerification: true}, 0)
	must(err)
	_, err = s.Client.PutCredentialPolicy(ctx, out.web.ID, api.CredentialPolicyPut{AllowedProviders: []string{"anthropic"}, MaxRotationPeriod: "30d", ExpiryWarning: "7d"}, 0)
	must(err)
	// A policy written and reset is no policy: nothing to adopt, so not listed.
	_, err = s.Client.PutModelPolicy(ctx, out.idle.ID, api.ModelPolicyPut{Mode: api.PolicyDenylist, Models: []string{"openai/gpt-4.1"}}, 0)
	must(err)
	must(s.Client.DeleteModelPolicy(ctx, out.idle.ID, 0))
	return out
}

// terraform query (Terraform 1.14+) lists the scopes whose policy was written, each identified by its
// scope (project_id, "" for the organisation's), with the policy's values.
func TestAccPolicyListResources_query(t *testing.T) {
	s := newTestServer(t)
	seeded := seedPolicies(t, s)
	org := map[string]knownvalue.Check{"project_id": knownvalue.StringExact("")}
	project := func(p *api.Project) map[string]knownvalue.Check {
		return map[string]knownvalue.Check{"project_id": knownvalue.StringExact(p.ID)}
	}
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_14_0)},
		Steps: []resource.TestStep{
			{Config: s.providerConfig()},
			{
				Query: true,
				Config: `
list "modelkeys_model_policy" "all" {
  provider         = modelkeys
  include_resource = true
}

list "modelkeys_credential_policy" "all" {
  provider         = modelkeys
  include_resource = true
}

list "modelkeys_credential_policy" "web" {
  provider = modelkeys
  config {
    project_id = "` + seeded.web.ID + `"
  }
}

list "modelkeys_model_policy" "idle" {
  provider = modelkeys
  config {
    project_id = "` + seeded.idle.ID + `"
  }
}
`,
				QueryResultChecks: []querycheck.QueryResultCheck{
					querycheck.ExpectLength("modelkeys_model_policy.all", 2),
					querycheck.ExpectIdentity("modelkeys_model_policy.all", org),
					querycheck.ExpectIdentity("modelkeys_model_policy.all", project(seeded.ml)),
					querycheck.ExpectResourceDisplayName("modelkeys_model_policy.all", queryfilter.ByResourceIdentity(project(seeded.ml)),
						knownvalue.StringExact("model policy of project ml ("+seeded.ml.ID+")")),
					querycheck.ExpectResourceKnownValues("modelkeys_model_policy.all", queryfilter.ByResourceIdentity(project(seeded.ml)), []querycheck.KnownValueCheck{
						{Path: tfjsonpath.New("mode"), KnownValue: knownvalue.StringExact(api.PolicyAllowlist)},
						{Path: tfjsonpath.New("models"), KnownValue: knownvalue.SetExact([]knownvalue.Check{
							knownvalue.StringExact("openai/gpt-4.1"), knownvalue.StringExact("custom/llama3:8b")})},
					}),
					querycheck.ExpectLength("modelkeys_credential_policy.all", 2),
					querycheck.ExpectIdentity("modelkeys_credential_policy.all", org),
					querycheck.ExpectIdentity("modelkeys_credential_policy.all", project(seeded.web)),
					querycheck.ExpectResourceKnownValues("modelkeys_credential_policy.all", queryfilter.ByResourceIdentity(org), []querycheck.KnownValueCheck{
						{Path: tfjsonpath.New("require_verification"), KnownValue: knownvalue.Bool(true)},
						{Path: tfjsonpath.New("project_id"), KnownValue: knownvalue.Null()},
					}),
					querycheck.ExpectLength("modelkeys_credential_policy.web", 1),
					querycheck.ExpectIdentity("modelkeys_credential_policy.web", project(seeded.web)),
					querycheck.ExpectLength("modelkeys_model_policy.idle", 0),
				},
			},
		},
	})
}

// The adoption of policies someone wrote by hand, with the CLI: terraform query -generate-config-out
// writes resource and import-by-identity blocks that plan as imports alone (nothing to change), the
// apply writes nothing to the server, and the next plan is empty.
func TestAccPolicyListResources_generateConfigAndAdopt(t *testing.T) {
	s := newTestServer(t)
	seeded := seedPolicies(t, s)
	tf := newTerraformCLI(t, "1.14.0")
	tf.write("main.tf", `
terraform {
  required_providers {
    modelkeys = { source = "modelkeys/modelkeys" }
  }
}
`+s.providerConfig())
	tf.write("adopt.tfquery.hcl", `
list "modelkeys_model_policy" "all" {
  provider         = modelkeys
  include_resource = true
}

list "modelkeys_credential_policy" "all" {
  provider         = modelkeys
  include_resource = true
}
`)
	tf.run(true, "init")
	tf.run(true, "query", "-generate-config-out=generated.tf")
	generated := tf.read("generated.tf")
	for _, want := range []string{`resource "modelkeys_model_policy"`, `resource "modelkeys_credential_policy"`, "identity", seeded.ml.ID, seeded.web.ID} {
		if !strings.Contains(generated, want) {
			t.Errorf("generated.tf lacks %q:\n%s", want, generated)
		}
	}
	if strings.Contains(generated, seeded.idle.ID) {
		t.Errorf("generated.tf adopts the policy of project idle, which was reset:\n%s", generated)
	}
	if n := len(regexp.MustCompile(`(?m)^import \{`).FindAllString(generated, -1)); n != 4 {
		t.Errorf("want 4 import blocks, got %d:\n%s", n, generated)
	}
	tf.run(true, "validate")

	ctx := context.Background()
	versions := func() [4]int64 {
		var v [4]int64
		for i, get := range []func() (int64, error){
			func() (int64, error) { p, err := s.Client.GetModelPolicy(ctx, ""); return p.Version, err },
			func() (int64, error) { p, err := s.Client.GetModelPolicy(ctx, seeded.ml.ID); return p.Version, err },
			func() (int64, error) { p, err := s.Client.GetCredentialPolicy(ctx, ""); return p.Version, err },
			func() (int64, error) {
				p, err := s.Client.GetCredentialPolicy(ctx, seeded.web.ID)
				return p.Version, err
			},
		} {
			var err error
			if v[i], err = get(); err != nil {
				t.Fatal(err)
			}
		}
		return v
	}
	before := versions()
	plan := tf.run(true, "plan", "-out=tfplan")
	if !strings.Contains(plan, "4 to import, 0 to add, 0 to change, 0 to destroy") {
		t.Errorf("plan: want 4 imports and nothing else:\n%s", plan)
	}
	tf.run(true, "apply", "tfplan")
	if after := versions(); after != before {
		t.Errorf("adopting the policies wrote to the server: versions %v -> %v", before, after)
	}
	if again := tf.run(true, "plan", "-detailed-exitcode"); !strings.Contains(again, "No changes") {
		t.Errorf("plan after adopting is not empty:\n%s", again)
	}
	// The state holds each policy's scope as its identity, "" for the organisation's.
	state := tf.run(true, "show", "-json")
	for _, want := range []string{`"identity":{"project_id":""}`, `"identity":{"project_id":"` + seeded.ml.ID + `"}`, `"identity":{"project_id":"` + seeded.web.ID + `"}`} {
		if !strings.Contains(state, want) {
			t.Errorf("terraform show -json lacks %s:\n%s", want, state)
		}
	}
}

// A destroyed credential policy is reset: the scope has no policy written (or its project went too).
func init() {
	destroyedChecks["modelkeys_credential_policy"] = func(ctx context.Context, c *client.Client, is *terraform.InstanceState) error {
		pol, err := c.GetCredentialPolicy(ctx, is.Attributes["project_id"])
		switch {
		case client.IsNotFound(err):
			return nil
		case err != nil:
			return err
		case pol.Version != 0:
			return fmt.Errorf("credential policy still written (version %d) after destroy: %+v", pol.Version, pol)
		}
		return nil
	}
}
