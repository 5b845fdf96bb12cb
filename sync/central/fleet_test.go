package central_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/centraltest"
	"github.com/kinderdeur/kiosk/sync/central/fleet"
	"github.com/kinderdeur/kiosk/sync/central/metrics"
	"github.com/kinderdeur/kiosk/sync/central/portal"
	"github.com/kinderdeur/kiosk/sync/central/webhook"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// fleetMailbox is an in-process SMTP server (go-smtp) keeping every message.
type fleetMailbox struct {
	mu   sync.Mutex
	msgs []string
	addr string
}

type fleetSMTPSession struct{ mb *fleetMailbox }

func (s *fleetSMTPSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *fleetSMTPSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *fleetSMTPSession) Reset()                               {}
func (s *fleetSMTPSession) Logout() error                        { return nil }
func (s *fleetSMTPSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.mb.mu.Lock()
	s.mb.msgs = append(s.mb.msgs, string(b))
	s.mb.mu.Unlock()
	return nil
}

func newFleetMailbox(t *testing.T) *fleetMailbox {
	mb := &fleetMailbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &fleetSMTPSession{mb: mb}, nil }))
	srv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mb.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return mb
}

func (mb *fleetMailbox) messages() []string {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return append([]string(nil), mb.msgs...)
}

// hookReceiver is a webhook endpoint that verifies every call's signature.
type hookReceiver struct {
	mu       sync.Mutex
	payloads []fleet.WebhookPayload
	bad      int
	fail     int // answer 503 to this many calls first
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := webhook.Verify([]byte(hookSecret), r.Header.Get(webhook.HeaderSignature), body, time.Now(), 0); err != nil {
		h.bad++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if h.fail > 0 {
		h.fail--
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	var p fleet.WebhookPayload
	json.Unmarshal(body, &p)
	h.payloads = append(h.payloads, p)
}

func (h *hookReceiver) got() ([]fleet.WebhookPayload, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]fleet.WebhookPayload(nil), h.payloads...), h.bad
}

const hookSecret = "whsec_test_0123456789abcdef"

func scrapeCentral(t *testing.T, url, token string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("scrape: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// value finds the series with labels want (a counter's or gauge's value, a
// histogram's count); every series must carry the replica label.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	f := fams[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		if have["replica"] != "r1" {
			t.Errorf("%s without replica label: %v", name, have)
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

// TestFleet: a kiosk's batch carries its health report; central's
// /metrics counts the batch and its events; the fleet check finds the dead
// reader and the low disk, then the silence during opening hours, and
// clears them when the door is well again; each problem is mailed (a real
// SMTP server in-process) and posted to a signed webhook once, not per
// check, even with two replicas checking at once.
func TestFleet(t *testing.T) {
	for _, b := range centraltest.Backends() {
		t.Run(b.Name, func(t *testing.T) { testFleet(t, b) })
	}
}

func testFleet(t *testing.T, b centraltest.Backend) {
	ctx := context.Background()
	e := newEnv(t, b) // Monday 2026-11-16 09:00 UTC: 10:00 in Amsterdam, De Regenboog open 07:00-18:30
	mets := metrics.New("r1", e.db.Fleet)
	srv := httptest.NewServer(central.NewServer(central.Config{DB: e.db, AdminTokens: []string{adminToken}, Now: e.clock.Now,
		Observer: mets, Metrics: mets.Handler(), MetricsTokens: []string{"metrics-token"}}).Handler())
	defer srv.Close()
	e.srv = srv
	d := e.enrol(t)

	// /metrics: a metrics token or an admin token; nothing else.
	for _, c := range []struct {
		token string
		want  int
	}{{"", 401}, {"wrong", 401}, {"metrics-token", 200}, {adminToken, 200}} {
		code, _ := e.do(t, "GET", "/metrics", nil, func(r *http.Request) {
			if c.token != "" {
				r.Header.Set("Authorization", "Bearer "+c.token)
			}
		})
		if code != c.want {
			t.Errorf("/metrics with %q: %d, want %d", c.token, code, c.want)
		}
	}
	before := scrapeCentral(t, srv.URL+"/metrics", "metrics-token")

	now := e.clock.Now()
	probe := protocol.ClockProbe{BootID: d.boot, MonoNS: int64(time.Hour), Wall: now, Synced: true}
	health := protocol.HealthReport{Version: "test", UptimeSeconds: 3600, ClockSynced: true, DiskFreeBytes: 100 << 20, StorageOK: true,
		Pending: 3, OldestPending: now.Add(-90 * time.Second),
		Readers: []protocol.ReaderHealth{{Name: "entrance", Kind: "rc522", OK: false, Error: "chip not answering"}, {Name: "exit", Kind: "rc522", OK: true}}}
	push := func(h protocol.HealthReport, evs ...attendance.Event) {
		t.Helper()
		var body protocol.Batch
		json.Unmarshal(d.batch(probe, evs...), &body)
		body.Health = &h
		if code, out := d.signed(t, "POST", protocol.PathEvents, mustJSON(body)); code != 200 {
			t.Fatalf("push: %d %s", code, out)
		}
	}
	bogus := d.event(3, "bogus_type", "c-zoe", now, time.Hour, true)
	push(health, d.event(1, attendance.ChildCheckIn, "c-zoe", now, time.Hour, true), d.event(2, attendance.ChildCheckOut, "c-zoe", now, time.Hour, true), bogus)

	after := scrapeCentral(t, srv.URL+"/metrics", "metrics-token")
	for _, c := range []struct {
		name   string
		labels map[string]string
		delta  float64
	}{
		{"central_batches_total", map[string]string{"outcome": "ok"}, 1},
		{"central_ingest_seconds", nil, 1},
		{"central_events_ingested_total", map[string]string{"status": "stored"}, 2},
		{"central_events_rejected_total", map[string]string{"reason": "unknown_type"}, 1},
	} {
		b0, a := max(value(t, before, c.name, c.labels), 0), value(t, after, c.name, c.labels)
		if a-b0 != c.delta {
			t.Errorf("%s%v: %v -> %v, want +%v", c.name, c.labels, b0, a, c.delta)
		}
	}
	if v := value(t, after, "central_device_last_seen_timestamp_seconds", map[string]string{"device": d.id}); v != float64(now.Unix()) {
		t.Errorf("last seen %v, want %v", v, now.Unix())
	}
	if v := value(t, after, "central_device_pending_events", map[string]string{"device": d.id}); v != 3 {
		t.Errorf("pending %v", v)
	}

	// The fleet page's data.
	doors, err := e.db.Fleet.Doors(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var door *fleet.Door
	for i := range doors {
		if doors[i].DeviceID == d.id {
			door = &doors[i]
		}
	}
	if door == nil || door.Health == nil || door.Health.Version != "test" || !door.Open || door.LagSeconds() != 90 {
		t.Fatalf("door: %+v", door)
	}

	// Notifications: mail through a real SMTP server and signed webhooks
	// (the first call answered 503: retried).
	mb := newFleetMailbox(t)
	hooks := &hookReceiver{fail: 1}
	hs := httptest.NewServer(hooks)
	defer hs.Close()
	disp := &fleet.Dispatcher{
		Senders: []fleet.Sender{
			&fleet.Mail{Mailer: &portal.SMTPMailer{Addr: mb.addr, From: "central@test", InsecurePlain: true}, To: []string{"ops@test"}},
			&fleet.Webhook{Endpoint: fleet.Endpoint{URL: hs.URL, Secret: hookSecret}},
		},
		Sleep: func(context.Context, time.Duration) error { return nil },
	}
	check := func(db *central.DB) []fleet.Change {
		t.Helper()
		ch, err := db.Fleet.Check(ctx, fleet.CheckConfig{}, disp, nil)
		if err != nil {
			t.Fatal(err)
		}
		disp.Drain(ctx)
		return ch
	}
	codes := func(ch []fleet.Change) string {
		var s []string
		for _, c := range ch {
			if c.DeviceID != d.id {
				continue // the demo's own devices
			}
			p := c.Code
			if c.Resolved {
				p = "-" + p
			}
			s = append(s, p)
		}
		return strings.Join(s, ",")
	}
	if got := codes(check(e.db)); got != "low_disk,reader_down:entrance" {
		t.Errorf("first check: %q", got)
	}
	if got := codes(check(e.db)); got != "" {
		t.Errorf("second check (nothing new): %q", got)
	}
	msgs := mb.messages()
	if n := countFor(msgs, d.id); n != 2 {
		t.Errorf("%d mails for the device, want 2:\n%s", n, strings.Join(msgs, "\n---\n"))
	}
	if !anyContains(msgs, "reader_down:entrance") || !anyContains(msgs, "chip not answering") {
		t.Errorf("mails do not name the reader:\n%s", strings.Join(msgs, "\n---\n"))
	}

	// 20 minutes without a push during opening hours: silent. Two replicas
	// check at once: one mail.
	e.clock.Set(now.Add(20 * time.Minute))
	db2, err := central.Open(ctx, e.dsn, e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	var wg sync.WaitGroup
	results := make([][]fleet.Change, 2)
	for i, db := range []*central.DB{e.db, db2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], _ = db.Fleet.Check(ctx, fleet.CheckConfig{}, disp, nil)
		}()
	}
	wg.Wait()
	disp.Drain(ctx)
	if got := codes(append(results[0], results[1]...)); got != "silent" {
		t.Errorf("two replicas: %q, want silent once", got)
	}

	// Well again: a healthy report; every problem clears, once.
	probe.Wall, probe.MonoNS = e.clock.Now(), int64(time.Hour+20*time.Minute)
	health.Readers[0] = protocol.ReaderHealth{Name: "entrance", Kind: "rc522", OK: true}
	health.DiskFreeBytes, health.Pending, health.OldestPending = 2<<30, 0, time.Time{}
	push(health)
	if got := codes(check(e.db)); got != "-low_disk,-reader_down:entrance,-silent" && got != sortedCodes("-low_disk,-reader_down:entrance,-silent", got) {
		t.Errorf("cleared: %q", got)
	}
	msgs = mb.messages()
	if n := countFor(msgs, d.id); n != 6 {
		t.Errorf("%d mails, want 6 (3 problems, 3 resolved)", n)
	}
	payloads, bad := hooks.got()
	var mine []fleet.WebhookPayload
	for _, p := range payloads {
		if p.DeviceID == d.id {
			mine = append(mine, p)
		}
	}
	if bad != 0 || len(mine) != 6 {
		t.Errorf("webhooks: %d for the device (want 6), %d badly signed", len(mine), bad)
	}
	resolved := 0
	for _, p := range mine {
		if p.Event == "fleet.resolved" {
			resolved++
		}
	}
	if resolved != 3 {
		t.Errorf("%d resolved webhooks, want 3", resolved)
	}
	// A tampered body or an old timestamp does not verify.
	ts := time.Now()
	sig := webhook.Sign([]byte(hookSecret), ts, []byte(`{"a":1}`))
	if err := webhook.Verify([]byte(hookSecret), sig, []byte(`{"a":2}`), ts, 0); err == nil {
		t.Error("tampered body verified")
	}
	if err := webhook.Verify([]byte(hookSecret), sig, []byte(`{"a":1}`), ts.Add(10*time.Minute), 0); err == nil {
		t.Error("stale timestamp verified")
	}
}

func sortedCodes(want, got string) string {
	w, g := strings.Split(want, ","), strings.Split(got, ",")
	if len(w) != len(g) {
		return want
	}
	seen := map[string]bool{}
	for _, x := range g {
		seen[x] = true
	}
	for _, x := range w {
		if !seen[x] {
			return want
		}
	}
	return got
}

func countFor(msgs []string, device string) int {
	n := 0
	for _, m := range msgs {
		if strings.Contains(m, device) {
			n++
		}
	}
	return n
}

func anyContains(msgs []string, s string) bool {
	for _, m := range msgs {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}
