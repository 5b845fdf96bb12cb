package ratio

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
)

// Tracker follows one group's three-hour rule state through the day. Feed
// it every change of staff present or staff required (Set); Report gives
// the day so far. It keeps only today's state changes (plus the one in
// force at midnight) and starts a new day by itself at midnight. It is safe
// for concurrent use and starts no goroutines.
type Tracker struct {
	rule  Rule
	loc   *time.Location
	dayOf func(attendance.Date) Day
	now   func() time.Time

	mu      sync.Mutex
	samples []Sample
}

// NewTracker returns a tracker for a group in loc. dayOf tells the kind and
// opening hours of a date (the caller's calendar: school day or vacation,
// holidays); its Date field is ignored. now is the clock (time.Now in
// production).
func NewTracker(rule Rule, loc *time.Location, dayOf func(attendance.Date) Day, now func() time.Time) (*Tracker, error) {
	if loc == nil || dayOf == nil || now == nil {
		return nil, errors.New("ratio: new tracker: nil location, calendar or clock")
	}
	if err := rule.Validate(); err != nil {
		return nil, err
	}
	return &Tracker{rule: rule, loc: loc, dayOf: dayOf, now: now}, nil
}

// Set records that from now the group has staff present and required staff.
// A clock that steps back (a Pi setting its time) is clamped to the last
// change, so the timeline stays ordered. Negative counts are refused.
func (t *Tracker) Set(staff, required int) error {
	if staff < 0 || required < 0 {
		return fmt.Errorf("ratio: tracker: %d staff, %d required: negative count: %w", staff, required, ErrTimeline)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock()
	t.trim(now)
	if n := len(t.samples); n > 0 {
		last := t.samples[n-1]
		if last.Staff == staff && last.Required == required {
			return nil
		}
		if last.At.Equal(now) {
			t.samples[n-1] = Sample{At: now, Staff: staff, Required: required}
			return nil
		}
	}
	t.samples = append(t.samples, Sample{At: now, Staff: staff, Required: required})
	return nil
}

// Report returns today's three-hour rule state up to now; its Ongoing
// alerts are the ones to show on the staff screen.
func (t *Tracker) Report() (DayReport, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock()
	t.trim(now)
	date := attendance.DateOf(now.In(t.loc))
	day := t.dayOf(date)
	day.Date = date
	return EvaluateDay(t.rule, t.loc, day, t.samples, now)
}

// clock returns now, never before the last recorded change.
func (t *Tracker) clock() time.Time {
	now := t.now()
	if n := len(t.samples); n > 0 && now.Before(t.samples[n-1].At) {
		return t.samples[n-1].At
	}
	return now
}

// trim drops state changes from before today, keeping the one in force at
// today's midnight.
func (t *Tracker) trim(now time.Time) {
	start := attendance.DateOf(now.In(t.loc)).In(t.loc)
	keep := 0
	for i := 1; i < len(t.samples); i++ {
		if !t.samples[i].At.After(start) {
			keep = i
		}
	}
	if keep > 0 {
		t.samples = append(t.samples[:0], t.samples[keep:]...)
	}
}
