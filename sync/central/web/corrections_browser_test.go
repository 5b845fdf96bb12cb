package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/centraltest"
)

// TestCorrectionFormInChromium: a manager corrects a stay from the
// attendance page at 1280x800: "Corrigeren" opens the form filled with the
// stay, a departure an hour after the arrival and a reason are saved, the
// attendance page shows the stay corrected, the corrections page lists who,
// when and why, and the audit trail has it. Screenshots to $KIOSK_ARTEFACTS.
func TestCorrectionFormInChromium(t *testing.T) {
	e := newEnv(t, centraltest.Backends()[0])
	b := newBrowser(t, e, 1280, 800, "manager@demo")
	att := e.srv.URL + "/locations/loc-regenboog/attendance?from=" + e.day.String() + "&to=" + e.day.String()
	b.run(chromedp.Navigate(att))
	b.waitFor(`document.readyState === "complete" && !!document.querySelector("a[data-correct]")`)
	ctxHref := `document.querySelector("a[data-correct]").href`
	b.run(chromedp.Evaluate[chromedp.Void](`window.__href = ` + ctxHref + `; true`))
	if !b.evalBool(`window.__href.includes("/corrections?stay=")`) {
		t.Fatal("the correct link does not open the form for the stay")
	}
	b.run(chromedp.Evaluate[chromedp.Void](`location.href = window.__href; true`))
	b.waitFor(`document.readyState === "complete" && !!document.getElementById("correction-form")`)
	if !b.evalBool(`document.getElementById("corr-in").value !== "" && document.getElementById("corr-kind").value === "set_check_out"`) {
		t.Error("form not filled with the stay")
	}
	// Departure: an hour after the arrival.
	b.run(chromedp.Evaluate[chromedp.Void](`(() => {
		const [h, m] = document.getElementById("corr-in").value.split(":").map(Number);
		const out = Math.min(h * 60 + m + 60, 23 * 60 + 59);
		document.getElementById("corr-out").value = String(Math.floor(out / 60)).padStart(2, "0") + ":" + String(out % 60).padStart(2, "0");
		document.getElementById("corr-reason").value = "Uitchecken vergeten; vader haalde een uur na aankomst op";
		return true; })()`))
	b.shot("correction-form.png")
	b.run(chromedp.Evaluate[chromedp.Void](`document.getElementById("correction-form").requestSubmit(); true`))
	b.waitFor(`document.readyState === "complete" && location.pathname.endsWith("/attendance") && document.body.textContent.includes("Correctie opgeslagen")`)
	if !b.evalBool(`[...document.querySelectorAll("td .flag")].some(f => f.textContent === "gecorrigeerd")`) {
		t.Error("the corrected stay is not flagged on the attendance page")
	}
	b.shot("attendance-corrected.png")
	b.run(chromedp.Navigate(e.srv.URL + "/locations/loc-regenboog/corrections?from=" + e.day.String() + "&to=" + e.day.String()))
	b.waitFor(`document.readyState === "complete" && document.querySelectorAll("#corrections tr").length === 2`)
	if !b.evalBool(`document.querySelector("#corrections").textContent.includes("Uitchecken vergeten") && document.querySelector("#corrections").textContent.includes("manager@demo")`) {
		t.Error("the corrections list lacks who or why")
	}
	b.shot("corrections-list.png")

	entries, err := e.audit.Entries(context.Background(), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, en := range entries {
		if en.Action == audit.StayCorrected && strings.HasPrefix(en.Actor, "user:") && strings.Contains(string(en.Details), "Uitchecken vergeten") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d stay_corrected audit entries, want 1", n)
	}
}

// Roles: only admins and managers see the form and may post it.
func TestCorrectionFormRoles(t *testing.T) {
	e := newEnv(t, centraltest.Backends()[0])
	for _, tc := range []struct {
		email    string
		form     bool
		postCode int
	}{
		{"admin@demo", true, http.StatusUnprocessableEntity}, // allowed; the empty form is refused with its reason
		{"manager@demo", true, http.StatusUnprocessableEntity},
		{"billing@demo", false, http.StatusForbidden},
		{"inspector@demo", false, http.StatusForbidden},
	} {
		t.Run(tc.email, func(t *testing.T) {
			c := e.client()
			if code := c.signIn(t, tc.email, central.DemoPassword); code != http.StatusOK && code != http.StatusSeeOther {
				t.Fatalf("sign in: %d", code)
			}
			code, body := c.get(t, "/locations/loc-regenboog/corrections")
			if code != 200 {
				t.Fatalf("corrections page: %d", code)
			}
			if got := strings.Contains(body, `id="correction-form"`); got != tc.form {
				t.Errorf("form shown %v, want %v", got, tc.form)
			}
			code, _ = c.post(t, "/locations/loc-regenboog/corrections", url.Values{"kind": {"add_stay"}, "child_id": {"c-noah"}})
			if code != tc.postCode {
				t.Errorf("post: %d, want %d", code, tc.postCode)
			}
		})
	}
}
