package provider

import (
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
)

func TestAccCredentialsDataSource_filters(t *testing.T) {
	s := newTestServer(t)
	f := newCredentialFixture(t, s) // org "shared" (openai), team-a "shared" (mistral)
	key := dsKeyOrg
	extra := dsCredential(t, s, api.CredentialCreate{Name: "second", Provider: "openai", ProjectID: f.project.ID, APIKey: &key, Labels: map[string]string{"env": "dev"}})

	// The list is in id order. Ids made in the same millisecond sort at random, whatever order they
	// were made in, so the expected order is the ids' own, never the order of creation.
	ids := func(want ...string) knownvalue.Check {
		want = slices.Sorted(slices.Values(want))
		checks := make([]knownvalue.Check, len(want))
		for i, id := range want {
			checks[i] = knownvalue.StringExact(id)
		}
		return knownvalue.ListExact(checks)
	}
	orgCredAt := slices.Index(slices.Sorted(slices.Values([]string{f.orgCred.ID, f.projCred.ID, extra.ID})), f.orgCred.ID)
	const (
		all      = "data.modelkeys_credentials.all"
		openai   = "data.modelkeys_credentials.openai"
		project  = "data.modelkeys_credentials.project"
		byName   = "data.modelkeys_credentials.by_name"
		combined = "data.modelkeys_credentials.combined"
		none     = "data.modelkeys_credentials.none"
	)
	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []resource.TestStep{{
			Config: s.providerConfig() + testConfig(t, "credentials_filters", map[string]string{"Project": f.project.ID}),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(all, tfjsonpath.New("ids"), ids(f.orgCred.ID, f.projCred.ID, extra.ID)),
				statecheck.ExpectKnownValue(all, tfjsonpath.New("credentials"), knownvalue.ListSizeExact(3)),
				statecheck.ExpectKnownValue(all, tfjsonpath.New("project_id"), knownvalue.Null()),
				statecheck.ExpectKnownValue(openai, tfjsonpath.New("ids"), ids(f.orgCred.ID, extra.ID)),
				statecheck.ExpectKnownValue(project, tfjsonpath.New("ids"), ids(f.projCred.ID, extra.ID)),
				statecheck.ExpectKnownValue(byName, tfjsonpath.New("ids"), ids(f.orgCred.ID, f.projCred.ID)),
				statecheck.ExpectKnownValue(combined, tfjsonpath.New("ids"), ids(extra.ID)),
				statecheck.ExpectKnownValue(combined, tfjsonpath.New("credentials").AtSliceIndex(0), knownvalue.ObjectExact(map[string]knownvalue.Check{
					"id":                 knownvalue.StringExact(extra.ID),
					"name":               knownvalue.StringExact("second"),
					"project_id":         knownvalue.StringExact(f.project.ID),
					"description":        knownvalue.StringExact(""),
					"model_provider":     knownvalue.StringExact("openai"),
					"settings":           knownvalue.MapExact(map[string]knownvalue.Check{}),
					"labels":             knownvalue.MapExact(map[string]knownvalue.Check{"env": knownvalue.StringExact("dev")}),
					"verify":             knownvalue.Bool(false),
					"secret_hint":        knownvalue.StringExact(extra.SecretHint),
					"secret_fingerprint": knownvalue.StringExact(extra.SecretFingerprint),
					"secret_version":     knownvalue.Int64Exact(1),
					"status":             knownvalue.StringExact(api.StatusUnverified),
					"status_message":     knownvalue.StringExact(extra.StatusMessage),
					"verified_at":        knownvalue.Null(),
					"connection_ids":     knownvalue.SetExact([]knownvalue.Check{}),
					"created_at":         knownvalue.StringExact(rfc3339(extra.CreatedAt)),
					"updated_at":         knownvalue.StringExact(rfc3339(extra.UpdatedAt)),
					"rotation_period":    knownvalue.Null(),
					"expires_at":         knownvalue.Null(),
					"rotated_at":         knownvalue.StringExact(rfc3339(extra.RotatedAt)),
					"rotation_due_at":    knownvalue.Null(),
					"lifecycle_status":   knownvalue.StringExact(api.LifecycleOK),
					"policy_violations":  knownvalue.ListExact([]knownvalue.Check{}),
				})),
				statecheck.ExpectKnownValue(all, tfjsonpath.New("credentials").AtSliceIndex(orgCredAt).AtMapKey("connection_ids"),
					knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact(f.connection.ID)})),
				statecheck.ExpectKnownValue(none, tfjsonpath.New("ids"), knownvalue.ListExact([]knownvalue.Check{})),
				statecheck.ExpectKnownValue(none, tfjsonpath.New("credentials"), knownvalue.ListExact([]knownvalue.Check{})),
			},
			Check: stateHoldsNone(dsKeyOrg, dsKeyProject),
		}},
	})
}
