package door

import (
	"fmt"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/rules"
)

// warnings are the staff-visible notes of the door, newest last, at most
// 20. Guarded by the door's state lock.
type warnings struct {
	list         []rules.Warning
	forgotWarned string // day/count of the last forgotten check-out warning
}

func (w *warnings) add(ws ...rules.Warning) {
	for _, x := range ws {
		if x.Text == "" {
			continue
		}
		w.list = append(w.list, x)
	}
	if n := len(w.list); n > 20 {
		w.list = w.list[n-20:]
	}
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

// warnForgotten warns staff once per day and number when children are
// still checked in after closing or from an earlier day (they stay checked
// in until staff resolve them: nothing closes silently); it reports
// whether it warned.
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
	if n == 0 || key == w.forgotWarned {
		return false
	}
	w.forgotWarned = key
	w.add(rules.Warning{Code: "forgotten_check_out",
		Text: fmt.Sprintf("%d kind(eren) nog ingecheckt na sluitingstijd of van een eerdere dag: controleer en check uit", n)})
	return true
}
