package taps

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"

	"github.com/kinderdeur/kiosk/hw/feedback"
)

// flakyPin fails its first fails writes, then works.
type flakyPin struct{ fails atomic.Int32 }

func (*flakyPin) String() string                        { return "GPIO18" }
func (*flakyPin) Halt() error                           { return nil }
func (*flakyPin) Name() string                          { return "GPIO18" }
func (*flakyPin) Number() int                           { return 18 }
func (*flakyPin) Function() string                      { return "Out" }
func (*flakyPin) PWM(gpio.Duty, physic.Frequency) error { return errors.New("no PWM") }
func (p *flakyPin) Out(gpio.Level) error {
	if p.fails.Add(-1) >= 0 {
		return errors.New("device or resource busy")
	}
	return nil
}

func TestOutputsSurviveAndReportGPIOErrors(t *testing.T) {
	pin := &flakyPin{}
	pin.fails.Store(3)
	o := &Outputs{
		Feedback: map[string]*feedback.Feedback{"entrance": feedback.New(feedback.Config{
			Buzzer: pin, MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	waitFor := func(what string, cond func(map[string]string) bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !cond(o.Errors()); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: Errors() = %v", what, o.Errors())
			}
		}
	}
	waitFor("a failing buzzer is reported", func(m map[string]string) bool {
		return strings.HasPrefix(m["entrance"], "feedback: GPIO18: device or resource busy")
	})
	waitFor("a buzzer that works again is cleared", func(m map[string]string) bool { return m == nil })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v, want nil after cancel", err)
	}
}
