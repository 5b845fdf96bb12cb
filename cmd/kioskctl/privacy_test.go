package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/attendance/retention"
)

func runPrivacyCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// auditDB writes three audit entries into a new SQLite file.
func auditDB(t *testing.T) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kiosk.db")
	db, err := sql.Open("sqlite3", "file:"+path+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if err := audit.Migrate(ctx, db, audit.SQLite); err != nil {
		t.Fatal(err)
	}
	l := audit.New(db, audit.SQLite)
	for _, a := range []audit.Action{audit.SignIn, audit.ManualCheckIn, audit.RatioOverride} {
		if _, err := l.Append(ctx, audit.Record{Actor: "staff:S1", Action: a, Subject: "child:C1"}); err != nil {
			t.Fatal(err)
		}
	}
	return path, db
}

func TestAuditCommand(t *testing.T) {
	path, db := auditDB(t)
	code, out, errOut := runPrivacyCmd("audit", "verify", "-db", path)
	if code != 0 || !strings.HasPrefix(out, "OK 3 entries verified (head ") {
		t.Fatalf("verify = %d %q %q", code, out, errOut)
	}
	exp := filepath.Join(t.TempDir(), "audit.jsonl")
	if code, out, errOut := runPrivacyCmd("audit", "export", "-db", path, "-out", exp); code != 0 || out != "exported 3 entries to "+exp+"\n" {
		t.Fatalf("export = %d %q %q", code, out, errOut)
	}
	if code, out, _ := runPrivacyCmd("audit", "verify-export", "-in", exp); code != 0 || !strings.HasPrefix(out, "OK 3 entries") {
		t.Errorf("verify-export = %d %q", code, out)
	}

	// Tamper behind the trigger's back.
	if _, err := db.Exec(`DROP TRIGGER audit_log_no_update; UPDATE audit_log SET subject = 'child:C2' WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runPrivacyCmd("audit", "verify", "-db", path)
	if code != 1 || !strings.HasPrefix(out, "BROKEN at seq 2: hash does not match") || !strings.Contains(errOut, "broken at seq 2") {
		t.Errorf("tampered verify = %d %q %q", code, out, errOut)
	}

	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"audit"}, 2},
		{[]string{"audit", "verify"}, 2},
		{[]string{"audit", "frobnicate"}, 2},
		{[]string{"audit", "verify", "-db", path, "extra"}, 2},
		{[]string{"audit", "verify", "-db", filepath.Join(t.TempDir(), "missing.db")}, 1},
		{[]string{"audit", "verify-export"}, 2},
		{[]string{"audit", "export", "-db", path, "-out", exp}, 1}, // refuses to overwrite
	} {
		if code, _, errOut := runPrivacyCmd(tt.args...); code != tt.code {
			t.Errorf("%v = %d (%s), want %d", tt.args, code, errOut, tt.code)
		}
	}
}

func TestAuditCommandPostgres(t *testing.T) {
	base := os.Getenv("KIOSK_TEST_PG")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("KIOSK_TEST_PG is not set but CI=true")
		}
		t.Skip("KIOSK_TEST_PG not set: skipping PostgreSQL test")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() }) // runs after the schema is dropped
	schema := "kioskctl_audit_test"
	admin.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE")
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if err := audit.Migrate(ctx, db, audit.Postgres); err != nil {
		t.Fatal(err)
	}
	l := audit.New(db, audit.Postgres)
	for range 2 {
		l.Append(ctx, audit.Record{Actor: "user:u1", Action: audit.PersonalDataExport, Subject: "child:C1"})
	}
	if code, out, errOut := runPrivacyCmd("audit", "verify", "-db", u.String()); code != 0 || !strings.HasPrefix(out, "OK 2 entries") {
		t.Errorf("verify = %d %q %q", code, out, errOut)
	}
	db.Exec(`DROP TRIGGER audit_log_no_change ON audit_log`)
	db.Exec(`DELETE FROM audit_log WHERE seq = 1`)
	if code, out, _ := runPrivacyCmd("audit", "verify", "-db", u.String()); code != 1 || !strings.HasPrefix(out, "BROKEN at seq 1") {
		t.Errorf("tampered verify = %d %q", code, out)
	}
}

func TestRetentionCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	recs := write("records.json", `[
		{"id":"ev1","category":"kiosk_events","subject":"child:C1","anchor":"2026-05-04"},
		{"id":"ev2","category":"kiosk_events","subject":"child:C1","anchor":"2026-05-05T10:00:00Z"},
		{"id":"ev3","category":"kiosk_events","subject":"child:C2"},
		{"id":"con1","category":"contact","subject":"child:C7","anchor":"2020-01-01"},
		{"id":"app1","category":"applicant","subject":"applicant:A1","anchor":"2026-01-01","extended":true}]`)
	cfg := write("retention.json", `{"holds":[{"subject":"child:C7","reason":"GGD inquiry"}]}`)
	code, out, errOut := runPrivacyCmd("retention", "-config", cfg, "-records", recs, "-now", "2026-06-15")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := `retention plan at 2026-06-15 (profile nl, dry run): 1 due, 1 held, 3 kept
ACTION  CATEGORY      ID    SUBJECT   TERM ENDED  HOLD
delete  kiosk_events  ev1   child:C1  2026-06-15  
held    contact       con1  child:C7  2022-01-01  GGD inquiry
`
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	code, out, _ = runPrivacyCmd("retention", "-records", recs, "-now", "2026-06-15", "-json")
	var rep retention.Report
	if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil || len(rep.Due) != 2 {
		t.Errorf("-json = %d, %v, %d due (want 2 without the hold)", code, err, len(rep.Due))
	}
	if code, out, _ := runPrivacyCmd("retention", "-policies"); code != 0 || !strings.Contains(out, "kiosk_events    6w") {
		t.Errorf("-policies = %d\n%s", code, out)
	}

	bad := write("bad.json", `{"categories":{"kiosk_events":{"term":"4w"}}}`)
	for _, tt := range []struct {
		args    []string
		code    int
		errPart string
	}{
		{[]string{"retention"}, 2, "need -policies"},
		{[]string{"retention", "-records", recs}, 2, "need -policies"},
		{[]string{"retention", "-records", recs, "-now", "15-06-2026"}, 2, "want YYYY-MM-DD"},
		{[]string{"retention", "-config", bad, "-policies"}, 1, "categories.kiosk_events.term: 4w is below the minimum 6w"},
		{[]string{"retention", "-records", write("r2.json", `[{"id":"x","category":"shoes"}]`), "-now", "2026-01-01"}, 1, `unknown category "shoes"`},
		{[]string{"retention", "-records", write("r3.json", `[{"id":"x","categry":"contact"}]`), "-now", "2026-01-01"}, 1, `unknown field "categry"`},
		{[]string{"retention", "-records", write("r4.json", `[{"id":"x","category":"contact","anchor":"yesterday"}]`), "-now", "2026-01-01"}, 1, `records[0].anchor`},
	} {
		code, _, errOut := runPrivacyCmd(tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.errPart) {
			t.Errorf("%v = %d %q; want %d containing %q", tt.args, code, errOut, tt.code, tt.errPart)
		}
	}
}

func FuzzParseRecords(f *testing.F) {
	f.Add([]byte(`[{"id":"ev1","category":"kiosk_events","subject":"child:C1","anchor":"2026-05-04"}]`))
	f.Add([]byte(`[{"id":"x","anchor":"2026-05-05T10:00:00+02:00","extended":true}]`))
	f.Add([]byte(`[{"id":""}]`))
	f.Add([]byte(`[] []`))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := parseRecords(b)
		if err != nil {
			return
		}
		for _, r := range recs {
			if r.ID == "" {
				t.Fatalf("record without id accepted from %q", b)
			}
		}
	})
}
