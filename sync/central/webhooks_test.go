package central_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/auth"
	"github.com/kinderdeur/kiosk/sync/central/webhook"
)

// receiver is a centre's system: it verifies every delivery's signature
// and counts what it accepted per delivery id.
type receiver struct {
	t      testing.TB
	srv    *httptest.Server
	now    func() time.Time
	secret atomic.Value // string
	down   atomic.Bool
	delay  time.Duration

	mu       sync.Mutex
	accepted map[string]int // delivery id -> 2xx answers
	attempts map[string]int // delivery id -> requests seen
	inFlight map[string]int
	overlap  []string // delivery ids seen twice at once
	cur      int      // requests being answered now
	maxCur   int      // the most at once
	payloads []central.HookPayload
	badSig   int
}

func newReceiver(t testing.TB, now func() time.Time) *receiver {
	rc := &receiver{t: t, now: now, accepted: map[string]int{}, attempts: map[string]int{}, inFlight: map[string]int{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	id := r.Header.Get(webhook.HeaderDelivery)
	secret, _ := rc.secret.Load().(string)
	rc.mu.Lock()
	rc.attempts[id]++
	rc.inFlight[id]++
	if rc.inFlight[id] > 1 {
		rc.overlap = append(rc.overlap, id)
	}
	rc.cur++
	rc.maxCur = max(rc.maxCur, rc.cur)
	rc.mu.Unlock()
	defer func() { rc.mu.Lock(); rc.inFlight[id]--; rc.cur--; rc.mu.Unlock() }()
	if rc.delay > 0 {
		select {
		case <-time.After(rc.delay):
		case <-r.Context().Done(): // the sender gave up (a test ending)
			return
		}
	}
	if err := webhook.Verify([]byte(secret), r.Header.Get(webhook.HeaderSignature), body, rc.now(), 0); err != nil {
		rc.mu.Lock()
		rc.badSig++
		rc.mu.Unlock()
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if rc.down.Load() {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
		return
	}
	var p central.HookPayload
	if err := json.Unmarshal(body, &p); err != nil || r.Header.Get(webhook.HeaderEvent) != p.Type {
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.accepted[id]++
	rc.payloads = append(rc.payloads, p)
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) acceptedCounts() map[string]int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string]int{}
	for k, v := range rc.accepted {
		out[k] = v
	}
	return out
}

// hookEnv is a central test environment whose webhooks may call the
// test's httptest receivers (-webhooks-allow-private).
func hookEnv(t *testing.T, e *env) {
	e.db.Webhooks.SetGuard(webhook.Guard{AllowPrivate: true})
	e.db.Webhooks.SetEndpointLimit(testEndpointLimit)
}

// testEndpointLimit is the in-flight limit per endpoint the webhook tests
// count with (production's default is webhook.DefaultPerEndpoint).
const testEndpointLimit = 2

// addEndpoint creates an endpoint through the admin API and returns its id
// and secret.
func (e *env) addEndpoint(t testing.TB, in central.WebhookInput) (string, string) {
	t.Helper()
	code, body := e.admin(t, http.MethodPost, "/api/v1/admin/webhooks", mustJSON(in))
	if code != http.StatusCreated {
		t.Fatalf("create webhook: %d %s", code, body)
	}
	var out struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Secret == "" {
		t.Fatalf("create webhook: %s (%v)", body, err)
	}
	return out.ID, out.Secret
}

func (e *env) deliveries(t testing.TB, endpoint string) []central.WebhookDelivery {
	t.Helper()
	code, body := e.admin(t, http.MethodGet, "/api/v1/admin/webhooks/"+endpoint+"/deliveries?payload=1", nil)
	if code != http.StatusOK {
		t.Fatalf("deliveries: %d %s", code, body)
	}
	var ds []central.WebhookDelivery
	if err := json.Unmarshal(body, &ds); err != nil {
		t.Fatal(err)
	}
	return ds
}

func (e *env) worker(db *central.DB) *webhook.Worker {
	return db.Webhooks.NewWorker(webhook.WorkerConfig{Now: e.clock.Now, Rand: func() float64 { return 0.5 }})
}

func runOnce(t testing.TB, w *webhook.Worker) int {
	t.Helper()
	n, err := w.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestWebhooksDeliverSignedAttendanceEvents(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		hookEnv(t, e)
		rc := newReceiver(t, e.clock.Now)
		other := newReceiver(t, e.clock.Now)
		all, secret := e.addEndpoint(t, central.WebhookInput{URL: rc.srv.URL + "/hooks", LocationID: "loc-regenboog",
			Events: []string{central.HookCheckIn, central.HookCheckOut, central.HookPickupConfirmed}, IncludeFirstName: true})
		rc.secret.Store(secret)
		_, secret2 := e.addEndpoint(t, central.WebhookInput{URL: other.srv.URL, Events: []string{central.HookCheckIn}})
		other.secret.Store(secret2)

		d := e.enrol(t)
		t0 := e.clock.Now()
		in := d.event(1, attendance.ChildCheckIn, "c-noah", t0, time.Minute, true)
		staff := d.event(2, attendance.StaffIn, "", t0, 2*time.Minute, true)
		staff.StaffID = "s-lotte"
		out := d.event(3, attendance.ChildCheckOut, "c-noah", t0.Add(-time.Hour), time.Hour, true)
		out.ConfirmedBy, out.ActorRole, out.ActorID = "s-lotte", attendance.RolePickup, "p-henk"
		if code, _, perr := d.post(t, d.batch(d.unsyncedProbe(), in, staff, out)); code != 200 {
			t.Fatalf("post: %d %v", code, perr)
		}
		// A resent batch queues nothing new.
		d.post(t, d.batch(d.unsyncedProbe(), in, staff, out))
		if n := e.count(t, "webhook_deliveries"); n != 4 {
			t.Fatalf("%d deliveries queued, want 4 (3 for the first endpoint, 1 for the second)", n)
		}
		w := e.worker(e.db)
		// At most 2 attempts to one endpoint in flight: the first endpoint's
		// third delivery waits for the next claim.
		if n := runOnce(t, w); n != 3 {
			t.Fatalf("attempted %d, want 3 (2 for the first endpoint, 1 for the second)", n)
		}
		if n := runOnce(t, w); n != 1 {
			t.Fatalf("attempted %d, want 1", n)
		}
		if n := runOnce(t, w); n != 0 {
			t.Fatalf("attempted %d again, want 0", n)
		}
		var got []string
		for _, p := range rc.payloads {
			got = append(got, fmt.Sprintf("%s %s %s %s %v %s", p.Type, p.Data.ChildID, p.Data.ChildFirstName, p.Data.Time.Format(time.RFC3339), p.Data.ConfirmedByStaff, p.Data.TimeQuality))
			if p.Version != 1 || p.Data.LocationID != "loc-regenboog" || p.Data.DeviceID != d.id {
				t.Errorf("payload %+v", p)
			}
		}
		sort.Strings(got)
		want := []string{
			"attendance.check_in c-noah Noah 2026-11-16T09:00:00Z false ok",
			"attendance.check_out c-noah Noah 2026-11-16T08:00:00Z true ok",
			"attendance.pickup_confirmed c-noah Noah 2026-11-16T08:00:00Z true ok",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("payloads (-want +got):\n%s", diff)
		}
		if len(other.payloads) != 1 || other.payloads[0].Data.ChildFirstName != "" || other.payloads[0].Type != central.HookCheckIn {
			t.Errorf("endpoint without the first-name opt-in got %+v", other.payloads)
		}
		if rc.badSig+other.badSig != 0 {
			t.Errorf("%d bad signatures", rc.badSig+other.badSig)
		}
		for _, dl := range e.deliveries(t, all) {
			if dl.Status != "delivered" || dl.Attempts != 1 || dl.LastCode != 204 || dl.LastError != "" || len(dl.Payload) == 0 {
				t.Errorf("delivery log: %+v", dl)
			}
		}
		// A ping reaches the endpoint whatever it subscribed to.
		if code, body := e.admin(t, http.MethodPost, "/api/v1/admin/webhooks/"+all+"/test", nil); code != http.StatusAccepted {
			t.Fatalf("test: %d %s", code, body)
		}
		runOnce(t, w)
		if last := rc.payloads[len(rc.payloads)-1]; last.Type != central.HookPing {
			t.Errorf("last payload %+v, want a ping", last)
		}
	})
}

func TestWebhookRetriesUntilTheReceiverIsBack(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		hookEnv(t, e)
		rc := newReceiver(t, e.clock.Now)
		id, secret := e.addEndpoint(t, central.WebhookInput{URL: rc.srv.URL, Events: []string{central.HookCheckIn}})
		rc.secret.Store(secret)
		rc.down.Store(true)
		d := e.enrol(t)
		d.post(t, d.batch(d.unsyncedProbe(), d.event(1, attendance.ChildCheckIn, "c-emma", e.clock.Now(), time.Minute, true)))
		w := e.worker(e.db)
		for attempt := 1; attempt <= 3; attempt++ {
			if n := runOnce(t, w); n != 1 {
				t.Fatalf("attempt %d: claimed %d", attempt, n)
			}
			ds := e.deliveries(t, id)
			dl := ds[0]
			if dl.Status != "pending" || dl.Attempts != attempt || dl.LastCode != 503 || dl.LastError != "HTTP 503" {
				t.Fatalf("after attempt %d: %+v", attempt, dl)
			}
			// Exponential: 30 s, 60 s, 120 s with the jitter at its middle (3/4).
			wait := dl.NextAt.Sub(e.clock.Now())
			if want := time.Duration(float64(30*time.Second<<(attempt-1)) * 0.75); wait != want {
				t.Errorf("attempt %d: next in %s, want %s", attempt, wait, want)
			}
			if n := runOnce(t, w); n != 0 {
				t.Fatalf("retried before its time")
			}
			e.clock.Set(dl.NextAt)
		}
		rc.down.Store(false)
		runOnce(t, w)
		e.clock.Set(e.clock.Now().Add(48 * time.Hour))
		runOnce(t, w)
		got := rc.acceptedCounts()
		if len(got) != 1 {
			t.Fatalf("accepted %v, want one delivery id", got)
		}
		for did, n := range got {
			if n != 1 || rc.attempts[did] != 4 {
				t.Errorf("delivery %s: accepted %d times in %d requests, want once in 4", did, n, rc.attempts[did])
			}
		}
		if dl := e.deliveries(t, id)[0]; dl.Status != "delivered" || dl.Attempts != 4 {
			t.Errorf("log: %+v", dl)
		}
	})
}

func TestWebhookDeadAfterADayThenRetryNow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		hookEnv(t, e)
		rc := newReceiver(t, e.clock.Now)
		id, secret := e.addEndpoint(t, central.WebhookInput{URL: rc.srv.URL, Events: []string{central.HookCheckIn}})
		rc.secret.Store(secret)
		rc.down.Store(true)
		d := e.enrol(t)
		d.post(t, d.batch(d.unsyncedProbe(), d.event(1, attendance.ChildCheckIn, "c-emma", e.clock.Now(), time.Minute, true)))
		w := e.worker(e.db)
		start := e.clock.Now()
		var dl central.WebhookDelivery
		for i := 0; i < 40; i++ {
			runOnce(t, w)
			dl = e.deliveries(t, id)[0]
			if dl.Status != "pending" {
				break
			}
			e.clock.Set(dl.NextAt)
		}
		if dl.Status != "dead" {
			t.Fatalf("after 40 attempts: %+v", dl)
		}
		if took := e.clock.Now().Sub(start); took > 24*time.Hour || took < 20*time.Hour {
			t.Errorf("dead after %s of retries, want just under 24h", took)
		}
		t.Logf("dead after %d attempts over %s", dl.Attempts, e.clock.Now().Sub(start))
		var ep central.WebhookEndpoint
		_, body := e.admin(t, http.MethodGet, "/api/v1/admin/webhooks/"+id, nil)
		json.Unmarshal(body, &ep)
		if ep.Dead != 1 || ep.Pending != 0 {
			t.Errorf("endpoint counts: %+v", ep)
		}
		rc.down.Store(false)
		if code, body := e.admin(t, http.MethodPost, "/api/v1/admin/webhooks/"+id+"/deliveries/"+dl.ID+"/retry", nil); code != http.StatusAccepted {
			t.Fatalf("retry now: %d %s", code, body)
		}
		runOnce(t, w)
		if dl := e.deliveries(t, id)[0]; dl.Status != "delivered" {
			t.Errorf("after retry now: %+v", dl)
		}
		if code, _ := e.admin(t, http.MethodPost, "/api/v1/admin/webhooks/"+id+"/deliveries/"+dl.ID+"/retry", nil); code != http.StatusConflict {
			t.Errorf("retrying a delivered one: %d, want 409", code)
		}
		if code, _ := e.admin(t, http.MethodPost, "/api/v1/admin/webhooks/"+id+"/deliveries/nope/retry", nil); code != http.StatusNotFound {
			t.Errorf("retrying an unknown one: %d, want 404", code)
		}
	})
}

// A crash after the ingest committed (no worker ran) and a crash of a
// worker holding a claimed attempt both end in one delivery.
func TestWebhookSurvivesACrash(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		hookEnv(t, e)
		rc := newReceiver(t, e.clock.Now)
		_, secret := e.addEndpoint(t, central.WebhookInput{URL: rc.srv.URL, Events: []string{central.HookCheckIn}})
		rc.secret.Store(secret)
		d := e.enrol(t)
		t0 := e.clock.Now()
		d.post(t, d.batch(d.unsyncedProbe(),
			d.event(1, attendance.ChildCheckIn, "c-emma", t0, time.Minute, true),
			d.event(2, attendance.ChildCheckIn, "c-sem", t0, 2*time.Minute, true)))
		e.db.Close() // the process dies after the commit, before any delivery

		db2, err := central.Open(context.Background(), e.dsn, e.clock.Now)
		if err != nil {
			t.Fatal(err)
		}
		defer db2.Close()
		db2.Webhooks.SetGuard(webhook.Guard{AllowPrivate: true})
		// A worker claims both and dies before sending.
		jobs, err := db2.Webhooks.Claim(context.Background(), e.clock.Now(), webhook.DefaultLease, 10)
		if err != nil || len(jobs) != 2 {
			t.Fatalf("claim: %d jobs, %v", len(jobs), err)
		}
		w := e.worker(db2)
		if n := runOnce(t, w); n != 0 {
			t.Fatalf("a leased job was claimed again at once (%d)", n)
		}
		e.clock.Set(t0.Add(webhook.DefaultLease))
		if n := runOnce(t, w); n != 2 {
			t.Fatalf("after the lease: %d attempts, want 2", n)
		}
		// The dead worker's late report changes nothing.
		if err := db2.Webhooks.Finish(context.Background(), jobs[0], webhook.Result{State: webhook.Pending, Next: e.clock.Now(), At: e.clock.Now(), Error: "late"}); err != nil {
			t.Fatal(err)
		}
		e.clock.Set(t0.Add(time.Hour))
		runOnce(t, w)
		got := rc.acceptedCounts()
		if len(got) != 2 {
			t.Fatalf("accepted %v, want 2 deliveries", got)
		}
		for id, n := range got {
			if n != 1 {
				t.Errorf("delivery %s accepted %d times", id, n)
			}
		}
	})
}

// Two workers on two handles of one database (two replicas) never send
// the same delivery twice, nor at the same time.
func TestWebhookTwoWorkersNeverDoubleDeliver(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		hookEnv(t, e)
		rc := newReceiver(t, e.clock.Now)
		rc.delay = 3 * time.Millisecond
		_, secret := e.addEndpoint(t, central.WebhookInput{URL: rc.srv.URL, Events: []string{central.HookCheckIn, central.HookCheckOut}})
		rc.secret.Store(secret)
		d := e.enrol(t)
		t0 := e.clock.Now()
		var evs []attendance.Event
		for i := int64(1); i <= 60; i++ {
			typ := attendance.ChildCheckIn
			if i%2 == 0 {
				typ = attendance.ChildCheckOut
			}
			evs = append(evs, d.event(i, typ, "c-emma", t0.Add(time.Duration(i)*time.Second), time.Duration(i)*time.Second, true))
		}
		d.post(t, d.batch(d.unsyncedProbe(), evs...))
		dbs := []*central.DB{e.db}
		db2, err := central.Open(context.Background(), e.dsn, e.clock.Now)
		if err != nil {
			t.Fatal(err)
		}
		defer db2.Close()
		db2.Webhooks.SetGuard(webhook.Guard{AllowPrivate: true})
		dbs = append(dbs, db2)
		var wg sync.WaitGroup
		var attempted [2]int
		for i, db := range dbs {
			w := db.Webhooks.NewWorker(webhook.WorkerConfig{Now: e.clock.Now, Slots: 4})
			wg.Add(1)
			go func() {
				defer wg.Done()
				for idle := 0; idle < 3; {
					n, err := w.RunOnce(context.Background())
					if err != nil {
						t.Error(err)
						return
					}
					attempted[i] += n
					if n == 0 {
						idle++
						time.Sleep(5 * time.Millisecond)
					}
				}
			}()
		}
		wg.Wait()
		got := rc.acceptedCounts()
		if len(got) != 60 {
			t.Errorf("%d deliveries accepted, want 60", len(got))
		}
		for id, n := range got {
			if n != 1 {
				t.Errorf("delivery %s accepted %d times", id, n)
			}
		}
		if len(rc.overlap) > 0 {
			t.Errorf("sent twice at once: %v", rc.overlap)
		}
		t.Logf("worker 1 sent %d, worker 2 sent %d", attempted[0], attempted[1])
		if attempted[0]+attempted[1] != 60 {
			t.Errorf("%d attempts for 60 deliveries", attempted[0]+attempted[1])
		}
	})
}

func TestWebhookURLsRefusedWithoutAllowPrivate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		rc := newReceiver(t, e.clock.Now)
		for _, u := range []string{
			rc.srv.URL, // http://127.0.0.1:port
			"https://127.0.0.1/hook",
			"https://[::1]/hook",
			"https://10.1.2.3/hook",
			"https://192.168.1.10/hook",
			"https://172.16.0.1/hook",
			"https://169.254.169.254/latest/meta-data", // cloud metadata
			"https://[fe80::1]/hook",
			"https://100.64.0.1/hook",
			"https://0.0.0.0/hook",
			"https://[::ffff:127.0.0.1]/hook",
			"https://localhost/hook",
			"https://printer.localhost/hook",
			"http://93.184.215.14/hook", // public, but not https
			"https://user:pw@93.184.215.14/hook",
			"ftp://93.184.215.14/hook",
			"not a url",
		} {
			code, body := e.admin(t, http.MethodPost, "/api/v1/admin/webhooks", mustJSON(central.WebhookInput{URL: u, Events: []string{central.HookCheckIn}}))
			if code != http.StatusUnprocessableEntity || !strings.Contains(string(body), central.CodeURLRefused) {
				t.Errorf("%s: %d %s, want 422 %s", u, code, body, central.CodeURLRefused)
			}
		}
		if n := e.count(t, "webhook_endpoints"); n != 0 {
			t.Errorf("%d endpoints stored", n)
		}
		// A public https address passes; bad event types and locations do not.
		code, body := e.admin(t, http.MethodPost, "/api/v1/admin/webhooks", mustJSON(central.WebhookInput{URL: "https://93.184.215.14/hook", Events: []string{central.HookCheckIn}}))
		if code != http.StatusCreated {
			t.Errorf("public https: %d %s", code, body)
		}
		if code, _ := e.admin(t, http.MethodPost, "/api/v1/admin/webhooks", mustJSON(central.WebhookInput{URL: "https://93.184.215.14/hook", Events: []string{"attendance.everything"}})); code != http.StatusBadRequest {
			t.Errorf("unknown event type: %d, want 400", code)
		}
		if code, _ := e.admin(t, http.MethodPost, "/api/v1/admin/webhooks", mustJSON(central.WebhookInput{URL: "https://93.184.215.14/hook", Events: []string{central.HookCheckIn}, LocationID: "loc-nowhere"})); code != http.StatusNotFound {
			t.Errorf("unknown location: %d, want 404", code)
		}
		// An endpoint stored while private addresses were allowed is still
		// refused at connect time once they are not.
		e.db.Webhooks.SetGuard(webhook.Guard{AllowPrivate: true})
		_, secret := e.addEndpoint(t, central.WebhookInput{URL: rc.srv.URL, Events: []string{central.HookCheckIn}})
		rc.secret.Store(secret)
		e.db.Webhooks.SetGuard(webhook.Guard{})
		d := e.enrol(t)
		d.post(t, d.batch(d.unsyncedProbe(), d.event(1, attendance.ChildCheckIn, "c-emma", e.clock.Now(), time.Minute, true)))
		runOnce(t, e.worker(e.db))
		if len(rc.acceptedCounts()) != 0 || len(rc.attempts) != 0 {
			t.Errorf("the receiver on 127.0.0.1 was called: %v", rc.attempts)
		}
		var errs []string
		eps, _ := e.db.Webhooks.Endpoints(context.Background())
		for _, ep := range eps {
			ds, _ := e.db.Webhooks.Deliveries(context.Background(), ep.ID, "", 0, false)
			for _, dl := range ds {
				errs = append(errs, dl.LastError)
			}
		}
		if !slices.ContainsFunc(errs, func(s string) bool { return strings.Contains(s, "address not allowed") }) {
			t.Errorf("delivery errors %q: want the refused address", errs)
		}
	})
}

func TestWebhookRoutesAreForAdminsOnlyAndAudited(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		hookEnv(t, e)
		rc := newReceiver(t, e.clock.Now)
		id, _ := e.addEndpoint(t, central.WebhookInput{URL: rc.srv.URL, Events: []string{central.HookCheckIn}, Description: "Kassasysteem"})
		srv := central.NewServer(central.Config{DB: e.db})
		var routes []string
		for _, r := range srv.Routes() {
			if strings.Contains(r, "/api/v1/admin/webhooks") {
				routes = append(routes, r)
			}
		}
		if len(routes) != 9 {
			t.Fatalf("webhook routes: %v", routes)
		}
		for _, role := range []auth.Role{auth.RoleInspector, auth.RoleBilling, auth.RoleManager} {
			tok, _, err := e.db.Users.CreateAPIToken(context.Background(), "t-"+string(role), role)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range routes {
				method, path, _ := strings.Cut(r, " ")
				path = strings.NewReplacer("{id}", id, "{delivery}", "x").Replace(path)
				code, _ := e.do(t, method, path, []byte(`{}`), func(req *http.Request) { req.Header.Set("Authorization", "Bearer "+tok) })
				if code != http.StatusForbidden {
					t.Errorf("%s as %s: %d, want 403", r, role, code)
				}
			}
		}
		if code, _ := e.do(t, http.MethodGet, "/api/v1/admin/webhooks", nil, nil); code != http.StatusUnauthorized {
			t.Errorf("anonymous: %d, want 401", code)
		}
		// The secret is shown once: never in a listing.
		_, body := e.admin(t, http.MethodGet, "/api/v1/admin/webhooks", nil)
		if strings.Contains(string(body), `"secret"`) {
			t.Errorf("listing shows a secret: %s", body)
		}
		upd := central.WebhookInput{URL: rc.srv.URL + "/v2", Events: []string{central.HookCheckOut}, Active: new(bool)}
		if code, body := e.admin(t, http.MethodPut, "/api/v1/admin/webhooks/"+id, mustJSON(upd)); code != http.StatusOK {
			t.Fatalf("update: %d %s", code, body)
		}
		if code, body := e.admin(t, http.MethodPost, "/api/v1/admin/webhooks/"+id+"/secret", nil); code != http.StatusOK || !strings.Contains(string(body), "whsec_") {
			t.Fatalf("rotate: %d %s", code, body)
		}
		if code, body := e.admin(t, http.MethodDelete, "/api/v1/admin/webhooks/"+id, nil); code != http.StatusOK {
			t.Fatalf("delete: %d %s", code, body)
		}
		if code, _ := e.admin(t, http.MethodGet, "/api/v1/admin/webhooks/"+id, nil); code != http.StatusNotFound {
			t.Errorf("deleted endpoint: %d, want 404", code)
		}
		entries, err := e.audit.Entries(context.Background(), 1, 1<<40)
		if err != nil {
			t.Fatal(err)
		}
		var ops []string
		for _, en := range entries {
			if en.Action == audit.WebhookChange && en.Subject == "webhook:"+id {
				var det map[string]any
				json.Unmarshal(en.Details, &det)
				ops = append(ops, fmt.Sprint(det["op"]))
			}
		}
		if diff := cmp.Diff([]string{"created", "updated", "secret_rotated", "deleted"}, ops); diff != "" {
			t.Errorf("audited ops (-want +got):\n%s", diff)
		}
	})
}

// storedSecrets reads webhook_endpoints.secret as stored, by endpoint id.
func (e *env) storedSecrets(t testing.TB) map[string]string {
	t.Helper()
	rows, err := e.db.SQL().Query("SELECT id, secret FROM webhook_endpoints")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, s string
		if err := rows.Scan(&id, &s); err != nil {
			t.Fatal(err)
		}
		out[id] = s
	}
	return out
}

// TestWebhookSecretsSealedAtRest: the signing secrets are stored sealed with
// a key derived from the master key file (never in the database); secrets
// stored before are sealed at start-up; deliveries are still signed with
// the real secret; a sealed secret moved to another endpoint's row opens
// nowhere; a rotation is sealed too.
func TestWebhookSecretsSealedAtRest(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		hookEnv(t, e)
		ctx := context.Background()
		old := newReceiver(t, e.clock.Now)
		oldID, oldSecret := e.addEndpoint(t, central.WebhookInput{URL: old.srv.URL, Events: []string{central.HookCheckIn}})
		old.secret.Store(oldSecret)
		if got := e.storedSecrets(t)[oldID]; got != oldSecret {
			t.Fatalf("before the key: stored %q, want the plaintext (as an older central stored it)", got)
		}
		// Start-up: the master key (the PIN pepper file) arrives.
		if err := e.db.SetPINPepper(ctx, []byte("0123456789abcdef0123456789abcdef")); err != nil {
			t.Fatal(err)
		}
		fresh := newReceiver(t, e.clock.Now)
		freshID, freshSecret := e.addEndpoint(t, central.WebhookInput{URL: fresh.srv.URL, Events: []string{central.HookCheckIn}})
		fresh.secret.Store(freshSecret)
		stored := e.storedSecrets(t)
		for id, plain := range map[string]string{oldID: oldSecret, freshID: freshSecret} {
			if !strings.HasPrefix(stored[id], "sealed:v1:") || strings.Contains(stored[id], plain) || strings.Contains(stored[id], plain[6:]) {
				t.Errorf("%s stored as %q: not sealed", id, stored[id])
			}
		}
		// The list still tells the secrets apart by their first characters.
		for id, plain := range map[string]string{oldID: oldSecret, freshID: freshSecret} {
			ep, err := e.db.Webhooks.Endpoint(ctx, id)
			if err != nil || ep.SecretHint != plain[:10]+"…" {
				t.Errorf("hint of %s = %q (%v), want %q", id, ep.SecretHint, err, plain[:10]+"…")
			}
		}
		d := e.enrol(t)
		in := d.event(1, attendance.ChildCheckIn, "c-noah", e.clock.Now(), time.Minute, true)
		if code, _, perr := d.post(t, d.batch(d.unsyncedProbe(), in)); code != 200 {
			t.Fatalf("post: %d %v", code, perr)
		}
		w := e.worker(e.db)
		runOnce(t, w)
		if len(old.payloads) != 1 || len(fresh.payloads) != 1 || old.badSig+fresh.badSig != 0 {
			t.Errorf("deliveries: old %d (bad %d), fresh %d (bad %d); want one each, well signed",
				len(old.payloads), old.badSig, len(fresh.payloads), fresh.badSig)
		}
		// A rotation is sealed and signs the next delivery.
		code, body := e.admin(t, http.MethodPost, "/api/v1/admin/webhooks/"+freshID+"/secret", nil)
		if code != http.StatusOK {
			t.Fatalf("rotate: %d %s", code, body)
		}
		var rot struct {
			Secret string `json:"secret"`
		}
		if err := json.Unmarshal(body, &rot); err != nil || rot.Secret == "" {
			t.Fatalf("rotate: %s (%v)", body, err)
		}
		if s := e.storedSecrets(t)[freshID]; !strings.HasPrefix(s, "sealed:v1:") || strings.Contains(s, rot.Secret[6:]) {
			t.Errorf("rotated secret stored as %q", s)
		}
		// Bound to its endpoint: the old endpoint's sealed secret copied
		// into the fresh endpoint's row opens nowhere.
		if _, err := e.db.SQL().Exec("UPDATE webhook_endpoints SET secret = '" + stored[oldID] + "' WHERE id = '" + freshID + "'"); err != nil {
			t.Fatal(err)
		}
		if ep, err := e.db.Webhooks.Endpoint(ctx, freshID); err != nil || ep.SecretHint != "…" {
			t.Errorf("a secret moved to another endpoint opened: hint %q (%v)", ep.SecretHint, err)
		}
	})
}

// TestWebhookDamagedSecretBlocksOnlyItsEndpoint: an endpoint whose stored
// secret cannot be opened (damaged, or sealed for another endpoint) does
// not stop the deliveries of every other endpoint; its own wait, with the
// reason on the delivery, and go out once the secret is rotated.
func TestWebhookDamagedSecretBlocksOnlyItsEndpoint(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		hookEnv(t, e)
		ctx := context.Background()
		if err := e.db.SetPINPepper(ctx, []byte("0123456789abcdef0123456789abcdef")); err != nil {
			t.Fatal(err)
		}
		good := newReceiver(t, e.clock.Now)
		goodID, goodSecret := e.addEndpoint(t, central.WebhookInput{URL: good.srv.URL, Events: []string{central.HookCheckIn}})
		good.secret.Store(goodSecret)
		bad := newReceiver(t, e.clock.Now)
		badID, _ := e.addEndpoint(t, central.WebhookInput{URL: bad.srv.URL, Events: []string{central.HookCheckIn}})
		if _, err := e.db.SQL().Exec("UPDATE webhook_endpoints SET secret = 'sealed:v1:AAAA' WHERE id = '" + badID + "'"); err != nil {
			t.Fatal(err)
		}
		d := e.enrol(t)
		in := d.event(1, attendance.ChildCheckIn, "c-noah", e.clock.Now(), time.Minute, true)
		if code, _, perr := d.post(t, d.batch(d.unsyncedProbe(), in)); code != 200 {
			t.Fatalf("post: %d %v", code, perr)
		}
		w := e.worker(e.db)
		if n, err := w.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("run: %d attempted, %v; want the good endpoint's delivery attempted", n, err)
		}
		if len(good.payloads) != 1 || good.badSig != 0 || len(bad.payloads) != 0 {
			t.Fatalf("good endpoint got %d (bad signatures %d), damaged one %d; want 1, 0, 0", len(good.payloads), good.badSig, len(bad.payloads))
		}
		ds := e.deliveries(t, badID)
		if len(ds) != 1 || ds[0].Status != "pending" || !strings.Contains(ds[0].LastError, "secret") {
			t.Fatalf("damaged endpoint's deliveries: %+v; want one pending with the reason", ds)
		}
		// Rotating the secret lets it go out.
		code, body := e.admin(t, http.MethodPost, "/api/v1/admin/webhooks/"+badID+"/secret", nil)
		if code != http.StatusOK {
			t.Fatalf("rotate: %d %s", code, body)
		}
		var rot struct {
			Secret string `json:"secret"`
		}
		if err := json.Unmarshal(body, &rot); err != nil {
			t.Fatal(err)
		}
		bad.secret.Store(rot.Secret)
		e.clock.Set(e.clock.Now().Add(10 * time.Minute))
		runOnce(t, w)
		if len(bad.payloads) != 1 || bad.badSig != 0 {
			t.Fatalf("after rotation: %d delivered (bad signatures %d), want 1", len(bad.payloads), bad.badSig)
		}
		_ = goodID
	})
}
