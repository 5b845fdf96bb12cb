package taps

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance/door"
	"github.com/kinderdeur/kiosk/attendance/rules"
	"github.com/kinderdeur/kiosk/hw"
	"github.com/kinderdeur/kiosk/hw/feedback"
)

func TestPattern(t *testing.T) {
	for _, tt := range []struct {
		name string
		v    door.Result
		want feedback.Pattern
	}{
		{"check-in committed", door.Result{Decision: rules.Decision{Outcome: rules.CheckIn}, Committed: true}, feedback.Success},
		{"check-out not committed", door.Result{Decision: rules.Decision{Outcome: rules.CheckOut}}, feedback.Deny},
		{"staff menu", door.Result{Decision: rules.Decision{Outcome: rules.StaffMenu}, Committed: true}, feedback.Success},
		{"denied", door.Result{Decision: rules.Decision{Outcome: rules.Denied}}, feedback.Deny},
		{"error", door.Result{Decision: rules.Decision{Outcome: "error"}}, feedback.Deny},
		{"choose children", door.Result{Decision: rules.Decision{Outcome: rules.ChooseChildren}}, feedback.Attention},
		{"needs staff", door.Result{Decision: rules.Decision{Outcome: rules.NeedsStaff}}, feedback.Attention},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Pattern(tt.v); got != tt.want {
				t.Errorf("Pattern(%+v) = %v, want %v", tt.v, got, tt.want)
			}
		})
	}
}

type fakeDoor struct {
	mu   sync.Mutex
	seen []string
}

func (d *fakeDoor) Tap(_ context.Context, reader string, uid []byte) (door.Result, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seen = append(d.seen, reader)
	if len(uid) == 0 {
		return door.Result{}, errors.New("no uid")
	}
	return door.Result{Decision: rules.Decision{Outcome: rules.CheckIn}, Committed: true}, nil
}

func TestPumpGivesEveryTapToTheDoorAndSurvivesRefusals(t *testing.T) {
	d := &fakeDoor{}
	var logs bytes.Buffer
	p := &Pump{Door: d, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	taps := make(chan hw.Tap)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, taps) }()
	taps <- hw.Tap{Reader: "entrance"} // refused by the door
	taps <- hw.Tap{Reader: "exit", UID: []byte{1, 2, 3, 4}}
	taps <- hw.Tap{Reader: "entrance", UID: []byte{1, 2, 3, 4}} // the pump took "exit" fully
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v, want nil after cancel", err)
	}
	if diff := cmp.Diff([]string{"entrance", "exit", "entrance"}, d.seen); diff != "" {
		t.Errorf("taps at the door (-want +got):\n%s", diff)
	}
}
