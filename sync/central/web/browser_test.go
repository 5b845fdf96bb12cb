package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

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
func TestChartInChromium(t *testing.T) {
	browser := findBrowser()
	if browser == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no chromium on PATH (CI=true: browser tests must run)")
		}
		t.Skip("no chromium, chromium-browser or google-chrome on PATH (apt-get install chromium)")
	}
	e := newEnv(t, centraltest.Backends()[0])
	tmp := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(tmp, "profile")),
		chromedp.Flag("hide-scrollbars", true), chromedp.WindowSize(1100, 900))
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start browser: %v", err)
	}
	run := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatal(err)
		}
	}
	evalBool := func(expr string) bool {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, 20*time.Second)
		defer cancel()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err != nil {
			t.Fatalf("evaluate %q: %v", expr, err)
		}
		return v
	}
	waitFor := func(expr string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !evalBool(expr) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", expr)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	run(chromedp.Navigate(e.srv.URL + "/login"))
	waitFor(`document.readyState === "complete" && !!document.querySelector("form.login")`)
	run(chromedp.Evaluate[chromedp.Void](`document.querySelector("[name=email]").value = "manager@demo";
		document.querySelector("[name=password]").value = "` + central.DemoPassword + `";
		document.querySelector("form.login").submit(); true`))
	waitFor(`location.pathname === "/" && document.readyState === "complete"`)
	art := os.Getenv("KIOSK_ARTEFACTS")
	if art == "" {
		art = t.TempDir()
	}
	os.MkdirAll(art, 0o755)
	shot := func(name string) {
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
