package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/store"
)

func TestBackup(t *testing.T) {
	data := t.TempDir()
	st, err := store.Open(filepath.Join(data, "kiosk.db"))
	if err != nil {
		t.Fatal(err)
	}
	st.Append(context.Background(), attendance.Event{Type: attendance.ChildCheckIn, ChildID: "c-1", Wall: time.Now()})
	defer st.Close() // the daemon keeps running while the backup is taken
	out := filepath.Join(t.TempDir(), "b.db")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"backup", "-data", data, "-out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "seq 1, integrity ok") {
		t.Errorf("stdout = %q", stdout.String())
	}
	if code := run(context.Background(), []string{"backup", "-data", data, "-out", out}, &stdout, &stderr); code != 1 {
		t.Errorf("backup over an existing file: exit %d", code)
	}
	if code := run(context.Background(), []string{"backup", "-data", data}, &stdout, &stderr); code != 2 {
		t.Errorf("missing -out: exit %d", code)
	}
	// A data directory without a database: an error, and no database made.
	empty := t.TempDir()
	stderr.Reset()
	if code := run(context.Background(), []string{"backup", "-data", empty, "-out", filepath.Join(t.TempDir(), "c.db")}, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "no kiosk database") {
		t.Errorf("backup of an empty data dir: exit %d, %q", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(empty, "kiosk.db")); err == nil {
		t.Error("backup made a database where there was none")
	}
}
