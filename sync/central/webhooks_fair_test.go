package central_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/webhook"
)

// hookEvents posts n alternating check-ins and check-outs of one child.
func hookEvents(t *testing.T, e *env, n int64) {
	t.Helper()
	d := e.enrol(t)
	t0 := e.clock.Now()
	var evs []attendance.Event
	for i := int64(1); i <= n; i++ {
		typ := attendance.ChildCheckIn
		if i%2 == 0 {
			typ = attendance.ChildCheckOut
		}
		evs = append(evs, d.event(i, typ, "c-emma", t0.Add(time.Duration(i)*time.Second), time.Duration(i)*time.Second, true))
	}
	if code, _, perr := d.post(t, d.batch(d.unsyncedProbe(), evs...)); code != 200 {
		t.Fatalf("post: %d %v", code, perr)
	}
}

// secondHandle opens another handle on e's database: another replica.
func secondHandle(t *testing.T, e *env) *central.DB {
	t.Helper()
	db2, err := central.Open(context.Background(), e.dsn, e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db2.Close() })
	db2.Webhooks.SetGuard(webhook.Guard{AllowPrivate: true})
	db2.Webhooks.SetEndpointLimit(testEndpointLimit)
	return db2
}

var bothTypes = []string{central.HookCheckIn, central.HookCheckOut}

// The security review's finding: a receiver answering slowly held every
// worker's whole batch, so every other endpoint waited with it. Now it
// holds at most 2 slots (over both replicas) and a fast receiver gets all
// its deliveries while the slow one is still on its first two.
func TestWebhookSlowReceiverDoesNotHoldUpOthers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		hookEnv(t, e)
		slow, fast := newReceiver(t, e.clock.Now), newReceiver(t, e.clock.Now)
		slow.delay = 8 * time.Second // far above any honest wait on a loaded 2-core machine
		_, s1 := e.addEndpoint(t, central.WebhookInput{URL: slow.srv.URL, Events: bothTypes})
		slow.secret.Store(s1)
		fastID, s2 := e.addEndpoint(t, central.WebhookInput{URL: fast.srv.URL, Events: bothTypes})
		fast.secret.Store(s2)
		hookEvents(t, e, 50)

		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		start := time.Now()
		for _, db := range []*central.DB{e.db, secondHandle(t, e)} {
			w := db.Webhooks.NewWorker(webhook.WorkerConfig{Now: e.clock.Now, Poll: 50 * time.Millisecond})
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.Run(ctx)
			}()
		}
		for len(fast.acceptedCounts()) < 50 && time.Since(start) < 10*time.Second {
			time.Sleep(5 * time.Millisecond)
		}
		took := time.Since(start)
		slow.mu.Lock()
		slowSeen, slowDone := len(slow.attempts), len(slow.accepted)
		slow.mu.Unlock()
		for e.count(t, "webhook_deliveries WHERE status = 'pending' AND endpoint_id = '"+fastID+"'") > 0 && time.Since(start) < 10*time.Second {
			time.Sleep(5 * time.Millisecond) // the last outcomes being recorded
		}
		cancel()
		wg.Wait()
		t.Logf("fast receiver: 50 deliveries in %s; slow receiver meanwhile: %d requests, %d answered", took.Round(time.Millisecond), slowSeen, slowDone)

		if got := fast.acceptedCounts(); len(got) != 50 {
			t.Fatalf("the fast receiver got %d deliveries in %s, want 50", len(got), took)
		}
		if took > 6*time.Second {
			t.Errorf("the fast receiver waited %s for its 50 deliveries, want under 6 s (the slow one takes 8 s each; behind it, 50 would take minutes)", took)
		}
		if slowSeen == 0 || slowDone != 0 {
			t.Errorf("the slow receiver had %d requests, %d answered, when the fast one was done; want it still on its first ones", slowSeen, slowDone)
		}
		if slow.maxCur > webhook.DefaultPerEndpoint || fast.maxCur > webhook.DefaultPerEndpoint {
			t.Errorf("at most %d requests at once to one receiver, got %d (slow) and %d (fast)", webhook.DefaultPerEndpoint, slow.maxCur, fast.maxCur)
		}
		for id, n := range fast.acceptedCounts() {
			if n != 1 || fast.attempts[id] != 1 {
				t.Errorf("delivery %s: accepted %d times in %d requests", id, n, fast.attempts[id])
			}
		}
		if len(fast.overlap)+len(slow.overlap) > 0 {
			t.Errorf("sent twice at once: %v %v", fast.overlap, slow.overlap)
		}
		for _, dl := range e.deliveries(t, fastID) {
			if dl.Status != "delivered" || dl.Attempts != 1 {
				t.Errorf("fast delivery log: %+v", dl)
			}
		}
	})
}

// The claim itself: each endpoint's leased deliveries never exceed the
// limit, whichever replica claims and however many claim at once, and no
// attempt is handed out twice.
func TestWebhookClaimKeepsEachEndpointToItsLimit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		hookEnv(t, e)
		a, b := newReceiver(t, e.clock.Now), newReceiver(t, e.clock.Now)
		e.addEndpoint(t, central.WebhookInput{URL: a.srv.URL, Events: bothTypes})
		e.addEndpoint(t, central.WebhookInput{URL: b.srv.URL, Events: bothTypes})
		hookEvents(t, e, 50)
		ctx := context.Background()
		h1, h2 := e.db.Webhooks, secondHandle(t, e).Webhooks
		now := e.clock.Now()
		perURL := func(jobs []webhook.Job) map[string]int {
			m := map[string]int{}
			for _, j := range jobs {
				m[j.URL]++
			}
			return m
		}

		jobs, err := h1.Claim(ctx, now, webhook.DefaultLease, 100)
		if err != nil {
			t.Fatal(err)
		}
		if m := perURL(jobs); len(jobs) != 4 || m[a.srv.URL] != 2 || m[b.srv.URL] != 2 {
			t.Fatalf("first claim: %v, want 2 per endpoint", m)
		}
		if more, err := h2.Claim(ctx, now, webhook.DefaultLease, 100); err != nil || len(more) != 0 {
			t.Fatalf("the other replica claimed %d more (%v), want none while both endpoints have 2 in flight", len(more), err)
		}
		var first webhook.Job
		for _, j := range jobs {
			if j.URL == a.srv.URL {
				first = j
			}
		}
		if err := h1.Finish(ctx, first, webhook.Result{State: webhook.Delivered, At: now}); err != nil {
			t.Fatal(err)
		}
		more, err := h2.Claim(ctx, now, webhook.DefaultLease, 100)
		if err != nil || len(more) != 1 || more[0].URL != a.srv.URL {
			t.Fatalf("after one of A's finished, claimed %v (%v), want one of A's", perURL(more), err)
		}
		// The lease of a worker that died ends: its jobs are claimable again,
		// still no more than 2 at once.
		later := now.Add(webhook.DefaultLease)
		again, err := h2.Claim(ctx, later, webhook.DefaultLease, 100)
		if m := perURL(again); err != nil || len(again) != 4 || m[a.srv.URL] != 2 || m[b.srv.URL] != 2 {
			t.Fatalf("after the leases ran out: %v (%v), want 2 per endpoint", m, err)
		}
		for _, j := range again {
			h2.Finish(ctx, j, webhook.Result{State: webhook.Delivered, At: later})
		}

		// Eight claimers on two handles at once, each finishing what it took
		// after a moment: count in memory what is between a claim and its
		// finish (always a subset of what the database has leased).
		var mu sync.Mutex
		cur, peak := map[string]int{}, map[string]int{}
		handed := map[string]int{} // delivery id -> attempts handed out
		var wg sync.WaitGroup
		for i := range 8 {
			h := []*central.Webhooks{h1, h2}[i%2]
			wg.Add(1)
			go func() {
				defer wg.Done()
				for idle := 0; idle < 20; {
					jobs, err := h.Claim(ctx, later, webhook.DefaultLease, 3)
					if err != nil {
						t.Error(err)
						return
					}
					if len(jobs) == 0 {
						idle++
						time.Sleep(2 * time.Millisecond)
						continue
					}
					idle = 0
					mu.Lock()
					for _, j := range jobs {
						cur[j.URL]++
						peak[j.URL] = max(peak[j.URL], cur[j.URL])
						handed[j.ID]++
					}
					mu.Unlock()
					time.Sleep(time.Millisecond)
					for _, j := range jobs {
						mu.Lock()
						cur[j.URL]--
						mu.Unlock()
						if err := h.Finish(ctx, j, webhook.Result{State: webhook.Delivered, At: later}); err != nil {
							t.Error(err)
						}
					}
				}
			}()
		}
		wg.Wait()
		t.Logf("peak in flight per endpoint: %v", peak)
		for u, n := range peak {
			if n > webhook.DefaultPerEndpoint {
				t.Errorf("%s: %d in flight at once, want at most %d", u, n, webhook.DefaultPerEndpoint)
			}
		}
		for id, n := range handed {
			if n != 1 {
				t.Errorf("delivery %s handed out %d times", id, n)
			}
		}
		if len(handed) != 100-5 {
			t.Errorf("%d deliveries claimed concurrently, want the 95 left", len(handed))
		}
		if n := e.count(t, "webhook_deliveries WHERE status = 'delivered'"); n != 100 {
			t.Errorf("%d delivered, want 100", n)
		}
	})
}
