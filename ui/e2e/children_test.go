package e2e

import (
	"strings"
	"testing"
)

// TestChildScreens covers the children's own badges (issue 10): a child
// checks in by itself (first name, large and friendly), leaves alone only
// with permission, is told kindly that a grown-up must come otherwise, and
// the grown-up's tap completes the two-tap handover.
func TestChildScreens(t *testing.T) {
	s := setup(t)
	d := startDaemon(t, s)
	p := openPage(t, s, d)
	finn, anna, linda := d.uid("Finn"), d.uid("Anna"), d.uid("Linda")

	t.Run("self check-in", func(t *testing.T) {
		p.t = t
		v := d.tap(finn)
		if v.Outcome != "check_in" || v.Actor.Role != "child" {
			t.Fatalf("Finn's tap: %+v, want a child's check_in", v)
		}
		p.waitScreen("child_ok", v.ID)
		if txt := p.text(); !strings.Contains(txt, "Hoi Finn!") {
			t.Errorf("child check-in screen: %q", txt)
		}
		if got := eval[string](p, `document.body.dataset.sound`); got != "success" {
			t.Errorf("sound = %q, want success", got)
		}
		p.shots("child-in")
	})

	t.Run("leaves alone with permission", func(t *testing.T) {
		p.t = t
		v := d.tap(finn)
		if v.Reason != "already_done" {
			t.Errorf("Finn's second tap right after his check-in: reason %q, want already_done", v.Reason)
		}
		p.waitScreen("child_ok", v.ID)
		if txt := p.text(); !strings.Contains(txt, "Je bent al binnen") {
			t.Errorf("child's repeated tap: %q", txt)
		}
		d.forget()
		v = d.tap(finn)
		if v.Outcome != "check_out" || v.Reason != "independent" {
			t.Fatalf("Finn's second tap: outcome %q reason %q, want check_out independent (Finn has a permission)", v.Outcome, v.Reason)
		}
		p.waitScreen("child_ok", v.ID)
		if txt := p.text(); !strings.Contains(txt, "Doei Finn!") {
			t.Errorf("child check-out screen: %q", txt)
		}
		p.shots("child-out")
	})

	t.Run("may not leave alone", func(t *testing.T) {
		p.t = t
		v := d.tap(anna)
		p.waitScreen("child_ok", v.ID)
		d.forget()
		v = d.tap(anna)
		if v.Outcome != "needs_staff" || v.Reason != "needs_grown_up" {
			t.Fatalf("Anna's second tap: outcome %q reason %q, want needs_staff needs_grown_up", v.Outcome, v.Reason)
		}
		p.waitScreen("child_grownup", v.ID)
		txt := p.text()
		for _, want := range []string{"Hoi Anna!", "Een grote moet je ophalen", "Houd nu jouw kaart bij de lezer"} {
			if !strings.Contains(txt, want) {
				t.Errorf("grown-up screen lacks %q: %q", want, txt)
			}
		}
		if got := eval[string](p, `document.body.dataset.sound`); got != "attention" {
			t.Errorf("sound = %q, want attention", got)
		}
		p.shots("child-needs-grown-up")
		if !d.present("c-anna") {
			t.Error("Anna was checked out by her own tap without permission")
		}
	})

	t.Run("handover: child first, then the grown-up", func(t *testing.T) {
		p.t = t
		v := d.tap(linda)
		if v.Outcome != "check_out" || v.Reason != "handover" {
			t.Fatalf("Linda's tap after Anna's: outcome %q reason %q, want check_out handover", v.Outcome, v.Reason)
		}
		p.waitScreen("ok", v.ID)
		if txt := p.text(); !strings.Contains(txt, "Anna gaat mee met Linda") {
			t.Errorf("handover screen: %q", txt)
		}
		p.shots("handover")
		if d.present("c-anna") {
			t.Error("Anna still present after the handover")
		}
	})
}
