// Package sqlitedsn is the connection string of every SQLite database of
// the project (the kiosk store, central on SQLite) with the durability
// pragmas in it, and the start-up check that they took. The pragmas live in
// the DSN so that every pooled connection gets them: WAL, synchronous=FULL,
// foreign keys on, a busy timeout and immediate (write-locking)
// transactions, so that an acknowledged write survives power loss.
package sqlitedsn

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DSN returns the go-sqlite3 connection string for the file at path, with
// the durability pragmas and the given busy timeout (rounded down to
// milliseconds).
func DSN(path string, busy time.Duration) string {
	v := url.Values{}
	v.Set("_journal_mode", "WAL")
	v.Set("_synchronous", "FULL")
	v.Set("_busy_timeout", strconv.FormatInt(busy.Milliseconds(), 10))
	v.Set("_foreign_keys", "on")
	v.Set("_txlock", "immediate")
	return "file:" + path + "?" + v.Encode()
}

// Check reads the pragmas back and lists each one that is unsafe, e.g.
// "journal_mode=delete (want wal)"; an empty list means the database is
// safe to write. err is a failure to read them.
func Check(ctx context.Context, db *sql.DB) (unsafe []string, err error) {
	var mode string
	var syncLevel, fk, busy int
	for _, p := range []struct {
		name string
		dst  any
	}{{"journal_mode", &mode}, {"synchronous", &syncLevel}, {"foreign_keys", &fk}, {"busy_timeout", &busy}} {
		if err := db.QueryRowContext(ctx, "PRAGMA "+p.name).Scan(p.dst); err != nil {
			return nil, fmt.Errorf("read %s: %w", p.name, err)
		}
	}
	if !strings.EqualFold(mode, "wal") {
		unsafe = append(unsafe, "journal_mode="+mode+" (want wal)")
	}
	if syncLevel != 2 && syncLevel != 3 { // FULL or EXTRA
		unsafe = append(unsafe, fmt.Sprintf("synchronous=%d (want 2, FULL)", syncLevel))
	}
	if fk != 1 {
		unsafe = append(unsafe, "foreign_keys=off (want on)")
	}
	if busy <= 0 {
		unsafe = append(unsafe, "busy_timeout=0 (want > 0)")
	}
	return unsafe, nil
}
