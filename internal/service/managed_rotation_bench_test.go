package service

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/api"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
)

// BenchmarkManagedRotation1000 rotates 1,000 managed credentials (OpenAI's fake, SQLite): each
// rotation mints, verifies and switches, then one sweep after the overlap revokes the 1,000 old keys.
// It reports the time and the vendor calls per rotation (BENCHMARKS.md). Run it with
// go test ./internal/service -run '^$' -bench ManagedRotation1000 -benchtime 1x.
func BenchmarkManagedRotation1000(b *testing.B) {
	const n = 1000
	for range b.N {
		b.StopTimer()
		e := newRotEnv(b, "openai", sqlstore.DialectSQLite)
		ctx := context.Background()
		admin := e.createAdmin()
		ids := make([]string, 0, n)
		for i := range n {
			c, _, err := e.svc.CreateCredential(ctx, e.admin, api.CredentialCreate{Name: fmt.Sprintf("app-%04d", i), Provider: "openai",
				Settings: e.settings(), Rotation: &api.CredentialRotation{Mode: api.RotationModeManaged, AdminCredentialID: admin.ID, Overlap: "1h"}}, nil)
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		calls0, probes0 := e.fake.Calls.Load(), e.fake.Probes.Load()
		b.StartTimer()
		start := time.Now()
		for _, id := range ids {
			if _, err := e.svc.RotateCredential(ctx, e.admin, id, TriggerAPI); err != nil {
				b.Fatal(err)
			}
		}
		switched := time.Since(start)
		e.clock.Advance(61 * time.Minute)
		if _, err := e.svc.SweepRotations(ctx); err != nil {
			b.Fatal(err)
		}
		total := time.Since(start)
		b.StopTimer()
		if live := len(e.fake.LiveSecrets()); live != n {
			b.Fatalf("%d live keys after the sweep, want %d", live, n)
		}
		calls, probes := e.fake.Calls.Load()-calls0, e.fake.Probes.Load()-probes0
		b.ReportMetric(float64(switched.Milliseconds())/n, "ms/switch")
		b.ReportMetric(float64(total.Milliseconds())/n, "ms/rotation")
		b.ReportMetric(float64(calls)/n, "admin-calls/rotation")
		b.ReportMetric(float64(probes)/n, "probes/rotation")
		b.ReportMetric(float64(total.Milliseconds()-switched.Milliseconds())/1000, "s/revoke-sweep")
	}
}
