// Package bench holds the performance benchmarks: tf_bench.py (Terraform end to end), api_bench.sh
// (wrk on loopback) and these Go benchmarks of the API handler over SQLite with no network in between.
//
//	go test -run '^$' -bench . -benchmem ./bench/ ./internal/secrets/
package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/server"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
)

func newHandler(b *testing.B) http.Handler {
	b.Helper()
	ctx := context.Background()
	st, err := sqlstore.OpenSQLite(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	ring, err := secrets.NewKeyring(key)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := server.New(ctx, service.Config{Store: st, Keyring: ring, Embedded: true})
	if err != nil {
		b.Fatal(err)
	}
	return srv.Handler()
}

var seq atomic.Int64

func create(b *testing.B, h http.Handler) string {
	n := seq.Add(1)
	body := fmt.Sprintf(`{"name":"bench-%d","provider":"openai","api_key":"sk-bench-%d-000000000wxyz","verify":false}`, n, n)
	w := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/v1/credentials", bytes.NewBufferString(body))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(w, req)
	if w.Code != 201 {
		b.Fatalf("create: %d %s", w.Code, w.Body)
	}
	var c struct{ ID string }
	_ = json.Unmarshal(w.Body.Bytes(), &c)
	return c.ID
}

// BenchmarkCreateCredential: one POST /v1/credentials (validation, encryption, fingerprint, insert,
// audit, commit with synchronous=FULL).
func BenchmarkCreateCredential(b *testing.B) {
	h := newHandler(b)
	b.ResetTimer()
	for b.Loop() {
		create(b, h)
	}
}

// seed creates n credentials and returns their ids.
func seed(b *testing.B, h http.Handler, n int) []string {
	b.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = create(b, h)
	}
	return ids
}

func BenchmarkGetCredential(b *testing.B) {
	h := newHandler(b)
	ids := seed(b, h, 100)
	b.ResetTimer()
	i := 0
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/v1/credentials/"+ids[i%len(ids)], nil))
		if w.Code != 200 {
			b.Fatalf("get: %d", w.Code)
		}
		i++
	}
}

// BenchmarkGetCredentialParallel: reads from GOMAXPROCS goroutines, on the store's pool of SQLite
// read connections.
func BenchmarkGetCredentialParallel(b *testing.B) {
	h := newHandler(b)
	ids := seed(b, h, 100)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", "/v1/credentials/"+ids[i%len(ids)], nil))
			if w.Code != 200 {
				b.Errorf("get: %d", w.Code)
				return
			}
			i++
		}
	})
}

func BenchmarkListCredentials50(b *testing.B) {
	h := newHandler(b)
	for range 100 {
		create(b, h)
	}
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/v1/credentials?limit=50", nil))
		if w.Code != 200 {
			b.Fatalf("list: %d", w.Code)
		}
	}
}
