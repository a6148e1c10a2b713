package sqlstore

import (
	"reflect"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

func TestAudit(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		a := ensureOrg(t, s, "acme")
		b := ensureOrg(t, s, "globex")
		inTx(t, s, func(tx store.Tx) error {
			for i := range 7 {
				org := a
				if i%3 == 2 {
					org = b
				}
				e := api.AuditEvent{ID: 999, Time: at(i), Actor: "token:ci", Action: "update", ObjectType: "credential",
					ObjectID: cid("cred", i), Fields: []string{"name", "api_key"}}
				if i == 0 {
					e.Fields = nil
				}
				if err := tx.InsertAudit(ctx, org, e); err != nil {
					return err
				}
			}
			return nil
		})
		var all []api.AuditEvent
		var after int64
		for {
			var page []api.AuditEvent
			inTx(t, s, func(tx store.Tx) (err error) {
				page, err = tx.ListAudit(ctx, a, after, 2)
				return err
			})
			if len(page) == 0 {
				break
			}
			if len(page) > 2 {
				t.Fatalf("page of %d, limit 2", len(page))
			}
			all = append(all, page...)
			after = page[len(page)-1].ID
		}
		var objs []string
		for k, e := range all {
			objs = append(objs, e.ObjectID)
			if k > 0 && e.ID <= all[k-1].ID {
				t.Errorf("ids not increasing: %d after %d", e.ID, all[k-1].ID)
			}
		}
		want := []string{cid("cred", 0), cid("cred", 1), cid("cred", 3), cid("cred", 4), cid("cred", 6)}
		if !reflect.DeepEqual(objs, want) {
			t.Fatalf("organisation a's events %v, want %v", objs, want)
		}
		if all[0].Fields == nil || len(all[0].Fields) != 0 {
			t.Errorf("nil fields came back as %#v, want []", all[0].Fields)
		}
		if !all[1].Time.Equal(at(1)) || all[1].Time != at(1) || !reflect.DeepEqual(all[1].Fields, []string{"name", "api_key"}) {
			t.Errorf("event round trip: %+v", all[1])
		}
	})
}

// On PostgreSQL a transaction can take an audit id before another and commit after it. Paging by
// "after" must still return every event once.
func TestAuditPagingSkipsNothingAcrossConcurrentTransactions(t *testing.T) {
	b := backends(t)[1]
	if b.name != DialectPostgres {
		t.Fatal("backends(t)[1] is not PostgreSQL")
	}
	s := openStore(t, b.newDSN(t))
	org := ensureOrg(t, s, "acme")
	event := func(obj string) api.AuditEvent {
		return api.AuditEvent{Time: at(0), Actor: "token:ci", Action: "update", ObjectType: "credential", ObjectID: obj}
	}
	var seen []string
	var after int64
	readAll := func() {
		t.Helper()
		if err := s.ReadTx(ctx, func(tx store.Tx) error {
			page, err := tx.ListAudit(ctx, org, after, 100)
			for _, e := range page {
				seen = append(seen, e.ObjectID)
				after = e.ID
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}

	// The slow transaction writes its event first and holds it uncommitted while the fast one writes
	// and tries to commit.
	inserted, release := make(chan struct{}), make(chan struct{})
	slowDone, fastDone := make(chan error, 1), make(chan error, 1)
	go func() {
		slowDone <- s.Tx(ctx, func(tx store.Tx) error {
			if err := tx.InsertAudit(ctx, org, event("slow")); err != nil {
				return err
			}
			close(inserted)
			<-release
			return nil
		})
	}()
	<-inserted
	go func() {
		fastDone <- s.Tx(ctx, func(tx store.Tx) error { return tx.InsertAudit(ctx, org, event("fast")) })
	}()
	time.Sleep(300 * time.Millisecond) // time for the fast one to commit, were nothing holding it
	readAll()
	close(release)
	for _, done := range []chan error{slowDone, fastDone} {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	readAll()
	if want := []string{"slow", "fast"}; !reflect.DeepEqual(seen, want) {
		t.Fatalf("paging by after= returned %v, want %v: an event was skipped or repeated", seen, want)
	}
}

// An event keeps the destination settings' old and new values; one without them reads back without.
func TestAuditChangesRoundTrip(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		org := ensureOrg(t, s, "acme")
		moved := []api.AuditChange{{Field: "settings.base_url", From: "https://a.example/v1", To: "https://b.example/v1"}}
		inTx(t, s, func(tx store.Tx) error {
			if err := tx.InsertAudit(ctx, org, api.AuditEvent{Time: at(0), Actor: "t", Action: "update", ObjectType: "credential", ObjectID: "cred_1", Fields: []string{"settings.base_url"}, Changes: moved}); err != nil {
				return err
			}
			return tx.InsertAudit(ctx, org, api.AuditEvent{Time: at(1), Actor: "t", Action: "update", ObjectType: "credential", ObjectID: "cred_1", Fields: []string{"name"}})
		})
		inTx(t, s, func(tx store.Tx) error {
			events, err := tx.ListAudit(ctx, org, 0, 10)
			if err != nil {
				return err
			}
			if len(events) != 2 || !reflect.DeepEqual(events[0].Changes, moved) || events[1].Changes != nil {
				t.Errorf("events %+v: want the first with changes %+v and the second with none", events, moved)
			}
			return nil
		})
	})
}
