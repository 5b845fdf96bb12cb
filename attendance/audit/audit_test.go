package audit_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"

	"github.com/kinderdeur/kiosk/attendance/audit"
)

// testDB is one database under test with the statements its dialect needs
// to tamper with the table behind the log's back.
type testDB struct {
	db           *sql.DB
	dialect      audit.Dialect
	dropTriggers []string
}

func openSQLite(t testing.TB) testDB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.db")
	db, err := sql.Open("sqlite3", "file:"+path+"?_txlock=immediate&_busy_timeout=5000&_journal_mode=WAL&_synchronous=FULL")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := audit.Migrate(context.Background(), db, audit.SQLite); err != nil {
		t.Fatal(err)
	}
	return testDB{db: db, dialect: audit.SQLite, dropTriggers: []string{
		"DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete",
	}}
}

// openPG connects to KIOSK_TEST_PG and gives the test its own schema, which
// is dropped afterwards. Without KIOSK_TEST_PG the test skips, or fails
// when CI=true.
func openPG(t testing.TB) testDB {
	t.Helper()
	base := os.Getenv("KIOSK_TEST_PG")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("KIOSK_TEST_PG is not set but CI=true: the PostgreSQL tests must run in CI")
		}
		t.Skip("KIOSK_TEST_PG not set (a postgres:// URL): skipping PostgreSQL test")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	var b [6]byte
	rand.Read(b[:])
	schema := "audit_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("KIOSK_TEST_PG: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := audit.Migrate(context.Background(), db, audit.Postgres); err != nil {
		t.Fatal(err)
	}
	// Migrate twice: it must be idempotent.
	if err := audit.Migrate(context.Background(), db, audit.Postgres); err != nil {
		t.Fatal(err)
	}
	return testDB{db: db, dialect: audit.Postgres, dropTriggers: []string{
		"DROP TRIGGER audit_log_no_change ON audit_log", "DROP TRIGGER audit_log_no_truncate ON audit_log",
	}}
}

var dialects = []struct {
	name string
	open func(testing.TB) testDB
}{
	{"sqlite", openSQLite},
	{"postgres", openPG},
}

// fakeClock returns a clock that advances one second per call.
func fakeClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 3, 2, 8, 0, 0, 123456789, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

func fill(t testing.TB, l *audit.Log, n int) []audit.Entry {
	t.Helper()
	var out []audit.Entry
	for i := range n {
		e, err := l.Append(context.Background(), audit.Record{
			Actor:   fmt.Sprintf("staff:S%d", i%3),
			Action:  audit.Actions[i%len(audit.Actions)],
			Subject: fmt.Sprintf("child:C%d", i),
			Details: map[string]any{"n": i, "reason": "test", "b": []int{1, 2}},
		})
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		out = append(out, e)
	}
	return out
}

func TestAppendVerify(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			tdb := d.open(t)
			ctx := context.Background()
			l := audit.New(tdb.db, tdb.dialect, audit.WithClock(fakeClock()))
			n, err := l.Verify(ctx)
			if err != nil || n != 0 {
				t.Fatalf("empty Verify = %d, %v; want 0, nil", n, err)
			}
			written := fill(t, l, 10)
			if written[0].PrevHash != audit.GenesisHash {
				t.Errorf("first prev_hash = %s, want genesis", written[0].PrevHash)
			}
			for i := 1; i < len(written); i++ {
				if written[i].PrevHash != written[i-1].Hash {
					t.Errorf("entry %d does not chain to %d", i+1, i)
				}
			}
			n, err = l.Verify(ctx)
			if err != nil || n != 10 {
				t.Fatalf("Verify = %d, %v; want 10, nil", n, err)
			}
			got, err := l.Entries(ctx, 1, 0)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(written, got); diff != "" {
				t.Errorf("stored entries differ (-want +got):\n%s", diff)
			}
			if want := `{"b":[1,2],"n":0,"reason":"test"}`; string(got[0].Details) != want {
				t.Errorf("details = %s, want canonical %s", got[0].Details, want)
			}
			seq, head, err := l.Head(ctx)
			if err != nil || seq != 10 || head != written[9].Hash {
				t.Errorf("Head = %d %s %v; want 10 %s", seq, head, err, written[9].Hash)
			}
		})
	}
}

func TestAppendRejects(t *testing.T) {
	tdb := openSQLite(t)
	l := audit.New(tdb.db, tdb.dialect)
	tests := []struct {
		name string
		rec  audit.Record
	}{
		{"unknown action", audit.Record{Actor: "x", Action: "launch_missiles"}},
		{"empty actor", audit.Record{Action: audit.SignIn}},
		{"details not an object", audit.Record{Actor: "x", Action: audit.SignIn, Details: []int{1}}},
		{"details unmarshalable", audit.Record{Actor: "x", Action: audit.SignIn, Details: func() {}}},
		{"raw details with trailing data", audit.Record{Actor: "x", Action: audit.SignIn, Details: json.RawMessage(`{} {}`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := l.Append(context.Background(), tt.rec)
			if !errors.Is(err, audit.ErrInvalid) {
				t.Fatalf("Append = %v, want ErrInvalid", err)
			}
		})
	}
	if n, err := l.Verify(context.Background()); n != 0 || err != nil {
		t.Errorf("after rejects Verify = %d, %v; want 0, nil", n, err)
	}
}

func TestAppendTxCommitsWithAction(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			tdb := d.open(t)
			ctx := context.Background()
			if _, err := tdb.db.Exec(`CREATE TABLE pickups (child TEXT NOT NULL)`); err != nil {
				t.Fatal(err)
			}
			l := audit.New(tdb.db, tdb.dialect)
			do := func(commit bool) {
				tx, err := tdb.db.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback()
				if _, err := tx.Exec(`INSERT INTO pickups (child) VALUES ('C1')`); err != nil {
					t.Fatal(err)
				}
				if _, err := l.AppendTx(ctx, tx, audit.Record{Actor: "staff:S1", Action: audit.PickupConfirmed, Subject: "child:C1"}); err != nil {
					t.Fatal(err)
				}
				if commit {
					if err := tx.Commit(); err != nil {
						t.Fatal(err)
					}
				}
			}
			do(false)
			do(true)
			do(false)
			var pickups int
			tdb.db.QueryRow(`SELECT count(*) FROM pickups`).Scan(&pickups)
			n, err := l.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if pickups != 1 || n != 1 {
				t.Errorf("pickups=%d audit entries=%d, want 1 and 1", pickups, n)
			}
		})
	}
}

func TestAppendOnlyTriggers(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			tdb := d.open(t)
			l := audit.New(tdb.db, tdb.dialect)
			fill(t, l, 3)
			stmts := []string{
				`UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`,
				`DELETE FROM audit_log WHERE seq = 3`,
				`DELETE FROM audit_log`,
			}
			if tdb.dialect == audit.Postgres {
				stmts = append(stmts, `TRUNCATE audit_log`)
			}
			for _, s := range stmts {
				_, err := tdb.db.Exec(s)
				if err == nil || !strings.Contains(err.Error(), "append-only") {
					t.Errorf("%s: err = %v, want append-only refusal", s, err)
				}
			}
			if n, err := l.Verify(context.Background()); n != 3 || err != nil {
				t.Errorf("Verify = %d, %v; want 3, nil", n, err)
			}
		})
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	tests := []struct {
		name    string
		tamper  []string // run after the triggers are dropped
		wantSeq int64
	}{
		{"details changed", []string{`UPDATE audit_log SET details = '{"n":99}' WHERE seq = 4`}, 4},
		{"actor changed", []string{`UPDATE audit_log SET actor = 'staff:S9' WHERE seq = 2`}, 2},
		{"time changed", []string{`UPDATE audit_log SET at = '2020-01-01T00:00:00.000000Z' WHERE seq = 5`}, 5},
		{"time garbled", []string{`UPDATE audit_log SET at = 'yesterday' WHERE seq = 6`}, 6},
		{"middle entry deleted", []string{`DELETE FROM audit_log WHERE seq = 3`}, 3},
		{"first entry deleted", []string{`DELETE FROM audit_log WHERE seq = 1`}, 1},
		{"hash recomputed by forger", nil, 4}, // filled in below: seq 3 rehashed, seq 4's prev_hash no longer matches
		{"entries swapped", []string{
			`UPDATE audit_log SET seq = 100 WHERE seq = 2`,
			`UPDATE audit_log SET seq = 2 WHERE seq = 3`,
			`UPDATE audit_log SET seq = 3 WHERE seq = 100`,
		}, 2},
	}
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					tdb := d.open(t)
					ctx := context.Background()
					l := audit.New(tdb.db, tdb.dialect, audit.WithClock(fakeClock()))
					written := fill(t, l, 8)
					for _, s := range tdb.dropTriggers {
						if _, err := tdb.db.Exec(s); err != nil {
							t.Fatal(err)
						}
					}
					tamper := tt.tamper
					if tamper == nil {
						// A forger who changes entry 3 and fixes its hash.
						e := written[2]
						e.Actor = "staff:forged"
						tamper = []string{fmt.Sprintf(`UPDATE audit_log SET actor = 'staff:forged', hash = '%s' WHERE seq = 3`, audit.EntryHash(e))}
					}
					for _, s := range tamper {
						if _, err := tdb.db.Exec(s); err != nil {
							t.Fatalf("%s: %v", s, err)
						}
					}
					n, err := l.Verify(ctx)
					var ce *audit.ChainError
					if !errors.As(err, &ce) || !errors.Is(err, audit.ErrBroken) {
						t.Fatalf("Verify = %d, %v; want *ChainError", n, err)
					}
					if ce.Seq != tt.wantSeq {
						t.Errorf("broken seq = %d (%s), want %d", ce.Seq, ce.Reason, tt.wantSeq)
					}
					if n != tt.wantSeq-1 {
						t.Errorf("verified before break = %d, want %d", n, tt.wantSeq-1)
					}
				})
			}
		})
	}
}

func TestConcurrentAppenders(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			tdb := d.open(t)
			ctx := context.Background()
			// Separate Logs share no mutex, and half the writers use their
			// own transactions: the database must serialise them.
			const writers, each = 4, 15
			var wg sync.WaitGroup
			errs := make(chan error, writers*each)
			for w := range writers {
				l := audit.New(tdb.db, tdb.dialect)
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						rec := audit.Record{Actor: fmt.Sprintf("w%d", w), Action: audit.SignIn, Subject: fmt.Sprint(i)}
						if w%2 == 0 {
							if _, err := l.Append(ctx, rec); err != nil {
								errs <- err
							}
							continue
						}
						// Odd writers append inside their own transaction,
						// as an audited action does.
						tx, err := tdb.db.BeginTx(ctx, nil)
						if err != nil {
							errs <- err
							continue
						}
						if _, err := l.AppendTx(ctx, tx, rec); err != nil {
							tx.Rollback()
							errs <- err
							continue
						}
						if err := tx.Commit(); err != nil {
							errs <- err
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			n, err := audit.New(tdb.db, tdb.dialect).Verify(ctx)
			if err != nil || n != writers*each {
				t.Errorf("Verify = %d, %v; want %d, nil", n, err, writers*each)
			}
		})
	}
}

func TestExportVerifyExport(t *testing.T) {
	tdb := openSQLite(t)
	ctx := context.Background()
	l := audit.New(tdb.db, tdb.dialect, audit.WithClock(fakeClock()))
	written := fill(t, l, 5)
	var buf bytes.Buffer
	if n, err := l.Export(ctx, &buf); err != nil || n != 5 {
		t.Fatalf("Export = %d, %v", n, err)
	}
	n, head, err := audit.VerifyExport(bytes.NewReader(buf.Bytes()))
	if err != nil || n != 5 || head != written[4].Hash {
		t.Fatalf("VerifyExport = %d, %s, %v; want 5, %s", n, head, err, written[4].Hash)
	}
	// Re-indenting is harmless; editing a value is not.
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var pretty bytes.Buffer
	for _, ln := range lines {
		json.Indent(&pretty, []byte(ln), "", "  ")
		pretty.WriteByte('\n')
	}
	if _, _, err := audit.VerifyExport(&pretty); err != nil {
		t.Errorf("indented export: %v", err)
	}
	lines[2] = strings.Replace(lines[2], `"n":2`, `"n":3`, 1)
	_, _, err = audit.VerifyExport(strings.NewReader(strings.Join(lines, "\n")))
	var ce *audit.ChainError
	if !errors.As(err, &ce) || ce.Seq != 3 {
		t.Errorf("edited export: err = %v, want chain broken at 3", err)
	}
}

func TestEntryHashSeparatesFields(t *testing.T) {
	// Moving bytes between adjacent fields must change the hash.
	base := audit.Entry{Seq: 1, Time: time.Unix(0, 0), Actor: "ab", Action: "c", Subject: "d", Details: json.RawMessage(`{}`), PrevHash: audit.GenesisHash}
	moved := base
	moved.Actor, moved.Action = "a", "bc"
	if audit.EntryHash(base) == audit.EntryHash(moved) {
		t.Error("field boundary not part of the hash")
	}
}
