// Package feedback drives a reader's buzzer and LED on GPIO (periph
// gpio.PinOut) with three patterns people learn to tell apart: success
// (one short beep, LED on), attention (two beeps, LED blinking) and deny
// (one long beep, LED blinking fast). Signals never block the caller: one
// goroutine owned by Run plays them, and a new signal cuts the one playing.
package feedback

import (
	"context"
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Pattern is what a signal means.
type Pattern int

// Patterns.
const (
	Success   Pattern = iota + 1 // tap accepted
	Attention                    // accepted, but staff should look (e.g. ratio warning)
	Deny                         // refused: unknown card, two cards, outside hours
)

func (p Pattern) String() string {
	switch p {
	case Success:
		return "success"
	case Attention:
		return "attention"
	case Deny:
		return "deny"
	}
	return fmt.Sprintf("Pattern(%d)", int(p))
}

// Step is one segment of a pattern: both outputs held for D.
type Step struct {
	Buzzer, LED bool
	D           time.Duration
}

// Patterns are the step sequences; they end with everything off.
var Patterns = map[Pattern][]Step{
	Success: {{true, true, 80 * time.Millisecond}, {false, true, 420 * time.Millisecond}},
	Attention: {
		{true, true, 150 * time.Millisecond}, {false, false, 100 * time.Millisecond},
		{true, true, 150 * time.Millisecond}, {false, false, 100 * time.Millisecond},
		{false, true, 300 * time.Millisecond},
	},
	Deny: {
		{true, true, 100 * time.Millisecond}, {true, false, 100 * time.Millisecond},
		{true, true, 100 * time.Millisecond}, {true, false, 100 * time.Millisecond},
		{true, true, 100 * time.Millisecond}, {true, false, 100 * time.Millisecond},
	},
}

// Config wires the outputs. Either may be nil (not fitted).
type Config struct {
	Buzzer gpio.PinOut
	LED    gpio.PinOut
	// ActiveLow inverts both outputs (modules switched by a PNP transistor
	// or sinking the LED).
	ActiveLow bool
	// After is the timer, default time.After; tests inject their own.
	After func(time.Duration) <-chan time.Time
}

// Feedback plays patterns. Create with New, start Run, call Signal.
type Feedback struct {
	cfg Config
	sig chan Pattern
}

// New returns a Feedback; nothing plays until Run.
func New(cfg Config) *Feedback {
	if cfg.After == nil {
		cfg.After = time.After
	}
	return &Feedback{cfg: cfg, sig: make(chan Pattern, 1)}
}

// Signal asks for a pattern and returns at once. If another is waiting it
// is replaced: the latest tap's outcome is the one people need to hear.
func (f *Feedback) Signal(p Pattern) {
	if _, ok := Patterns[p]; !ok {
		return
	}
	for {
		select {
		case f.sig <- p:
			return
		default:
		}
		select {
		case <-f.sig:
		default:
		}
	}
}

// Run plays signals until ctx ends, then switches both outputs off. It
// returns the first GPIO error, after switching off.
func (f *Feedback) Run(ctx context.Context) error {
	if err := f.set(false, false); err != nil {
		return err
	}
	var steps []Step
	var timer <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return f.set(false, false)
		case p := <-f.sig:
			steps, timer = Patterns[p], nil
		case <-timer:
			timer = nil
		}
		if timer != nil {
			continue
		}
		if len(steps) == 0 {
			if err := f.set(false, false); err != nil {
				return err
			}
			continue
		}
		s := steps[0]
		steps = steps[1:]
		if err := f.set(s.Buzzer, s.LED); err != nil {
			_ = f.set(false, false)
			return err
		}
		timer = f.cfg.After(s.D)
	}
}

func (f *Feedback) set(buzzer, led bool) error {
	for _, o := range []struct {
		pin gpio.PinOut
		on  bool
	}{{f.cfg.Buzzer, buzzer}, {f.cfg.LED, led}} {
		if o.pin == nil {
			continue
		}
		if err := o.pin.Out(gpio.Level(o.on != f.cfg.ActiveLow)); err != nil {
			return fmt.Errorf("feedback: %s: %w", o.pin, err)
		}
	}
	return nil
}
