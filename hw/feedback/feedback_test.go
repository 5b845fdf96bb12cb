package feedback

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

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

func TestGPIOErrorStopsRun(t *testing.T) {
	l := &log{}
	bad := &pin{name: "buzzer", log: l, fail: errors.New("gpio: EBUSY")}
	f := New(Config{Buzzer: bad})
	if err := f.Run(context.Background()); err == nil {
		t.Fatal("Run with a failing pin returned nil")
	}
}
