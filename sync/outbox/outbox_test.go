package outbox_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/store"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/centraltest"
	"github.com/kinderdeur/kiosk/sync/outbox"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// centralServer is a real central (SQLite or PostgreSQL) on a loopback port
// that can be stopped and started again on the same address.
type centralServer struct {
	t    testing.TB
	db   *central.DB
	addr string
	mu   sync.Mutex
	hs   *http.Server
	done chan struct{}
	obs  func(protocol.BatchResponse)
}

// observe calls fn with every batch answer central sends from now on.
func (c *centralServer) observe(fn func(protocol.BatchResponse)) {
	c.mu.Lock()
	c.obs = fn
	c.mu.Unlock()
}

type teeWriter struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (w *teeWriter) Write(b []byte) (int, error) { w.buf.Write(b); return w.ResponseWriter.Write(b) }

func startCentral(t testing.TB, dsn string) *centralServer {
	t.Helper()
	db, err := central.Open(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Demo.SeedDemo(context.Background(), attendance.DateOf(time.Now())); err != nil {
		t.Fatal(err)
	}
	c := &centralServer{t: t, db: db, addr: "127.0.0.1:0"}
	c.start()
	t.Cleanup(c.stop)
	return c
}

func (c *centralServer) start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the old socket may linger a moment
		if ln, err = net.Listen("tcp", c.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		c.t.Fatalf("central listen: %v", err)
	}
	c.addr = ln.Addr().String()
	h := central.NewServer(central.Config{DB: c.db, AdminTokens: []string{"t"}}).Handler()
	c.hs = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		obs := c.obs
		c.mu.Unlock()
		if obs == nil || r.URL.Path != protocol.PathEvents {
			h.ServeHTTP(w, r)
			return
		}
		tw := &teeWriter{ResponseWriter: w}
		h.ServeHTTP(tw, r)
		var resp protocol.BatchResponse
		if json.Unmarshal(tw.buf.Bytes(), &resp) == nil {
			obs(resp)
		}
	})}
	c.done = make(chan struct{})
	go func(hs *http.Server, done chan struct{}) {
		hs.Serve(ln)
		close(done)
	}(c.hs, c.done)
}

func (c *centralServer) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hs == nil {
		return
	}
	c.hs.Close()
	<-c.done
	c.hs = nil
}

func (c *centralServer) URL() string { return "http://" + c.addr }

// ids returns the event ids central holds for a device, in seq order, and
// checks the seqs are 1..n without holes.
func (c *centralServer) ids(t testing.TB, deviceID string) []string {
	t.Helper()
	evs, err := c.db.Events.Events(context.Background(), central.EventFilter{DeviceID: deviceID})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(evs))
	for i, e := range evs {
		if e.Seq != int64(i+1) {
			t.Fatalf("central seq %d at position %d: hole or reorder", e.Seq, i)
		}
		out[i] = e.ID
	}
	return out
}

func openStore(t testing.TB, path string) *store.Store {
	t.Helper()
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// testProbe is a synchronised clock of one boot.
func testProbe(boot string, start time.Time) func() (protocol.ClockProbe, error) {
	return func() (protocol.ClockProbe, error) {
		now := time.Now()
		return protocol.ClockProbe{BootID: boot, MonoNS: int64(now.Sub(start)), Wall: now.UTC(), Synced: true}, nil
	}
}

func fastConfig(st outbox.Store, url string) outbox.Config {
	return outbox.Config{
		Store: st, CentralURL: url, EnrolToken: protocol.DemoEnrolToken, DeviceName: "test",
		Probe:          testProbe("test-boot", time.Now()),
		BackoffBase:    2 * time.Millisecond,
		BackoffMax:     40 * time.Millisecond,
		PollInterval:   20 * time.Millisecond,
		RosterInterval: time.Hour,
		RequestTimeout: 10 * time.Second,
		Logger:         slog.New(slog.DiscardHandler),
	}
}

// run starts c.Run and stops it at cleanup.
func run(t testing.TB, c *outbox.Client) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func appendN(t testing.TB, st *store.Store, n int, boot string) []string {
	t.Helper()
	ids := make([]string, 0, n)
	for i := 0; i < n; i++ {
		evs, err := st.Append(context.Background(), attendance.Event{Type: attendance.ChildCheckIn, ChildID: fmt.Sprint("c-", i%13),
			Wall: time.Now(), MonoNS: int64(i), BootID: boot, ClockSynced: true})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, evs[0].ID)
	}
	return ids
}

func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBackoffIsCappedFullJitter(t *testing.T) {
	tests := []struct {
		attempt int
		rnd     float64
		want    time.Duration
	}{
		{0, 1, time.Second}, {1, 1, 2 * time.Second}, {3, 1, 8 * time.Second},
		{9, 1, 5 * time.Minute}, {500, 1, 5 * time.Minute}, {3, 0.5, 4 * time.Second}, {3, 0, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.attempt, "/", tt.rnd), func(t *testing.T) {
			if got := outbox.Backoff(tt.attempt, time.Second, 5*time.Minute, func() float64 { return tt.rnd }); got != tt.want {
				t.Errorf("Backoff = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestRunBacksOffWhileCentralIsUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	st := openStore(t, filepath.Join(t.TempDir(), "kiosk.db"))
	cfg := fastConfig(st, dead)
	cfg.BackoffBase, cfg.BackoffMax = time.Second, 8*time.Second
	cfg.Rand = func() float64 { return 1 } // the top of each jitter range
	ctx, cancel := context.WithCancel(context.Background())
	var waits []time.Duration
	cfg.After = func(d time.Duration) <-chan time.Time {
		waits = append(waits, d)
		if len(waits) == 7 {
			cancel()
		}
		ch := make(chan time.Time, 1)
		ch <- time.Time{} // no real waiting in the test
		return ch
	}
	c, err := outbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second, 8 * time.Second, 8 * time.Second}
	if diff := cmp.Diff(want, waits); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	if s := c.Status(); s.Online || s.Enrolled || !strings.Contains(s.LastError, "enrol") {
		t.Errorf("status %+v", s)
	}
}

func TestEnrolSyncAndRoster(t *testing.T) {
	for _, b := range centraltest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			srv := startCentral(t, b.DSN(t))
			path := filepath.Join(t.TempDir(), "kiosk.db")
			st := openStore(t, path)
			got := make(chan roster.Roster, 4)
			cfg := fastConfig(st, srv.URL())
			cfg.RosterInterval = 10 * time.Millisecond
			cfg.OnRoster = func(r roster.Roster) { got <- r }
			c, err := outbox.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ids := appendN(t, st, 1234, "b1")
			run(t, c)
			select {
			case r := <-got:
				if r.Location.ID != "loc-regenboog" {
					t.Errorf("roster of %s", r.Location.ID)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no roster")
			}
			waitFor(t, "all events acknowledged", 20*time.Second, func() bool { return c.Status().Pending == 0 })
			if diff := cmp.Diff(ids, srv.ids(t, st.DeviceID())); diff != "" {
				t.Errorf("central events (-want +got):\n%s", diff)
			}
			s := c.Status()
			if !s.Enrolled || !s.Online || s.AckedThrough != 1234 || s.LastSeq != 1234 || s.LastSync.IsZero() || s.RosterVersion == 0 {
				t.Errorf("status %+v", s)
			}
			key, err := st.Meta(context.Background(), outbox.MetaBadgeKey)
			if err != nil || key != roster.DemoBadgeKey.String() {
				t.Errorf("badge key %q %v", key, err)
			}
			// A new roster version on central reaches the kiosk.
			r, _, _ := srv.db.Sites.Roster(context.Background(), "loc-regenboog")
			r.Version = 0
			r.Children[0].FirstName = "Noé"
			if _, err := srv.db.Sites.PutRoster(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			select {
			case r := <-got:
				if r.Children[0].FirstName != "Noé" {
					t.Errorf("roster child %q", r.Children[0].FirstName)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("new roster version not pulled")
			}
			if cur, _ := st.Roster(context.Background()); cur.Children[0].FirstName != "Noé" {
				t.Errorf("store roster not applied")
			}
		})
	}
}

func TestCentralDownThenBack(t *testing.T) {
	for _, b := range centraltest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			srv := startCentral(t, b.DSN(t))
			st := openStore(t, filepath.Join(t.TempDir(), "kiosk.db"))
			c, err := outbox.New(fastConfig(st, srv.URL()))
			if err != nil {
				t.Fatal(err)
			}
			run(t, c)
			ids := appendN(t, st, 10, "b1")
			c.Notify()
			waitFor(t, "first events", 10*time.Second, func() bool { return c.Status().Pending == 0 })
			srv.stop()
			ids = append(ids, appendN(t, st, 700, "b1")...)
			c.Notify()
			waitFor(t, "offline status", 10*time.Second, func() bool { s := c.Status(); return !s.Online && s.LastError != "" })
			if p := c.Status().Pending; p != 700 {
				t.Errorf("pending while down = %d, want 700", p)
			}
			srv.start()
			waitFor(t, "catch-up", 20*time.Second, func() bool { return c.Status().Pending == 0 })
			if diff := cmp.Diff(ids, srv.ids(t, st.DeviceID())); diff != "" {
				t.Errorf("central events (-want +got):\n%s", diff)
			}
			if s := c.Status(); !s.Online || s.LastError != "" {
				t.Errorf("status after catch-up %+v", s)
			}
		})
	}
}

func TestLostAcknowledgement(t *testing.T) {
	for _, b := range centraltest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			srv := startCentral(t, b.DSN(t))
			proxy := newFaultProxy(t, srv.addr, 1)
			st := openStore(t, filepath.Join(t.TempDir(), "kiosk.db"))
			c, err := outbox.New(fastConfig(st, proxy.URL()))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if _, err := c.PushOnce(ctx); err != nil { // enrol, empty batch
				t.Fatal(err)
			}
			ids := appendN(t, st, 30, "b1")
			proxy.cutAnswers.Store(1)
			if _, err := c.PushOnce(ctx); err == nil {
				t.Fatal("push through a cut connection succeeded")
			}
			if got := srv.ids(t, st.DeviceID()); len(got) != 30 {
				t.Fatalf("central holds %d events after the cut, want 30 (it committed)", len(got))
			}
			if p := c.Status().Pending; p != 30 {
				t.Fatalf("pending %d, want 30: the kiosk never saw the ack", p)
			}
			// The retry: same bytes, answered duplicate, no new rows.
			var answers []protocol.BatchResponse
			srv.observe(func(r protocol.BatchResponse) { answers = append(answers, r) })
			if _, err := c.PushOnce(ctx); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(ids, srv.ids(t, st.DeviceID())); diff != "" {
				t.Errorf("central events (-want +got):\n%s", diff)
			}
			if p := c.Status().Pending; p != 0 {
				t.Errorf("pending %d after the retry", p)
			}
			if len(answers) != 1 || len(answers[0].Results) != 30 {
				t.Fatalf("answers %+v", answers)
			}
			for _, r := range answers[0].Results {
				if r.Status != protocol.StatusDuplicate {
					t.Errorf("retry of seq %d answered %s, want duplicate", r.Seq, r.Status)
				}
			}
		})
	}
}

func TestFaultyNetwork(t *testing.T) {
	for _, b := range centraltest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			srv := startCentral(t, b.DSN(t))
			proxy := newFaultProxy(t, srv.addr, 7)
			proxy.setFaults(0.15, 0.15, 0.15, 3*time.Millisecond)
			st := openStore(t, filepath.Join(t.TempDir(), "kiosk.db"))
			cfg := fastConfig(st, proxy.URL())
			cfg.BatchSize = 50
			cfg.HTTPClient = &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
			c, err := outbox.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			run(t, c)
			var ids []string
			for i := 0; i < 20; i++ {
				ids = append(ids, appendN(t, st, 40, "b1")...)
				c.Notify()
				time.Sleep(2 * time.Millisecond)
			}
			waitFor(t, "sync through a bad network", 60*time.Second, func() bool { return c.Status().Pending == 0 })
			if diff := cmp.Diff(ids, srv.ids(t, st.DeviceID())); diff != "" {
				t.Errorf("central events (-want +got):\n%s", diff)
			}
			if proxy.faults.Load() < 5 {
				t.Errorf("only %d faults injected: the test proves nothing", proxy.faults.Load())
			}
			t.Logf("%d faults injected", proxy.faults.Load())
		})
	}
}

func TestRejectedEventsAreQuarantined(t *testing.T) {
	srv := startCentral(t, centraltest.SQLiteDSN(t))
	st := openStore(t, filepath.Join(t.TempDir(), "kiosk.db"))
	c, err := outbox.New(fastConfig(st, srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	appendN(t, st, 2, "b1")
	if _, err := st.Append(ctx, attendance.Event{Type: "teleport", ChildID: "c-1", Wall: time.Now(), BootID: "b1"}); err != nil {
		t.Fatal(err)
	}
	appendN(t, st, 2, "b1")
	if _, err := c.PushOnce(ctx); err != nil {
		t.Fatal(err)
	}
	q, err := st.Quarantined(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 1 || q[0].Seq != 3 || q[0].Reason != protocol.ReasonUnknownType {
		t.Errorf("quarantined %+v", q)
	}
	s := c.Status()
	if s.Pending != 0 || s.Quarantined != 1 || s.AckedThrough != 5 {
		t.Errorf("status %+v", s)
	}
	if rej, _ := srv.db.Events.Rejected(ctx); len(rej) != 1 {
		t.Errorf("central kept %d rejected events, want 1", len(rej))
	}
}

func TestLargeEventsMakeSmallerBatches(t *testing.T) {
	srv := startCentral(t, centraltest.SQLiteDSN(t))
	st := openStore(t, filepath.Join(t.TempDir(), "kiosk.db"))
	c, _ := outbox.New(fastConfig(st, srv.URL()))
	ctx := context.Background()
	var ids []string
	for i := 0; i < 300; i++ { // 300 × ~9 KiB: over one batch body's limit
		evs, err := st.Append(ctx, attendance.Event{Type: attendance.RatioOverride, StaffID: "s-lotte", Note: strings.Repeat("n", 9000),
			Wall: time.Now(), BootID: "b1", ClockSynced: true})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, evs[0].ID)
	}
	var answers []protocol.BatchResponse
	srv.observe(func(r protocol.BatchResponse) { answers = append(answers, r) })
	for {
		full, err := c.PushOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !full {
			break
		}
	}
	if diff := cmp.Diff(ids, srv.ids(t, st.DeviceID())); diff != "" {
		t.Errorf("central events (-want +got):\n%s", diff)
	}
	if len(answers) < 2 {
		t.Errorf("%d batches, want the 300 events split", len(answers))
	}
}

func TestRestoredFromBackupSkipsAhead(t *testing.T) {
	srv := startCentral(t, centraltest.SQLiteDSN(t))
	dir := t.TempDir()
	path := filepath.Join(dir, "kiosk.db")
	ctx := context.Background()
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := outbox.New(fastConfig(st, srv.URL()))
	if _, err := c.PushOnce(ctx); err != nil { // enrol
		t.Fatal(err)
	}
	appendN(t, st, 5, "b1")
	if err := st.Backup(ctx, filepath.Join(dir, "backup.db")); err != nil {
		t.Fatal(err)
	}
	appendN(t, st, 5, "b1")
	if _, err := c.PushOnce(ctx); err != nil {
		t.Fatal(err)
	}
	st.Close()
	// Restore the backup (seq 5, all unacknowledged) over the database.
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
	data, err := os.ReadFile(filepath.Join(dir, "backup.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	st = openStore(t, path)
	c, _ = outbox.New(fastConfig(st, srv.URL()))
	if _, err := c.PushOnce(ctx); err != nil { // resends 1..5: duplicates; learns central is at 10
		t.Fatal(err)
	}
	evs, err := st.Append(ctx, attendance.Event{Type: attendance.ChildCheckIn, ChildID: "c-x", Wall: time.Now(), BootID: "b2"})
	if err != nil {
		t.Fatal(err)
	}
	if evs[0].Seq != 11 {
		t.Errorf("first event after restore has seq %d, want 11 (never reuse a seq)", evs[0].Seq)
	}
	if _, err := c.PushOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got := srv.ids(t, st.DeviceID()); len(got) != 11 || got[10] != evs[0].ID {
		t.Errorf("central holds %d events", len(got))
	}
	if s := c.Status(); s.Pending != 0 || s.Quarantined != 0 {
		t.Errorf("status %+v", s)
	}
}

func TestClockJumpsAreCorrectedOrFlagged(t *testing.T) {
	srv := startCentral(t, centraltest.SQLiteDSN(t))
	st := openStore(t, filepath.Join(t.TempDir(), "kiosk.db"))
	ctx := context.Background()
	boot := uuid.NewString()
	synced := false
	now := time.Now().UTC().Truncate(time.Millisecond)
	mono := 2 * time.Hour // the probe's time since boot
	cfg := fastConfig(st, srv.URL())
	cfg.Probe = func() (protocol.ClockProbe, error) {
		if synced {
			return protocol.ClockProbe{BootID: boot, MonoNS: int64(mono), Wall: now, Synced: true}, nil
		}
		return protocol.ClockProbe{BootID: boot, MonoNS: int64(mono), Wall: time.Unix(7200, 0).UTC()}, nil
	}
	c, _ := outbox.New(cfg)
	at := func(wall time.Time, m time.Duration, sync bool) {
		if _, err := st.Append(ctx, attendance.Event{Type: attendance.ChildCheckIn, ChildID: "c-noah", Wall: wall, MonoNS: int64(m), BootID: boot, ClockSynced: sync}); err != nil {
			t.Fatal(err)
		}
	}
	epoch := time.Unix(0, 0)
	at(epoch.Add(10*time.Minute), 10*time.Minute, false)                  // booted at 1970
	at(epoch.Add(20*time.Minute-time.Hour), 20*time.Minute, false)        // clock back one hour
	at(epoch.AddDate(1, 0, 0).Add(30*time.Minute), 30*time.Minute, false) // forward one year
	if _, err := c.PushOnce(ctx); err != nil {
		t.Fatal(err)
	}
	synced = true
	at(now.Add(-time.Minute), mono-time.Minute, true)
	if _, err := c.PushOnce(ctx); err != nil {
		t.Fatal(err)
	}
	evs, err := srv.db.Events.Events(ctx, central.EventFilter{DeviceID: st.DeviceID()})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, fmt.Sprintf("%d %s %s", e.Seq, e.TimeQuality, e.Time.Format(time.RFC3339)))
	}
	bootAt := now.Add(-mono)
	want := []string{
		"1 corrected " + bootAt.Add(10*time.Minute).Format(time.RFC3339),
		"2 corrected " + bootAt.Add(20*time.Minute).Format(time.RFC3339),
		"3 corrected " + bootAt.Add(30*time.Minute).Format(time.RFC3339),
		"4 ok " + now.Add(-time.Minute).Format(time.RFC3339),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("central times (-want +got):\n%s", diff)
	}
}

// The kill -9 test: a child process (this test binary re-executed) opens
// the real store, runs the real outbox against central and appends taps as
// fast as it can, printing each event's id once Append returned (the tap is
// "answered as committed"). The parent kills it with SIGKILL at a random
// moment, 50 times, then lets a last kiosk drain the outbox. Central must
// hold every committed event exactly once, with seqs 1..n and nothing else.

const crashEnv = "KIOSK_OUTBOX_CRASH_CHILD"

func TestMain(m *testing.M) {
	if v := os.Getenv(crashEnv); v != "" {
		crashChild(v)
		return
	}
	if dsn := os.Getenv(centralEnv); dsn != "" {
		centralChild(dsn)
		return
	}
	if v := os.Getenv(corrCrashEnv); v != "" {
		correctionsChild(v)
		return
	}
	os.Exit(m.Run())
}

func crashChild(v string) {
	path, url, _ := strings.Cut(v, "|")
	st, err := store.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	c, err := outbox.New(fastConfig(st, url))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	go c.Run(context.Background())
	w := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	say := func(a ...any) {
		mu.Lock()
		fmt.Fprintln(w, a...)
		w.Flush()
		mu.Unlock()
	}
	say("ready")
	go func() { // report acknowledgements, so the parent can kill mid-sync
		var last int64
		for {
			if s := c.Status(); s.AckedThrough > last {
				last = s.AckedThrough
				say("acked", last)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	for i := 0; ; i++ {
		evs, err := st.Append(context.Background(), attendance.Event{Type: attendance.ChildCheckIn, ChildID: fmt.Sprint("c-", i),
			Wall: time.Now(), BootID: "crash", ClockSynced: true})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(4)
		}
		say("committed", evs[0].ID)
		c.Notify()
		if i%20 == 0 {
			time.Sleep(time.Millisecond) // a burst, not a flood: let the pusher in
		}
	}
}

func TestKill9DuringSync(t *testing.T) {
	for _, b := range centraltest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			rounds := 50
			if testing.Short() {
				rounds = 5
			}
			srv := startCentral(t, b.DSN(t))
			path := filepath.Join(t.TempDir(), "kiosk.db")
			committed := map[string]bool{}
			for round := 0; round < rounds; round++ {
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), crashEnv+"="+path+"|"+srv.URL())
				out, err := cmd.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				var stderr strings.Builder
				cmd.Stderr = &stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				sc := bufio.NewScanner(out)
				if !sc.Scan() || sc.Text() != "ready" {
					cmd.Process.Kill()
					cmd.Wait()
					t.Fatalf("round %d: child did not start: %s", round, stderr.String())
				}
				// Even rounds die at a random moment after start (maybe while
				// enrolling or before the first push), odd ones at a random
				// moment after the first acknowledgement (mid-sync); a round
				// that never syncs is killed after 20 s anyway.
				killNow := func() { cmd.Process.Signal(syscall.SIGKILL) }
				delay := time.Duration(10+rand.IntN(60)) * time.Millisecond
				var kill *time.Timer
				if round%2 == 0 {
					kill = time.AfterFunc(delay, killNow)
				} else {
					kill = time.AfterFunc(20*time.Second, killNow)
				}
				armed := round%2 == 0
				for sc.Scan() {
					line := sc.Text()
					if id, ok := strings.CutPrefix(line, "committed "); ok {
						committed[id] = true
					} else if strings.HasPrefix(line, "acked ") && !armed {
						armed = true
						kill.Stop()
						kill = time.AfterFunc(delay, killNow)
					}
				}
				kill.Stop()
				err = cmd.Wait()
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
					t.Fatalf("round %d: child ended with %v, not SIGKILL: %s", round, err, stderr.String())
				}
			}
			// A last start drains what is left.
			st := openStore(t, path)
			c, err := outbox.New(fastConfig(st, srv.URL()))
			if err != nil {
				t.Fatal(err)
			}
			synced := len(srv.ids(t, st.DeviceID()))
			if synced == 0 {
				t.Fatal("nothing reached central while the kiosks ran: the kills did not hit a syncing kiosk")
			}
			for {
				full, err := c.PushOnce(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if !full {
					break
				}
			}
			s := c.Status()
			if s.Pending != 0 || s.Quarantined != 0 || s.AckedThrough != s.LastSeq {
				t.Errorf("kiosk status after drain %+v", s)
			}
			got := srv.ids(t, st.DeviceID()) // checks seqs 1..n without holes
			seen := map[string]bool{}
			for _, id := range got {
				if seen[id] {
					t.Fatalf("event %s arrived twice", id)
				}
				seen[id] = true
			}
			var local []string
			st.Events(context.Background(), 0, func(e attendance.Event) error { local = append(local, e.ID); return nil })
			if diff := cmp.Diff(local, got); diff != "" {
				t.Errorf("central differs from the kiosk's event log (-kiosk +central):\n%s", diff)
			}
			missing := 0
			for id := range committed {
				if !seen[id] {
					missing++
				}
			}
			if missing > 0 {
				t.Errorf("%d of %d committed taps never reached central", missing, len(committed))
			}
			if n, _ := srv.db.Events.Alerts(context.Background()); len(n) != 0 {
				t.Errorf("alerts at central: %+v", n)
			}
			t.Logf("%d rounds, %d taps committed, %d at central before the final drain, %d after", rounds, len(committed), synced, len(got))
		})
	}
}

// A roster change at central reaches the kiosk through the long-poll in
// well under 2 s, with the minute's pull switched off (20 changes).
func TestRosterLongPoll(t *testing.T) {
	for _, b := range centraltest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			srv := startCentral(t, b.DSN(t))
			st := openStore(t, filepath.Join(t.TempDir(), "kiosk.db"))
			got := make(chan roster.Roster, 8)
			cfg := fastConfig(st, srv.URL())
			cfg.RosterInterval = time.Hour
			cfg.RosterWait = 5 * time.Second
			cfg.OnRoster = func(r roster.Roster) { got <- r }
			c, err := outbox.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			run(t, c)
			<-got // the first pull at start
			var lat []time.Duration
			for i := range 20 {
				time.Sleep(50 * time.Millisecond) // the long-poll is held again
				r, _, _ := srv.db.Sites.Roster(context.Background(), "loc-regenboog")
				r.Version = 0
				r.Children[0].FirstName = fmt.Sprint("Noah-", i)
				start := time.Now()
				if _, err := srv.db.Sites.PutRoster(context.Background(), r); err != nil {
					t.Fatal(err)
				}
				select {
				case r := <-got:
					lat = append(lat, time.Since(start))
					if r.Children[0].FirstName != fmt.Sprint("Noah-", i) {
						t.Fatalf("applied %q", r.Children[0].FirstName)
					}
				case <-time.After(2 * time.Second):
					t.Fatalf("change %d not at the kiosk within 2 s (status %+v)", i, c.Status())
				}
			}
			if !c.Status().RosterLive {
				t.Errorf("status does not show the long-poll: %+v", c.Status())
			}
			slices.Sort(lat)
			t.Logf("roster change -> applied at the kiosk, 20 changes: p50 %v, p99 %v", lat[10].Round(time.Millisecond), lat[19].Round(time.Millisecond))
		})
	}
}

// countingStore counts SyncStatus calls.
type countingStore struct {
	*store.Store
	counts int
}

func (s *countingStore) SyncStatus(ctx context.Context) (store.SyncStatus, error) {
	s.counts++
	return s.Store.SyncStatus(ctx)
}

// TestBacklogIsNotCountedPerBatch: counting what waits reads every waiting
// event, on the store's one connection. The pusher reads only the
// watermarks per batch, and the health report that rides along refreshes
// its counts at most every 10 s while more than 1,000 wait; a small
// outbox is still counted for each batch.
func TestBacklogIsNotCountedPerBatch(t *testing.T) {
	srv := startCentral(t, centraltest.SQLiteDSN(t))
	st := &countingStore{Store: openStore(t, filepath.Join(t.TempDir(), "kiosk.db"))}
	cfg := fastConfig(st, srv.URL())
	cfg.BatchSize = 200
	cfg.Health = func() protocol.HealthReport { return protocol.HealthReport{} }
	c, err := outbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	appendN(t, st.Store, 3000, "b1")
	batches := 0
	for full := true; full; batches++ {
		if full, err = c.PushOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if batches < 15 {
		t.Fatalf("%d batches for 3,000 events", batches)
	}
	// Counted while more than 1,000 waited: once; then for each batch
	// while 1,000 or fewer waited (six of 200).
	if st.counts > 8 {
		t.Errorf("%d counts for %d batches draining 3,000 events", st.counts, batches)
	}
	if s := c.Status(); s.Pending != 0 || s.AckedThrough != 3000 {
		t.Errorf("status after the drain: %+v", s)
	}
}
