package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/store"
)

// Hostile roster names: each would run script (setting window.__xss) or
// change the page if the screen ever parsed a roster string as HTML. The
// guardian's payload has no space because public screens show only the
// first word of a person's name (attendance/door firstName); "/" separates
// attributes in an HTML tag just as a space does.
const (
	xssLocation = `De Regenboog <img src=x onerror="window.__xss=9">`
	xssZoe      = `<img src=x onerror="window.__xss=1">`
	xssMila     = `<script>window.__xss=2</script>`
	xssDaan     = `"><svg onload=window.__xss=3>`
	xssYoussef  = `<b/onmouseover=window.__xss=4>Mo</b>`
	xssLotte    = `<iframe src=javascript:window.__xss=5>`
	xssAlert    = `<img src=x onerror=window.__xss=6>`
	xssRupsen   = `<style>body{display:none}</style>`
	xssHenk     = `<a href="javascript:window.__xss=7">Henk</a>`
	xssRelation = `opa<svg><script>window.__xss=8</script></svg>`
)

// hostileRoster is the demo roster with the names above: Youssef (one
// child, Zoë) checks in directly, Fatima's Mila and Daan make a choice,
// Henk is a pickup person staff must confirm, Lotte opens the staff panel.
func hostileRoster(t testing.TB) (roster.Roster, map[string]string) {
	t.Helper()
	r, cards := roster.Demo(attendance.DateOf(time.Now()))
	r.Location.Name = xssLocation
	for i := range r.Groups {
		if r.Groups[i].ID == "g-rupsen" {
			r.Groups[i].Name = xssRupsen
		}
	}
	for i := range r.Children {
		switch r.Children[i].ID {
		case "c-zoe":
			r.Children[i].FirstName = xssZoe
		case "c-mila":
			r.Children[i].FirstName = xssMila
			r.Children[i].StaffAlert = xssAlert
		case "c-daan":
			r.Children[i].FirstName = xssDaan
		}
	}
	for i := range r.People {
		switch r.People[i].ID {
		case "p-youssef":
			r.People[i].Name = xssYoussef
		case "p-henk":
			r.People[i].Name = xssHenk
			r.People[i].Relation = xssRelation
		}
	}
	for i := range r.Staff {
		if r.Staff[i].ID == "s-lotte" {
			r.Staff[i].Name = xssLotte
		}
	}
	// The cards keep their UIDs; find them by the demo holder's name.
	uids := map[string]string{}
	for _, c := range cards {
		uids[strings.Fields(c.Holder)[0]] = c.UID
	}
	for _, who := range []string{"Youssef", "Fatima", "Henk", "Lotte", "onbekende"} {
		if uids[who] == "" {
			t.Fatalf("demo roster has no card for %s", who)
		}
	}
	return r, uids
}

// startSeededDaemon starts kioskd WITHOUT -demo, as a real kiosk runs: its
// data directory is seeded with the roster r and the demo badge key (the
// demo cards' hashes use it), and its config has one simulated reader
// "entrance" without debounce, so POST /api/v1/sim/tap works.
func startSeededDaemon(t testing.TB, s *suite, r roster.Roster) *daemon {
	t.Helper()
	dir := t.TempDir()
	d := &daemon{t: t, bin: s.bin, addr: freePort(t), data: filepath.Join(dir, "data"), lastTap: map[string]time.Time{}}
	ctx := context.Background()
	st, err := store.Open(filepath.Join(d.data, "kiosk.db"))
	if err != nil {
		t.Fatalf("seed store: %v", err)
	}
	if err := st.ApplyRoster(ctx, r); err != nil {
		st.Close()
		t.Fatalf("seed roster: %v", err)
	}
	if err := st.SetMeta(ctx, "badge_key", roster.DemoBadgeKey.String()); err != nil {
		st.Close()
		t.Fatalf("seed badge key: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("seed store: close: %v", err)
	}
	d.config = filepath.Join(dir, "kioskd.json")
	cfg := fmt.Sprintf(`{"listen":%q,"data_dir":%q,"log_level":"warn","readers":[{"name":"entrance","kind":"sim","role":"both","debounce":"0s"}]}`, d.addr, d.data)
	if err := os.WriteFile(d.config, []byte(cfg), 0o600); err != nil {
		t.Fatalf("write config: %v", err)
	}
	cmd := exec.Command(d.bin, "-allow-sim-readers", "-config", d.config)
	cmd.Stdout, cmd.Stderr = d, d
	if err := cmd.Start(); err != nil {
		t.Fatalf("start kioskd: %v", err)
	}
	d.cmd = cmd
	d.exited = make(chan struct{})
	go func() { cmd.Wait(); close(d.exited) }()
	t.Cleanup(d.stop)
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-d.exited:
			d.cmd = nil
			t.Fatalf("kioskd exited before it was healthy:\n%s", d.logs())
		default:
		}
		resp, err := http.Get(d.url() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("kioskd not healthy on %s within 15s:\n%s", d.addr, d.logs())
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// openPageNoCSP opens the kiosk page like openPage, but with the page's
// Content-Security-Policy switched off in the browser. The CSP forbids
// inline script, so with it an injected onerror= would never run and
// window.__xss could not reveal an injection: the rendering itself must be
// safe, and the CSP is a second, separate line of defence (checked on the
// HTTP answer).
func openPageNoCSP(t testing.TB, s *suite, d *daemon) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(s.browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // opens the tab: no timeout
		t.Fatalf("open tab: %v", err)
	}
	cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
	_, err := chromedp.Call(cctx, cdppage.SetBypassCSP, cdppage.SetBypassCSPParams{Enabled: true})
	ccancel()
	if err != nil {
		t.Fatalf("Page.setBypassCSP: %v", err)
	}
	p := &page{t: t, ctx: ctx, d: d, art: artefacts(t), w: 800, h: 480}
	p.do(chromedp.EmulateViewport(p.w, p.h, chromedp.EmulateTouch), chromedp.Navigate(d.url()+"/"))
	p.waitJS(`document.body.dataset.conn === "up" && document.body.dataset.screen === "idle"`)
	return p
}

// injectionJS lists the signs of markup from the roster in the DOM:
// script that ran, an element the app never makes, an event-handler or
// javascript: attribute, a hidden body. The app's own markup is a module
// <script src="app.js"> and a stylesheet <link> in <head>, and in <body>
// only HTML elements without event attributes plus <svg class="icon">
// (ui/web/index.html, app.js).
const injectionJS = `(() => {
  const bad = [];
  if (typeof window.__xss !== "undefined") bad.push("script ran: window.__xss = " + String(window.__xss));
  for (const el of document.body.querySelectorAll("img, script, iframe, style, object, embed, link, meta, a, svg:not(.icon), math"))
    bad.push("foreign element in body: " + el.outerHTML.slice(0, 100));
  for (const el of document.head.querySelectorAll("script:not([src]), style, iframe, img"))
    bad.push("foreign element in head: " + el.outerHTML.slice(0, 100));
  for (const el of document.querySelectorAll("*")) {
    for (const a of el.attributes) {
      if (/^on/i.test(a.name)) bad.push("event attribute " + a.name + " on <" + el.tagName.toLowerCase() + ">");
      if (/^\s*javascript:/i.test(a.value)) bad.push("javascript: URL in " + a.name + " on <" + el.tagName.toLowerCase() + ">");
      if ((a.name === "src" || a.name === "href") && a.value === "x") bad.push(a.name + "=x on <" + el.tagName.toLowerCase() + ">");
    }
  }
  if (getComputedStyle(document.body).display === "none") bad.push("body is display:none");
  return bad;
})()`

// assertClean fails the test when the screen shows signs of injection or
// does not show every string of want literally.
func assertClean(t *testing.T, p *page, screen string, want ...string) {
	t.Helper()
	// Let an injected <img src=x> fail to load and its onerror run: one
	// round trip for the image request after two frames.
	eval[bool](p, `new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(() => r(true), 100))))`)
	if bad := eval[[]string](p, injectionJS); len(bad) > 0 {
		t.Errorf("%s: roster markup reached the DOM:\n  %s", screen, strings.Join(bad, "\n  "))
	}
	text := eval[string](p, `document.getElementById("screen").textContent`)
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s: the text %q is not shown literally; screen text: %q", screen, w, text)
		}
	}
}

// snap saves a screenshot of the page at its size for a reviewer. Unlike
// page.shots it does not check the layout: long names without a break
// point overflow some screens, which is a layout matter, not an injection.
func snap(t *testing.T, p *page, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	cancel()
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	file := filepath.Join(p.art, unsafeName.ReplaceAllString(t.Name(), "_")+"-"+name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatalf("save screenshot: %v", err)
	}
	t.Logf("screenshot: %s", file)
}

// TestInjectionKioskScreens: roster names full of HTML and script, from a
// central that was compromised or careless, are shown on the touch screen
// as text: on the idle screen, a direct check-in, a choice between two
// children, and the staff panel (header, groups, staff present, present
// children with their staff alert, the pickup request and its list).
func TestInjectionKioskScreens(t *testing.T) {
	s := setup(t)
	r, uid := hostileRoster(t)
	d := startSeededDaemon(t, s, r)

	t.Run("CSP header", func(t *testing.T) {
		for _, path := range []string{"/", "/app.js"} {
			resp, err := http.Get(d.url() + path)
			if err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
			resp.Body.Close()
			csp := resp.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "default-src 'self'") {
				t.Errorf("GET %s: Content-Security-Policy %q lacks default-src 'self'", path, csp)
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("GET %s: Content-Security-Policy %q allows inline script or eval", path, csp)
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("GET %s: X-Content-Type-Options %q, want nosniff", path, got)
			}
		}
	})

	p := openPageNoCSP(t, s, d)

	// The detector works: with the CSP bypassed, markup parsed as HTML runs
	// its handler and injectionJS sees it.
	t.Run("detector", func(t *testing.T) {
		p.t = t
		eval[bool](p, `(() => { const c = document.createElement("div"); c.id = "canary"; c.innerHTML = '<img src=x onerror="window.__canary = 1">'; document.body.append(c); return true; })()`)
		p.waitJS(`window.__canary === 1`)
		if bad := eval[[]string](p, injectionJS); len(bad) == 0 {
			t.Error("injectionJS did not see the canary <img src=x onerror>")
		}
		eval[bool](p, `(document.getElementById("canary").remove(), delete window.__canary, true)`)
		if bad := eval[[]string](p, injectionJS); len(bad) > 0 {
			t.Fatalf("after the canary is gone: %v", bad)
		}
	})

	t.Run("idle", func(t *testing.T) {
		p.t = t
		assertClean(t, p, "idle", xssLocation)
	})

	t.Run("check-in", func(t *testing.T) {
		p.t = t
		v := d.tap(uid["Youssef"])
		if v.Outcome != "check_in" {
			t.Fatalf("Youssef: outcome %q, want check_in", v.Outcome)
		}
		p.waitScreen("ok", v.ID)
		assertClean(t, p, "check-in", xssZoe, xssYoussef)
		snap(t, p, "check-in")
	})

	t.Run("choice", func(t *testing.T) {
		p.t = t
		v := d.tap(uid["Fatima"])
		if v.Outcome != "choose_children" {
			t.Fatalf("Fatima: outcome %q, want choose_children", v.Outcome)
		}
		p.waitScreen("choose", v.ID)
		assertClean(t, p, "choice", xssMila, xssDaan)
		snap(t, p, "choice")
		p.tapEl("#choose-confirm")
		p.waitScreen("ok", "")
		assertClean(t, p, "choice confirmed", xssMila, xssDaan)
		if !d.present("c-mila") || !d.present("c-daan") {
			t.Fatal("Mila and Daan not checked in")
		}
	})

	t.Run("needs staff", func(t *testing.T) {
		p.t = t
		if v := d.tap(uid["onbekende"]); v.Outcome != "denied" { // the door forgets Fatima's tap
			t.Fatalf("unknown card: outcome %q, want denied", v.Outcome)
		}
		v := d.tap(uid["Henk"]) // announced for Mila yesterday, not today
		if v.Outcome != "needs_staff" {
			t.Fatalf("Henk: outcome %q reason %q, want needs_staff", v.Outcome, v.Reason)
		}
		p.waitScreen("needs_staff", v.ID)
		assertClean(t, p, "needs staff")
	})

	t.Run("staff panel", func(t *testing.T) {
		p.t = t
		if v := d.tap(uid["Lotte"]); v.Outcome != "staff_in" {
			t.Fatalf("Lotte: outcome %q, want staff_in", v.Outcome)
		}
		p.waitScreen("staff", "")
		p.waitJS(`document.getElementById("request") !== null`) // Henk's request opens at once
		assertClean(t, p, "staff request", xssLotte, xssHenk, xssRelation, xssMila, xssAlert)
		snap(t, p, "staff-request")

		p.tapEl(`.tab[data-tab="requests"]`)
		p.waitJS(`document.getElementById("requests") !== null`)
		assertClean(t, p, "staff requests", xssLotte, xssHenk, xssMila)

		p.tapEl(`.tab[data-tab="overview"]`)
		p.waitJS(`document.querySelector('.group-card[data-group="g-rupsen"]') !== null`)
		assertClean(t, p, "staff overview", xssLotte, xssRupsen)
		snap(t, p, "staff-overview")

		p.tapEl(`.tab[data-tab="present"]`)
		p.waitJS(`document.getElementById("present") !== null`)
		assertClean(t, p, "staff present", xssZoe, xssMila, xssDaan, xssRupsen)
		pill := eval[string](p, `(document.querySelector('#present [data-child="c-mila"] .alert-pill') || {}).textContent || ""`)
		if pill != xssAlert {
			t.Errorf("Mila's alert pill = %q, want %q literally", pill, xssAlert)
		}
		snap(t, p, "staff-present")
	})
}
