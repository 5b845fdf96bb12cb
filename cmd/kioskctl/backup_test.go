package main

import (
	"bytes"
	"context"
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
}
