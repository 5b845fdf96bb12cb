package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/store"
)

// TestNoRawUIDOrSensitiveDataAtRest runs a demo session in which every demo
// card is tapped twice, then reads every file the kiosk wrote and its logs:
// no UID may appear in any form (the store keeps keyed hashes only), and the
// schema must have no place for a BSN, an address or a bank account.
func TestNoRawUIDOrSensitiveDataAtRest(t *testing.T) {
	addr, data := freeAddr(t), t.TempDir()
	stop, logs := startDemo(t, addr, data)
	_, cards := roster.Demo(attendance.DateOf(time.Now()))
	for range 2 {
		for _, c := range cards {
			tap(t, addr, c.UID)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var files [][]byte
	filepath.Walk(data, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, b)
		}
		return nil
	})
	files = append(files, []byte(logs.String()))
	if len(files) < 2 {
		t.Fatalf("found %d files in the data dir", len(files))
	}
	for _, c := range cards {
		uid, _ := attendance.ParseUID(c.UID)
		forms := [][]byte{uid, []byte(strings.ToUpper(hex.EncodeToString(uid))), []byte(strings.ToLower(hex.EncodeToString(uid)))}
		for i, f := range files {
			for _, form := range forms {
				if bytes.Contains(f, form) {
					t.Errorf("file %d holds card %s (%s) in the clear", i, c.Holder, c.UID)
				}
			}
		}
	}

	// Minimisation by construction: no column or table for what the door
	// must never hold.
	st, err := store.Open(filepath.Join(data, "kiosk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	db, err := sql.Open("sqlite3", store.DSN(filepath.Join(data, "kiosk.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var schema string
	rows, err := db.QueryContext(context.Background(), "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		schema += strings.ToLower(s) + "\n"
	}
	rows.Close()
	for _, banned := range []string{"bsn", "address", "iban", "bank", "uid "} {
		if strings.Contains(schema, banned) {
			t.Errorf("kiosk schema mentions %q:\n%s", banned, schema)
		}
	}
	r, err := st.Roster(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	rb := strings.ToLower(string(b))
	for _, banned := range []string{"bsn", "address", "iban", "\"uid\""} {
		if strings.Contains(rb, banned) {
			t.Errorf("the stored roster mentions %q", banned)
		}
	}
}
