package attendance

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Correction is the body of a correction event: staff (today, at the kiosk)
// or a manager (any day, at central) put right what the door recorded. The
// original events are never edited: a correction is a new event that
// supersedes part of a stay, and attendance/stays folds it in (a later
// correction of the same stay wins; see stays.Build).
//
// A stay is named by Target: the event id of its check-in or of its
// check-out (either will do), or the id of the add_stay correction that
// made it, so a correction can itself be corrected.
type Correction struct {
	Kind   CorrectionKind `json:"kind"`
	Target string         `json:"target,omitempty"` // every kind but add_stay
	// CheckIn and CheckOut are the new times (UTC instants): CheckIn for
	// set_check_in, CheckOut for set_check_out, both for add_stay.
	CheckIn  time.Time `json:"check_in,omitzero"`
	CheckOut time.Time `json:"check_out,omitzero"`
	// Reason says why, in the corrector's words (required).
	Reason string `json:"reason"`
	// By names who corrected: "staff:<staff id>" at the kiosk,
	// "user:<user id>" at central.
	By string `json:"by"`
}

// CorrectionKind says what a correction does to a stay.
type CorrectionKind string

// The kinds of correction. The strings are stored and synced: never rename.
const (
	SetCheckIn  CorrectionKind = "set_check_in"  // the stay began at CheckIn
	SetCheckOut CorrectionKind = "set_check_out" // the stay ended at CheckOut (ends a forgotten one)
	AddStay     CorrectionKind = "add_stay"      // a missed stay from CheckIn to CheckOut
	RemoveStay  CorrectionKind = "remove_stay"   // the stay did not happen
)

// CorrectionKinds lists the kinds, in a stable order.
var CorrectionKinds = []CorrectionKind{SetCheckIn, SetCheckOut, AddStay, RemoveStay}

// MaxCorrectionReason is the longest reason kept (in characters).
const MaxCorrectionReason = 500

// ErrBadCorrection is wrapped by every refusal of Correction.Validate.
var ErrBadCorrection = errors.New("correction")

// Validate checks a correction on its own (whether its target exists and its
// times fit the stay is for the one who builds it): a known kind, a target
// for all but add_stay, the times the kind needs, add_stay's check-in before
// its check-out and under 24 hours, a reason without control characters,
// and no time after now (plus a minute of slack).
func (c Correction) Validate(now time.Time) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrBadCorrection, fmt.Sprintf(format, a...))
	}
	reason := strings.TrimSpace(c.Reason)
	switch {
	case reason == "":
		return bad("a reason is required")
	case utf8.RuneCountInString(reason) > MaxCorrectionReason:
		return bad("reason longer than %d characters", MaxCorrectionReason)
	case strings.ContainsFunc(reason, func(r rune) bool {
		return r < 0x20 || r == 0x7f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
	}):
		return bad("reason holds control characters")
	case c.By == "" || len(c.By) > 200:
		return bad("who corrected (by) is missing")
	}
	late := now.Add(time.Minute)
	need := func(name string, t time.Time) error {
		if t.IsZero() {
			return bad("%s: %s missing", c.Kind, name)
		}
		if !now.IsZero() && t.After(late) {
			return bad("%s: %s %s is in the future", c.Kind, name, t.UTC().Format(time.RFC3339))
		}
		return nil
	}
	switch c.Kind {
	case SetCheckIn:
		if err := need("check_in", c.CheckIn); err != nil {
			return err
		}
	case SetCheckOut:
		if err := need("check_out", c.CheckOut); err != nil {
			return err
		}
	case AddStay:
		if err := need("check_in", c.CheckIn); err != nil {
			return err
		}
		if err := need("check_out", c.CheckOut); err != nil {
			return err
		}
		if !c.CheckIn.Before(c.CheckOut) {
			return bad("add_stay: check_in must be before check_out")
		}
		if c.CheckOut.Sub(c.CheckIn) > 24*time.Hour {
			return bad("add_stay: longer than 24 hours")
		}
	case RemoveStay:
	default:
		return bad("unknown kind %q", c.Kind)
	}
	if c.Kind != AddStay && c.Target == "" {
		return bad("%s: target (the stay's event id) missing", c.Kind)
	}
	if c.Kind == AddStay && c.Target != "" {
		return bad("add_stay names no target")
	}
	return nil
}

// ValidCorrectionEvent checks a correction event: type, a child, and its
// correction (see Correction.Validate; now zero skips the future check).
func ValidCorrectionEvent(e Event, now time.Time) error {
	if e.Type != CorrectionEvent {
		return fmt.Errorf("%w: type %q is not %q", ErrBadCorrection, e.Type, CorrectionEvent)
	}
	if e.Correction == nil {
		return fmt.Errorf("%w: no correction body", ErrBadCorrection)
	}
	if e.ChildID == "" {
		return fmt.Errorf("%w: no child", ErrBadCorrection)
	}
	return e.Correction.Validate(now)
}
