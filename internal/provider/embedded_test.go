package provider

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/client"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/server"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
)

// TestAccEmbedded_parallelCreatesAndServerHandOff applies credentials in parallel on the embedded
// store, then opens the same file as modelkeys-server would and finds what Terraform wrote.
func TestAccEmbedded_parallelCreatesAndServerHandOff(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "state", "modelkeys.db")
	const n = 12
	type cred struct {
		Index     int
		Name, Key string
	}
	creds := make([]cred, n)
	for i := range creds {
		creds[i] = cred{i, fmt.Sprintf("key-%02d", i), fmt.Sprintf("sk-embedded-parallel-key-%04d-abcdef", i)}
	}
	config := fmt.Sprintf(`
provider "modelkeys" {
  endpoint = "file://%s"
}
`, filepath.ToSlash(dbPath)) + testConfig(t, "embedded_credentials", creds)

	resource.ParallelTest(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy:             checkAllDestroyedEmbedded(dbPath),
		Steps: []resource.TestStep{{
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("modelkeys_credential.c0", tfjsonpath.New("secret_version"), knownvalue.Int64Exact(1)),
			},
			Check: func(_ *terraform.State) error {
				keyFile := secrets.KeyFileFor(dbPath)
				info, err := os.Stat(keyFile)
				if err != nil {
					return fmt.Errorf("embedded mode made no master key file beside the database: %w", err)
				}
				if info.Mode().Perm() != 0o600 {
					return fmt.Errorf("master key file mode %o, want 600", info.Mode().Perm())
				}
				// What modelkeys-server serve --db does: open the file with the key beside it.
				ctx := context.Background()
				key, err := secrets.ReadMasterKeyFile(keyFile)
				if err != nil {
					return err
				}
				ring, _ := secrets.NewKeyring(key)
				st, err := sqlstore.OpenSQLite(ctx, dbPath)
				if err != nil {
					return err
				}
				defer st.Close()
				if _, err := server.New(ctx, service.Config{Store: st, Keyring: ring}); err != nil {
					return fmt.Errorf("a server cannot open what Terraform wrote: %w", err)
				}
				var count int
				err = st.Tx(ctx, func(tx store.Tx) error {
					refs, err := tx.ListAllCredentialRefs(ctx)
					count = len(refs)
					return err
				})
				if err != nil {
					return err
				}
				if count != n {
					return fmt.Errorf("server sees %d credentials, want %d", count, n)
				}
				return nil
			},
		}},
	})
}

// checkAllDestroyedEmbedded is checkAllDestroyed through a client of the embedded store at dbPath, the
// one the provider opened in this process. It opens nothing before the destroy, so that the test still
// sees what the provider made of a path with nothing there.
func checkAllDestroyedEmbedded(dbPath string) resource.TestCheckFunc {
	return func(st *terraform.State) error {
		es, err := openEmbedded(context.Background(), dbPath, "test")
		if err != nil {
			return err
		}
		c, err := client.New(client.Config{BaseURL: embeddedBaseURL, HTTPClient: &http.Client{Transport: es.transport}})
		if err != nil {
			return err
		}
		return checkAllDestroyed(&testServer{Client: c})(st)
	}
}
