package sqlstore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

func TestPostgresPoolOptions(t *testing.T) {
	if got := (PostgresOptions{}).withDefaults(); got != (PostgresOptions{pgMaxOpenConns, pgMaxOpenConns, pgConnMaxLifetime, pgConnMaxIdleTime}) {
		t.Errorf("defaults: %+v", got)
	}
	if got := (PostgresOptions{MaxOpenConns: 30}).withDefaults(); got.MaxIdleConns != 30 {
		t.Errorf("idle follows open: %+v", got)
	}
	if got := (PostgresOptions{MaxOpenConns: 3, MaxIdleConns: 8}).withDefaults(); got.MaxIdleConns != 3 {
		t.Errorf("idle above open: %+v", got)
	}
	if got := (PostgresOptions{MaxIdleConns: 4}).withDefaults(); got.MaxIdleConns != 4 {
		t.Errorf("idle set: %+v", got)
	}
	for _, b := range backends(t) {
		if b.name != DialectPostgres {
			continue
		}
		t.Run(b.name, func(t *testing.T) {
			s, err := OpenPostgresWithOptions(context.Background(), b.newDSN(t), PostgresOptions{MaxOpenConns: 3, ConnMaxLifetime: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if n := s.db.Stats().MaxOpenConnections; n != 3 {
				t.Errorf("MaxOpenConnections %d, want 3", n)
			}
		})
		t.Run(b.name+"/busy", func(t *testing.T) {
			// As many reads in flight as the default pool opens: when they end, every connection
			// stays for the next burst instead of being closed and dialled again.
			s, err := OpenPostgres(context.Background(), b.newDSN(t))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for burst := 0; burst < 3; burst++ {
				inFlight(t, s, pgMaxOpenConns)
			}
			if st := s.db.Stats(); st.MaxIdleClosed != 0 || st.OpenConnections != pgMaxOpenConns {
				t.Errorf("after three bursts of %d reads: %d connections closed as surplus idle ones, %d open; want 0 and %d",
					pgMaxOpenConns, st.MaxIdleClosed, st.OpenConnections, pgMaxOpenConns)
			}
		})
	}
}

// inFlight runs n reads that are all in their transaction at once, then lets them end.
func inFlight(t *testing.T, s *Store, n int) {
	t.Helper()
	var inside, wg sync.WaitGroup
	inside.Add(n)
	release := make(chan struct{})
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.ReadTx(context.Background(), func(tx store.Tx) error {
				_, err := tx.GetOrganization(context.Background(), "org_missing")
				inside.Done()
				<-release
				if errors.Is(err, store.ErrNotFound) {
					return nil
				}
				return err
			})
		}()
	}
	inside.Wait()
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}
