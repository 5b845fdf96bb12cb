// Package feedback drives a reader's buzzer and LED on GPIO (periph
// gpio.PinOut) with three patterns people learn to tell apart: success
// (one short beep, LED on), attention (two beeps, LED blinking) and deny
// (one long beep, LED blinking fast). Signals never block the caller: one
// goroutine owned by Run plays them, and a new signal cuts the one playing.
//
// Feedback never takes the door down: a failing GPIO write is recorded,
// shown as degraded health and retried with a capped backoff, while the
// door keeps working silently. Run returns only when its context ends.
package feedback

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kinderdeur/kiosk/hw"
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
	// Name is the reader the outputs belong to, shown in Health.
	Name   string
	Buzzer gpio.PinOut
	LED    gpio.PinOut
	// ActiveLow inverts both outputs (modules switched by a PNP transistor
	// or sinking the LED).
	ActiveLow bool
	// MinBackoff and MaxBackoff bound the delay before a failed GPIO write
	// is tried again (doubling), default 100ms and 30s.
	MinBackoff, MaxBackoff time.Duration
	// After is the timer, default time.After; tests inject their own.
	After  func(time.Duration) <-chan time.Time
	Now    func() time.Time
	Logger *slog.Logger
}

// Feedback plays patterns. Create with New, start Run, call Signal.
type Feedback struct {
	cfg Config
	sig chan Pattern
	log *slog.Logger

	mu       sync.Mutex
	health   hw.Health
	failures int
}

// New returns a Feedback; nothing plays until Run.
func New(cfg Config) *Feedback {
	if cfg.After == nil {
		cfg.After = time.After
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 100 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(30*time.Second, cfg.MinBackoff)
	}
	return &Feedback{
		cfg:    cfg,
		sig:    make(chan Pattern, 1),
		log:    cfg.Logger.With("reader", cfg.Name, "part", "feedback"),
		health: hw.Health{Reader: cfg.Name, Kind: "feedback", OK: true, Since: cfg.Now()},
	}
}

// Health reports the outputs' state. OK stays true: a silent buzzer must
// not fail the door's health check; a failing GPIO shows in Degraded.
func (f *Feedback) Health() hw.Health {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.health
}

// Failures counts failed GPIO writes since New.
func (f *Feedback) Failures() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failures
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

// Run plays signals until ctx ends, then switches both outputs off. A
// failed GPIO write never ends it: the error goes to Health and the log,
// and the outputs' wanted levels are written again after a backoff
// (doubling up to MaxBackoff) until a write succeeds, so a buzzer left on
// by a failed write is switched off as soon as the line answers again.
// It returns nil when ctx ends; the error result is kept for errgroup.
func (f *Feedback) Run(ctx context.Context) error {
	var (
		steps   []Step
		timer   <-chan time.Time // the step playing
		retry   <-chan time.Time // the next try after a failed write
		backoff = f.cfg.MinBackoff
		buzzer  bool
		led     bool
	)
	apply := func() {
		if err := f.set(buzzer, led); err != nil {
			f.fail(err, backoff)
			if retry == nil {
				retry = f.cfg.After(backoff)
				backoff = min(2*backoff, f.cfg.MaxBackoff)
			}
			return
		}
		f.healed()
		retry, backoff = nil, f.cfg.MinBackoff
	}
	apply()
	for {
		select {
		case <-ctx.Done():
			buzzer, led = false, false
			if err := f.set(false, false); err != nil {
				f.fail(err, 0)
			}
			return nil
		case p := <-f.sig:
			steps, timer = Patterns[p], nil
		case <-timer:
			timer = nil
		case <-retry:
			retry = nil
			apply()
			continue
		}
		if timer != nil {
			continue
		}
		if len(steps) == 0 {
			buzzer, led = false, false
			apply()
			continue
		}
		s := steps[0]
		steps = steps[1:]
		buzzer, led = s.Buzzer, s.LED
		apply()
		timer = f.cfg.After(s.D)
	}
}

// set writes both outputs; a failing one does not keep the other from
// being written (a broken buzzer still lets the LED blink).
func (f *Feedback) set(buzzer, led bool) error {
	var errs []error
	for _, o := range []struct {
		pin gpio.PinOut
		on  bool
	}{{f.cfg.Buzzer, buzzer}, {f.cfg.LED, led}} {
		if o.pin == nil {
			continue
		}
		if err := o.pin.Out(gpio.Level(o.on != f.cfg.ActiveLow)); err != nil {
			errs = append(errs, fmt.Errorf("feedback: %s: %w", o.pin, err))
		}
	}
	return errors.Join(errs...)
}

func (f *Feedback) fail(err error, retryIn time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures++
	msg := err.Error()
	if retryIn > 0 {
		msg += fmt.Sprintf(" (retrying in %v)", retryIn)
	}
	if f.health.Degraded == "" {
		f.health.Since = f.cfg.Now()
		f.log.Warn("buzzer/LED GPIO failing; the door works on without sound", "err", err)
	}
	f.health.Degraded = msg
}

func (f *Feedback) healed() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.health.Degraded != "" {
		f.health.Degraded, f.health.Since = "", f.cfg.Now()
		f.log.Info("buzzer/LED GPIO working again")
	}
}
