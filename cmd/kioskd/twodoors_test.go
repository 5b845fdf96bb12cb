package main

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/sync/central"
)

// TestTwoDoorsSharePresence runs a real central and two demo kiosks enrolled
// with it: a child checked in at the front door is checked out at the back
// door, because the back door follows central's presence while online.
func TestTwoDoorsSharePresence(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: waits for the sync and presence loops")
	}
	ctx := context.Background()
	db, err := central.Open(ctx, filepath.Join(t.TempDir(), "central.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tz, _ := time.LoadLocation("Europe/Amsterdam")
	if err := db.Demo.SeedDemo(ctx, attendance.DateOf(time.Now().In(tz))); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(central.NewServer(central.Config{DB: db, AdminTokens: []string{"t"}}).Handler())
	defer ts.Close()

	front, back := freeAddr(t), freeAddr(t)
	startDemoArgs(t, front, "-central", ts.URL)
	startDemoArgs(t, back, "-central", ts.URL)

	if m := tap(t, front, "2B3C4D5E"); m["outcome"] != "check_in" {
		t.Fatalf("front door: %v", m)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		p := getPresence(t, back)
		if len(p.Children) == 1 && p.Children[0].Name == "Zoë" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the back door never saw Zoë: %+v", p)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if m := tap(t, back, "2B3C4D5E"); m["outcome"] != "check_out" {
		t.Fatalf("back door: %v, want check_out", m)
	}
}
