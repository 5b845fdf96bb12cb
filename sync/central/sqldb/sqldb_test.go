package sqldb_test

import (
	"context"
	"testing"

	"github.com/kinderdeur/kiosk/sync/central/centraltest"
	"github.com/kinderdeur/kiosk/sync/central/sqldb"
)

func TestOpenRebindForUpdate(t *testing.T) {
	for _, be := range centraltest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			db, err := sqldb.Open(context.Background(), be.DSN(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			q := "SELECT 1 FROM devices WHERE id = ? AND seq > ?"
			want, lock := q, ""
			if db.Dialect() == sqldb.Postgres {
				want, lock = "SELECT 1 FROM devices WHERE id = $1 AND seq > $2", " FOR UPDATE"
			}
			if got := db.Rebind(q); got != want {
				t.Errorf("Rebind = %q, want %q", got, want)
			}
			if got := db.ForUpdate(); got != lock {
				t.Errorf("ForUpdate = %q, want %q", got, lock)
			}
			var n int
			if err := db.QueryRow(context.Background(), nil, "SELECT count(*) FROM schema_migrations WHERE version > ?", 0).Scan(&n); err != nil || n == 0 {
				t.Errorf("migrations applied: %d, %v", n, err)
			}
		})
	}
}
