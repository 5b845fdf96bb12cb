package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/store"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/centraltest"
	"github.com/kinderdeur/kiosk/sync/outbox"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// testKiosk is a kiosk's sync side: its real SQLite store and the real
// outbox client (Ed25519-signed requests), without readers or a screen.
type testKiosk struct {
	st     *store.Store
	client *outbox.Client
	mu     sync.Mutex
	ids    []string // event ids in seq order
	onRost func(roster.Roster)
}

func newTestKiosk(t testing.TB, url string, onRoster func(roster.Roster)) *testKiosk {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "kiosk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	boot, start := fmt.Sprint("boot-", rand.Int64()), time.Now()
	k := &testKiosk{st: st}
	c, err := outbox.New(outbox.Config{
		Store: st, CentralURL: url, EnrolToken: protocol.DemoEnrolToken, DeviceName: "replica-test",
		Probe: func() (protocol.ClockProbe, error) {
			now := time.Now()
			return protocol.ClockProbe{BootID: boot, MonoNS: int64(now.Sub(start)), Wall: now.UTC(), Synced: true}, nil
		},
		OnRoster:       onRoster,
		BackoffBase:    5 * time.Millisecond,
		BackoffMax:     200 * time.Millisecond,
		PollInterval:   50 * time.Millisecond,
		RosterInterval: time.Hour, // only the long-poll brings rosters in these tests
		RequestTimeout: 10 * time.Second,
		RosterWait:     5 * time.Second,
		Logger:         slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	k.client = c
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return k
}

// tap records n check-ins in the kiosk's store, as the door would.
func (k *testKiosk) tap(t testing.TB, n int) {
	for i := range n {
		evs, err := k.st.Append(context.Background(), attendance.Event{Type: attendance.ChildCheckIn, LocationID: "loc-regenboog",
			ChildID: fmt.Sprint("c-", i%13), Wall: time.Now(), MonoNS: int64(i), BootID: "b", ClockSynced: true})
		if err != nil {
			t.Error(err)
			return
		}
		k.mu.Lock()
		k.ids = append(k.ids, evs[0].ID)
		k.mu.Unlock()
	}
	k.client.Notify()
}

// TestReplicasExactlyOnce runs three central replicas on one PostgreSQL
// behind a round-robin proxy, three kiosks syncing through it, and kills
// replicas with SIGKILL and restarts them while the kiosks push. At the
// end central holds every event once, in seq order without gaps, and each
// device's high-water mark is its last seq on both sides.
func TestReplicasExactlyOnce(t *testing.T) {
	dsn := centraltest.PostgresDSN(t)
	start := time.Now()
	set := startReplicaSet(t, dsn, 3)
	t.Logf("3 replicas up in %v", time.Since(start).Round(time.Millisecond))
	var kiosks []*testKiosk
	for range 3 {
		kiosks = append(kiosks, newTestKiosk(t, set.proxyURL, nil))
	}
	// Taps: each kiosk records bursts for 12 s while the chaos runs.
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, k := range kiosks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				k.tap(t, 1+rand.IntN(25))
				time.Sleep(time.Duration(20+rand.IntN(80)) * time.Millisecond)
			}
		}()
	}
	kills := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			time.Sleep(time.Duration(600+rand.IntN(900)) * time.Millisecond)
			r := set.replicas[rand.IntN(len(set.replicas))]
			r.kill()
			kills++
			time.Sleep(time.Duration(200+rand.IntN(800)) * time.Millisecond)
			r.start()
		}
	}()
	wg.Wait()
	for _, r := range set.replicas {
		if err := r.waitHealthy(30 * time.Second); err != nil {
			t.Fatalf("replica %d after the chaos: %v\n%s", r.i, err, set.logs())
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, k := range kiosks {
		k.client.Notify()
		for {
			s := k.client.Status()
			if s.Pending == 0 && s.AckedThrough == s.LastSeq && s.LastSeq == int64(len(k.ids)) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("kiosk %s not caught up: %+v of %d events\n%s", s.DeviceID, s, len(k.ids), set.logs())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	db, err := central.Open(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	total := 0
	for _, k := range kiosks {
		dev := k.st.DeviceID()
		evs, err := db.Events.Events(context.Background(), central.EventFilter{DeviceID: dev, Limit: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		got := make([]string, len(evs))
		for i, e := range evs {
			if e.Seq != int64(i+1) {
				t.Fatalf("device %s: seq %d at position %d (gap or duplicate)", dev, e.Seq, i)
			}
			got[i] = e.ID
		}
		if !slices.Equal(got, k.ids) {
			t.Fatalf("device %s: central holds %d events, the kiosk recorded %d (or in another order)", dev, len(got), len(k.ids))
		}
		d, err := db.Devices.Device(context.Background(), dev)
		if err != nil || d.AckedThrough != int64(len(k.ids)) {
			t.Fatalf("device %s: central high-water mark %d (%v), want %d", dev, d.AckedThrough, err, len(k.ids))
		}
		total += len(got)
	}
	var dupIDs int
	if err := db.SQL().QueryRow("SELECT count(*) - count(DISTINCT event_id) FROM events").Scan(&dupIDs); err != nil || dupIDs != 0 {
		t.Fatalf("duplicate event ids: %d %v", dupIDs, err)
	}
	var served []int64
	for i := range set.served {
		served = append(served, set.served[i].Load())
	}
	t.Logf("%d events from 3 kiosks stored exactly once through %d kills -9; requests per replica %v; %v in all",
		total, kills, served, time.Since(start).Round(time.Millisecond))
	for _, n := range served {
		if n == 0 {
			t.Errorf("a replica served no request: %v", served)
		}
	}
}

// TestRosterPushAcrossReplicas changes the roster on replica A (the admin
// API) while a kiosk long-polls replica B, 20 times, and measures how long
// each change takes to be applied in the kiosk's store (OnRoster, where
// kioskd hands it to the door).
func TestRosterPushAcrossReplicas(t *testing.T) {
	dsn := centraltest.PostgresDSN(t)
	set := startReplicaSet(t, dsn, 2)
	a, b := set.replicas[0], set.replicas[1]
	applied := make(chan roster.Roster, 64)
	k := newTestKiosk(t, b.URL(), func(r roster.Roster) { applied <- r })
	first := <-applied // the first long-poll finds the kiosk without a roster
	var lat []time.Duration
	for i := range 20 {
		// wait until the kiosk's long-poll is held again
		time.Sleep(time.Duration(100+rand.IntN(200)) * time.Millisecond)
		cur, _ := k.st.Roster(context.Background())
		cur.Version = 0
		cur.Children[0].FirstName = fmt.Sprint("Noah-", i)
		body, _ := json.Marshal(central.WithoutPINHashes(cur))
		req, _ := http.NewRequest(http.MethodPut, a.URL()+"/api/v1/admin/locations/loc-regenboog/roster", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+set.token)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("put roster on replica A: %v %v", err, resp)
		}
		resp.Body.Close()
		select {
		case r := <-applied:
			lat = append(lat, time.Since(start))
			if r.Children[0].FirstName != fmt.Sprint("Noah-", i) || r.Version <= first.Version {
				t.Fatalf("applied %q v%d", r.Children[0].FirstName, r.Version)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("change %d did not reach the kiosk on replica B within 2 s\n%s", i, set.logs())
		}
	}
	slices.Sort(lat)
	t.Logf("roster change on replica A -> applied at a kiosk on replica B, 20 changes: p50 %v, p99 %v, max %v",
		lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)*99/100].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
}
