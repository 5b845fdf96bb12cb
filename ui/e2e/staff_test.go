package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"
)

// checkInAll taps a guardian's card and confirms every preselected child.
func checkInAll(t *testing.T, p *page, uid string) {
	t.Helper()
	v := p.d.tap(uid)
	switch v.Outcome {
	case "choose_children":
		p.waitScreen("choose", v.ID)
		p.tapEl("#choose-confirm")
		p.waitScreen("ok", "")
	case "check_in":
		p.waitScreen("ok", v.ID)
	default:
		t.Fatalf("tap %s: outcome %q, want a check-in", uid, v.Outcome)
	}
}

// TestStaffPanel: a staff badge opens the panel with the ratio per group,
// present children with staff-only alerts, manual check-in/out with a
// reason, forgotten check-outs, the emergency roll call, clock-out with
// the ratio warning, and the lock button.
func TestStaffPanel(t *testing.T) {
	s := setup(t)
	d := startDaemon(t, s)
	p := openPage(t, s, d)
	checkInAll(t, p, d.uid("Sanne")) // Noah (Rupsen), Emma (Vlinders, allergy), Sem (BSO)
	checkInAll(t, p, d.uid("Youssef"))

	v := d.tap(d.uid("Lotte"))
	if v.Outcome != "staff_in" {
		t.Fatalf("Lotte's tap: outcome %q, want staff_in", v.Outcome)
	}
	p.waitScreen("staff", "")
	if got := eval[string](p, `document.body.dataset.public`); got != "false" {
		t.Errorf("staff panel marked public=%q", got)
	}

	t.Run("ratio panel", func(t *testing.T) {
		p.t = t
		got := eval[[]string](p, `[...document.querySelectorAll(".group-card")].map(g => g.dataset.group + ":" + g.querySelector(".group-nums").innerText.replace(/\s+/g, " "))`)
		want := []string{
			"g-rupsen:1 kind 1 / 1 medewerker (nodig)",
			"g-vlinders:2 kinderen 0 / 1 medewerker (nodig)",
			"g-bikkels:1 kind 0 / 1 medewerker (nodig)",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("groups (-want +got):\n%s", diff)
		}
		if !strings.Contains(p.text(), "Lotte") {
			t.Error("staff present list lacks Lotte")
		}
		p.shots("staff-overview")
	})

	t.Run("present children with alerts", func(t *testing.T) {
		p.t = t
		p.tapEl(`.tab[data-tab="present"]`)
		p.waitJS(`document.getElementById("present") !== null`)
		alert := eval[string](p, `(document.querySelector('#present [data-child="c-emma"] .alert-pill') || {}).textContent || ""`)
		if !strings.Contains(alert, "Pinda-allergie") {
			t.Errorf("Emma's staff alert on the staff panel = %q, want the allergy", alert)
		}
		p.shots("staff-present")
	})

	t.Run("manual check-in and check-out with a reason", func(t *testing.T) {
		p.t = t
		p.tapEl(`[data-checkin="c-levi"]`)
		p.waitJS(`document.getElementById("sheet") !== null`)
		if !eval[bool](p, `document.getElementById("sheet-do").disabled`) {
			t.Error("manual check-in possible without a reason")
		}
		p.tapEl(`#sheet [data-reason="card_forgotten"]`)
		p.shots("staff-manual-reason")
		p.tapEl("#sheet-do")
		p.waitJS(`document.querySelector('#present [data-child="c-levi"]') !== null`)
		if !d.present("c-levi") {
			t.Error("Levi not present after the manual check-in")
		}
		p.tapEl(`[data-checkout="c-zoe"]`)
		p.tapEl(`#sheet [data-reason="correction"]`)
		p.tapEl("#sheet-do")
		p.waitJS(`document.querySelector('#present [data-child="c-zoe"]') === null`)
		if d.present("c-zoe") {
			t.Error("Zoë still present after the manual check-out")
		}
	})

	t.Run("forgotten check-outs", func(t *testing.T) {
		p.t = t
		p.tapEl(`.tab[data-tab="overview"]`)
		p.waitJS(`document.querySelector(".group-card") !== null`)
		ids := eval[[]string](p, `[...document.querySelectorAll("#forgotten [data-child]")].map(r => r.dataset.child)`)
		if len(ids) == 0 {
			// Forgotten means in from an earlier day or after closing time;
			// during opening hours a fresh demo has none.
			t.Log("no forgotten check-outs at this hour; the resolve step is not exercised")
			return
		}
		p.tapEl(fmt.Sprintf(`[data-resolve=%q]`, ids[0]))
		p.waitJS(`document.querySelector('#sheet [data-reason="forgot_checkout"][aria-pressed="true"]') !== null`)
		p.tapEl("#sheet-do")
		p.waitJS(fmt.Sprintf(`document.querySelector('#forgotten [data-child=%q]') === null`, ids[0]))
		if d.present(ids[0]) {
			t.Errorf("%s still present after resolving the forgotten check-out", ids[0])
		}
	})

	t.Run("emergency roll call", func(t *testing.T) {
		p.t = t
		p.tapEl(`.tab[data-tab="roll"]`)
		p.tapEl("#roll-start")
		p.waitJS(`document.querySelectorAll("#roll [data-person]").length > 0`)
		people := eval[int](p, `document.querySelectorAll("#roll [data-person]").length`)
		if people < 3 {
			t.Errorf("roll call lists %d people, want every present child and staff member", people)
		}
		p.shots("staff-roll-call")
		for i := 0; i < people; i++ {
			id := eval[string](p, `(document.querySelector("#roll [data-mark]") || {dataset: {}}).dataset.mark || ""`)
			if id == "" {
				break
			}
			p.tapEl(fmt.Sprintf(`[data-mark=%q]`, id))
			p.waitJS(fmt.Sprintf(`document.querySelector('#roll [data-person=%q].accounted') !== null`, id))
		}
		p.waitJS(`document.getElementById("roll-missing").classList.contains("good")`)
		p.shots("staff-roll-call-done")
		p.tapEl("#roll-end")
		p.waitJS(`document.getElementById("roll-start") !== null`)
	})

	t.Run("system", func(t *testing.T) {
		p.t = t
		p.tapEl(`.tab[data-tab="system"]`)
		p.waitJS(`document.getElementById("readers") !== null`)
		if txt := p.text(); !strings.Contains(txt, "entrance") || !strings.Contains(txt, "MFRC522") {
			t.Errorf("system tab lacks the reader health: %q", txt)
		}
		p.shots("staff-system")
	})

	t.Run("clock out with ratio warning", func(t *testing.T) {
		p.t = t
		// Noah is in Rupsen and Lotte is its only staff: leaving breaks the ratio.
		p.tapEl("#staff-clockout")
		p.waitJS(`document.getElementById("clockout-confirm") !== null`)
		p.shots("staff-clockout-confirm")
		p.tapEl("#clockout-sure")
		p.waitScreen("idle", "")
		var pr presence
		d.getJSON("/api/v1/presence", &pr)
		for _, st := range pr.Staff {
			if st.ID == "s-lotte" {
				t.Error("Lotte still clocked in")
			}
		}
	})

	t.Run("lock", func(t *testing.T) {
		p.t = t
		d.tap(d.uid("Ahmed"))
		p.waitScreen("staff", "")
		p.tapEl("#staff-lock")
		p.waitScreen("idle", "")
		// The server closed the session too: a reconnect shows no panel.
		p.do(chromedp.Reload())
		p.waitJS(`document.body.dataset.conn === "up"`)
		if got := eval[string](p, `document.body.dataset.screen`); got != "idle" {
			t.Errorf("after lock and reload: screen %q, want idle", got)
		}
	})
}

// TestNeedsStaff: an unannounced pickup gets "een medewerker komt eraan";
// the staff member's tap opens the confirmation screen (person, relation,
// child, ID type, confirm/refuse).
func TestNeedsStaff(t *testing.T) {
	s := setup(t)
	d := startDaemon(t, s)
	p := openPage(t, s, d)
	anna := d.uid("Anna")
	p.waitScreen("child_ok", d.tap(anna).ID)
	d.forget()
	own := d.tap(anna) // needs a grown-up: a request for staff
	p.waitScreen("child_grownup", own.ID)
	v := d.tap(d.uid("Els")) // the neighbour, not announced for Anna
	if v.Outcome != "needs_staff" || v.Reason != "not_announced" {
		t.Fatalf("Els's tap after Anna's: outcome %q reason %q, want needs_staff not_announced", v.Outcome, v.Reason)
	}
	p.waitScreen("needs_staff", v.ID)
	txt := p.text()
	if !strings.Contains(txt, "Een medewerker komt eraan") {
		t.Errorf("public needs_staff screen: %q", txt)
	}
	if w := containsAny(txt, []string{"Anna", "Els", "buurvrouw"}); w != "" {
		t.Errorf("public needs_staff screen names %q: %q", w, txt)
	}
	p.shots("needs-staff")

	d.tap(d.uid("Lotte"))
	p.waitScreen("staff", "")
	p.waitJS(`document.getElementById("request") !== null`) // opened at once
	p.tapEl(`.tab[data-tab="requests"]`)
	p.waitJS(`document.querySelectorAll("#requests [data-session]").length === 2`)
	p.shots("staff-requests")

	openRequest := func(person string) {
		t.Helper()
		p.tapEl(fmt.Sprintf(`.tab[data-tab="requests"]`))
		p.waitJS(`document.getElementById("requests") !== null`)
		sess := eval[string](p, fmt.Sprintf(`[...document.querySelectorAll("#requests [data-session]")].find(r => r.querySelector(".row-name").textContent.startsWith(%q)).dataset.session`, person))
		p.tapEl(fmt.Sprintf(`#requests [data-session=%q] .btn`, sess))
		p.waitJS(fmt.Sprintf(`(document.querySelector("#request[data-session]") || {dataset: {}}).dataset.session === %q`, sess))
	}

	t.Run("refuse", func(t *testing.T) {
		p.t = t
		openRequest("Anna")
		p.tapEl("#request-refuse")
		p.tapEl(`[data-reason="parent_unreachable"]`)
		p.tapEl("#refuse-do")
		// The refusal locks the panel (issue 14 item 3): idle is the end state.
		p.waitJS(`document.body.dataset.screen === "idle" || document.querySelectorAll("#requests [data-session]").length === 1 || document.querySelector("#request") !== null`)
	})

	t.Run("confirm with ID", func(t *testing.T) {
		p.t = t
		// The refusal locked the panel (issue 14 item 3): Lotte opens it again.
		d.tap(d.uid("Lotte"))
		p.waitScreen("staff", "")
		openRequest("Els")
		got := eval[[]string](p, `[document.getElementById("request-person").textContent, document.querySelector("#request .request-who").innerText.includes("buurvrouw") ? "buurvrouw" : "", ...[...document.querySelectorAll('#request [data-child]')].map(c => c.dataset.child)]`)
		if diff := cmp.Diff([]string{"Els K.", "buurvrouw", "c-anna"}, got); diff != "" {
			t.Errorf("confirmation screen (-want +got):\n%s", diff)
		}
		if eval[bool](p, `document.getElementById("photo") !== null`) {
			t.Error("photo placeholder shown although Anna has no photo consent")
		}
		if !eval[bool](p, `document.getElementById("request-confirm").disabled`) {
			t.Error("confirm possible before the ID type is chosen")
		}
		p.tapEl(`[data-id="rijbewijs"]`)
		p.shots("staff-confirm")
		p.tapEl("#request-confirm")
		p.waitScreen("ok", "")
		if d.present("c-anna") {
			t.Error("Anna still present after staff confirmed the pickup")
		}
	})
}

// TestStaffPIN: a staff member with a PIN sees the keypad first.
func TestStaffPIN(t *testing.T) {
	s := setup(t)
	d := startDaemon(t, s)
	p := openPage(t, s, d)
	d.tap(d.uid("Priya"))
	p.waitScreen("pin", "")
	if w := containsAny(p.text(), []string{"Rupsen", "Vlinders", "Pinda"}); w != "" {
		t.Errorf("PIN screen shows %q before the PIN", w)
	}
	p.shots("staff-pin")
	enter := func(pin string) {
		for _, k := range pin {
			p.tapEl(fmt.Sprintf(`.keypad [data-key="%c"]`, k))
		}
		p.tapEl(`.keypad [data-key="ok"]`)
	}
	enter("9999")
	p.waitJS(`(document.getElementById("pin-error") || {}).textContent === "Pincode onjuist"`)
	enter("1234")
	p.waitScreen("staff", "")
	if n := eval[int](p, `document.querySelectorAll(".group-card").length`); n != 3 {
		t.Errorf("%d groups after the PIN, want 3", n)
	}
}

// TestStaffAutoLock: the panel locks itself after inactivity.
func TestStaffAutoLock(t *testing.T) {
	s := setup(t)
	d := startDaemon(t, s, withStaffLock(2*time.Second))
	p := openPage(t, s, d)
	d.tap(d.uid("Ahmed"))
	p.waitScreen("staff", "")
	start := time.Now()
	p.waitJSFor(`document.body.dataset.screen === "idle"`, 6*time.Second)
	t.Logf("staff panel locked after %v without input", time.Since(start).Round(100*time.Millisecond))
}
