package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/door/morningtest"
)

// TestMorningGlass is the browser part of the morning model test (issue 14):
// a short seeded sequence of the same simulated people (morningtest) at the
// real kioskd -demo, at 800x480 and at 1280x800. Cards are tapped through
// the sim API (a card at the reader); everything a person does on the
// screen is a touch on the page (children, confirm, cancel, PIN keys,
// lock). After every step the glass must match the model: presence equals
// who is physically in, a result names the children it acted on, and no
// staff-only text is on the glass unless a member of staff is at it.
//
// A websocket observer connected to the daemon reads the decisions the
// page acted on (the model needs them to know what the screen said); the
// glass is judged from the page itself.
//
//	go test ./ui/e2e -run TestMorningGlass -v
//	MORNING_GLASS_SEED=7 MORNING_GLASS_STEPS=20 go test ./ui/e2e -run TestMorningGlass -v
func TestMorningGlass(t *testing.T) {
	s := setup(t)
	seed := uint64(envInt("MORNING_GLASS_SEED", 3))
	steps := envInt("MORNING_GLASS_STEPS", 10)
	for i, size := range [][2]int64{{800, 480}, {1280, 800}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			d := startDaemon(t, s)
			p := openPage(t, s, d)
			p.w, p.h = size[0], size[1]
			p.do(chromedp.EmulateViewport(p.w, p.h, chromedp.EmulateTouch))
			g := newGlass(t, d, p)
			defer g.close()
			cast := morningtest.DemoCast(attendance.DateOf(time.Now()))
			r := morningtest.NewRunner(seed+uint64(i), g, cast, time.Now())
			r.Only = map[string]bool{"drop": true, "pickup": true, "mixed-hurried": true, "mixed-both": true, "double-tap": true,
				"third-party": true, "staff-arrive": true, "panel-left-open": true, "unknown-card": true}
			g.r, g.cast = r, cast
			for n := 0; n < steps; n++ {
				r.Next()
				g.check()
			}
			if len(r.Failures) == 0 {
				return
			}
			p.shots("morning-failure")
			var b strings.Builder
			for _, f := range r.Failures {
				fmt.Fprintf(&b, "%s\n", f)
			}
			msg := fmt.Sprintf("the glass broke the model (seed %d):\n%s\nstep log:\n%s", seed+uint64(i), b.String(), r.StepLog())
			if os.Getenv("MORNING_XFAIL") != "" {
				t.Logf("MORNING_XFAIL set: reporting, not failing\n%s", msg)
				return
			}
			t.Error(msg)
		})
	}
}

func envInt(name string, def int) int {
	var n int
	if _, err := fmt.Sscan(os.Getenv(name), &n); err == nil && n > 0 {
		return n
	}
	return def
}

// glass is the morningtest.Driver of the browser test.
type glass struct {
	t    *testing.T
	d    *daemon
	p    *page
	r    *morningtest.Runner
	cast *morningtest.Cast
	ws   *websocket.Conn
	mu   sync.Mutex
	decs []morningtest.Screen // decisions the screen got, in order
	done chan struct{}
}

func newGlass(t *testing.T, d *daemon, p *page) *glass {
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+d.addr+"/ws", nil)
	if err != nil {
		t.Fatalf("observer: %v", err)
	}
	g := &glass{t: t, d: d, p: p, ws: ws, done: make(chan struct{})}
	go func() {
		defer close(g.done)
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				return
			}
			var m struct {
				Type     string          `json:"type"`
				Decision json.RawMessage `json:"decision"`
			}
			if json.Unmarshal(b, &m) != nil || m.Type != "decision" {
				continue
			}
			if sc, err := morningtest.ParseScreen(m.Decision); err == nil {
				g.mu.Lock()
				g.decs = append(g.decs, sc)
				g.mu.Unlock()
			}
		}
	}()
	return g
}

func (g *glass) close() { g.ws.Close(); <-g.done }

func (g *glass) ndecs() int { g.mu.Lock(); defer g.mu.Unlock(); return len(g.decs) }

// nextDecision waits for a decision after the first `from`.
func (g *glass) nextDecision(from int) (morningtest.Screen, error) {
	deadline := time.Now().Add(8 * time.Second)
	for time.Now().Before(deadline) {
		g.mu.Lock()
		if len(g.decs) > from {
			sc := g.decs[len(g.decs)-1]
			g.mu.Unlock()
			return sc, nil
		}
		g.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	return morningtest.Screen{}, errors.New("no decision reached the screen")
}

func (g *glass) Readers() map[string]attendance.ReaderRole {
	return map[string]attendance.ReaderRole{"entrance": attendance.ReaderBoth}
}

func (g *glass) Tap(reader, uid string) (morningtest.Screen, error) {
	waitDebounce(g.d.lastTap, uid)
	defer func() { g.d.lastTap[uid] = time.Now() }()
	body := fmt.Sprintf(`{"reader":%q,"uid":%q}`, reader, uid)
	resp, err := http.Post(g.d.url()+"/api/v1/sim/tap", "application/json", strings.NewReader(body))
	if err != nil {
		return morningtest.Screen{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return morningtest.Screen{}, fmt.Errorf("tap: %s: %s", resp.Status, b)
	}
	sc, err := morningtest.ParseScreen(b)
	if err != nil {
		return sc, err
	}
	g.waitShown(sc)
	if sc.Outcome == morningtest.OutStaffIn || sc.Outcome == morningtest.OutStaffMenu {
		sc.PINAsked = eval[bool](g.p, `!!document.getElementById("pin-dots")`)
	}
	return sc, nil
}

// waitShown waits until the page shows the decision sc.
func (g *glass) waitShown(sc morningtest.Screen) {
	switch sc.Outcome {
	case morningtest.OutStaffIn, morningtest.OutStaffMenu:
		g.p.waitJS(`!!document.getElementById("staff-lock") || !!document.getElementById("pin-dots")`)
	default:
		g.p.waitJS(fmt.Sprintf(`document.body.dataset.decision === %q`, sc.ID))
	}
	if sc.Committed {
		g.glassNames(sc)
	}
}

// glassNames: a committed result on the glass names every child it acted on.
func (g *glass) glassNames(sc morningtest.Screen) {
	txt := g.p.text()
	for id := range sc.Acted() {
		if c, ok := g.cast.Children[id]; ok && !strings.Contains(txt, c.FirstName) {
			g.r.Fail(morningtest.ItemNames, "the glass does not name %s after %s: %q", c.FirstName, sc.Outcome, txt)
		}
	}
}

// Select touches the children on the choose screen until exactly the
// chosen ones are on, then the confirm button.
func (g *glass) Select(session string, children []string) (morningtest.Screen, error) {
	from := g.ndecs()
	if eval[bool](g.p, `!!document.getElementById("undo-yes")`) {
		// The undo question of one child: "Ja" is the choice of that child.
		g.p.tapEl("#undo-yes")
		sc, err := g.nextDecision(from)
		if err != nil {
			return sc, err
		}
		g.waitShown(sc)
		return sc, nil
	}
	cards := eval[[]string](g.p, `[...document.querySelectorAll(".child-card")].map(b => b.dataset.child + "=" + b.getAttribute("aria-pressed"))`)
	for _, c := range cards {
		id, on, _ := strings.Cut(c, "=")
		if want := slices.Contains(children, id); want != (on == "true") {
			g.p.tapEl(fmt.Sprintf(`.child-card[data-child=%q]`, id))
			g.p.waitJS(fmt.Sprintf(`document.querySelector('.child-card[data-child=%q]').getAttribute("aria-pressed") === %q`, id, fmt.Sprint(want)))
		}
	}
	g.p.tapEl("#choose-confirm")
	sc, err := g.nextDecision(from)
	if err != nil {
		return sc, err
	}
	g.waitShown(sc)
	return sc, nil
}

func (g *glass) Cancel(session string) error {
	if eval[bool](g.p, `!!document.getElementById("undo-no")`) {
		g.p.tapEl("#undo-no")
		g.p.waitJS(`!document.getElementById("undo-no")`)
		return nil
	}
	if eval[bool](g.p, `!!document.getElementById("choose-cancel")`) {
		g.p.tapEl("#choose-cancel")
		g.p.waitJS(`!document.getElementById("choose-cancel")`)
		return nil
	}
	return errors.New("no cancel button on the glass")
}

func (g *glass) PIN(pin string) error {
	for _, k := range pin + "!" {
		key := string(k)
		if k == '!' {
			key = "ok"
		}
		g.p.tapEl(fmt.Sprintf(`[data-key=%q]`, key))
	}
	time.Sleep(300 * time.Millisecond) // the argon2id check
	if eval[bool](g.p, `!!document.getElementById("pin-dots")`) {
		return errors.New("the PIN keypad is still shown")
	}
	return nil
}

var errNotOnGlass = errors.New("not played in the browser test")

func (g *glass) Confirm(morningtest.Confirm) (morningtest.Screen, error) {
	return morningtest.Screen{}, errNotOnGlass
}
func (g *glass) Refuse(string, string) error { return errNotOnGlass }
func (g *glass) StaffOut(bool) (bool, error) { return false, errNotOnGlass }
func (g *glass) Done() []string              { return nil }
func (g *glass) Lock() error {
	if !eval[bool](g.p, `!!document.getElementById("staff-lock")`) {
		return errors.New("no lock button on the glass")
	}
	g.p.tapEl("#staff-lock")
	g.p.waitJS(`!document.getElementById("staff-lock")`)
	return nil
}

// Pass: kioskd runs on real time. Between scenes the unknown card is
// tapped, so the door forgets the previous tap (no two-tap handover pairs
// people of different scenes); short waits are slept.
func (g *glass) Pass(d time.Duration) {
	if d >= 30*time.Second {
		g.d.forget()
		return
	}
	time.Sleep(min(d, 2*time.Second))
}

// check: after a step the glass matches the model.
func (g *glass) check() {
	var pres presence
	g.d.getJSON("/api/v1/presence", &pres)
	var kids []string
	for _, c := range pres.Children {
		kids = append(kids, c.ID)
	}
	sort.Strings(kids)
	if w := g.r.World.Children(); !slices.Equal(kids, w) {
		g.r.Fail(morningtest.ItemPresence, "presence [%s], in the building [%s]", strings.Join(kids, ","), strings.Join(w, ","))
		clear(g.r.World.In)
		for _, k := range kids {
			g.r.World.In[k] = true
		}
	}
	if g.r.PanelAllowed {
		return
	}
	all := eval[string](g.p, `document.body.innerText`)
	if eval[bool](g.p, `!!document.getElementById("staff-body") || !!document.getElementById("staff-lock")`) {
		g.r.Fail(morningtest.ItemPanel, "the staff panel is on the glass after the staff member left it: %.300q", all)
		g.Lock()
		return
	}
	for _, bad := range g.cast.StaffOnly {
		if strings.Contains(all, strings.Trim(bad, `"`)) && len(strings.Trim(bad, `"`)) > 4 {
			g.r.Fail(morningtest.ItemPrivacy, "staff-only text %q on the public glass: %.300q", bad, all)
		}
	}
}
