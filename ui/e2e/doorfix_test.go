package e2e

// Issue 14 ("the door, safe for a real morning"), items 1-8, as the glass
// shows them at 800x480: what a parent in a hurry and staff with a queue
// see. Screenshots go to $KIOSK_ARTEFACTS.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// withUndoGuard starts kioskd with undo_guard set to d ("0s" disables).
func withUndoGuard(d string) daemonOption {
	return func(k *daemon) {
		k.config = filepath.Join(k.data, "..", filepath.Base(k.data)+"-kioskd.json")
		b, _ := json.Marshal(map[string]any{"undo_guard": d})
		if err := os.WriteFile(k.config, b, 0o600); err != nil {
			k.t.Fatalf("write config: %v", err)
		}
	}
}

// Item 1: a mixed family tap shows two groups, nothing selected; the
// result names what happened to each child.
func TestIssue14MixedFamilyTap(t *testing.T) {
	s := setup(t)
	d := startDaemon(t, s, withUndoGuard("0s"))
	p := openPage(t, s, d)
	sanne := d.uid("Sanne")
	v := d.tap(sanne)
	p.waitScreen("choose", v.ID)
	p.tapEl(`[data-child="c-noah"]`) // Noah stays home this morning
	p.waitJS(`document.querySelector('[data-child="c-noah"]').getAttribute("aria-pressed") === "false"`)
	p.tapEl("#choose-confirm")
	p.waitScreen("ok", "")

	v = d.tap(sanne)
	if v.Outcome != "choose_children" {
		t.Fatalf("mixed tap: %q", v.Outcome)
	}
	p.waitScreen("choose", v.ID)
	got := eval[[]string](p, `[document.querySelector("#choose-in h2").textContent, document.querySelector("#choose-out h2").textContent,
		String(document.querySelectorAll(".child-card.on").length), String(document.getElementById("choose-confirm").disabled),
		[...document.querySelectorAll("#choose-in [data-child]")].map(c => c.dataset.child).join(","),
		[...document.querySelectorAll("#choose-out [data-child]")].map(c => c.dataset.child).join(",")]`)
	want := []string{"Brengen", "Ophalen", "0", "true", "c-noah", "c-emma,c-sem"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("mixed choose screen = %q, want %q", got, want)
	}
	p.shots("mixed-choose")
	p.tapEl(`[data-child="c-noah"]`)
	p.tapEl(`[data-child="c-sem"]`)
	p.waitJS(`document.getElementById("choose-confirm").textContent.includes("(2)")`)
	p.tapEl("#choose-confirm")
	p.waitScreen("inout", "")
	txt := p.text()
	for _, w := range []string{"Noah is ingecheckt.", "Sem is uitgecheckt."} {
		if !strings.Contains(txt, w) {
			t.Errorf("result lacks %q: %q", w, txt)
		}
	}
	if strings.Contains(txt, "Emma") {
		t.Errorf("result names Emma, who was not acted on: %q", txt)
	}
	p.shots("mixed-result")
	if !d.present("c-noah") || d.present("c-sem") || !d.present("c-emma") {
		t.Error("presence is not what happened")
	}
}

// Item 2: Ruben's second tap asks; "Nee" changes nothing, "Ja" picks up.
func TestIssue14UndoQuestion(t *testing.T) {
	s := setup(t)
	d := startDaemon(t, s)
	p := openPage(t, s, d)
	ruben := d.uid("Ruben")
	p.waitScreen("ok", d.tap(ruben).ID)
	v := d.tap(ruben)
	if v.Outcome != "confirm" || v.Reason != "undo_recent" {
		t.Fatalf("second tap: %q %q", v.Outcome, v.Reason)
	}
	p.waitScreen("undo", v.ID)
	if txt := p.text(); !strings.Contains(txt, "Levi is net ingecheckt.") || !strings.Contains(txt, "Nu ophalen?") {
		t.Errorf("undo question = %q", txt)
	}
	p.shots("undo-question")
	p.tapEl("#undo-no")
	p.waitScreen("idle", "")
	if !d.present("c-levi") {
		t.Fatal("Levi left on 'Nee'")
	}
	v = d.tap(ruben)
	p.waitScreen("undo", v.ID)
	p.tapEl("#undo-yes")
	p.waitScreen("ok", "")
	if txt := p.text(); !strings.Contains(txt, "Levi") {
		t.Errorf("result after 'Ja' = %q", txt)
	}
	if d.present("c-levi") {
		t.Error("Levi still present after 'Ja, ophalen'")
	}
	// A tap right after the pick-up says what happened a moment ago: Levi
	// went out (it said "Je hebt net al getapt. Levi brengen?").
	v = d.tap(ruben)
	p.waitScreen("undo", v.ID)
	if txt := p.text(); !strings.Contains(txt, "Levi is net uitgecheckt.") || !strings.Contains(txt, "Nu weer brengen?") {
		t.Errorf("undo question after the pick-up = %q", txt)
	}
	p.shots("undo-after-pickup")
	p.tapEl("#undo-no")
	p.waitScreen("idle", "")
	if d.present("c-levi") {
		t.Error("Levi came back on 'Nee'")
	}
}

// Items 3 and 4: a parent's tap drops the staff panel at once; a staff
// confirm shows the children's names, then idle, never the panel.
func TestIssue14PanelLocksAndConfirmNamesTheChild(t *testing.T) {
	s := setup(t)
	d := startDaemon(t, s)
	p := openPage(t, s, d)
	checkInAll(t, p, d.uid("Sanne"))
	checkInAll(t, p, d.uid("Fatima"))
	d.tap(d.uid("Lotte"))
	p.waitScreen("staff", "")
	v := d.tap(d.uid("Henk")) // announced yesterday, not today
	p.waitScreen("needs_staff", v.ID)
	if txt := p.text(); strings.Contains(txt, "Pinda") || eval[string](p, `document.body.dataset.public`) != "true" {
		t.Errorf("staff data on the glass with Henk there: %q", txt)
	}
	d.tap(d.uid("Lotte"))
	p.waitScreen("staff", "")
	p.waitJS(`document.getElementById("request") !== null`)
	p.tapEl(`[data-id="rijbewijs"]`)
	p.tapEl("#request-confirm")
	p.waitScreen("ok", "")
	txt := p.text()
	if !strings.Contains(txt, "Mila") {
		t.Errorf("confirmed pickup names no child: %q", txt)
	}
	p.shots("confirmed-pickup")
	p.waitJSFor(`document.body.dataset.screen === "idle"`, 10*time.Second)
	if txt := p.text(); strings.Contains(txt, "Pinda") {
		t.Errorf("after the result: %q", txt)
	}
}

// Item 6: Els takes Mila; staff come for Daan. (Els taps seconds after
// Fatima's drop-off here: without the undo guard, which would make Mila
// wait for staff with Daan.)
func TestIssue14PartlyAnnounced(t *testing.T) {
	s := setup(t)
	d := startDaemon(t, s, withUndoGuard("0s"))
	p := openPage(t, s, d)
	checkInAll(t, p, d.uid("Fatima"))
	v := d.tap(d.uid("Els"))
	if v.Outcome != "needs_staff" || !v.Committed {
		t.Fatalf("Els: %+v", v)
	}
	p.waitScreen("needs_staff", v.ID)
	txt := p.text()
	for _, w := range []string{"Mila is uitgecheckt", "Voor Daan komt een medewerker."} {
		if !strings.Contains(txt, w) {
			t.Errorf("partly announced pickup lacks %q: %q", w, txt)
		}
	}
	p.shots("partly-announced")
	if d.present("c-mila") || !d.present("c-daan") {
		t.Error("presence: want Mila out, Daan in")
	}
	d.tap(d.uid("Lotte"))
	p.waitScreen("staff", "")
	p.waitJS(`document.getElementById("request") !== null`)
	if got := eval[string](p, `[...document.querySelectorAll("#request [data-child]")].map(c => c.dataset.child).join(",")`); got != "c-daan" {
		t.Errorf("request children = %q, want c-daan", got)
	}
}

// Item 7: staff say to whom a child who may not leave alone goes.
func TestIssue14ReleaseToAGrownUp(t *testing.T) {
	s := setup(t)
	d := startDaemon(t, s)
	p := openPage(t, s, d)
	checkInAll(t, p, d.uid("Linda")) // Finn, Anna
	d.forget()
	v := d.tap(d.uid("Anna"))
	p.waitScreen("child_grownup", v.ID)
	d.tap(d.uid("Lotte"))
	p.waitScreen("staff", "")
	p.waitJS(`document.getElementById("release-to") !== null`)
	if !eval[bool](p, `document.getElementById("request-confirm").disabled`) {
		t.Error("confirm possible before saying to whom")
	}
	p.tapEl(`[data-person="other"]`)
	p.waitJS(`document.getElementById("release-name") !== null && document.querySelector('[data-id="rijbewijs"]') !== null`)
	p.shots("release-to-other")
	p.tapEl(`[data-person="p-linda"]`)
	p.waitJS(`document.querySelector('[data-person="p-linda"]').getAttribute("aria-pressed") === "true"`)
	p.shots("release-to")
	p.tapEl("#request-confirm")
	p.waitScreen("ok", "")
	if d.present("c-anna") {
		t.Error("Anna still present")
	}
}

// Item 8: a former guardian sees the same neutral refusal as a ban.
func TestIssue14WithdrawnRights(t *testing.T) {
	s := setup(t)
	d := startDaemon(t, s)
	p := openPage(t, s, d)
	checkInAll(t, p, d.uid("Ruben"))
	v := d.tap(d.uid("Rob"))
	if v.Outcome != "denied" || v.Reason != "not_allowed" || v.Actor.Name != "" {
		t.Fatalf("Rob: %+v", v)
	}
	p.waitScreen("denied", v.ID)
	ban := p.text()
	if strings.Contains(ban, "Rob") || strings.Contains(ban, "Levi") || strings.Contains(ban, "gezag") {
		t.Errorf("refusal names too much: %q", ban)
	}
	p.shots("withdrawn")
	d.forget()
	v = d.tap(d.uid("Tom"))
	p.waitScreen("denied", v.ID)
	if got := p.text(); got != ban {
		t.Errorf("withdrawn %q vs contact ban %q: want the same neutral text", ban, got)
	}
}
