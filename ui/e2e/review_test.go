package e2e

// Found by the review walk of the door at 800x480 (a parent in a hurry).

import (
	"strings"
	"testing"
)

// Both parents tap at drop-off: Sanne brings Noah, Emma and Sem; Mark's
// card a moment later must not offer them preselected for check-out
// ("Bevestigen (3)" took them straight out again). The glass asks, nothing
// selected, and its hint says to tap the children being picked up, not
// "Tik op een kind om het niet mee te nemen".
func TestReviewSecondParentAtDropOff(t *testing.T) {
	s := setup(t)
	d := startDaemon(t, s)
	p := openPage(t, s, d)
	checkInAll(t, p, d.uid("Sanne"))
	v := d.tap(d.uid("Mark"))
	if v.Outcome != "confirm" || v.Reason != "undo_recent" {
		t.Fatalf("Mark's tap right after Sanne's drop-off: %s/%s, want confirm/undo_recent", v.Outcome, v.Reason)
	}
	p.waitScreen("choose", v.ID)
	got := eval[[]string](p, `[String(document.querySelectorAll(".child-card.on").length), String(document.getElementById("choose-confirm").disabled), document.getElementById("choose-hint").textContent]`)
	if got[0] != "0" || got[1] != "true" {
		t.Errorf("second parent's screen: %s children selected, confirm disabled %s; want none, disabled", got[0], got[1])
	}
	if want := "Tik op de kinderen die je ophaalt"; got[2] != want {
		t.Errorf("hint = %q, want %q", got[2], want)
	}
	// Each card says the child was just brought in (not "binnen sinds"):
	// by Sanne, a moment ago, which is why Mark is asked.
	states := eval[[]string](p, `[...document.querySelectorAll(".child-card .child-state")].map((e) => e.textContent)`)
	if len(states) != 3 || states[0] != "net ingecheckt" || states[1] != "net ingecheckt" || states[2] != "net ingecheckt" {
		t.Errorf("card states = %q, want three times \"net ingecheckt\"", states)
	}
	p.shots("second-parent")
	p.tapEl("#choose-cancel")
	p.waitScreen("idle", "")
	for _, id := range []string{"c-noah", "c-emma", "c-sem"} {
		if !d.present(id) {
			t.Errorf("%s not present after the second parent's tap", id)
		}
	}
	if w := containsAny(p.text(), []string{"Uitgecheckt"}); w != "" {
		t.Errorf("idle after cancel shows %q", strings.TrimSpace(p.text()))
	}
}
