package portal_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

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

// TestSignInByEmailCode: the code travels through a real SMTP server
// (go-smtp, in process); a session cookie then needs its CSRF token for
// anything but reading.
func TestSignInByEmailCode(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		if a := e.do(t, "", "POST", "/api/v1/parent/login/code", map[string]string{"email": "nobody@example.org"}); a.status != 202 {
			t.Fatalf("unknown address: %d (must look the same as a known one)", a.status)
		}
		if e.mb.count() != 0 {
			t.Fatal("a code was sent to an address the centre does not keep")
		}
		if a := e.do(t, "", "POST", "/api/v1/parent/login/code", map[string]string{"email": "Fatima@ouders.demo"}); a.status != 202 {
			t.Fatalf("request code: %d %s", a.status, a.body)
		}
		code := e.mb.code(t, "fatima@ouders.demo")
		c := jarClient()
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		if a := e.doWith(t, c, "", "", "POST", "/api/v1/parent/login/verify", map[string]string{"email": "fatima@ouders.demo", "code": wrong}); a.status != 401 {
			t.Fatalf("wrong code: %d", a.status)
		}
		a := e.doWith(t, c, "", "", "POST", "/api/v1/parent/login/verify", map[string]string{"email": "fatima@ouders.demo", "code": code})
		if a.status != 200 {
			t.Fatalf("verify: %d %s", a.status, a.body)
		}
		var ok struct {
			CSRF string `json:"csrf_token"`
		}
		a.json(t, &ok)
		if a := e.doWith(t, c, "", "", "POST", "/api/v1/parent/login/verify", map[string]string{"email": "fatima@ouders.demo", "code": code}); a.status != 401 {
			t.Errorf("a code works twice: %d", a.status)
		}
		if a := e.doWith(t, c, "", "", "GET", "/api/v1/parent/me", nil); a.status != 200 || !strings.Contains(a.body, "Daan") {
			t.Fatalf("me: %d %s", a.status, a.body)
		}
		body := map[string]any{"children": []string{"c-daan"}, "person_id": "p-henk", "date": e.today.String()}
		if a := e.doWith(t, c, "", "", "POST", "/api/v1/parent/pickups", body); a.status != http.StatusForbidden {
			t.Errorf("without CSRF token: %d", a.status)
		}
		if a := e.doWith(t, c, "", ok.CSRF, "POST", "/api/v1/parent/pickups", body); a.status != 201 {
			t.Errorf("with CSRF token: %d %s", a.status, a.body)
		}
		// Five wrong tries end a code.
		e.do(t, "", "POST", "/api/v1/parent/login/code", map[string]string{"email": "fatima@ouders.demo"})
		code = e.mb.code(t, "fatima@ouders.demo")
		for range 5 {
			e.do(t, "", "POST", "/api/v1/parent/login/verify", map[string]string{"email": "fatima@ouders.demo", "code": wrong})
		}
		if a := e.do(t, "", "POST", "/api/v1/parent/login/verify", map[string]string{"email": "fatima@ouders.demo", "code": code}); a.status != 401 {
			t.Errorf("the right code after five wrong ones: %d", a.status)
		}
	})
}

// TestPortalInChromium drives the portal in headless Chromium at 390x844:
// e-mail code sign-in, passkey registration with Chromium's virtual
// authenticator, the live today view (a check-in arrives while the page is
// open), announcing a pickup with the form, sign-out and passkey sign-in.
// Screenshots go to $KIOSK_ARTEFACTS (or a temp dir).
func TestPortalInChromium(t *testing.T) {
	browser := findBrowser()
	if browser == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no chromium on PATH (CI=true: browser tests must run)")
		}
		t.Skip("no chromium on PATH (apt-get install chromium)")
	}
	e := newEnv(t, centraltest.Backends()[0])
	number := issueOctober(t, e)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
		chromedp.Flag("hide-scrollbars", true), chromedp.WindowSize(390, 844))
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2))); err != nil {
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
	eval := func(expr string) bool {
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
		for !eval(expr) {
			if time.Now().After(deadline) {
				ctx, cancel := context.WithTimeout(bctx, 5*time.Second)
				html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + " " + document.body.dataset.passkey + " " + document.body.innerText`))
				cancel()
				t.Fatalf("timed out waiting for %s; page: %.600s", expr, html)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
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
	// A virtual platform authenticator with user verification.
	{
		ctx, cancel := context.WithTimeout(bctx, 10*time.Second)
		if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			t.Fatalf("webauthn enable: %v", err)
		}
		if _, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true}}); err != nil {
			t.Fatalf("virtual authenticator: %v", err)
		}
		cancel()
	}

	// 1. Sign in with an e-mail code.
	run(chromedp.Navigate(e.url("/ouders/login")))
	waitFor(`document.readyState === "complete" && !!document.querySelector("#email")`)
	a11y := map[string]string{
		"every input has a label": `[...document.querySelectorAll("input:not([type=hidden]),select,textarea")].every(i => i.labels && i.labels.length > 0)`,
		"fits 390 px":             `document.documentElement.scrollWidth <= 390`,
		"lang attribute":          `document.documentElement.lang === "nl"`,
	}
	check := func(page string) {
		t.Helper()
		for name, expr := range a11y {
			if !eval(expr) {
				t.Errorf("%s: %s: false", page, name)
			}
		}
	}
	check("login")
	shot("portal-login.png")
	run(chromedp.SetValue("#email", "fatima@ouders.demo"), chromedp.Evaluate[chromedp.Void](`document.querySelector("#email").form.submit()`))
	waitFor(`!!document.querySelector("#code")`)
	code := e.mb.code(t, "fatima@ouders.demo")
	run(chromedp.SetValue("#code", code), chromedp.Evaluate[chromedp.Void](`document.querySelector("#code").form.submit()`))
	waitFor(`location.pathname === "/ouders/passkeys" && !!document.querySelector("#passkey-register")`)
	check("passkeys")

	// 2. Register a passkey.
	run(chromedp.Click("#passkey-register"))
	waitFor(`document.body.dataset.passkey === "registered"`)
	shot("portal-passkey-registered.png")
	pks, err := e.db.Parents.Passkeys(context.Background(), mustAccount(t, e, "fatima@ouders.demo"))
	if err != nil || len(pks) != 1 {
		t.Fatalf("passkeys stored: %v %v", pks, err)
	}

	// 3. Today, live: a check-in arrives while the page is open.
	run(chromedp.Navigate(e.url("/ouders/")))
	waitFor(`document.body.classList.contains("live")`)
	check("today")
	if eval(`document.querySelector('[data-child="loc-regenboog/c-daan"]').classList.contains("present")`) {
		t.Fatal("Daan present before any check-in")
	}
	if _, err := e.db.Demo.SeedDemoAttendance(context.Background(), "loc-regenboog", e.today); err != nil {
		t.Fatal(err)
	}
	waitFor(`[...document.querySelectorAll("li.child")].some(li => li.classList.contains("present") && /sinds \d\d:\d\d/.test(li.textContent))`)
	shot("portal-today-live.png")

	// 4. Announce a pickup with the form.
	run(chromedp.Navigate(e.url("/ouders/pickups")))
	waitFor(`!!document.querySelector("#pickup-form")`)
	check("pickups")
	run(chromedp.Evaluate[chromedp.Void](`document.querySelector('input[name=children][value="loc-regenboog/c-daan"]').checked = true;
		document.querySelector("#person").value = "new"; document.querySelector("#person").dispatchEvent(new Event("change"));
		document.querySelector("#person_name").value = "Loes de B."; document.querySelector("#relation").value = "buurvrouw";
		document.querySelector("#id_document").value = "rijbewijs";
		document.querySelector("#from").value = "16:00"; document.querySelector("#until").value = "18:00"; true`))
	shot("portal-pickup-form.png")
	run(chromedp.Evaluate[chromedp.Void](`document.querySelector("#pickup-form").submit()`))
	waitFor(`location.search === "?ok=pickup" && !!document.querySelector("#pickups") && document.querySelector("#pickups").textContent.includes("Loes de B.")`)
	shot("portal-pickup-announced.png")
	found := false
	for _, a := range e.roster(t, "loc-regenboog").Announced {
		found = found || (a.ChildID == "c-daan" && a.IDNote == "rijbewijs" && a.CreatedBy == "p-fatima")
	}
	if !found {
		t.Error("the form's announcement is not in the roster")
	}

	// 5. Other pages render at phone width.
	for _, p := range []string{"permissions", "absences", "history", "data"} {
		run(chromedp.Navigate(e.url("/ouders/" + p)))
		waitFor(`document.readyState === "complete" && !!document.querySelector("main h1")`)
		check(p)
		shot("portal-" + p + ".png")
	}

	// 5b. The invoices on the history page, downloaded with the session.
	run(chromedp.Navigate(e.url("/ouders/history")))
	waitFor(`document.readyState === "complete" && !!document.querySelector("#invoices li.invoice a[download]")`)
	check("history with invoices")
	if !eval(`document.querySelector("#invoices").textContent.includes("` + number + `") && /€ \d+,\d\d/.test(document.querySelector("#invoices").textContent)`) {
		t.Errorf("history page: invoice %s or its total missing", number)
	}
	run(chromedp.Evaluate[chromedp.Void](`document.querySelector("#invoices").scrollIntoView(); true`))
	shot("portal-history-invoices.png")
	run(chromedp.Evaluate[chromedp.Void](`window.pdfOK = null; (async () => { const a = document.querySelector("#invoices a[download]");
		const r = await fetch(a.href); const b = new Uint8Array(await r.arrayBuffer());
		window.pdfOK = r.status === 200 && r.headers.get("cache-control") === "no-store" && String.fromCharCode(...b.slice(0, 4)) === "%PDF" })(); true`))
	waitFor(`window.pdfOK !== null`)
	if !eval(`window.pdfOK`) {
		t.Error("the invoice link did not download the PDF with the session")
	}

	// 6. Sign out, then sign in with the passkey.
	run(chromedp.Navigate(e.url("/ouders/")))
	waitFor(`!!document.querySelector("form[action='/ouders/logout']")`)
	run(chromedp.Evaluate[chromedp.Void](`document.querySelector("form[action='/ouders/logout']").submit()`))
	waitFor(`location.pathname === "/ouders/login"`)
	run(chromedp.Click("#passkey-login"))
	waitFor(`location.pathname === "/ouders/" && !!document.querySelector("#today")`)
	shot("portal-passkey-signed-in.png")

	// 7. English.
	run(chromedp.Navigate(e.url("/ouders/lang/en?next=/ouders/")))
	waitFor(`document.documentElement.lang === "en" && document.querySelector("main h1").textContent === "Today"`)
	shot("portal-today-en.png")
}

func mustAccount(t *testing.T, e *env, email string) string {
	t.Helper()
	a, err := e.db.Parents.Account(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}
