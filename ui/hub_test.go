package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kinderdeur/kiosk/attendance/door"
	"github.com/kinderdeur/kiosk/attendance/rules"
)

// fakeDoor is a door the tests drive directly: publish puts a decision on
// screen and sends its update, so a test can flood the hub with thousands
// of updates without a disk in between.
type fakeDoor struct {
	ch chan door.Update

	mu   sync.Mutex
	last *door.Result
	gate chan struct{} // non-nil: Snapshot waits for it (a hub loop stalled)

	// activityPublishes: every activity intent publishes an update, as the
	// real door does with the staff panel while a staff session is open.
	activityPublishes bool
	activities        atomic.Int64
	seq               atomic.Int64
}

func newFakeDoor(buffer int) *fakeDoor { return &fakeDoor{ch: make(chan door.Update, buffer)} }

// pad makes messages big enough that a client that does not read fills
// the socket buffers quickly.
var pad = strings.Repeat("p", 600)

// publish puts decision d-N on screen and waits until the hub took its
// update (no loss at the door: the tests look at the hub alone).
func (f *fakeDoor) publish() string {
	n := f.seq.Add(1)
	r := door.Result{ID: fmt.Sprintf("d-%d", n), Decision: rules.Decision{Outcome: "check_in", Reason: pad}}
	f.mu.Lock()
	f.last = &r
	f.mu.Unlock()
	f.ch <- door.Update{Type: "decision", Decision: &r}
	return r.ID
}

// publishLossy is the real door's publisher: a full subscriber loses the
// update.
func (f *fakeDoor) publishLossy() string {
	n := f.seq.Add(1)
	r := door.Result{ID: fmt.Sprintf("d-%d", n), Decision: rules.Decision{Outcome: "check_in"}}
	f.mu.Lock()
	f.last = &r
	f.mu.Unlock()
	select {
	case f.ch <- door.Update{Type: "decision", Decision: &r}:
	default:
	}
	return r.ID
}

func (f *fakeDoor) Subscribe() (<-chan door.Update, func()) { return f.ch, func() {} }
func (f *fakeDoor) Snapshot() door.Snapshot {
	f.mu.Lock()
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return door.Snapshot{Location: "Test", TimeZone: "UTC", Decision: f.last}
}
func (f *fakeDoor) Presence() door.Presence { return door.Presence{} }
func (f *fakeDoor) Await(string, []byte) (<-chan door.Result, func()) {
	return make(chan door.Result), func() {}
}
func (f *fakeDoor) Select(context.Context, string, []string) (door.Result, error) {
	return door.Result{}, errors.New("no such session")
}
func (f *fakeDoor) Cancel(string) error { return errors.New("no such session") }
func (f *fakeDoor) ConfirmTo(context.Context, string, []string, string, string, rules.Handover) (door.Result, error) {
	return door.Result{}, errors.New("no such session")
}
func (f *fakeDoor) Refuse(context.Context, string, string) error {
	return errors.New("no such session")
}
func (f *fakeDoor) PIN(string) error { return errors.New("no staff session") }
func (f *fakeDoor) Manual(context.Context, string, string, string) error {
	return errors.New("no staff session")
}
func (f *fakeDoor) Lock() {}
func (f *fakeDoor) Activity() {
	f.activities.Add(1)
	if f.activityPublishes {
		f.publish()
	}
}

// smallBuffers shrinks the send buffer of every accepted connection, so a
// client that does not read backs the server's writes up within a few KiB
// instead of megabytes.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return c, err
}

type hubServer struct {
	*httptest.Server
	srv    *Server
	door   *fakeDoor
	cancel context.CancelFunc
	ran    chan struct{}
}

// newHubServer runs a Server over a fake door; stop ends it (Cleanup calls
// it too).
func newHubServer(t testing.TB, d *fakeDoor, cfg Config, tweak ...func(*Server)) *hubServer {
	t.Helper()
	cfg.Door = d
	if cfg.Logger == nil {
		cfg.Logger = discardLogger()
	}
	srv := New(cfg)
	for _, f := range tweak {
		f(srv)
	}
	ctx, cancel := context.WithCancel(context.Background())
	hs := &hubServer{srv: srv, door: d, cancel: cancel, ran: make(chan struct{})}
	go func() { srv.Run(ctx); close(hs.ran) }()
	hs.Server = httptest.NewUnstartedServer(srv.Handler())
	hs.Listener = smallBuffers{hs.Listener}
	hs.Start()
	t.Cleanup(hs.stop)
	return hs
}

func (hs *hubServer) stop() {
	hs.cancel()
	select {
	case <-hs.ran:
	case <-time.After(10 * time.Second):
		panic("the hub did not stop within 10s")
	}
	hs.Close()
}

func (hs *hubServer) wsURL() string { return "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws" }

// dialSlow connects a client whose socket buffer is tiny; it reads only
// when the test says so.
func (hs *hubServer) dialSlow(t testing.TB) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{ReadBufferSize: 1024, WriteBufferSize: 1024, NetDial: func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetReadBuffer(4096)
		}
		return c, err
	}}
	c, _, err := d.Dial(hs.wsURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (hs *hubServer) dial(t testing.TB) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial(hs.wsURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// screen is the page's model of the server's state, as app.js keeps it:
// the decision on screen, the last seq, and a resync on a gap.
type screen struct {
	ws        *websocket.Conn
	decision  string
	seq       float64
	haveSeq   bool
	snapshots int
	gaps      int
	decisions []string // every decision id received, in order
	errors    []string
	seen      atomic.Int64 // decisions received, for a publisher's pacing
	noResync  bool         // another goroutine writes to ws
}

// next reads one message and applies it; an error ends the connection.
func (s *screen) next(deadline time.Time) (map[string]any, error) {
	s.ws.SetReadDeadline(deadline)
	var m map[string]any
	if err := s.ws.ReadJSON(&m); err != nil {
		return nil, err
	}
	seq, hasSeq := m["seq"].(float64)
	switch m["type"] {
	case "snapshot":
		s.snapshots++
		s.decision = ""
		if d, ok := m["decision"].(map[string]any); ok {
			s.decision, _ = d["id"].(string)
		}
		s.seq, s.haveSeq = seq, hasSeq
	case "decision", "done", "staff", "status":
		if s.haveSeq && hasSeq && seq != s.seq+1 {
			s.gaps++
		}
		if s.haveSeq && hasSeq && seq != s.seq+1 && !s.noResync {
			s.ws.WriteJSON(map[string]any{"v": 1, "type": "resync"})
		}
		if hasSeq {
			s.seq, s.haveSeq = seq, true
		}
		if m["type"] == "decision" {
			d, _ := m["decision"].(map[string]any)
			id, _ := d["id"].(string)
			s.decision = id
			s.decisions = append(s.decisions, id)
			s.seen.Add(1)
		}
		if m["type"] == "done" && m["id"] == s.decision {
			s.decision = ""
		}
	case "error":
		e, _ := m["error"].(string)
		s.errors = append(s.errors, e)
	}
	return m, nil
}

// until reads until the screen shows decision id.
func (s *screen) until(id string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for s.decision != id {
		if _, err := s.next(deadline); err != nil {
			return fmt.Errorf("screen at %q, want %q: %w", s.decision, id, err)
		}
	}
	return nil
}

// TestClientCannotCrashTheHub (issue 14 item 9a): a client that sends bad
// intents and does not read used to crash kioskd: the hub dropped it and
// closed its send channel while its read pump still replied on it (send
// on closed channel: panic).
func TestClientCannotCrashTheHub(t *testing.T) {
	hs := newHubServer(t, newFakeDoor(0), Config{})
	for round := range 10 {
		c := hs.dialSlow(t)
		stop := make(chan struct{})
		sent := make(chan struct{})
		go func() {
			defer close(sent)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if c.WriteMessage(websocket.TextMessage, []byte(`{not json`)) != nil {
					return
				}
			}
		}()
		for range 300 {
			hs.door.publish()
		}
		close(stop)
		<-sent
		c.Close()
		_ = round
	}
	// The hub still serves.
	s := &screen{ws: hs.dial(t)}
	if _, err := s.next(time.Now().Add(3 * time.Second)); err != nil || s.snapshots != 1 {
		t.Fatalf("after the hostile clients: %v, snapshots %d", err, s.snapshots)
	}
	id := hs.door.publish()
	if err := s.until(id, 3*time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestIntentFloodClosesOnlyThatClient (item 9b): one client sending
// intents as fast as it can is answered once with an error and closed;
// another screen, a little slow like a Pi's browser, stays connected and
// ends on the door's state.
func TestIntentFloodClosesOnlyThatClient(t *testing.T) {
	d := newFakeDoor(0)
	d.activityPublishes = true
	hs := newHubServer(t, d, Config{})
	honest := &screen{ws: hs.dial(t)}
	if _, err := honest.next(time.Now().Add(3 * time.Second)); err != nil {
		t.Fatal(err)
	}
	flood := &screen{ws: hs.dial(t), noResync: true}
	if _, err := flood.next(time.Now().Add(3 * time.Second)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for i := range 2000 {
			if err := flood.ws.WriteMessage(websocket.TextMessage, []byte(`{"v":1,"type":"activity"}`)); err != nil {
				done <- fmt.Errorf("write %d: %w", i, err) // closed by the server
				return
			}
		}
		done <- nil
	}()
	// The flooder is answered with one error and closed.
	var closeErr error
	for deadline := time.Now().Add(5 * time.Second); closeErr == nil; {
		_, closeErr = flood.next(deadline)
	}
	t.Logf("flood writer: %v", <-done)
	var ce *websocket.CloseError
	if !errors.As(closeErr, &ce) {
		t.Errorf("flooding client: %v, want a close from the server", closeErr)
	}
	limited := 0
	for _, e := range flood.errors {
		if strings.Contains(e, "too many") {
			limited++
		}
	}
	if limited != 1 {
		t.Errorf("flooding client got %d rate-limit errors (%v), want 1", limited, flood.errors)
	}
	if n := d.activities.Load(); n > intentBurstForTest+5 {
		t.Errorf("the door carried out %d activity intents from the flood, want at most the burst (%d)", n, intentBurstForTest)
	}
	// The honest screen, reading 1 message per ms, is still there and
	// ends on the door's state.
	last := d.publish()
	deadline := time.Now().Add(5 * time.Second)
	for honest.decision != last {
		time.Sleep(time.Millisecond)
		if _, err := honest.next(deadline); err != nil {
			t.Fatalf("honest screen lost: %v (at %q, want %q)", err, honest.decision, last)
		}
	}
}

const intentBurstForTest = 40

// TestSlowClientResyncsToSameState (item 9c): a flood of door updates to a
// client that does not read for a while overflows its queue; it is not
// dropped but sent a fresh snapshot, and ends in the same state as a fast
// client, which got every update, in order, with consecutive seqs.
func TestSlowClientResyncsToSameState(t *testing.T) {
	hs := newHubServer(t, newFakeDoor(0), Config{})
	fast := &screen{ws: hs.dial(t)}
	slow := &screen{ws: hs.dialSlow(t)}
	for _, s := range []*screen{fast, slow} {
		if _, err := s.next(time.Now().Add(3 * time.Second)); err != nil {
			t.Fatal(err)
		}
		if !s.haveSeq {
			t.Fatal("snapshot without seq")
		}
	}
	const n = 2000
	var fastErr error
	fastDone := make(chan struct{})
	go func() {
		defer close(fastDone)
		fastErr = fast.until(fmt.Sprintf("d-%d", n), 20*time.Second)
	}()
	// Paced to the fast client (it never has more than half its queue
	// waiting), which the slow one does not read at all meanwhile.
	var last string
	for i := range n {
		for int64(i)-fast.seen.Load() > sendBuffer/2 {
			time.Sleep(50 * time.Microsecond)
		}
		last = hs.door.publish()
	}
	<-fastDone
	if fastErr != nil {
		t.Fatalf("fast client: %v", fastErr)
	}
	if len(fast.decisions) != n || fast.gaps != 0 || fast.snapshots != 1 {
		t.Fatalf("fast client: %d decisions, %d gaps, %d snapshots; want %d, 0, 1", len(fast.decisions), fast.gaps, fast.snapshots, n)
	}
	for i, id := range fast.decisions {
		if id != fmt.Sprintf("d-%d", i+1) {
			t.Fatalf("fast client: update %d is %s", i+1, id)
		}
	}
	if err := slow.until(last, 20*time.Second); err != nil {
		t.Fatalf("slow client: %v", err)
	}
	if slow.snapshots < 2 {
		t.Errorf("slow client got %d snapshots, want a resync snapshot (it received %d of %d updates)", slow.snapshots, len(slow.decisions), n)
	}
	t.Logf("slow client: %d of %d updates, %d snapshots, %d gaps seen", len(slow.decisions), n, slow.snapshots, slow.gaps)
}

// TestResyncIntentAnswersSnapshot (item 9c): the page asks for a snapshot
// with {"v":1,"type":"resync"}; every server message carries seq.
func TestResyncIntentAnswersSnapshot(t *testing.T) {
	hs := newHubServer(t, newFakeDoor(0), Config{})
	s := &screen{ws: hs.dial(t)}
	m, err := s.next(time.Now().Add(3 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m["seq"].(float64); !ok {
		t.Errorf("snapshot without seq: %v", m)
	}
	id := hs.door.publish()
	if err := s.until(id, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	seqBefore := s.seq
	s.ws.WriteJSON(map[string]any{"v": 1, "type": "resync"})
	m, err = s.next(time.Now().Add(3 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if m["type"] != "snapshot" || m["seq"] != seqBefore || s.decision != id {
		t.Errorf("answer to resync: %v (seq before %v)", m, seqBefore)
	}
	s.ws.WriteJSON(map[string]any{"v": 1, "type": "nonsense"})
	m, err = s.next(time.Now().Add(3 * time.Second))
	if err != nil || m["type"] != "error" {
		t.Fatalf("answer to a bad intent: %v %v", m, err)
	}
	if _, ok := m["seq"].(float64); !ok {
		t.Errorf("error without seq: %v", m)
	}
}

// TestDoorLagResyncsScreens: the door's publisher drops updates for a hub
// that lags (its subscription buffer is full); the hub notices a full
// buffer and sends every screen a fresh snapshot once it has caught up.
func TestDoorLagResyncsScreens(t *testing.T) {
	d := newFakeDoor(64)
	hs := newHubServer(t, d, Config{})
	s := &screen{ws: hs.dial(t)}
	if _, err := s.next(time.Now().Add(3 * time.Second)); err != nil {
		t.Fatal(err)
	}
	// Stall the hub loop in a snapshot for a second client, and publish
	// more than the door's buffer holds.
	gate := make(chan struct{})
	d.mu.Lock()
	d.gate = gate
	d.mu.Unlock()
	go func() {
		c, _, err := websocket.DefaultDialer.Dial(hs.wsURL(), nil)
		if err == nil {
			defer c.Close()
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			c.ReadMessage()
		}
	}()
	time.Sleep(100 * time.Millisecond)
	var last string
	for range 200 {
		last = d.publishLossy()
	}
	d.mu.Lock()
	d.gate = nil
	d.mu.Unlock()
	close(gate)
	if err := s.until(last, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestHostAllowList (item 9d): DNS rebinding. A page on evil.example whose
// name resolves to 127.0.0.1 reaches the kiosk with Host: evil.example;
// the websocket and the API refuse it. Loopback names, the address the
// request came in on and configured names are accepted.
func TestHostAllowList(t *testing.T) {
	d := newFakeDoor(0)
	hs := newHubServer(t, d, Config{AllowedHosts: []string{"Kiosk-Voordeur.local"}, Sim: nopSim{}, Readers: []string{"entrance"}})
	_, port, _ := net.SplitHostPort(hs.Listener.Addr().String())
	do := func(method, path, host string, hdr http.Header) int {
		if path == "/ws" {
			c, resp, err := websocket.DefaultDialer.Dial(hs.wsURL(), http.Header{"Host": {host}})
			if err == nil {
				c.Close()
			}
			if resp == nil {
				t.Fatalf("dial with Host %q: %v", host, err)
			}
			return resp.StatusCode
		}
		req, _ := http.NewRequest(method, hs.URL+path, strings.NewReader(`{"reader":"entrance","uid":"0102"}`))
		req.Host = host
		for k, v := range hdr {
			req.Header[k] = v
		}
		if method == "POST" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, host := range []string{"evil.example", "evil.example:" + port, "127.0.0.1.evil.example:" + port, "localhost.evil.example", "10.9.9.9:" + port} {
		for _, r := range []struct {
			method, path string
			hdr          http.Header
		}{{"GET", "/ws", nil}, {"GET", "/api/v1/presence", nil}, {"POST", "/api/v1/sim/tap", nil}, {"GET", "/api/v1/status", nil}, {"GET", "/api/v1/sim/cards", nil}} {
			if code := do(r.method, r.path, host, r.hdr); code != http.StatusForbidden {
				t.Errorf("%s %s with Host %q = %d, want 403", r.method, r.path, host, code)
			}
		}
	}
	for _, host := range []string{"127.0.0.1:" + port, "localhost:" + port, "LOCALHOST", "kiosk.localhost:" + port, "[::1]:" + port, "kiosk-voordeur.local:" + port, "kiosk-voordeur.local."} {
		if code := do("GET", "/ws", host, nil); code != http.StatusSwitchingProtocols {
			t.Errorf("GET /ws with Host %q = %d, want 101", host, code)
		}
		if code := do("GET", "/api/v1/presence", host, nil); code != http.StatusOK {
			t.Errorf("GET /api/v1/presence with Host %q = %d, want 200", host, code)
		}
	}
	// The health check answers whatever the Host: monitoring and
	// update.sh probe it by any name, and it says nothing private.
	if code := do("GET", "/healthz", "evil.example", nil); code != http.StatusOK {
		t.Errorf("GET /healthz with a foreign Host = %d, want 200", code)
	}
}

type nopSim struct{}

func (nopSim) Present(string, []byte) error { return nil }
func (nopSim) Remove(string)                {}

// TestSimTapRefusesCrossSite (item 9e): a web page the kiosk browser opens
// could POST a text/plain "simple request" to the sim tap (no preflight)
// and tap any card. Browsers' requests must be same-origin JSON; curl's
// form-encoded -d (no Origin, no Sec-Fetch-Site) keeps working.
func TestSimTapRefusesCrossSite(t *testing.T) {
	ts, _ := newTestServer(t)
	const body = `{"reader":"entrance","uid":"2B3C4D5E"}`
	for _, tt := range []struct {
		name string
		hdr  map[string]string
		code int
	}{
		{"cross-site text/plain form", map[string]string{"Content-Type": "text/plain", "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}, 403},
		{"cross-site json", map[string]string{"Content-Type": "application/json", "Origin": "http://evil.example"}, 403},
		{"cross-site without Origin", map[string]string{"Content-Type": "text/plain", "Sec-Fetch-Site": "cross-site"}, 403},
		{"same-site other port", map[string]string{"Content-Type": "application/json", "Origin": "http://127.0.0.1:1", "Sec-Fetch-Site": "same-site"}, 403},
		{"opaque origin", map[string]string{"Content-Type": "application/json", "Origin": "null"}, 403},
		{"same-origin text/plain", map[string]string{"Content-Type": "text/plain", "Origin": ts.URL, "Sec-Fetch-Site": "same-origin"}, 415},
		{"same-origin form", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": ts.URL}, 415},
		{"no Origin text/plain", map[string]string{"Content-Type": "text/plain"}, 415},
		{"the page's own fetch", map[string]string{"Content-Type": "application/json", "Origin": ts.URL, "Sec-Fetch-Site": "same-origin"}, 200},
		{"json with charset", map[string]string{"Content-Type": "application/json; charset=utf-8"}, 200},
		{"curl -d (form-encoded, no Origin)", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "curl/8.5.0", "Accept": "*/*"}, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", ts.URL+"/api/v1/sim/tap", strings.NewReader(body))
			for k, v := range tt.hdr {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.code {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.code)
			}
		})
	}
}

// TestReadmeCurlTap (item 9e): the README's curl command, as written
// (curl -d sends application/x-www-form-urlencoded), still taps.
func TestReadmeCurlTap(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("no curl")
	}
	ts, _ := newTestServer(t)
	out, err := exec.Command(curl, "-s", "-X", "POST", strings.TrimPrefix(ts.URL, "http://")+"/api/v1/sim/tap", "-d", `{"reader":"entrance","uid":"2B3C4D5E"}`).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"outcome": "check_in"`) {
		t.Errorf("curl tap answered %s", out)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestTokenBucket(t *testing.T) {
	now := time.Unix(0, 0)
	b := newTokenBucket(20, 40, now)
	for i := range 40 {
		if !b.take(now) {
			t.Fatalf("burst: message %d refused", i+1)
		}
	}
	if b.take(now) {
		t.Fatal("41st message at once allowed")
	}
	now = now.Add(time.Second)
	n := 0
	for b.take(now) {
		n++
	}
	if n != 20 {
		t.Errorf("after a second: %d allowed, want 20", n)
	}
	now = now.Add(time.Hour)
	n = 0
	for b.take(now) {
		n++
	}
	if n != 40 {
		t.Errorf("after an hour: %d allowed, want the burst (40)", n)
	}
}

// TestIntentRateConfigurable: a test rig that drives the page at machine
// speed raises the limit (ui.Config.IntentRate/IntentBurst); 500 intents
// back to back are all carried out and the connection stays open. The
// default stays 20 a second, bursts of 40 (TestIntentFloodClosesOnlyThatClient).
func TestIntentRateConfigurable(t *testing.T) {
	d := newFakeDoor(0)
	hs := newHubServer(t, d, Config{IntentRate: 1 << 20, IntentBurst: 1 << 20})
	s := &screen{ws: hs.dial(t), noResync: true}
	if _, err := s.next(time.Now().Add(3 * time.Second)); err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		if err := s.ws.WriteMessage(websocket.TextMessage, []byte(`{"v":1,"type":"activity"}`)); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for d.activities.Load() < 500 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := d.activities.Load(); n != 500 {
		t.Errorf("the door carried out %d of 500 intents", n)
	}
	for _, e := range s.errors {
		if strings.Contains(e, "too many") {
			t.Errorf("rate-limited with the limit raised: %s", e)
		}
	}
	if New(Config{}).cfg.IntentRate != 20 || New(Config{}).cfg.IntentBurst != 40 {
		t.Error("the default limit is not 20/s, bursts of 40")
	}
}
