package pgtest

import (
	"database/sql"
	"testing"
)

// No TestMain here on purpose: the watchdog must stop the cluster when this binary exits.

func TestStartGivesSeparateDatabases(t *testing.T) {
	u1, u2 := Start(t), Start(t)
	if u1 == u2 {
		t.Fatalf("two Starts returned the same database %s", u1)
	}
	for _, u := range []string{u1, u2} {
		db, err := sql.Open("pgx", u)
		if err != nil {
			t.Fatal(err)
		}
		var name string
		if err := db.QueryRow("SELECT current_database()").Scan(&name); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if _, err := db.Exec("CREATE TABLE t (id int)"); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		_ = db.Close()
	}
}
