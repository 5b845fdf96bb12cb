// Package taps carries the readers' taps to the door, one at a time, and
// the door's decision back to the reader's buzzer and LED, which Outputs
// keeps running through GPIO errors (a buzzer never stops the door). It is where the
// hardware meets the domain, so it lives with the daemon that joins them
// (hw knows no children; attendance knows no chip).
package taps

import (
	"context"
	"log/slog"
	"time"

	"github.com/kinderdeur/kiosk/attendance/door"
	"github.com/kinderdeur/kiosk/attendance/rules"
	"github.com/kinderdeur/kiosk/hw"
	"github.com/kinderdeur/kiosk/hw/feedback"
)

// Door decides a tap (*door.Service).
type Door interface {
	Tap(ctx context.Context, reader string, uid []byte) (door.Result, error)
}

var _ Door = (*door.Service)(nil)

// Pump hands each tap to the door and signals the outcome on the reader's
// feedback outputs. Run is its one goroutine.
type Pump struct {
	Door     Door
	Feedback map[string]*feedback.Feedback // by reader name, only where fitted
	Logger   *slog.Logger
	// Observer is told when the door answered each tap (the metrics'
	// detection latency); nil: nobody.
	Observer interface {
		TapHandled(reader string, detected time.Time)
	}
}

// Run takes taps until ctx is done and then returns nil. A refused tap is
// logged; it never stops the pump.
func (p *Pump) Run(ctx context.Context, taps <-chan hw.Tap) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case t := <-taps:
			v, err := p.Door.Tap(ctx, t.Reader, t.UID)
			if p.Observer != nil && err == nil {
				p.Observer.TapHandled(t.Reader, t.At)
			}
			if err != nil {
				p.Logger.Warn("tap refused", "reader", t.Reader, "err", err)
				continue
			}
			p.Logger.Info("tap", "reader", t.Reader, "outcome", v.Outcome, "reason", v.Reason, "committed", v.Committed)
			if fb := p.Feedback[t.Reader]; fb != nil {
				fb.Signal(Pattern(v))
			}
		}
	}
}

// Pattern is the buzzer/LED signal for a decision.
func Pattern(v door.Result) feedback.Pattern {
	switch v.Outcome {
	case rules.CheckIn, rules.CheckOut, rules.StaffIn, rules.StaffOut, rules.StaffMenu:
		if v.Committed {
			return feedback.Success
		}
		return feedback.Deny
	case rules.Denied, "error":
		return feedback.Deny
	}
	return feedback.Attention
}
