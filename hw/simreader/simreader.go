// Package simreader is a simulated badge reader for the daemon's demo mode
// and for tests: an mfrc522test chip with our rc522 poller running on it, so
// a simulated tap travels the same register-level path as a real one
// (WUPA, anticollision, SELECT, HLTA over simulated SPI).
package simreader

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/kinderdeur/kiosk/hw"
	"github.com/kinderdeur/kiosk/hw/mfrc522test"
	"github.com/kinderdeur/kiosk/hw/rc522"
)

// Option configures a simulated reader.
type Option func(*options)

type options struct {
	poll     time.Duration
	debounce time.Duration
	irq      bool
	security rc522.Security
	onEvent  func(rc522.Event)
}

// WithPollInterval sets the poll interval (default rc522.DefaultPollInterval,
// 10ms: a tap is seen within about 10ms, 5ms on average).
func WithPollInterval(d time.Duration) Option { return func(o *options) { o.poll = d } }

// WithDebounce sets the per-card debounce (default none: a card removed and
// presented again is a new tap as soon as the reader saw it leave).
func WithDebounce(d time.Duration) Option { return func(o *options) { o.debounce = d } }

// WithIRQ wires the simulated IRQ line to the poller (default: polled).
func WithIRQ(on bool) Option { return func(o *options) { o.irq = on } }

// WithSecurity sets the badge security tier (default any).
func WithSecurity(s rc522.Security) Option { return func(o *options) { o.security = s } }

// WithOnEvent receives collisions and rejected cards.
func WithOnEvent(f func(rc522.Event)) Option { return func(o *options) { o.onEvent = f } }

// Reader is a simulated reader. It implements hw.Reader.
type Reader struct {
	name string
	chip *mfrc522test.Chip
	rd   *rc522.Reader
	poll time.Duration

	mu      sync.Mutex
	running bool
}

var _ hw.Reader = (*Reader)(nil)

// New returns a simulated reader named name with an empty field.
func New(name string, opts ...Option) *Reader {
	o := options{poll: rc522.DefaultPollInterval, debounce: -1, security: rc522.SecurityAny}
	for _, f := range opts {
		f(&o)
	}
	chip := mfrc522test.New(mfrc522test.WithVersion(0x92), mfrc522test.WithName("sim-"+name))
	cfg := rc522.Config{
		Name: name, Kind: "sim", Port: chip,
		PollInterval: o.poll, Debounce: o.debounce, Security: o.security,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: time.Second,
		OnEvent: o.onEvent,
	}
	if o.irq {
		cfg.IRQ = chip.IRQ()
	}
	rd, err := rc522.New(cfg)
	if err != nil { // only a programming error in this file can get here
		panic(fmt.Sprintf("simreader: %v", err))
	}
	return &Reader{name: name, chip: chip, rd: rd, poll: o.poll}
}

// Name implements hw.Reader.
func (r *Reader) Name() string { return r.name }

// Health implements hw.Reader.
func (r *Reader) Health() hw.Health { return r.rd.Health() }

// Run implements hw.Reader; it returns nil when ctx ends.
func (r *Reader) Run(ctx context.Context, taps chan<- hw.Tap) error {
	r.mu.Lock()
	r.running = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.running = false
		r.mu.Unlock()
	}()
	return r.rd.Run(ctx, taps)
}

// Chip returns the simulated chip, for tests and fault injection in demos.
func (r *Reader) Chip() *mfrc522test.Chip { return r.chip }

// Present puts a card with this UID (4, 7 or 10 bytes) into the field.
func (r *Reader) Present(uid []byte) error {
	c, err := mfrc522test.NewCard(uid)
	if err != nil {
		return fmt.Errorf("simreader: %w", err)
	}
	r.chip.Present(c)
	return nil
}

// PresentAll puts several cards into the field at the same instant: the
// reader reports a collision ("one card at a time") instead of a tap. (Two
// Present calls in a row may let the poller read the first card alone; a
// card resting on the reader keeps being the one read.)
func (r *Reader) PresentAll(uids ...[]byte) error {
	cards := make([]*mfrc522test.Card, 0, len(uids))
	for _, u := range uids {
		c, err := mfrc522test.NewCard(u)
		if err != nil {
			return fmt.Errorf("simreader: %w", err)
		}
		cards = append(cards, c)
	}
	r.chip.Present(cards...)
	return nil
}

// Remove takes every card out of the field. While Run is running it returns
// once the poller has seen the field empty (at most ten poll intervals), so
// that presenting the same card next is a new tap.
func (r *Reader) Remove() {
	r.chip.RemoveAll()
	r.mu.Lock()
	running := r.running
	r.mu.Unlock()
	if !running {
		return
	}
	deadline := time.Now().Add(10*r.poll + 100*time.Millisecond)
	for r.rd.Resting() && time.Now().Before(deadline) {
		time.Sleep(r.poll / 4)
	}
}

// Set is simulated readers by name, for the daemon's sim endpoints.
type Set map[string]*Reader

// Present puts a card into the field of the named reader.
func (s Set) Present(reader string, uid []byte) error {
	r, ok := s[reader]
	if !ok {
		return fmt.Errorf("no simulated reader %q", reader)
	}
	return r.Present(uid)
}

// Remove empties the field of the named reader, if there is one.
func (s Set) Remove(reader string) {
	if r, ok := s[reader]; ok {
		r.Remove()
	}
}
