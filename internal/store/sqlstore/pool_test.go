package sqlstore

import (
	"context"
	"testing"
	"time"
)

func TestPostgresPoolOptions(t *testing.T) {
	if got := (PostgresOptions{}).withDefaults(); got != (PostgresOptions{pgMaxOpenConns, pgMaxIdleConns, pgConnMaxLifetime, pgConnMaxIdleTime}) {
		t.Errorf("defaults: %+v", got)
	}
	if got := (PostgresOptions{MaxOpenConns: 3, MaxIdleConns: 8}).withDefaults(); got.MaxIdleConns != 3 {
		t.Errorf("idle above open: %+v", got)
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
	}
}
