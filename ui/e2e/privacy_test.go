package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
)

// forbiddenPublic lists what no public screen may ever contain, taken from
// the demo roster itself: every staff alert (health, allergy), every
// contact-ban note, full names (public screens show first names only) and
// relations, plus the words themselves.
func forbiddenPublic() []string {
	r, _ := roster.Demo(attendance.DateOf(time.Now()))
	words := []string{"contactverbod", "allergie", "allergy", "rechtbank"}
	for _, c := range r.Children {
		if c.StaffAlert != "" {
			words = append(words, c.StaffAlert)
		}
	}
	for _, b := range r.ContactBans {
		words = append(words, b.Note)
	}
	for _, p := range r.People {
		if strings.Contains(p.Name, " ") {
			words = append(words, p.Name)
		}
	}
	return words
}

// watchLeaks installs an observer that checks the whole DOM after every
// change while the page says it shows a public screen.
func watchLeaks(p *page, words []string) {
	p.t.Helper()
	b, _ := json.Marshal(words)
	eval[bool](p, `(() => {
  const words = `+string(b)+`.map(w => w.toLowerCase());
  window.__leaks = [];
  const check = () => {
    if (document.body.dataset.public !== "true") return;
    const html = document.documentElement.outerHTML.toLowerCase();
    for (const w of words) if (html.includes(w)) window.__leaks.push(w + " on screen " + document.body.dataset.screen);
  };
  new MutationObserver(check).observe(document.documentElement, {subtree: true, childList: true, attributes: true, characterData: true});
  check();
  return true;
})()`)
}

// TestPublicScreensNeverLeak walks through every public screen, also while
// a staff session is open, and fails if the DOM ever holds health, allergy,
// contact-ban or full-name data outside the staff panel.
func TestPublicScreensNeverLeak(t *testing.T) {
	s := setup(t)
	d := startDaemon(t, s)
	p := openPage(t, s, d)
	words := forbiddenPublic()
	watchLeaks(p, words)

	step := func(holder, screen string) view {
		t.Helper()
		v := d.tap(d.uid(holder))
		p.waitScreen(screen, v.ID)
		return v
	}
	step("Sanne", "choose") // Emma has a peanut allergy
	p.tapEl("#choose-confirm")
	p.waitScreen("ok", "")
	step("Ingrid", "choose") // Julia and Lucas: Tom has a contact ban for them
	p.tapEl("#choose-confirm")
	p.waitScreen("ok", "")
	step("Tom", "denied")
	step("onbekende", "denied")
	step("Youssef", "ok")
	step("Anna", "child_ok")
	d.forget()
	step("Anna", "child_grownup")
	step("Els", "needs_staff")
	step("Eva", "choose") // Tess: lactose intolerant
	p.tapEl("#choose-confirm")
	p.waitScreen("ok", "")

	// A staff session is open: the panel shows the alerts ...
	d.tap(d.uid("Lotte"))
	p.waitScreen("staff", "")
	p.tapEl(`.tab[data-tab="present"]`)
	p.waitJS(`document.getElementById("present") !== null`)
	panel := eval[string](p, `document.documentElement.outerHTML`)
	for _, w := range []string{"Pinda-allergie", "Lactose-intolerant"} {
		if !strings.Contains(panel, w) {
			t.Errorf("staff panel lacks the staff alert %q (the leak check would see nothing)", w)
		}
	}
	// ... and a parent's tap in the middle of it shows only public data
	// and locks the panel (issue 14 item 3: cancelling the choice used to
	// return to the open panel). Youssef tapped a moment ago: the undo
	// question, a public screen too.
	step("Youssef", "undo")
	p.tapEl("#undo-no")
	p.waitScreen("idle", "")
	step("Ingrid", "choose")
	p.tapEl("#choose-cancel")
	p.waitScreen("idle", "")
	step("Tom", "denied")

	var leaks []string
	raw := eval[[]string](p, `window.__leaks`)
	seen := map[string]bool{}
	for _, l := range raw {
		if !seen[l] {
			seen[l] = true
			leaks = append(leaks, l)
		}
	}
	if len(leaks) > 0 {
		t.Errorf("public screens showed staff-only data:\n  %s", strings.Join(leaks, "\n  "))
	}
}
