package ui

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/door"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/store"
	"github.com/kinderdeur/kiosk/hw"
	"github.com/kinderdeur/kiosk/hw/simreader"
)

type testClock struct{}

func (testClock) Now() time.Time { return time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC) } // a Monday, 09:30 in Amsterdam
func (testClock) MonoNS() int64  { return 1 }
func (testClock) BootID() string { return "boot" }
func (testClock) Synced() bool   { return true }

type sims map[string]*simreader.Reader

func (s sims) Present(reader string, uid []byte) error { return s[reader].Present(uid) }
func (s sims) Remove(reader string)                    { s[reader].Remove() }

// newTestServer runs the real door over a real store and a simulated
// MFRC522 reader, like kioskd -demo.
func newTestServer(t testing.TB) (*httptest.Server, *door.Service) {
	t.Helper()
	return newTestServerWith(t, nil, nil)
}

// newTestServerWith is newTestServer with the server's Config changed by
// tweak and its handler wrapped by wrap (either may be nil).
func newTestServerWith(t testing.TB, tweak func(*Config), wrap func(http.Handler) http.Handler) (*httptest.Server, *door.Service) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "kiosk.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r, cards := roster.Demo(attendance.DateOf(testClock{}.Now()))
	if err := st.ApplyRoster(ctx, r); err != nil {
		t.Fatal(err)
	}
	d, err := door.New(ctx, door.Config{Store: st, Key: roster.DemoBadgeKey, Clock: testClock{},
		Readers: map[string]attendance.ReaderRole{"entrance": attendance.ReaderBoth}})
	if err != nil {
		t.Fatal(err)
	}
	reader := simreader.New("entrance") // the production poll interval (rc522.DefaultPollInterval)
	taps := make(chan hw.Tap)
	done := make(chan struct{}, 3)
	go func() { reader.Run(ctx, taps); done <- struct{}{} }()
	go func() {
		defer func() { done <- struct{}{} }()
		for {
			select {
			case <-ctx.Done():
				return
			case tp := <-taps:
				d.Tap(ctx, tp.Reader, tp.UID)
			}
		}
	}()
	cfg := Config{Door: d, Sim: sims{"entrance": reader}, Cards: cards, Readers: []string{"entrance"},
		Health: func(context.Context) (bool, map[string]any) { return reader.Health().OK, map[string]any{} }}
	if tweak != nil {
		tweak(&cfg)
	}
	srv := New(cfg)
	go func() { srv.Run(ctx); done <- struct{}{} }()
	h := srv.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(func() {
		ts.Close()
		cancel()
		for range 3 {
			<-done
		}
		st.Close()
	})
	return ts, d
}

func post(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestSimTap(t *testing.T) {
	ts, _ := newTestServer(t)
	for _, tt := range []struct {
		name, body  string
		code        int
		outcome     string
		errContains string
	}{
		{"one child checks in", `{"reader":"entrance","uid":"2B3C4D5E"}`, 200, "check_in", ""},
		{"then checks out", `{"reader":"entrance","uid":"2B3C4D5E"}`, 200, "check_out", ""},
		{"uid with colons", `{"reader":"entrance","uid":"2b:3c:4d:5e"}`, 200, "check_in", ""},
		{"two children: choose", `{"reader":"entrance","uid":"3A5F19C2"}`, 200, "choose_children", ""},
		{"staff clocks in", `{"reader":"entrance","uid":"E1A20B3C"}`, 200, "staff_in", ""},
		{"unknown card", `{"reader":"entrance","uid":"A1B2C3D4"}`, 200, "denied", ""},
		{"contact ban is neutral", `{"reader":"entrance","uid":"7E915D06"}`, 200, "denied", ""},
		{"bad json", `{"reader":`, 400, "", "bad JSON"},
		{"unknown field", `{"reader":"entrance","uid":"2B3C4D5E","x":1}`, 400, "", "unknown field"},
		{"trailing data", `{"reader":"entrance","uid":"2B3C4D5E"} {}`, 400, "", "trailing"},
		{"bad uid", `{"reader":"entrance","uid":"xyz"}`, 400, "", "not hex"},
		{"bad uid length", `{"reader":"entrance","uid":"0102"}`, 400, "", "want 4, 7 or 10"},
		{"unknown reader", `{"reader":"back door","uid":"2B3C4D5E"}`, 404, "", `unknown reader "back door"`},
		{"too large", `{"reader":"` + strings.Repeat("x", 5000) + `"}`, 413, "", "over"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, m := post(t, ts.URL+"/api/v1/sim/tap", tt.body)
			if code != tt.code {
				t.Fatalf("status %d, want %d (%v)", code, tt.code, m)
			}
			if tt.outcome != "" && m["outcome"] != tt.outcome {
				t.Errorf("outcome %v, want %s (%v)", m["outcome"], tt.outcome, m)
			}
			if tt.errContains != "" && !strings.Contains(m["error"].(string), tt.errContains) {
				t.Errorf("error %q lacks %q", m["error"], tt.errContains)
			}
		})
	}
	// The contact ban's public answer names nobody and says nothing of the ban.
	_, m := post(t, ts.URL+"/api/v1/sim/tap", `{"reader":"entrance","uid":"7E915D06"}`)
	b, _ := json.Marshal(m)
	for _, secret := range []string{"contact", "Contactverbod", "Tom", "Julia", "Lucas"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("public answer to a banned person contains %q: %s", secret, b)
		}
	}
}

func TestPresenceAndHealth(t *testing.T) {
	ts, _ := newTestServer(t)
	post(t, ts.URL+"/api/v1/sim/tap", `{"reader":"entrance","uid":"2B3C4D5E"}`) // Zoë in
	post(t, ts.URL+"/api/v1/sim/tap", `{"reader":"entrance","uid":"E2B31C4D"}`) // Ahmed in
	resp, err := http.Get(ts.URL + "/api/v1/presence")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p Presence
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	if len(p.Children) != 1 || p.Children[0].Name != "Zoë" || p.Children[0].Group != "Vlinders" || p.Children[0].Since.IsZero() {
		t.Errorf("children present = %+v", p.Children)
	}
	if len(p.Staff) != 1 || p.Staff[0].Name != "Ahmed" {
		t.Errorf("staff present = %+v", p.Staff)
	}
	for _, g := range p.Groups {
		if g.GroupID == "g-vlinders" && (g.Children != 1 || g.Staff != 1 || g.Required != 1 || !g.OK) {
			t.Errorf("Vlinders = %+v", g)
		}
	}
	h, err := http.Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	h.Body.Close()
	if h.StatusCode != 200 {
		t.Errorf("healthz = %d", h.StatusCode)
	}
}

func TestSimCardsListsDemoCards(t *testing.T) {
	ts, _ := newTestServer(t)
	resp, err := http.Get(ts.URL + "/api/v1/sim/cards")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var cards []struct{ UID, Holder, Role, Reader string }
	if err := json.NewDecoder(resp.Body).Decode(&cards); err != nil {
		t.Fatal(err)
	}
	roles := map[string]int{}
	for _, c := range cards {
		roles[c.Role]++
		if c.UID == "" || c.Holder == "" || c.Reader != "entrance" {
			t.Errorf("card %+v incomplete", c)
		}
	}
	for _, r := range []string{"guardian", "pickup", "staff", "child"} {
		if roles[r] == 0 {
			t.Errorf("no %s card in %v", r, roles)
		}
	}
}

func TestNoSimEndpointsWithoutSimulator(t *testing.T) {
	srv := New(Config{})
	for _, path := range []string{"/api/v1/sim/cards"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", path, nil)
		req.Host = "localhost"
		srv.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s without simulated readers = %d, want 404", path, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/sim/tap", strings.NewReader(`{}`)))
	if rec.Code == http.StatusOK {
		t.Errorf("POST /api/v1/sim/tap without simulated readers = %d", rec.Code)
	}
}

func dial(t *testing.T, ts *httptest.Server, origin string) (*websocket.Conn, *http.Response, error) {
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	return websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/ws", h)
}

func readMsg(t *testing.T, c *websocket.Conn, typ string) map[string]any {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	for {
		var m map[string]any
		if err := c.ReadJSON(&m); err != nil {
			t.Fatalf("waiting for %s: %v", typ, err)
		}
		if m["type"] == typ {
			return m
		}
	}
}

func TestWebsocketSnapshotDecisionAndChoice(t *testing.T) {
	ts, _ := newTestServer(t)
	c, _, err := dial(t, ts, ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	snap := readMsg(t, c, "snapshot")
	if snap["v"] != float64(1) || snap["location"] != "Kindercentrum De Regenboog" || snap["demo"] != true {
		t.Errorf("snapshot = %v", snap)
	}
	_, m := post(t, ts.URL+"/api/v1/sim/tap", `{"reader":"entrance","uid":"3A5F19C2"}`)
	dec := readMsg(t, c, "decision")["decision"].(map[string]any)
	if dec["outcome"] != "choose_children" || dec["session"] != m["session"] {
		t.Fatalf("decision on ws = %v, http answer %v", dec, m)
	}
	// Keep only Julia.
	c.WriteJSON(map[string]any{"v": 1, "type": "select", "session": dec["session"], "children": []string{"c-julia"}})
	got := readMsg(t, c, "decision")["decision"].(map[string]any)
	if got["outcome"] != "check_in" || got["committed"] != true {
		t.Fatalf("after select = %v", got)
	}
	// A bad intent gets an error message, not a dropped connection.
	c.WriteJSON(map[string]any{"v": 1, "type": "select", "session": "s-nope", "children": []string{"c-julia"}})
	if e := readMsg(t, c, "error"); !strings.Contains(e["error"].(string), "no such session") {
		t.Errorf("error = %v", e)
	}
	c.WriteMessage(websocket.TextMessage, []byte(`{not json`))
	if e := readMsg(t, c, "error"); e["error"] != "bad JSON" {
		t.Errorf("error = %v", e)
	}
}

func TestWebsocketRefusesForeignOriginAndHugeMessages(t *testing.T) {
	ts, _ := newTestServer(t)
	if _, resp, err := dial(t, ts, "http://evil.example"); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("foreign origin: err=%v", err)
	}
	c, _, err := dial(t, ts, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	readMsg(t, c, "snapshot")
	c.WriteMessage(websocket.TextMessage, []byte(`{"v":1,"type":"activity","reason":"`+strings.Repeat("x", 10000)+`"}`))
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			return // closed by the server: good
		}
	}
}

func FuzzParseIntent(f *testing.F) {
	f.Add([]byte(`{"v":1,"type":"select","session":"s-1","children":["c-1"]}`))
	f.Add([]byte(`{"v":1,"type":"pin","pin":"1234"}`))
	f.Add([]byte(`{"v":2,"type":"lock"}`))
	f.Add([]byte(`{"v":1,"type":"manual","action":"check_in","child_id":"c"}`))
	f.Add([]byte(`{"v":1,"type":"resync"}`))
	f.Add([]byte(`{"v":1e999,"type":"lock"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := ParseIntent(b)
		if err != nil {
			return
		}
		if in.V != 1 || in.Type == "" || len(in.Reason) > 500 {
			t.Errorf("accepted invalid intent %+v", in)
		}
	})
}
