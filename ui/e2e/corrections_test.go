package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestStaffCorrectsToday: on the staff panel's "Vandaag" tab staff correct
// today's stays: Zoë's arrival earlier (a reason is required), Levi's
// forgotten departure (he drops from presence), a missed stay added. Each is
// a correction event; the original taps stay. Screenshots at 800x480.
func TestStaffCorrectsToday(t *testing.T) {
	s := setup(t)
	d := startDaemon(t, s)
	p := openPage(t, s, d)
	checkInAll(t, p, d.uid("Youssef")) // Zoë
	checkInAll(t, p, d.uid("Ruben"))   // Levi
	if v := d.tap(d.uid("Ahmed")); v.Outcome != "staff_in" {
		t.Fatalf("Ahmed's tap: %q, want staff_in", v.Outcome)
	}
	p.waitScreen("staff", "")
	p.tapEl(`.tab[data-tab="today"]`)
	p.waitJS(`document.querySelectorAll("#today [data-stay]").length === 2`)
	p.shots("corrections-today")

	ams, err := time.LoadLocation("Europe/Amsterdam") // the demo location's zone
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(ams)
	earlier := now.Add(-40 * time.Minute)
	if earlier.Day() != now.Day() {
		t.Skip("too close to midnight for an earlier time of today")
	}
	setTime := func(sel string, at time.Time) {
		// A time input takes its value by script; the page listens for input.
		eval[bool](p, fmt.Sprintf(`(() => { const el = document.querySelector(%q); el.value = %q; el.dispatchEvent(new Event("input", {bubbles: true})); return true; })()`,
			sel, at.Format("15:04")))
	}

	t.Run("arrival earlier, with a reason", func(t *testing.T) {
		p.t = t
		p.tapEl(`#today [data-child="c-zoe"] [data-fix]`)
		p.waitJS(`document.getElementById("corr-sheet") !== null`)
		p.tapEl(`#corr-sheet [data-kind="set_check_in"]`)
		setTime("#corr-check_in", earlier)
		if !eval[bool](p, `document.getElementById("corr-do").disabled`) {
			t.Error("a correction without a reason can be saved")
		}
		p.tapEl(`#corr-sheet [data-reason="forgot_tap"]`)
		p.shots("corrections-sheet")
		p.tapEl("#corr-do")
		p.waitJS(`document.querySelector('#today [data-child="c-zoe"] .pill-corrected') !== null`)
		meta := eval[string](p, `document.querySelector('#today [data-child="c-zoe"] .row-meta').innerText`)
		if !strings.Contains(meta, earlier.Format("15:04")) {
			t.Errorf("Zoë's row %q, want arrival %s", meta, earlier.Format("15:04"))
		}
		if !d.present("c-zoe") {
			t.Error("Zoë dropped by a corrected arrival")
		}
	})

	t.Run("forgotten departure ends the stay", func(t *testing.T) {
		p.t = t
		p.tapEl(`#today [data-child="c-levi"] [data-fix]`)
		p.waitJS(`document.getElementById("corr-sheet") !== null`)
		p.tapEl(`#corr-sheet [data-kind="set_check_out"]`)
		setTime("#corr-check_out", now.Add(time.Minute)) // after the check-in of seconds ago, within the minute of slack
		p.tapEl(`#corr-sheet [data-reason="forgot_tap"]`)
		p.tapEl("#corr-do")
		p.waitJS(`(document.querySelector('#today [data-child="c-levi"] .row-meta') || {innerText: ""}).innerText.indexOf("nog aanwezig") < 0`)
		if d.present("c-levi") {
			t.Error("Levi still present after staff set his departure")
		}
	})

	t.Run("a missed stay added", func(t *testing.T) {
		p.t = t
		p.tapEl("#corr-add")
		p.waitJS(`document.getElementById("corr-child") !== null`)
		eval[bool](p, `(() => { const el = document.getElementById("corr-child"); el.value = "c-julia"; el.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`)
		setTime("#corr-check_in", earlier)
		setTime("#corr-check_out", earlier.Add(20*time.Minute))
		p.tapEl(`#corr-sheet [data-reason="forgot_tap"]`)
		p.shots("corrections-add")
		p.tapEl("#corr-do")
		p.waitJS(`document.querySelector('#today [data-child="c-julia"] .pill-corrected') !== null`)
		p.shots("corrections-after")
		if d.present("c-julia") {
			t.Error("an added stay of the past checks Julia in")
		}
	})
}
