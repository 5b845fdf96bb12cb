package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// suite is what every test shares: the kioskd binary and one browser.
type suite struct {
	bin     string
	tmp     string
	browser context.Context // a chromedp context whose browser runs
	cancel  []context.CancelFunc
}

var (
	suiteOnce sync.Once
	theSuite  *suite
	suiteErr  error
	suiteSkip string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if theSuite != nil {
		for i := len(theSuite.cancel) - 1; i >= 0; i-- {
			theSuite.cancel[i]()
		}
		os.RemoveAll(theSuite.tmp)
	}
	os.Exit(code)
}

// findBrowser returns the path of Chromium or Chrome, or "".
func findBrowser() string {
	if p := os.Getenv("KIOSK_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// setup returns the shared suite, building kioskd and starting the browser
// on first use. Without a browser it skips the test, or fails it in CI.
func setup(t testing.TB) *suite {
	t.Helper()
	suiteOnce.Do(func() { theSuite, suiteErr = newSuite() })
	if suiteSkip != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("e2e: %s (CI=true: browser tests must run)", suiteSkip)
		}
		t.Skipf("e2e: %s", suiteSkip)
	}
	if suiteErr != nil {
		t.Fatalf("e2e: setup: %v", suiteErr)
	}
	return theSuite
}

func newSuite() (*suite, error) {
	browser := findBrowser()
	if browser == "" {
		suiteSkip = "no chromium, chromium-browser or google-chrome on PATH (apt-get install chromium)"
		return nil, nil
	}
	tmp, err := os.MkdirTemp("", "kiosk-e2e-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	s := &suite{tmp: tmp, bin: filepath.Join(tmp, "kioskd")}
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	build := exec.Command("go", "build", "-o", s.bin, "./cmd/kioskd")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build ./cmd/kioskd: %w\n%s", err, out)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(tmp, "chromium-profile")),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.WindowSize(1280, 800),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	s.cancel = append(s.cancel, acancel, bcancel)
	if err := chromedp.Do(bctx); err != nil { // starts the browser, no timeout
		return s, fmt.Errorf("start %s: %w", browser, err)
	}
	s.browser = bctx
	return s, nil
}

// artefacts is where screenshots go: $KIOSK_ARTEFACTS, else a temp dir.
func artefacts(t testing.TB) string {
	if d := os.Getenv("KIOSK_ARTEFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatalf("artefacts dir: %v", err)
		}
		return d
	}
	return t.TempDir()
}

// ---------- the daemon ----------

type daemon struct {
	t      testing.TB
	bin    string
	addr   string
	data   string
	config string
	extra  []string // more kioskd flags (withArgs)
	cmd    *exec.Cmd
	exited chan struct{}
	// lastTap is when each card last left the reader: the simulated
	// MFRC522 reader, like the real one, takes the same card back within
	// its debounce (500 ms) as the same tap.
	lastTap map[string]time.Time
	logMu   sync.Mutex
	log     bytes.Buffer
}

type daemonOption func(*daemon)

// withArgs starts kioskd with more flags, e.g. -central URL.
func withArgs(args ...string) daemonOption {
	return func(k *daemon) { k.extra = append(k.extra, args...) }
}

// withStaffLock starts kioskd with a config whose staff session locks after d.
func withStaffLock(d time.Duration) daemonOption {
	return func(k *daemon) {
		k.config = filepath.Join(k.data, "..", filepath.Base(k.data)+"-kioskd.json")
		b, _ := json.Marshal(map[string]any{"staff_lock_after": d.String()})
		if err := os.WriteFile(k.config, b, 0o600); err != nil {
			k.t.Fatalf("write config: %v", err)
		}
	}
}

func freePort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// startDaemon starts kioskd -demo on a free loopback port with a fresh data
// directory and waits until /healthz answers.
func startDaemon(t testing.TB, s *suite, opts ...daemonOption) *daemon {
	t.Helper()
	dir := t.TempDir()
	d := &daemon{t: t, bin: s.bin, addr: freePort(t), data: filepath.Join(dir, "data"), lastTap: map[string]time.Time{}}
	for _, o := range opts {
		o(d)
	}
	if err := d.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.stop)
	return d
}

func (d *daemon) url() string { return "http://" + d.addr }

func (d *daemon) Write(p []byte) (int, error) {
	d.logMu.Lock()
	defer d.logMu.Unlock()
	return d.log.Write(p)
}

func (d *daemon) logs() string {
	d.logMu.Lock()
	defer d.logMu.Unlock()
	return d.log.String()
}

func (d *daemon) start() error {
	args := []string{"-demo", "-listen", d.addr, "-data", d.data, "-log-level", "warn"}
	if d.config != "" {
		args = append(args, "-config", d.config)
	}
	args = append(args, d.extra...)
	cmd := exec.Command(d.bin, args...)
	cmd.Stdout, cmd.Stderr = d, d
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start kioskd: %w", err)
	}
	d.cmd = cmd
	d.exited = make(chan struct{})
	go func() { cmd.Wait(); close(d.exited) }()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-d.exited:
			return fmt.Errorf("kioskd exited before it was healthy:\n%s", d.logs())
		default:
		}
		resp, err := http.Get(d.url() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(30 * time.Millisecond)
	}
	d.kill()
	return fmt.Errorf("kioskd not healthy on %s within 15s:\n%s", d.addr, d.logs())
}

// kill stops kioskd hard (SIGKILL), like a power cut of the process.
func (d *daemon) kill() {
	if d.cmd == nil {
		return
	}
	d.cmd.Process.Kill()
	<-d.exited
	d.cmd = nil
}

// stop ends kioskd with SIGTERM (and SIGKILL after 5 s).
func (d *daemon) stop() {
	if d.cmd == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(5 * time.Second):
		d.cmd.Process.Kill()
		<-d.exited
	}
	d.cmd = nil
}

// view is the public decision JSON (the websocket "decision" payload).
type view struct {
	ID       string `json:"id"`
	Outcome  string `json:"outcome"`
	Reason   string `json:"reason"`
	Session  string `json:"session"`
	Actor    struct{ Role, Name string }
	Children []struct {
		ID, Name, Action  string
		Selected, Present bool
	}
	Committed bool `json:"committed"`
}

// tap holds a demo card to the entrance reader and returns the decision.
func (d *daemon) tap(uid string) view {
	d.t.Helper()
	waitDebounce(d.lastTap, uid)
	defer func() { d.lastTap[uid] = time.Now() }()
	body := fmt.Sprintf(`{"reader":"entrance","uid":%q}`, uid)
	resp, err := http.Post(d.url()+"/api/v1/sim/tap", "application/json", strings.NewReader(body))
	if err != nil {
		d.t.Fatalf("tap %s: %v", uid, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		d.t.Fatalf("tap %s: %s: %s", uid, resp.Status, b)
	}
	var v view
	if err := json.Unmarshal(b, &v); err != nil {
		d.t.Fatalf("tap %s: %v: %s", uid, err, b)
	}
	return v
}

// readerDebounce is a little over the reader's default debounce.
const readerDebounce = 600 * time.Millisecond

// waitDebounce waits until the card uid may be tapped again as a new tap.
// It is a wait on the reader's physical rule, not on a condition the page
// could report.
func waitDebounce(last map[string]time.Time, uid string) {
	if at, ok := last[uid]; ok {
		if rest := readerDebounce - time.Since(at); rest > 0 {
			time.Sleep(rest)
		}
	}
}

// forget taps the unknown demo card: the door then no longer remembers
// the previous tap, so a child's next tap is not "already done" (the
// handover window is 30 s) and no two-tap handover pairs across it.
func (d *daemon) forget() {
	d.t.Helper()
	if v := d.tap(d.uid("onbekende")); v.Outcome != "denied" {
		d.t.Fatalf("unknown card: outcome %q, want denied", v.Outcome)
	}
}

// card is one entry of GET /api/v1/sim/cards.
type card struct {
	UID      string   `json:"uid"`
	Holder   string   `json:"holder"`
	Role     string   `json:"role"`
	Children []string `json:"children"`
	Note     string   `json:"note"`
	Reader   string   `json:"reader"`
}

func (d *daemon) cards() []card {
	d.t.Helper()
	var cs []card
	d.getJSON("/api/v1/sim/cards", &cs)
	return cs
}

// uid finds the demo card whose holder starts with holder.
func (d *daemon) uid(holder string) string {
	d.t.Helper()
	for _, c := range d.cards() {
		if strings.HasPrefix(c.Holder, holder) {
			return c.UID
		}
	}
	d.t.Fatalf("no demo card for %q", holder)
	return ""
}

type presence struct {
	Children []struct{ ID, Name string } `json:"children"`
	Staff    []struct{ ID, Name string } `json:"staff"`
}

func (d *daemon) present(childID string) bool {
	d.t.Helper()
	var p presence
	d.getJSON("/api/v1/presence", &p)
	for _, c := range p.Children {
		if c.ID == childID {
			return true
		}
	}
	return false
}

func (d *daemon) getJSON(path string, v any) {
	d.t.Helper()
	resp, err := http.Get(d.url() + path)
	if err != nil {
		d.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		d.t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		d.t.Fatalf("GET %s: %v", path, err)
	}
}

// ---------- the page ----------

type page struct {
	t   testing.TB
	ctx context.Context
	d   *daemon
	art string
	w   int64
	h   int64
}

// openPage opens the kiosk page of d in a new tab of the shared browser at
// 800x480 with touch emulation and waits for the first snapshot.
func openPage(t testing.TB, s *suite, d *daemon) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(s.browser)
	t.Cleanup(cancel)
	// The first Run on the tab's context opens the tab and binds it to that
	// context: it must have no timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	p := &page{t: t, ctx: ctx, d: d, art: artefacts(t), w: 800, h: 480}
	p.do(chromedp.EmulateViewport(p.w, p.h, chromedp.EmulateTouch), chromedp.Navigate(d.url()+"/"))
	p.waitJS(`document.body.dataset.conn === "up" && document.body.dataset.screen === "idle"`)
	return p
}

const waitTimeout = 8 * time.Second

func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("browser: %v\nscreen: %s", err, p.describe())
	}
}

// eval evaluates a JavaScript expression and decodes its value.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("evaluate %q: %v", expr, err)
	}
	return v
}

// waitJS waits until the expression is truthy.
func (p *page) waitJS(expr string) {
	p.t.Helper()
	p.waitJSFor(expr, waitTimeout)
}

func (p *page) waitJSFor(expr string, d time.Duration) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, d+2*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(d)))
	if err != nil {
		p.t.Fatalf("waiting for %s: %v\nscreen: %s", expr, err, p.describe())
	}
}

// waitScreen waits until the page shows the named screen (and, when id is
// set, the decision with that id).
func (p *page) waitScreen(name, id string) {
	p.t.Helper()
	expr := fmt.Sprintf(`document.body.dataset.screen === %q`, name)
	if id != "" {
		expr += fmt.Sprintf(` && document.body.dataset.decision === %q`, id)
	}
	p.waitJS(expr)
}

func (p *page) describe() string {
	ctx, cancel := context.WithTimeout(p.ctx, 3*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.screen + " | " + document.getElementById("screen").innerText.replace(/\s+/g, " ").slice(0, 400)`))
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return s
}

// text is the visible text of the screen, whitespace collapsed.
func (p *page) text() string {
	p.t.Helper()
	return eval[string](p, `document.getElementById("screen").innerText.replace(/\s+/g, " ").trim()`)
}

// tapEl taps (touch) the first element matching the CSS selector.
//
// A tap is two protocol steps (find the node, touch its centre); when the
// page re-renders in between, the node is gone and the tap is retried on
// the new one.
func (p *page) tapEl(sel string) {
	p.t.Helper()
	var err error
	for try := 0; try < 5; try++ {
		ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
		err = chromedp.Do(ctx, chromedp.Tap(chromedp.CSS(sel)))
		cancel()
		if err == nil || !strings.Contains(err.Error(), "Could not find node") && !strings.Contains(err.Error(), "not visible") {
			break
		}
	}
	if err != nil {
		p.t.Fatalf("tap %s: %v\nscreen: %s", sel, err, p.describe())
	}
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`)

// shots checks the layout and saves a screenshot at 800x480 and 1280x800,
// then returns to the page's size.
func (p *page) shots(name string) {
	p.t.Helper()
	for _, size := range [][2]int64{{800, 480}, {1280, 800}} {
		p.do(chromedp.EmulateViewport(size[0], size[1], chromedp.EmulateTouch))
		// Two frames: the new size is laid out.
		eval[bool](p, `new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`)
		if bad := eval[[]string](p, layoutJS); len(bad) > 0 {
			p.t.Errorf("%s at %dx%d: layout problems:\n  %s", name, size[0], size[1], strings.Join(bad, "\n  "))
		}
		ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		cancel()
		if err != nil {
			p.t.Fatalf("screenshot %s: %v", name, err)
		}
		file := filepath.Join(p.art, fmt.Sprintf("%s-%s-%dx%d.png", unsafeName.ReplaceAllString(p.t.Name(), "_"), name, size[0], size[1]))
		if err := os.WriteFile(file, png, 0o644); err != nil {
			p.t.Fatalf("save screenshot: %v", err)
		}
		p.t.Logf("screenshot: %s", file)
	}
	p.do(chromedp.EmulateViewport(p.w, p.h, chromedp.EmulateTouch))
}

// layoutJS lists what is wrong with the layout of the current screen: the
// page scrolls, the screen clips its content, an element lies outside the
// viewport, or a touch target is under 48 px. Scrolling lists inside the
// staff panel and dialogs are allowed.
const layoutJS = `(() => {
  const W = innerWidth, H = innerHeight, bad = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "") + " '" + (el.innerText || "").replace(/\s+/g, " ").slice(0, 30) + "'";
  const se = document.scrollingElement;
  if (se.scrollHeight > H + 1 || se.scrollWidth > W + 1) bad.push("page scrolls: " + se.scrollWidth + "x" + se.scrollHeight);
  const scr = document.querySelector("#screen > .screen");
  if (scr && (scr.scrollHeight > scr.clientHeight + 1 || scr.scrollWidth > scr.clientWidth + 1))
    bad.push("screen clips its content: " + scr.scrollWidth + "x" + scr.scrollHeight + " in " + scr.clientWidth + "x" + scr.clientHeight);
  for (const el of document.querySelectorAll("#screen *, #lang, #demo-open")) {
    if (el.closest(".staff-body, .sheet, svg")) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right > W + 1 || r.bottom > H + 1 || r.left < -1 || r.top < -1) bad.push(name(el) + " outside the viewport");
    const cs = getComputedStyle(el);
    if (el.scrollWidth > el.clientWidth + 2 && cs.overflowX === "hidden" && cs.textOverflow !== "ellipsis") bad.push(name(el) + " clips text");
  }
  for (const el of document.querySelectorAll("button, [role=tab]")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || el.closest("[hidden]")) continue;
    if (r.bottom < 0 || r.top > H) continue;
    if (r.width < 47.5 || r.height < 47.5) bad.push(name(el) + " is " + Math.round(r.width) + "x" + Math.round(r.height) + ", under 48 px");
    if (el.scrollWidth > el.clientWidth + 1) bad.push(name(el) + " label overflows the button");
  }
  return bad;
})()`

// errContains reports whether s contains any of words (case-insensitive).
func containsAny(s string, words []string) string {
	ls := strings.ToLower(s)
	for _, w := range words {
		if w != "" && strings.Contains(ls, strings.ToLower(w)) {
			return w
		}
	}
	return ""
}

var regexpClock = regexp.MustCompile(`^\d{2}:\d{2}$`)
