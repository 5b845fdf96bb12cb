package feedback

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// log records every level written to the pins, in order, with the timer
// durations the pattern asked for between them.
type log struct {
	mu  sync.Mutex
	out []string
}

func (l *log) add(s string) { l.mu.Lock(); l.out = append(l.out, s); l.mu.Unlock() }
func (l *log) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.out...)
}

// pin is a gpio.PinOut that records edges (levels that change).
type pin struct {
	name string
	log  *log
	mu   sync.Mutex
	lvl  gpio.Level
	init bool
	fail error
}

func (p *pin) String() string   { return p.name }
func (p *pin) Halt() error      { return nil }
func (p *pin) Name() string     { return p.name }
func (p *pin) Number() int      { return 0 }
func (p *pin) Function() string { return "Out" }
func (p *pin) PWM(gpio.Duty, physic.Frequency) error {
	return errors.New("no PWM")
}
func (p *pin) Out(l gpio.Level) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return p.fail
	}
	if !p.init || l != p.lvl {
		p.log.add(fmt.Sprintf("%s=%v", p.name, map[gpio.Level]int{gpio.Low: 0, gpio.High: 1}[l]))
	}
	p.lvl, p.init = l, true
	return nil
}

var _ gpio.PinOut = (*pin)(nil)

// timers lets the test fire pattern steps one at a time.
type timers struct {
	log *log
	ch  chan chan time.Time
}

func (t *timers) after(d time.Duration) <-chan time.Time {
	t.log.add(d.String())
	c := make(chan time.Time, 1)
	t.ch <- c
	return c
}

func (t *timers) fire(tb testing.TB) {
	tb.Helper()
	select {
	case c := <-t.ch:
		c <- time.Time{}
	case <-time.After(5 * time.Second):
		tb.Fatal("no timer started")
	}
}

func start(t *testing.T, activeLow bool) (*Feedback, *log, *timers, func() error) {
	l := &log{}
	tm := &timers{log: l, ch: make(chan chan time.Time, 1)}
	f := New(Config{Buzzer: &pin{name: "buzzer", log: l}, LED: &pin{name: "led", log: l}, ActiveLow: activeLow, After: tm.after})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- f.Run(ctx) }()
	stop := func() error { cancel(); return <-errc }
	return f, l, tm, stop
}

func TestPatterns(t *testing.T) {
	tests := []struct {
		p    Pattern
		want []string
	}{
		{Success, []string{"buzzer=0", "led=0", "buzzer=1", "led=1", "80ms", "buzzer=0", "420ms", "led=0"}},
		{Attention, []string{"buzzer=0", "led=0", "buzzer=1", "led=1", "150ms", "buzzer=0", "led=0", "100ms",
			"buzzer=1", "led=1", "150ms", "buzzer=0", "led=0", "100ms", "led=1", "300ms", "led=0"}},
		{Deny, []string{"buzzer=0", "led=0", "buzzer=1", "led=1", "100ms", "led=0", "100ms", "led=1", "100ms",
			"led=0", "100ms", "led=1", "100ms", "led=0", "100ms", "buzzer=0"}},
	}
	for _, tt := range tests {
		t.Run(tt.p.String(), func(t *testing.T) {
			f, l, tm, stop := start(t, false)
			f.Signal(tt.p)
			for range Patterns[tt.p] {
				tm.fire(t)
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, l.get()); diff != "" {
				t.Errorf("edges (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewSignalCutsPattern(t *testing.T) {
	f, l, tm, stop := start(t, true) // active low: on = 0
	f.Signal(Attention)
	tm.fire(t)             // first beep done
	for len(l.get()) < 8 { // the gap step has started its timer
		time.Sleep(time.Millisecond)
	}
	f.Signal(Deny)
	for range Patterns[Deny] {
		tm.fire(t)
	}
	// The pending Attention timer was started but Deny took over.
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	got := l.get()
	want := []string{"buzzer=1", "led=1", "buzzer=0", "led=0", "150ms", "buzzer=1", "led=1", "100ms",
		"buzzer=0", "led=0", "100ms", "led=1", "100ms", "led=0", "100ms", "led=1", "100ms", "led=0", "100ms", "led=1", "100ms", "buzzer=1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("edges (-want +got):\n%s", diff)
	}
}

func TestSignalNeverBlocks(t *testing.T) {
	f := New(Config{}) // not running, nothing fitted
	done := make(chan struct{})
	go func() {
		for i := 0; i < 1000; i++ {
			f.Signal(Pattern(i%3 + 1))
		}
		f.Signal(Pattern(99)) // unknown: ignored
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Signal blocked")
	}
	if p := <-f.sig; p != Success { // 999%3+1 == 1: the latest wins
		t.Errorf("pending pattern %v, want success", p)
	}
}

// timer is one After call: what it asked for and the channel to fire.
type timer struct {
	d time.Duration
	c chan time.Time
}

// queue hands every After call to the test without ever blocking Run.
type queue chan timer

func (q queue) after(d time.Duration) <-chan time.Time {
	c := make(chan time.Time, 1)
	q <- timer{d, c}
	return c
}

func (q queue) next(tb testing.TB, want time.Duration) timer {
	tb.Helper()
	select {
	case tm := <-q:
		if tm.d != want {
			tb.Fatalf("timer for %v, want %v", tm.d, want)
		}
		return tm
	case <-time.After(5 * time.Second):
		tb.Fatalf("no timer for %v started", want)
	}
	return timer{}
}

func (p *pin) setFail(err error) { p.mu.Lock(); p.fail = err; p.mu.Unlock() }

// Issue 14: a GPIO error in the buzzer stopped the whole daemon (Run
// returned it and the daemon's errgroup cancelled everything). Now Run keeps
// going, the LED still plays, health says what is wrong, and the failed
// write is retried with a doubling, capped backoff until the line answers.
func TestGPIOErrorNeverStopsRun(t *testing.T) {
	l := &log{}
	ebusy := errors.New("gpio: EBUSY")
	buzzer := &pin{name: "buzzer", log: l, fail: ebusy}
	led := &pin{name: "led", log: l}
	q := make(queue, 64)
	f := New(Config{Name: "entrance", Buzzer: buzzer, LED: led, After: q.after,
		MinBackoff: 7 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, Logger: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- f.Run(ctx) }()

	retry := q.next(t, 7*time.Millisecond) // the first write (all off) failed
	if h := f.Health(); !h.OK || !strings.Contains(h.Degraded, "EBUSY") || h.Kind != "feedback" || h.Reader != "entrance" {
		t.Errorf("health = %+v, want OK and degraded with the GPIO error", h)
	}
	for _, d := range []time.Duration{14 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond} {
		retry.c <- time.Time{}
		retry = q.next(t, d)
	}

	f.Signal(Success) // the door goes on: the LED still lights
	step := q.next(t, 80*time.Millisecond)
	step.c <- time.Time{}
	q.next(t, 420*time.Millisecond).c <- time.Time{}
	for f.Failures() < 1+3+3 { // start, three retries, three Success steps
		time.Sleep(time.Millisecond)
	}

	buzzer.setFail(nil) // the line answers again: the next retry writes it
	retry.c <- time.Time{}
	for f.Health().Degraded != "" {
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-errc:
		t.Fatalf("Run returned %v while the buzzer pin failed: the daemon's errgroup would stop the door", err)
	default:
	}
	f.Signal(Success)
	q.next(t, 80*time.Millisecond).c <- time.Time{}
	q.next(t, 420*time.Millisecond).c <- time.Time{}
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
	want := []string{"led=0", "led=1", "led=0", "buzzer=0", "buzzer=1", "led=1", "buzzer=0", "led=0"}
	if diff := cmp.Diff(want, l.get()); diff != "" {
		t.Errorf("edges (-want +got):\n%s", diff)
	}
	if n := f.Failures(); n != 7 {
		t.Errorf("Failures = %d, want 7", n)
	}
}

// A write that fails when Run stops is recorded, not returned.
func TestGPIOErrorAtStop(t *testing.T) {
	bad := &pin{name: "led", log: &log{}}
	f := New(Config{LED: bad, Logger: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- f.Run(ctx) }()
	for f.Health().Since.IsZero() {
		time.Sleep(time.Millisecond)
	}
	bad.setFail(errors.New("gpio: EIO"))
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if h := f.Health(); !strings.Contains(h.Degraded, "EIO") {
		t.Errorf("health = %+v, want the error", h)
	}
}
