package central_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/auth"
	"github.com/kinderdeur/kiosk/sync/central/centraltest"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// replicas opens n handles on one database, as n central processes would
// (concurrently, so their migrations race).
func replicas(t *testing.T, dsn string, n int, now func() time.Time) []*central.DB {
	t.Helper()
	dbs := make([]*central.DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbs[i], errs[i] = central.Open(context.Background(), dsn, now)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		t.Cleanup(func() { dbs[i].Close() })
	}
	return dbs
}

// Three replicas starting at once migrate once; none fails.
func TestReplicasMigrateAtOnce(t *testing.T) {
	dbs := replicas(t, centraltest.PostgresDSN(t), 3, nil)
	var n int
	if err := dbs[0].SQL().QueryRow("SELECT count(*) FROM schema_migrations WHERE name = '0160_replicas.sql'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("migration rows %d, %v", n, err)
	}
}

// The sign-in limits hold across replicas: a burst of 5 is 5 in all, not
// 5 per replica, and lifting the lock on one replica lifts it on all.
func TestSharedLimiterAcrossReplicas(t *testing.T) {
	for _, b := range centraltest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			clk := &clock{t: time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)}
			dbs := replicas(t, b.DSN(t), 3, clk.Now)
			var ls []*auth.Limiter
			for _, d := range dbs {
				ls = append(ls, auth.NewLimiter(1.0/12, 5, clk.Now).Shared("sign_in_pair", d.Limits, nil))
			}
			allowed := 0
			for i := range 12 {
				if ok, _ := ls[i%3].Allow("ip:1.2.3.4|user:admin@demo"); ok {
					allowed++
				}
			}
			if allowed != 5 {
				t.Fatalf("allowed %d of 12 across 3 replicas, want the burst of 5", allowed)
			}
			ok, wait := ls[1].Allow("ip:1.2.3.4|user:admin@demo")
			if ok || wait <= 0 || wait > 12*time.Second {
				t.Fatalf("6th attempt: ok %v, wait %v", ok, wait)
			}
			if ok, _ := ls[2].Allow("ip:5.6.7.8|user:admin@demo"); !ok {
				t.Fatal("another address is locked out too")
			}
			clk.Set(clk.Now().Add(12 * time.Second)) // one token refilled
			if ok, _ := ls[0].Allow("ip:1.2.3.4|user:admin@demo"); !ok {
				t.Fatal("no refill after 12 s")
			}
			if ok, _ := ls[1].Allow("ip:1.2.3.4|user:admin@demo"); ok {
				t.Fatal("two refilled after 12 s")
			}
			if n := ls[2].Forget(func(k string) bool { return k == "ip:1.2.3.4|user:admin@demo" }); n != 1 {
				t.Fatalf("forgot %d", n)
			}
			if ok, _ := ls[0].Allow("ip:1.2.3.4|user:admin@demo"); !ok {
				t.Fatal("lock lifted on one replica still holds on another")
			}
		})
	}
}

// A scheduled job runs once per schedule across replicas, and a replica
// killed mid-run holds it only until its lease ends.
func TestJobsRunOncePerSchedule(t *testing.T) {
	for _, b := range centraltest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			clk := &clock{t: time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)}
			dbs := replicas(t, b.DSN(t), 3, clk.Now)
			ctx := context.Background()
			claim := func() int {
				var won atomic.Int32
				var wg sync.WaitGroup
				for _, d := range dbs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for range 3 {
							ok, err := d.Jobs.Claim(ctx, "prune-sessions", 10*time.Minute, time.Minute)
							if err != nil {
								t.Error(err)
							}
							if ok {
								won.Add(1)
								if err := d.Jobs.Finish(ctx, "prune-sessions", nil); err != nil {
									t.Error(err)
								}
							}
						}
					}()
				}
				wg.Wait()
				return int(won.Load())
			}
			if n := claim(); n != 1 {
				t.Fatalf("first schedule: %d runs, want 1", n)
			}
			clk.Set(clk.Now().Add(9 * time.Minute))
			if n := claim(); n != 0 {
				t.Fatalf("before the next schedule: %d runs", n)
			}
			clk.Set(clk.Now().Add(time.Minute))
			if n := claim(); n != 1 {
				t.Fatalf("second schedule: %d runs, want 1", n)
			}
			// A replica claims and dies without finishing: the job waits
			// for its lease, then another replica runs it.
			clk.Set(clk.Now().Add(10 * time.Minute))
			if ok, _ := dbs[0].Jobs.Claim(ctx, "retention", time.Second, 5*time.Minute); !ok {
				t.Fatal("first claim of retention lost")
			}
			clk.Set(clk.Now().Add(time.Minute))
			if ok, _ := dbs[1].Jobs.Claim(ctx, "retention", time.Second, 5*time.Minute); ok {
				t.Fatal("retention claimed while leased")
			}
			clk.Set(clk.Now().Add(5 * time.Minute))
			if ok, _ := dbs[1].Jobs.Claim(ctx, "retention", time.Second, 5*time.Minute); !ok {
				t.Fatal("retention not claimed after the dead replica's lease")
			}
			runs, err := dbs[2].Jobs.Runs(ctx)
			if err != nil || len(runs) != 2 || runs[0].Name != "prune-sessions" || runs[0].Runs != 2 {
				t.Fatalf("runs %+v %v", runs, err)
			}
		})
	}
}

// Jobs.Run runs a due job in exactly one of three running replicas.
func TestJobsRunLoop(t *testing.T) {
	dbs := replicas(t, centraltest.SQLiteDSN(t), 1, nil)
	var n atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 3 { // three loops on one handle behave as three replicas
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbs[0].Jobs.Run(ctx, 5*time.Millisecond, nil, central.Job{Name: "x", Every: time.Hour, Run: func(context.Context) error { n.Add(1); return nil }})
		}()
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	wg.Wait()
	if n.Load() != 1 {
		t.Fatalf("%d runs, want 1", n.Load())
	}
}

// Replicas started with different pepper files are refused.
func TestReplicaWithAnotherPepperRefused(t *testing.T) {
	for _, b := range centraltest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			dbs := replicas(t, b.DSN(t), 2, nil)
			if err := dbs[0].SetPINPepper(context.Background(), []byte("0123456789abcdef0123456789abcdef")); err != nil {
				t.Fatal(err)
			}
			if err := dbs[1].SetPINPepper(context.Background(), []byte("0123456789abcdef0123456789abcdef")); err != nil {
				t.Fatalf("same pepper: %v", err)
			}
			if err := dbs[1].SetPINPepper(context.Background(), []byte("fedcba9876543210fedcba9876543210")); !errors.Is(err, central.ErrPepperMismatch) {
				t.Fatalf("another pepper: %v", err)
			}
		})
	}
}

// The roster long-poll answers within a moment of a change made on another
// replica (PostgreSQL NOTIFY), and times out with changed=false.
func TestRosterWaitAcrossReplicas(t *testing.T) {
	for _, b := range centraltest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			dsn := b.DSN(t)
			e := newEnv(t, centraltest.Backend{Name: b.Name, DSN: func(testing.TB) string { return dsn }})
			writer := e.db // SQLite: one process, the change is made where the kiosk waits
			if b.Name == "postgres" {
				writer = replicas(t, dsn, 1, e.clock.Now)[0] // another replica
			}
			d := e.enrol(t)
			ver, err := e.db.Sites.RosterVersion(context.Background(), "loc-regenboog")
			if err != nil || ver == 0 {
				t.Fatal(ver, err)
			}
			wait := func(have int64, secs int) (protocol.RosterChange, time.Duration) {
				start := time.Now()
				code, body := d.signed(t, http.MethodGet, protocol.PathRosterWait+"?version="+itoa(have)+"&wait="+itoa(int64(secs)), nil)
				if code != http.StatusOK {
					t.Fatalf("wait: %d %s", code, body)
				}
				var ch protocol.RosterChange
				if err := json.Unmarshal(body, &ch); err != nil {
					t.Fatal(err)
				}
				return ch, time.Since(start)
			}
			if ch, took := wait(ver-1, 5); !ch.Changed || ch.Version != ver || took > time.Second {
				t.Fatalf("behind: %+v after %v", ch, took)
			}
			if ch, took := wait(ver, 1); ch.Changed || ch.Version != ver || took < 900*time.Millisecond {
				t.Fatalf("current: %+v after %v", ch, took)
			}
			go func() {
				time.Sleep(300 * time.Millisecond)
				r, _, _ := writer.Sites.Roster(context.Background(), "loc-regenboog")
				r.Version = 0
				if _, err := writer.Sites.PutRoster(context.Background(), r); err != nil {
					t.Error(err)
				}
			}()
			ch, took := wait(ver, 20)
			if !ch.Changed || ch.Version != ver+1 || took > 2*time.Second {
				t.Fatalf("after a change: %+v after %v", ch, took)
			}
			// Bad input is refused before waiting.
			if code, _ := d.signed(t, http.MethodGet, protocol.PathRosterWait+"?version=x", nil); code != http.StatusBadRequest {
				t.Fatalf("bad version: %d", code)
			}
		})
	}
}

// Close ends held long-polls at once (graceful shutdown).
func TestRosterWaitEndsOnClose(t *testing.T) {
	e := newEnv(t, centraltest.Backends()[0])
	srv := central.NewServer(central.Config{DB: e.db, Now: e.clock.Now})
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	e.srv = hs
	d := e.enrol(t)
	done := make(chan time.Duration)
	go func() {
		start := time.Now()
		d.signed(t, http.MethodGet, protocol.PathRosterWait+"?version=99999&wait=30", nil)
		done <- time.Since(start)
	}()
	time.Sleep(200 * time.Millisecond)
	srv.Close()
	select {
	case took := <-done:
		if took > 2*time.Second {
			t.Fatalf("took %v", took)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("long-poll outlived Close")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
