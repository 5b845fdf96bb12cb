package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/centraltest"
)

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

// TestChartInChromium signs in with a real headless Chromium, opens the
// chart and the printable inspection list, checks the SVG was drawn (step
// lines and the shaded below-ratio stretches) and saves screenshots to
// $KIOSK_ARTEFACTS (or a temp dir).
// browser is a headless Chromium signed in to e's admin pages.
type browser struct {
	run      func(actions ...chromedp.Action[chromedp.Void])
	evalBool func(expr string) bool
	waitFor  func(expr string)
	shot     func(name string)
}

// newBrowser starts headless Chromium at w x h and signs in as email.
func newBrowser(t *testing.T, e *env, w, h int, email string) *browser {
	t.Helper()
	exe := findBrowser()
	if exe == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no chromium on PATH (CI=true: browser tests must run)")
		}
		t.Skip("no chromium, chromium-browser or google-chrome on PATH (apt-get install chromium)")
	}
	tmp := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(tmp, "profile")),
		chromedp.Flag("hide-scrollbars", true), chromedp.WindowSize(w, h))
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start browser: %v", err)
	}
	b := &browser{}
	b.run = func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatal(err)
		}
	}
	b.evalBool = func(expr string) bool {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, 20*time.Second)
		defer cancel()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err != nil {
			t.Fatalf("evaluate %q: %v", expr, err)
		}
		return v
	}
	b.waitFor = func(expr string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !b.evalBool(expr) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", expr)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	b.run(chromedp.Navigate(e.srv.URL + "/login"))
	b.waitFor(`document.readyState === "complete" && !!document.querySelector("form.login")`)
	b.run(chromedp.Evaluate[chromedp.Void](`document.querySelector("[name=email]").value = "` + email + `";
		document.querySelector("[name=password]").value = "` + central.DemoPassword + `";
		document.querySelector("form.login").submit(); true`))
	b.waitFor(`location.pathname === "/" && document.readyState === "complete"`)
	art := os.Getenv("KIOSK_ARTEFACTS")
	if art == "" {
		art = t.TempDir()
	}
	os.MkdirAll(art, 0o755)
	b.shot = func(name string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, 20*time.Second)
		defer cancel()
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		f := filepath.Join(art, name)
		if err := os.WriteFile(f, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", f)
	}
	return b
}

func TestChartInChromium(t *testing.T) {
	e := newEnv(t, centraltest.Backends()[0])
	b := newBrowser(t, e, 1100, 900, "manager@demo")
	run, evalBool, waitFor, shot := b.run, b.evalBool, b.waitFor, b.shot
	run(chromedp.Navigate(e.srv.URL + "/locations/loc-regenboog/chart?group=g-rupsen&date=" + e.day.String()))
	waitFor(`document.readyState === "complete" && !!document.querySelector("svg.chart")`)
	checks := map[string]string{
		"children step line drawn":   `document.querySelector("svg.chart path.kids").getTotalLength() > 500`,
		"staff step line drawn":      `document.querySelector("svg.chart path.staff").getTotalLength() > 500`,
		"required step line drawn":   `document.querySelector("svg.chart path.req").getTotalLength() > 300`,
		"below-ratio zones shaded":   `document.querySelectorAll("svg.chart rect.belowzone").length >= 2`,
		"chart is laid out at width": `document.querySelector("svg.chart").getBoundingClientRect().width > 800`,
		"hour labels":                `[...document.querySelectorAll("svg.chart text")].some(t => t.textContent === "12:00")`,
		"stylesheet applied":         `getComputedStyle(document.querySelector("header")).display === "flex"`,
	}
	for name, expr := range checks {
		if !evalBool(expr) {
			t.Errorf("chart: %s: false", name)
		}
	}
	shot("chart-rupsen.png")
	run(chromedp.Navigate(e.srv.URL + "/locations/loc-regenboog/inspection?group=g-rupsen&date=" + e.day.String()))
	waitFor(`document.readyState === "complete" && document.querySelectorAll("tr.below").length > 0`)
	shot("inspection-rupsen.png")
}

// TestOfficePagesInChromium opens the billing and attendance pages as an
// admin at month end would (1280x800), checks what an office reads there
// (euros, Dutch headers, guardians' names, a total, translated codes,
// download buttons) and saves screenshots to $KIOSK_ARTEFACTS.
func TestOfficePagesInChromium(t *testing.T) {
	e := newEnv(t, centraltest.Backends()[0])
	b := newBrowser(t, e, 1280, 800, "admin@demo")
	first := e.day.In(time.UTC).AddDate(0, 0, 1-e.day.Day)
	last := first.AddDate(0, 1, -1)
	b.run(chromedp.Navigate(e.srv.URL + "/locations/loc-regenboog/billing?from=" + first.Format(time.DateOnly) + "&to=" + last.Format(time.DateOnly)))
	b.waitFor(`document.readyState === "complete" && !!document.querySelector("tr.grand")`)
	checks := map[string]string{
		"euro amounts":            `/€ [0-9.]+,[0-9][0-9]/.test(document.querySelector("tr.grand").textContent)`,
		"no English headers":      `![...document.querySelectorAll("th")].some(th => /^(Days|Billed|Unpriced|Flagged|Lines)/.test(th.textContent))`,
		"families by guardians":   `document.body.textContent.includes("Fatima B. en Kees B.") && !/family p-/.test(document.body.textContent)`,
		"no untranslated codes":   `!/\?[a-z_]+\?|\bweekday\b|missing_check|unverified\b/.test(document.querySelector("main").textContent)`,
		"xlsx download":           `[...document.querySelectorAll("a.button")].some(a => a.href.includes("format=xlsx"))`,
		"day-care default tariff": `document.querySelector("select[name=profile]").value === "bernefertier"`,
	}
	for name, expr := range checks {
		if !b.evalBool(expr) {
			t.Errorf("billing: %s: false", name)
		}
	}
	b.shot("billing.png")
	b.run(chromedp.Evaluate[chromedp.Void](`document.querySelector("tr.grand").scrollIntoView({block: "center"}); true`))
	b.shot("billing-total.png")
	// A period with more lines than a page: the pager, then page 2.
	for d := first; d.Before(last.AddDate(0, 0, 1)); d = d.AddDate(0, 0, 1) {
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			if _, err := e.db.Demo.SeedDemoAttendance(context.Background(), "loc-regenboog", attendance.DateOf(d)); err != nil {
				t.Fatal(err)
			}
		}
	}
	b.run(chromedp.Navigate(e.srv.URL + "/locations/loc-regenboog/billing?from=" + first.AddDate(0, -2, 0).Format(time.DateOnly) + "&to=" + last.Format(time.DateOnly)))
	b.waitFor(`document.readyState === "complete" && !!document.getElementById("lines-pager")`)
	b.run(chromedp.Evaluate[chromedp.Void](`document.getElementById("lines-next").click(); true`))
	b.waitFor(`document.readyState === "complete" && location.search.includes("page=2") && !!document.getElementById("lines-prev")`)
	if !b.evalBool(`/Regels 251–\d+ van \d+ · .*pagina 2 van \d+/.test(document.getElementById("lines-pager").textContent)`) {
		t.Error("page 2's pager does not say lines 251-... and page 2")
	}
	b.shot("billing-lines-page2.png")
	b.run(chromedp.Navigate(e.srv.URL + "/locations/loc-regenboog/attendance?from=" + e.day.In(time.UTC).AddDate(0, 0, -6).Format(time.DateOnly) + "&to=" + e.day.String()))
	b.waitFor(`document.readyState === "complete" && document.querySelectorAll("tr").length > 2`)
	for name, expr := range map[string]string{
		"xlsx download":         `[...document.querySelectorAll("a.button")].some(a => a.href.includes("format=xlsx"))`,
		"no untranslated codes": `!/\?[a-z_]+\?|\bweekday\b|missing_check/.test(document.querySelector("table").textContent)`,
	} {
		if !b.evalBool(expr) {
			t.Errorf("attendance: %s: false", name)
		}
	}
	b.shot("attendance.png")
}

// TestBillingRunsInChromium: the month-end pages of billing runs at
// 1280x800 as an admin sees them: the runs list, a run with its
// downloads, the differences after more attendance came in, and the
// correction run issued from them. Screenshots go to $KIOSK_ARTEFACTS.
func TestBillingRunsInChromium(t *testing.T) {
	e := newEnv(t, centraltest.Backends()[0])
	// Attendance of 16 November reached central after the run.
	if _, err := e.db.Demo.SeedDemoAttendance(context.Background(), "loc-regenboog", attendance.DateOf(e.day.In(time.UTC).AddDate(0, 0, -1))); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, e, 1280, 800, "admin@demo")
	base := e.srv.URL + "/locations/loc-regenboog/billing"
	noRaw := `!/\?[a-z_]+\?|\bweekday\b|missing_check|bernefertier\/|hourly|month-minimum/.test(document.querySelector("main").textContent)`
	b.run(chromedp.Navigate(base + "/runs"))
	b.waitFor(`document.readyState === "complete" && !!document.querySelector("input[name=month]")`)
	for name, expr := range map[string]string{
		"the run is listed":     `document.querySelector("main table").textContent.includes("RB2026-00001")`,
		"euro total":            `/€ [0-9.]+,[0-9][0-9]/.test(document.querySelector("main table").textContent)`,
		"issued by a name":      `document.querySelector("main table").textContent.includes(" door ")`,
		"no untranslated codes": noRaw,
	} {
		if !b.evalBool(expr) {
			t.Errorf("runs: %s: false", name)
		}
	}
	b.shot("billing-runs.png")
	b.run(chromedp.Navigate(base + "/runs/" + e.run.ID))
	b.waitFor(`document.readyState === "complete" && !!document.querySelector("tr.grand")`)
	for name, expr := range map[string]string{
		"zip and SEPA downloads": `[...document.querySelectorAll("a.button")].filter(a => /invoices.zip|sepa.xml|format=xlsx/.test(a.href)).length === 3`,
		"a PDF per invoice":      `document.querySelectorAll("a[href$='.pdf']").length === ` + strconv.Itoa(e.run.Count),
		"no untranslated codes":  noRaw,
	} {
		if !b.evalBool(expr) {
			t.Errorf("run: %s: false", name)
		}
	}
	b.shot("billing-run.png")
	b.run(chromedp.Navigate(base + "/diff?month=2026-11"))
	b.waitFor(`document.readyState === "complete" && !!document.querySelector("button.primary")`)
	for name, expr := range map[string]string{
		"added lines":           `document.querySelector("main").textContent.includes("nieuw")`,
		"references originals":  `document.querySelector("main").textContent.includes("Corrigeert RB2026-0000")`,
		"rules in words":        `document.querySelector("main").textContent.includes("per uur")`,
		"no untranslated codes": noRaw,
	} {
		if !b.evalBool(expr) {
			t.Errorf("diff: %s: false", name)
		}
	}
	b.shot("billing-diff.png")
	b.run(chromedp.Evaluate[chromedp.Void](`document.querySelector("form[action$='/billing/corrections']").submit(); true`))
	b.waitFor(`document.readyState === "complete" && location.pathname.includes("/billing/runs/") && !!document.querySelector("tr.grand")`)
	if !b.evalBool(`document.querySelector("h1").textContent.includes("Correctiefacturen") && document.querySelector("main table").textContent.includes("RB2026-00001")`) {
		t.Errorf("correction run page: no correction referencing the originals")
	}
	b.shot("billing-correction.png")
}
