package ui

import (
	"context"
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// peerFromHeader makes a request look as if it came from the address in
// the test's X-Test-Peer header: a screen on another machine, without a
// second machine.
func peerFromHeader(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.Header.Get("X-Test-Peer"); p != "" {
			r.RemoteAddr = p
		}
		next.ServeHTTP(w, r)
	})
}

// wsScreen is a websocket client that checks the update sequence has no
// gaps (a gap makes the page resync).
type wsScreen struct {
	t    *testing.T
	name string
	ws   *websocket.Conn
	seq  float64
}

func dialScreen(t *testing.T, url, peer, name string) *wsScreen {
	t.Helper()
	h := http.Header{}
	if peer != "" {
		h.Set("X-Test-Peer", peer)
	}
	c, _, err := websocket.DefaultDialer.Dial(url, h)
	if err != nil {
		t.Fatalf("%s: dial: %v", name, err)
	}
	t.Cleanup(func() { c.Close() })
	return &wsScreen{t: t, name: name, ws: c, seq: -1}
}

// next reads one message; "error" answers are outside the sequence.
func (s *wsScreen) next() map[string]any {
	s.t.Helper()
	s.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	var m map[string]any
	if err := s.ws.ReadJSON(&m); err != nil {
		s.t.Fatalf("%s: read: %v", s.name, err)
	}
	seq, _ := m["seq"].(float64)
	switch m["type"] {
	case "snapshot":
		s.seq = seq
	case "error":
	default:
		if s.seq >= 0 && seq != s.seq+1 {
			s.t.Errorf("%s: seq %v after %v: a gap", s.name, seq, s.seq)
		}
		s.seq = seq
	}
	return m
}

// untilStaff reads until a snapshot or staff update and returns its staff
// field (nil: JSON null).
func (s *wsScreen) untilStaff() any {
	s.t.Helper()
	for range 20 {
		m := s.next()
		if m["type"] == "snapshot" || m["type"] == "staff" {
			return m["staff"]
		}
	}
	s.t.Fatalf("%s: no staff update", s.name)
	return nil
}

// TestStaffPanelOnlyForStaffScreens: with kioskd listening beyond the
// machine, a screen elsewhere (not in staff_screens) gets the public
// screen only: its staff panel stays null in snapshots and updates, its
// updates keep their sequence, and it may not act; the screen on the
// machine and a listed one get the panel.
func TestStaffPanelOnlyForStaffScreens(t *testing.T) {
	ts, d := newTestServerWith(t, func(c *Config) {
		c.StaffScreens = []netip.Prefix{netip.MustParsePrefix("192.0.2.64/26")}
	}, peerFromHeader)
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws"
	local := dialScreen(t, url, "", "this machine")
	listed := dialScreen(t, url, "192.0.2.70:40000", "listed screen")
	lan := dialScreen(t, url, "192.0.2.10:40000", "screen elsewhere")
	for _, s := range []*wsScreen{local, listed, lan} {
		if st := s.untilStaff(); st != nil {
			t.Fatalf("%s: staff panel before any staff tap: %v", s.name, st)
		}
	}
	lotte, _ := hex.DecodeString("E1A20B3C")
	ctx := context.Background()
	for i := 0; d.Snapshot().Staff == nil; i++ {
		if i == 3 {
			t.Fatal("Lotte's taps opened no staff panel")
		}
		if _, err := d.Tap(ctx, "entrance", lotte); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []*wsScreen{local, listed} {
		var st any
		for st == nil {
			st = s.untilStaff()
		}
		if p, _ := st.(map[string]any); p["name"] != "Lotte" {
			t.Errorf("%s: staff panel %v", s.name, st)
		}
	}
	// The screen elsewhere follows the same steps (next checks there is
	// no gap), with the panel null. It may not act: lock, activity or a
	// PIN are refused, and the panel stays open.
	for _, intent := range []string{`{"v":1,"type":"lock"}`, `{"v":1,"type":"activity"}`, `{"v":1,"type":"pin","pin":"1234"}`} {
		lan.ws.WriteMessage(websocket.TextMessage, []byte(intent))
		for {
			m := lan.next()
			if m["staff"] != nil {
				t.Errorf("screen elsewhere got the staff panel: %v", m)
			}
			if m["type"] == "error" {
				if !strings.Contains(m["error"].(string), "may not act") {
					t.Errorf("%s from the screen elsewhere: %v, want refused", intent, m)
				}
				break
			}
		}
	}
	if lan.seq < local.seq {
		t.Errorf("screen elsewhere at seq %v, behind this machine's %v", lan.seq, local.seq)
	}
	if d.Snapshot().Staff == nil {
		t.Error("the screen elsewhere locked the staff panel")
	}
	// Its resync is answered, without the panel.
	lan.ws.WriteMessage(websocket.TextMessage, []byte(`{"v":1,"type":"resync"}`))
	if st := lan.untilStaff(); st != nil {
		t.Errorf("resync of the screen elsewhere: staff %v", st)
	}
	// The screen on this machine still acts.
	local.ws.WriteMessage(websocket.TextMessage, []byte(`{"v":1,"type":"lock"}`))
	for st := any(true); st != nil; {
		st = local.untilStaff()
	}
}

// onAddr makes a request look as if it came in on the local address in
// the test's X-Test-Local header (kioskd listening on the machine's LAN
// address rather than loopback).
func onAddr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l := r.Header.Get("X-Test-Local"); l != "" {
			ap := netip.MustParseAddrPort(l)
			r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, net.TCPAddrFromAddrPort(ap)))
		}
		next.ServeHTTP(w, r)
	})
}

// TestScreenOnThisMachineByItsLANAddress: with kioskd listening on the
// machine's LAN address (listen "192.0.2.5:8080"), the kiosk's own browser
// can only reach it by that address, so its peer address is the machine's
// own, not loopback. It is still this machine's screen: staff panel and
// intents. A screen elsewhere on the LAN is not.
func TestScreenOnThisMachineByItsLANAddress(t *testing.T) {
	ts, d := newTestServerWith(t, nil, func(h http.Handler) http.Handler { return peerFromHeader(onAddr(h)) })
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws"
	dial := func(peer, name string) *wsScreen {
		h := http.Header{}
		h.Set("X-Test-Peer", peer)
		h.Set("X-Test-Local", "192.0.2.5:8080")
		c, _, err := websocket.DefaultDialer.Dial(url, h)
		if err != nil {
			t.Fatalf("%s: dial: %v", name, err)
		}
		t.Cleanup(func() { c.Close() })
		return &wsScreen{t: t, name: name, ws: c, seq: -1}
	}
	own := dial("192.0.2.5:51000", "this machine by its LAN address")
	lan := dial("192.0.2.10:40000", "screen elsewhere")
	own.untilStaff()
	lan.untilStaff()
	lotte, _ := hex.DecodeString("E1A20B3C")
	for i := 0; d.Snapshot().Staff == nil; i++ {
		if i == 3 {
			t.Fatal("Lotte's taps opened no staff panel")
		}
		if _, err := d.Tap(context.Background(), "entrance", lotte); err != nil {
			t.Fatal(err)
		}
	}
	var st any
	for i := 0; st == nil; i++ {
		if i == 5 {
			t.Fatal("this machine's screen (by its LAN address) never got the staff panel")
		}
		st = own.untilStaff()
	}
	for lan.seq < own.seq {
		if m := lan.next(); m["staff"] != nil {
			t.Fatalf("screen elsewhere got the staff panel: %v", m)
		}
	}
}

// TestAPIsOnlyForStaffScreens: the presence API (every child present, full
// names) and the simulator (it taps cards; it lists the cards) answer only
// staff screens; a screen elsewhere gets 403, as it may not see the staff
// panel nor act over the websocket.
func TestAPIsOnlyForStaffScreens(t *testing.T) {
	ts, _ := newTestServerWith(t, func(c *Config) {
		c.StaffScreens = []netip.Prefix{netip.MustParsePrefix("192.0.2.64/26")}
	}, peerFromHeader)
	do := func(method, path, peer string) int {
		var body *strings.Reader
		if method == "POST" {
			body = strings.NewReader(`{"reader":"entrance","uid":"2B3C4D5E"}`)
		} else {
			body = strings.NewReader("")
		}
		req, _ := http.NewRequest(method, ts.URL+path, body)
		req.Header.Set("Content-Type", "application/json")
		if peer != "" {
			req.Header.Set("X-Test-Peer", peer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct{ method, path string }{{"GET", "/api/v1/presence"}, {"GET", "/api/v1/sim/cards"}, {"POST", "/api/v1/sim/tap"}} {
		if code := do(c.method, c.path, "192.0.2.10:40000"); code != http.StatusForbidden {
			t.Errorf("%s %s from a screen elsewhere = %d, want 403", c.method, c.path, code)
		}
		if code := do(c.method, c.path, "192.0.2.70:40000"); code == http.StatusForbidden {
			t.Errorf("%s %s from a staff screen = 403", c.method, c.path)
		}
		if code := do(c.method, c.path, ""); code == http.StatusForbidden {
			t.Errorf("%s %s from this machine = 403", c.method, c.path)
		}
	}
	// What the public screen shows anyway stays open to it.
	for _, p := range []string{"/api/v1/status", "/healthz", "/"} {
		if code := do("GET", p, "192.0.2.10:40000"); code != http.StatusOK {
			t.Errorf("GET %s from a screen elsewhere = %d, want 200", p, code)
		}
	}
}
