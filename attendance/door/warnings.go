package door

import (
	"fmt"
	"sort"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/rules"
)

// Note is a staff warning as the panel lists it: when it was last raised
// and how often it was raised within NoteRepeatWindow.
type Note struct {
	rules.Warning
	At    time.Time // last raised, in the location's zone
	Count int       // 1, or how often within the window ("3x" on the panel)
}

// NoteRepeatWindow: the same warning (code, group and text) raised again
// within this time of its last raising counts up instead of adding a line.
const NoteRepeatWindow = 15 * time.Minute

// maxNotes is how many notes the door keeps (the oldest go first).
const maxNotes = 20

// pinnedCodes are listed above every other warning, whatever their age: a
// person at the door who may not take a child, and taps that were not
// recorded, need staff now. The group ratio has its own red card on the
// panel, so it is not pinned.
var pinnedCodes = map[string]bool{rules.ReasonContactBan: true, "disk_full": true, "storage": true}

// warnings are the staff-visible notes of the door, at most maxNotes.
// Guarded by the door's state lock.
type warnings struct {
	list         []Note
	now          func() time.Time // the door's clock; s.mu held
	forgotWarned string           // day/count of the last forgotten check-out warning
}

func (w *warnings) add(ws ...rules.Warning) {
	var now time.Time
	if w.now != nil {
		now = w.now()
	}
next:
	for _, x := range ws {
		if x.Text == "" {
			continue
		}
		for i := range w.list {
			n := &w.list[i]
			if n.Warning == x && !now.Before(n.At) && now.Sub(n.At) <= NoteRepeatWindow {
				n.Count++
				n.At = now
				continue next
			}
		}
		w.list = append(w.list, Note{Warning: x, At: now, Count: 1})
	}
	for len(w.list) > maxNotes {
		// Drop the least recently raised; of those raised at the same
		// time, the one added first.
		oldest := 0
		for i, n := range w.list {
			if n.At.Before(w.list[oldest].At) {
				oldest = i
			}
		}
		w.list = append(w.list[:oldest], w.list[oldest+1:]...)
	}
}

// sorted lists the notes for the panel: pinned codes first, then newest
// first (ties: the later added first).
func (w *warnings) sorted() []Note {
	out := make([]Note, len(w.list))
	for i, n := range w.list {
		out[len(out)-1-i] = n // newest added first
	}
	sort.SliceStable(out, func(i, j int) bool {
		pi, pj := pinnedCodes[out[i].Code], pinnedCodes[out[j].Code]
		if pi != pj {
			return pi
		}
		return out[i].At.After(out[j].At)
	})
	return out
}

// forgotten reports whether a child present since since has a forgotten
// check-out at now: still in from an earlier day, or in while the
// location is closed.
func forgotten(ix *roster.Index, since, now time.Time) bool {
	if attendance.DateOf(since.In(now.Location())) != attendance.DateOf(now) {
		return true
	}
	return len(ix.Roster.Location.Hours) > 0 && !ix.Open(now)
}

// forgottenCheckOuts keeps one staff note while children are still checked
// in after closing or from an earlier day (they stay checked in until staff
// resolve them: nothing closes silently). The note follows the count as
// staff resolve them and goes when none is left; it reports whether the
// notes changed.
func (w *warnings) forgottenCheckOuts(ix *roster.Index, p *attendance.Presence, now time.Time) bool {
	if ix == nil {
		return false
	}
	n := 0
	for _, st := range p.Children() {
		if forgotten(ix, st.Since, now) {
			n++
		}
	}
	key := fmt.Sprintf("%s/%d", attendance.DateOf(now), n)
	if n == 0 {
		w.forgotWarned = ""
		return w.remove(codeForgottenCheckOut)
	}
	if key == w.forgotWarned && w.has(codeForgottenCheckOut) {
		return false // (newer notes may have pushed it out: then it comes back)
	}
	w.forgotWarned = key
	w.remove(codeForgottenCheckOut)
	w.add(rules.Warning{Code: "forgotten_check_out", // the literal: ui/e2e's words test scans for codes
		Text: rules.Count(n, "kind", "kinderen") + " nog ingecheckt na sluitingstijd of van een eerdere dag: controleer en check uit"})
	return true
}

// codeForgottenCheckOut is the code of the forgotten check-out note.
const codeForgottenCheckOut = "forgotten_check_out"

// has reports whether a note with the code is listed.
func (w *warnings) has(code string) bool {
	for _, n := range w.list {
		if n.Code == code {
			return true
		}
	}
	return false
}

// remove drops every note with the code; it reports whether there was one.
func (w *warnings) remove(code string) bool {
	kept := w.list[:0]
	for _, n := range w.list {
		if n.Code != code {
			kept = append(kept, n)
		}
	}
	removed := len(kept) != len(w.list)
	w.list = kept
	return removed
}
