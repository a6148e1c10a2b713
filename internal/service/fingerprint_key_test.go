package service

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/pgtest"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
)

// Replicas that start together on a new database must share one fingerprint key, or the same secret
// would fingerprint differently on each (and every plan through the load balancer would show drift).
func TestReplicasFirstStartAgreeOnFingerprintKey(t *testing.T) {
	t.Parallel()
	dsn := pgtest.Start(t)
	ctx := context.Background()
	key := secrets.NewMasterKey()
	ring, err := secrets.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	const n = 6
	fps := make([]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := sqlstore.OpenPostgres(ctx, dsn)
			if err != nil {
				errs[i] = err
				return
			}
			defer st.Close()
			<-start
			svc, err := New(ctx, Config{Store: st, Keyring: ring})
			if err != nil {
				errs[i] = err
				return
			}
			fps[i] = svc.fp.Fingerprint("org_1", map[string]string{api.SecretAPIKey: "sk-same"})
		}()
	}
	time.Sleep(200 * time.Millisecond) // let every store open (and migrate) first
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("replica %d: %v", i, errs[i])
		}
		if fps[i] != fps[0] {
			t.Fatalf("replica %d fingerprints the same secret differently from replica 0", i)
		}
	}
}
