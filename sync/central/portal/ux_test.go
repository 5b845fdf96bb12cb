package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/kinderdeur/kiosk/sync/central/centraltest"
	"github.com/kinderdeur/kiosk/sync/central/portal"
)

// english finds English words in a text meant to be Dutch.
var english = regexp.MustCompile(`(?i)\b(the|must|want|after|give|from|until|choose|enter|one of|yyyy|hh:mm|invalid|please|before|name|date|weekdays|permission|children|kind:|scope|confirm)\b`)

var errorPara = regexp.MustCompile(`(?s)<p class="error" role="alert">(.*?)</p>`)

// TestValidationErrorsAreTranslated: every validation error has a Dutch
// and an English text, the Dutch one without English; invalid forms on
// the Dutch pages show them and nothing of the API's English message.
func TestValidationErrorsAreTranslated(t *testing.T) {
	n := 0
	for k, v := range portal.Texts {
		if !strings.HasPrefix(k, "v_") {
			continue
		}
		n++
		if v[0] == "" || v[1] == "" || v[0] == v[1] {
			t.Errorf("%s: %q", k, v)
		}
		if m := english.FindString(v[0]); m != "" {
			t.Errorf("%s: Dutch text has English %q: %s", k, m, v[0])
		}
	}
	if n < 15 {
		t.Errorf("only %d validation texts", n)
	}
	e := newEnv(t, centraltest.Backends()[0])
	post := func(token, path string, form url.Values) (int, string) {
		req, _ := http.NewRequest("POST", e.url(path), strings.NewReader(form.Encode()))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b := make([]byte, 1<<20)
		k, _ := readFull(res.Body, b)
		return res.StatusCode, string(b[:k])
	}
	today := e.today.String()
	cases := []struct {
		path string
		form url.Values
		want string
	}{
		{"/ouders/pickups", url.Values{"children": {"loc-regenboog/c-daan"}, "person": {"new"}, "person_name": {"Piet P."}, "date": {today}, "from": {"18:00"}, "until": {"16:00"}}, "De eindtijd moet na de begintijd liggen."},
		{"/ouders/pickups", url.Values{"children": {"loc-regenboog/c-daan"}, "person": {"new"}, "date": {today}}, "Kies een bekende persoon"},
		{"/ouders/pickups", url.Values{"children": {"loc-regenboog/c-daan"}, "person": {"new"}, "person_name": {"Piet P."}, "date": {"morgen"}}, "Vul een datum in."},
		{"/ouders/pickups", url.Values{"person": {"new"}, "person_name": {"Piet P."}, "date": {today}}, "Kies 1 tot 20 kinderen."},
		{"/ouders/pickups", url.Values{"children": {"loc-regenboog/c-daan"}, "person": {"new"}, "person_name": {"Piet P."}, "date": {"2020-01-01"}}, "Kies een datum vanaf vandaag"},
		{"/ouders/permissions", url.Values{"child": {"loc-zon/c-sara"}, "scope": {"home"}, "from": {today}, "until": {"2027-07-31"}}, "zet het vinkje"},
		{"/ouders/permissions", url.Values{"child": {"loc-zon/c-sara"}, "scope": {"home"}, "from": {today}, "until": {"2026-01-01"}, "confirm": {"yes"}}, "Vul een begin- en einddatum in"},
		{"/ouders/permissions", url.Values{"child": {"loc-regenboog/c-daan"}, "scope": {"home"}, "from": {today}, "until": {"2027-07-31"}, "confirm": {"yes"}}, "alleen voor kinderen op de BSO"},
		{"/ouders/absences", url.Values{"child": {"loc-regenboog/c-daan"}, "date": {"2020-01-01"}, "kind": {"sick"}}, "Kies een datum vanaf vandaag"},
		{"/ouders/absences", url.Values{"child": {"loc-regenboog/c-daan"}, "date": {today}, "kind": {"party"}}, "Kies ziek of afmelden."},
		{"/ouders/requests", url.Values{"kind": {"correction"}, "subject": {"me"}}, "Schrijf wat er verbeterd moet worden."},
	}
	for _, c := range cases {
		code, body := post(tokFatima, c.path, c.form)
		m := errorPara.FindStringSubmatch(body)
		if code != http.StatusBadRequest || m == nil {
			t.Errorf("%s %v: %d, no error shown", c.path, c.form, code)
			continue
		}
		if !strings.Contains(m[1], c.want) {
			t.Errorf("%s: error %q, want %q", c.path, m[1], c.want)
		}
		if w := english.FindString(m[1]); w != "" {
			t.Errorf("%s: Dutch error has English %q: %s", c.path, w, m[1])
		}
	}
	// The same form in English says it in English.
	req, _ := http.NewRequest("POST", e.url("/ouders/pickups"), strings.NewReader(cases[0].form.Encode()))
	req.Header.Set("Authorization", "Bearer "+tokFatima)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "lang", Value: "en"})
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1<<20)
	k, _ := readFull(res.Body, b)
	res.Body.Close()
	if !strings.Contains(string(b[:k]), "The end time must be after the start time.") {
		t.Errorf("English error missing")
	}
	// A family without a BSO child is told so instead of an empty form.
	a := e.do(t, tokIngrid, "GET", "/ouders/permissions", nil)
	if !strings.Contains(a.body, `id="no-bso"`) || strings.Contains(a.body, `name="confirm"`) {
		t.Errorf("Ingrid's permissions page: %.1500s", a.body)
	}
	if a := e.do(t, tokFatima, "GET", "/ouders/permissions", nil); strings.Contains(a.body, `id="no-bso"`) || !strings.Contains(a.body, "hierboven") || strings.Contains(a.body, "hieronder") {
		t.Errorf("Fatima's permissions page lacks the form or says hieronder")
	}
}

// TestPortalAtPhoneWidth: at 390x844 in Chromium no page scrolls
// sideways, the menu shows every item whole (it wraps), the permission's
// confirmation is a thumb-sized target, the code page offers "send again"
// and "another address", dates read "di 17 nov", and the Dutch error
// messages carry no English. Screenshots go to KIOSK_ARTEFACTS.
func TestPortalAtPhoneWidth(t *testing.T) {
	browser := findBrowser()
	if browser == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no chromium on PATH (CI=true: browser tests must run)")
		}
		t.Skip("no chromium on PATH")
	}
	e := newEnv(t, centraltest.Backends()[0])
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
	do := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatal(err)
		}
	}
	evalS := func(expr string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, 20*time.Second)
		defer cancel()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("evaluate %q: %v", expr, err)
		}
		return v
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
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		os.WriteFile(filepath.Join(art, name), png, 0o644)
	}
	load := func(path string) {
		t.Helper()
		do(chromedp.Navigate(e.url(path)))
		for i := 0; evalS(`document.readyState`) != "complete" && i < 100; i++ {
			time.Sleep(50 * time.Millisecond)
		}
	}
	// overflow names what sticks out sideways ("" when nothing does).
	const overflow = `(() => {
		const w = window.innerWidth, out = [];
		if (document.documentElement.scrollWidth > w) out.push("page " + document.documentElement.scrollWidth);
		for (const el of document.querySelectorAll("body *")) {
			const r = el.getBoundingClientRect();
			if (r.width > 0 && (r.right > w + 0.5 || r.left < -0.5) && !el.closest(".skip,.sr-only")) out.push(el.tagName + "." + el.className + " " + Math.round(r.left) + ".." + Math.round(r.right));
			if (!el.closest(".skip,.sr-only") && getComputedStyle(el).overflowX !== "visible" && el.scrollWidth > el.clientWidth + 1 && el.tagName !== "SELECT" && el.tagName !== "INPUT") out.push("scrolls: " + el.tagName + "." + el.className);
		}
		return out.slice(0, 5).join("; ");
	})()`

	// The code page (signed out): send again, another address.
	load("/ouders/login")
	do(chromedp.SetValue("#email", "fatima@ouders.demo"), chromedp.Evaluate[chromedp.Void](`document.querySelector("#email").form.submit()`))
	for i := 0; evalS(`document.querySelector("#code") ? "y" : ""`) == "" && i < 100; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if got := evalS(`(document.querySelector("#resend")||{}).textContent + "|" + (document.querySelector("#other-address")||{}).textContent`); got != "Code opnieuw sturen|Ander e-mailadres gebruiken" {
		t.Errorf("code page: %q", got)
	}
	if o := evalS(overflow); o != "" {
		t.Errorf("code page overflows: %s", o)
	}
	shot("portal390-code.png")

	// Signed in (Fatima's token stands in for the session).
	ctx, cancel := context.WithTimeout(bctx, 10*time.Second)
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": "Bearer " + tokFatima}}); err != nil {
		t.Fatal(err)
	}
	cancel()
	for _, p := range []string{"", "pickups", "absences", "permissions", "history?month=2026-11", "data", "passkeys"} {
		load("/ouders/" + p)
		if o := evalS(overflow); o != "" {
			t.Errorf("/ouders/%s overflows at 390 px: %s", p, o)
		}
		// Every menu item is whole and inside the screen.
		if bad := evalS(`[...document.querySelectorAll("nav a")].filter(a => { const r = a.getBoundingClientRect(); return r.right > innerWidth || a.scrollWidth > a.clientWidth + 1 || r.height < 44 }).map(a => a.textContent).join(",")`); bad != "" {
			t.Errorf("/ouders/%s: menu items cut off or small: %s", p, bad)
		}
		shot("portal390-" + strings.NewReplacer("?", "-", "=", "-").Replace(p) + ".png")
	}
	load("/ouders/")
	if d := evalS(`document.querySelector("main p.muted").textContent`); !strings.Contains(d, "di 17 nov") {
		t.Errorf("today's date: %q", d)
	}
	// The confirmation: the box and the checkbox are thumb-sized.
	load("/ouders/permissions")
	if got := evalS(`(() => { const l = document.querySelector("label.confirm").getBoundingClientRect(), i = document.querySelector("label.confirm input").getBoundingClientRect(); return (l.width >= 44 && l.height >= 44 && i.width >= 28 && i.height >= 28) ? "ok" : l.width + "x" + l.height + " " + i.width + "x" + i.height })()`); got != "ok" {
		t.Errorf("confirmation target: %s", got)
	}
	// Errors on Dutch pages: no English, and the page still fits.
	do(chromedp.Evaluate[chromedp.Void](`document.querySelector("label.confirm input").required = false; document.querySelector("label.confirm").closest("form").submit()`))
	for i := 0; evalS(`document.querySelector(".error") ? "y" : ""`) == "" && i < 100; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	msg := evalS(`document.querySelector(".error").textContent`)
	if w := english.FindString(msg); w != "" || msg == "" {
		t.Errorf("permission error %q has English %q", msg, w)
	}
	shot("portal390-permission-error.png")
	load("/ouders/pickups")
	do(chromedp.Evaluate[chromedp.Void](`document.querySelector('input[name=children][value="loc-regenboog/c-daan"]').checked = true;
		document.querySelector("#person").value = "new"; document.querySelector("#person").dispatchEvent(new Event("change"));
		document.querySelector("#person_name").value = "Loes de B.";
		document.querySelector("#from").value = "18:00"; document.querySelector("#until").value = "16:00";
		document.querySelector("#pickup-form").submit()`))
	for i := 0; evalS(`document.querySelector(".error") ? "y" : ""`) == "" && i < 100; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	msg = evalS(`document.querySelector(".error").textContent`)
	if msg != "De eindtijd moet na de begintijd liggen." {
		t.Errorf("pickup error: %q", msg)
	}
	if o := evalS(overflow); o != "" {
		t.Errorf("pickups with an error overflow: %s", o)
	}
	shot("portal390-pickup-error.png")
	// A family without a BSO child.
	ctx, cancel = context.WithTimeout(bctx, 10*time.Second)
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": "Bearer " + tokIngrid}}); err != nil {
		t.Fatal(err)
	}
	cancel()
	load("/ouders/permissions")
	if evalS(`document.querySelector("#no-bso") ? "y" : ""`) != "y" {
		t.Error("Ingrid sees no 'no BSO child' message")
	}
	shot("portal390-permissions-no-bso.png")
}
