package door

import (
	"context"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/rules"
)

// recorder is the one place the door turns decisions and staff acts into
// stored events: it gives the rules' event builders (rules/events.go,
// which stamp every event with the location and roster version) the
// moment as this device knows it, and appends to the store. It holds no
// state and takes no lock: the caller holds the writer lock and not the
// state lock while the store commits.
type recorder struct {
	store Store
	clock Clock
	obs   Observer
}

// context is the part every event of this moment shares.
func (r recorder) context(reader string) attendance.Event {
	return attendance.Event{
		Reader: reader, Wall: r.clock.Now(), MonoNS: r.clock.MonoNS(),
		BootID: r.clock.BootID(), ClockSynced: r.clock.Synced(),
	}
}

// decision builds the events of a final decision; extra carries the
// confirmation fields (confirmed by, ID checked, note, manual, reason).
func (r recorder) decision(ix *roster.Index, d rules.Decision, reader string, extra attendance.Event) []attendance.Event {
	ev := r.context(reader)
	ev.ConfirmedBy, ev.IDChecked, ev.Note, ev.Manual, ev.Reason = extra.ConfirmedBy, extra.IDChecked, extra.Note, extra.Manual, extra.Reason
	ev.PolicyVersion = d.PolicyVersion
	return rules.Events(d, ev, ix)
}

// override is a staff override of a ratio or capacity block.
func (r recorder) override(ix *roster.Index, d rules.Decision, reader, staffID, note string) attendance.Event {
	return rules.OverrideEvent(d, staffID, note, r.context(reader), ix)
}

// refusal is staff refusing a request.
func (r recorder) refusal(ix *roster.Index, d rules.Decision, reader, staffID, note string) []attendance.Event {
	return rules.RefusalEvents(d, staffID, note, r.context(reader), ix)
}

// closed records a request for staff that closed without a staff decision.
func (r recorder) closed(ix *roster.Index, d rules.Decision, reader, why string) []attendance.Event {
	return rules.RequestClosedEvents(d, why, r.context(reader), ix)
}

// manual is a staff act on the staff panel (a manual check-in or -out, a
// clock-out): recorded as manual, by and confirmed by the staff member.
func (r recorder) manual(ix *roster.Index, d rules.Decision, staffID, note string) []attendance.Event {
	return r.decision(ix, d, "", attendance.Event{ConfirmedBy: staffID, Manual: true, Note: note})
}

// rollCall is a roll call mark.
func (r recorder) rollCall(ix *roster.Index, subject string, child bool, staffID, note string) attendance.Event {
	ev := r.context("")
	ev.Manual, ev.Note = true, note
	return rules.RollCallEvent(subject, child, staffID, ev, ix)
}

// append commits evs in one durable transaction.
func (r recorder) append(ctx context.Context, evs ...attendance.Event) ([]attendance.Event, error) {
	start := time.Now()
	out, err := r.store.Append(ctx, evs...)
	r.obs.Committed(len(evs), time.Since(start), err)
	return out, err
}
