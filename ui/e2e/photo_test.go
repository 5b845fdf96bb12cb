package e2e

import (
	"strings"
	"testing"
)

// TestPhotoOnlyWithConsent: grandpa Henk was announced for Mila yesterday,
// not today, so his tap calls staff; Mila has photo consent, so the staff
// confirmation screen shows her photo placeholder (Anna's does not: see
// TestNeedsStaff). The public screen names nobody.
func TestPhotoOnlyWithConsent(t *testing.T) {
	s := setup(t)
	d := startDaemon(t, s)
	p := openPage(t, s, d)
	v := d.tap(d.uid("Fatima")) // Mila and Daan
	if v.Outcome != "choose_children" {
		t.Fatalf("Fatima: %s", v.Outcome)
	}
	p.waitScreen("choose", v.ID)
	p.tapEl("#choose-confirm")
	p.waitScreen("ok", "")
	if !d.present("c-mila") {
		t.Fatal("Mila not checked in")
	}
	d.forget()

	v = d.tap(d.uid("Henk"))
	if v.Outcome != "needs_staff" || v.Reason != "not_announced" {
		t.Fatalf("Henk: %s %s, want needs_staff not_announced", v.Outcome, v.Reason)
	}
	p.waitScreen("needs_staff", v.ID)
	if w := containsAny(p.text(), []string{"Mila", "Henk", "opa"}); w != "" {
		t.Errorf("public screen names %q", w)
	}
	d.tap(d.uid("Lotte"))
	p.waitScreen("staff", "")
	p.waitJS(`document.getElementById("request") !== null`) // the request opens at once
	p.waitJS(`document.getElementById("photo") !== null`)
	if txt := p.text(); !strings.Contains(txt, "Mila") || !strings.Contains(txt, "Henk") {
		t.Errorf("staff confirmation lacks the child or the person: %q", txt)
	}
	p.shots("staff-confirm-photo")
}
