package rc522

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kinderdeur/kiosk/hw"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

// DefaultPollInterval is the pause between two polls of a reader. A card
// is found on average half of it after it enters the field. 10ms (was
// 25ms, issue 14) keeps tap-to-screen p99 under 50ms for about 0.4% of a
// 4MHz bus per idle reader (1.6% polled on a real chip); BENCHMARKS.md
// "Poll interval" has the figures.
const DefaultPollInterval = 10 * time.Millisecond

// Security is a badge security tier.
type Security string

// Security tiers.
const (
	// SecurityAny accepts every UID.
	SecurityAny Security = "any"
	// SecurityNoRandom rejects 4-byte random UIDs (first byte 0x08), which
	// phones emulating a card and some fobs send: they change every tap.
	SecurityNoRandom Security = "no-random"
	// SecurityNTAGOriginal accepts only NXP NTAG21x cards whose READ_SIG
	// originality signature verifies (implies no-random).
	SecurityNTAGOriginal Security = "ntag-original"
)

// Valid reports whether s is a known tier ("" counts as any).
func (s Security) Valid() bool {
	switch s {
	case "", SecurityAny, SecurityNoRandom, SecurityNTAGOriginal:
		return true
	}
	return false
}

// EventKind is a reader outcome that is not a tap.
type EventKind string

// Event kinds.
const (
	EventCollision EventKind = "collision" // two or more cards: "one card at a time"
	EventRejected  EventKind = "rejected"  // security tier refused the card
)

// Event is sent to Config.OnEvent. It carries no UID.
type Event struct {
	Reader string
	Kind   EventKind
	Err    error
	At     time.Time
}

// Config configures one reader. Zero values get the defaults documented
// per field.
type Config struct {
	Name  string   // reader name in taps and health (required)
	Kind  string   // health kind, default "rc522"
	Port  spi.Port // SPI port (required)
	Speed physic.Frequency
	// IRQ is the chip's IRQ output; nil polls ComIrqReg instead. A line
	// that never moves is detected and given up for polling, shown as
	// IRQStuck in Health.Degraded.
	IRQ gpio.PinIn
	// Reset is the NRSTPD line; nil uses the SoftReset command only.
	Reset gpio.PinOut

	PollInterval time.Duration // between polls, default DefaultPollInterval
	Debounce     time.Duration // a card back within this after leaving is not a new tap, default 500ms
	Misses       int           // empty polls before a resting card counts as gone, default 2
	Security     Security
	// OriginalityKey verifies NTAG21x signatures, default NXP's key.
	OriginalityKey *PublicKey

	// FieldOff switches the antenna off between polls so that readers
	// mounted next to each other do not disturb each other's cards; the
	// cards then power up again for each poll, which takes FieldSettle
	// (default 5ms).
	FieldOff    bool
	FieldSettle time.Duration
	// Turn, when shared by several readers, lets only one poll at a time.
	Turn *Turn

	MinBackoff      time.Duration // first re-initialisation delay, default 100ms
	MaxBackoff      time.Duration // cap, default 5s
	ResetDelay      time.Duration // after a hard reset, default 50ms
	CommandDeadline time.Duration // a command the chip never completes, default 50ms
	StatusStep      time.Duration // between status polls without IRQ, default 200µs

	OnEvent func(Event)
	Logger  *slog.Logger
	Now     func() time.Time
}

// Turn serialises polls of readers that share a bus or sit side by side:
// they are polled in turn (FIFO order), so only one field is active when
// FieldOff is set and the bus is never contended.
type Turn struct{ ch chan struct{} }

// NewTurn returns a free turn.
func NewTurn() *Turn {
	t := &Turn{ch: make(chan struct{}, 1)}
	t.ch <- struct{}{}
	return t
}

func (t *Turn) take(ctx context.Context) error {
	if t == nil {
		return nil
	}
	select {
	case <-t.ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (t *Turn) give() {
	if t != nil {
		t.ch <- struct{}{}
	}
}

// Reader is one MFRC522 on its chip select. It implements hw.Reader.
type Reader struct {
	cfg  Config
	d    dev
	log  *slog.Logger
	pres *presence

	mu      sync.Mutex
	health  hw.Health
	ready   bool
	resting bool // a card is on the reader (for Present/Remove waiters)
}

var _ hw.Reader = (*Reader)(nil)

// New connects to the port and prepares a reader; the chip is initialised
// by Run (or Init), so a missing chip is a health state, not a start-up
// failure.
func New(cfg Config) (*Reader, error) {
	if cfg.Name == "" {
		return nil, errors.New("rc522: reader name is empty")
	}
	if cfg.Port == nil {
		return nil, fmt.Errorf("rc522: reader %q: no SPI port", cfg.Name)
	}
	if !cfg.Security.Valid() {
		return nil, fmt.Errorf("rc522: reader %q: unknown security tier %q", cfg.Name, cfg.Security)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.PollInterval, DefaultPollInterval)
	def(&cfg.MinBackoff, 100*time.Millisecond)
	def(&cfg.MaxBackoff, 5*time.Second)
	def(&cfg.CommandDeadline, 50*time.Millisecond)
	def(&cfg.StatusStep, 200*time.Microsecond)
	if cfg.Debounce < 0 {
		cfg.Debounce = 0
	} else if cfg.Debounce == 0 {
		cfg.Debounce = 500 * time.Millisecond
	}
	if cfg.ResetDelay == 0 {
		cfg.ResetDelay = 50 * time.Millisecond
	}
	if cfg.FieldSettle == 0 {
		cfg.FieldSettle = 5 * time.Millisecond
	}
	if cfg.Misses <= 0 {
		cfg.Misses = 2
	}
	if cfg.Speed <= 0 {
		cfg.Speed = 4 * physic.MegaHertz
	}
	if cfg.Kind == "" {
		cfg.Kind = "rc522"
	}
	if cfg.Security == "" {
		cfg.Security = SecurityAny
	}
	if cfg.OriginalityKey == nil {
		cfg.OriginalityKey = NXPKey()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c, err := cfg.Port.Connect(cfg.Speed, spi.Mode0, 8)
	if err != nil {
		return nil, fmt.Errorf("rc522: reader %q: connect %s: %w", cfg.Name, cfg.Port, err)
	}
	if cfg.IRQ != nil {
		if err := cfg.IRQ.In(gpio.PullUp, gpio.FallingEdge); err != nil {
			return nil, fmt.Errorf("rc522: reader %q: IRQ pin %s: %w", cfg.Name, cfg.IRQ, err)
		}
	}
	r := &Reader{
		cfg:  cfg,
		d:    dev{conn: c, irq: cfg.IRQ, deadline: cfg.CommandDeadline, step: cfg.StatusStep},
		log:  cfg.Logger.With("reader", cfg.Name),
		pres: newPresence(cfg.Debounce, cfg.Misses),
	}
	r.health = hw.Health{Reader: cfg.Name, Kind: cfg.Kind, Error: "not started", Since: cfg.Now()}
	return r, nil
}

// Name implements hw.Reader.
func (r *Reader) Name() string { return r.cfg.Name }

// Health implements hw.Reader.
func (r *Reader) Health() hw.Health {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.health
}

func (r *Reader) setHealth(ok bool, chip string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if r.health.OK != ok {
		r.health.Since = r.cfg.Now()
		if ok {
			r.log.Info("reader ready", "chip", chip)
		} else {
			r.log.Warn("reader down", "err", msg)
		}
	}
	r.health.OK, r.health.Error = ok, msg
	if chip != "" {
		r.health.Chip = chip
	}
}

// Resting reports whether a card currently rests on the reader.
func (r *Reader) Resting() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.resting
}

// Init resets and configures the chip and checks VersionReg.
func (r *Reader) Init() error {
	if r.cfg.Reset != nil {
		if err := r.cfg.Reset.Out(gpio.Low); err != nil {
			return fmt.Errorf("rc522: reset pin: %w", err)
		}
		time.Sleep(100 * time.Microsecond)
		if err := r.cfg.Reset.Out(gpio.High); err != nil {
			return fmt.Errorf("rc522: reset pin: %w", err)
		}
		time.Sleep(r.cfg.ResetDelay)
	}
	d := &r.d
	d.missed, d.irqLost = 0, false // a re-wired or recovered line gets another chance
	if err := d.writes([]byte{addrW(regCommand), cmdSoftReset}); err != nil {
		return err
	}
	start := time.Now()
	for { // PowerDown stays set until the oscillator runs again
		v, err := d.reads(regCommand, regVersion)
		if err != nil {
			return err
		}
		if v[1] == 0x00 || v[1] == 0xFF {
			return fmt.Errorf("%w: VersionReg reads %#02x", ErrNoChip, v[1])
		}
		if _, ok := Versions[v[1]]; !ok {
			return fmt.Errorf("%w: VersionReg %#02x", ErrUnknownChip, v[1])
		}
		d.version = v[1]
		if v[0]&0x10 == 0 {
			break
		}
		if time.Since(start) > r.cfg.CommandDeadline {
			return fmt.Errorf("%w: soft reset did not finish", ErrNoChip)
		}
		time.Sleep(time.Millisecond)
	}
	ien := byte(0x80) // IRqInv: the line is active low, as wired with a pull-up
	if d.irq != nil {
		ien |= irqRx | irqErr | irqTimer
	}
	antenna := byte(0x83)
	if r.cfg.FieldOff {
		antenna = 0x80
	}
	// Timer: 13.56 MHz / (2*169+1) = 40 kHz, 80 ticks = 2 ms for a card to
	// start answering (ISO 14443-3 frame delay is about 0.1 ms).
	cfg := [][]byte{
		{addrW(regTMode), 0x80},
		{addrW(regTPrescaler), 0xA9},
		{addrW(regTReloadH), 0x00},
		{addrW(regTReloadL), 80},
		{addrW(regTxASK), 0x40},
		{addrW(regMode), 0x3D},
		{addrW(regTxMode), 0x00},
		{addrW(regRxMode), 0x00},
		{addrW(regColl), 0x80},
		{addrW(regComIEn), ien},
		{addrW(regDivIEn), 0x80},
		{addrW(regTxControl), antenna},
	}
	if err := d.writes(cfg...); err != nil {
		return err
	}
	back, err := d.reads(regTMode, regTPrescaler, regMode, regTxControl, regVersion)
	if err != nil {
		return err
	}
	if back[0] != 0x80 || back[1] != 0xA9 || back[2] != 0x3D || back[3] != antenna || back[4] != d.version {
		return fmt.Errorf("%w: registers do not keep written values", ErrNoChip)
	}
	return nil
}

// Detection is one poll's result.
type Detection struct {
	UID     []byte // nil: no card
	SAK     byte
	Resting bool // the card already on the reader, re-selected by UID
}

// Poll runs one poll cycle on an initialised chip: WUPA, then a re-select
// of the resting card or a full anticollision, the security checks for a
// new card, and HLTA. ErrNoCard is returned as an empty Detection. Run
// calls it; call it yourself only on a reader that is not running.
func (r *Reader) Poll() (Detection, error) {
	d := &r.d
	if r.cfg.FieldOff {
		if err := d.writes([]byte{addrW(regTxControl), 0x83}); err != nil {
			return Detection{}, err
		}
		time.Sleep(r.cfg.FieldSettle)
		defer d.writes([]byte{addrW(regTxControl), 0x80})
	}
	collided, err := d.wakeup()
	if errors.Is(err, ErrNoCard) {
		return Detection{}, nil
	}
	if err != nil {
		return Detection{}, err
	}
	if uid := r.pres.resting(); uid != nil && !collided {
		sak, err := d.reselect(uid)
		if err == nil {
			return Detection{UID: uid, SAK: sak, Resting: true}, d.halt()
		}
		if !errors.Is(err, ErrNoCard) {
			return Detection{}, err
		}
		// Another card: the failed SELECT sent it back to IDLE; wake it.
		if _, err := d.wakeup(); err != nil {
			if errors.Is(err, ErrNoCard) {
				return Detection{}, nil
			}
			return Detection{}, err
		}
	}
	uid, sak, err := d.anticollision()
	if err != nil {
		if errors.Is(err, ErrNoCard) { // left between WUPA and SELECT
			return Detection{}, fmt.Errorf("%w: card left mid-transaction", ErrFrame)
		}
		return Detection{}, err
	}
	det := Detection{UID: uid, SAK: sak}
	if err := r.check(uid, sak); err != nil {
		_ = d.halt()
		return det, err
	}
	return det, d.halt()
}

// check applies the security tier to a newly selected card.
func (r *Reader) check(uid []byte, sak byte) error {
	if r.cfg.Security == SecurityAny {
		return nil
	}
	if len(uid) == 4 && uid[0] == 0x08 {
		return ErrRandomUID
	}
	if r.cfg.Security != SecurityNTAGOriginal {
		return nil
	}
	if len(uid) != 7 || uid[0] != 0x04 || sak != 0x00 {
		return fmt.Errorf("%w: not an NXP NTAG21x", ErrNotOriginal)
	}
	sig, err := r.d.readSig()
	if err != nil {
		return fmt.Errorf("%w: READ_SIG: %v", ErrNotOriginal, err)
	}
	if !VerifyOriginality(r.cfg.OriginalityKey, uid, sig) {
		return fmt.Errorf("%w: signature does not verify", ErrNotOriginal)
	}
	return nil
}

// chipError reports whether err means the chip (not a card) is in trouble.
func chipError(err error) bool {
	return !errors.Is(err, ErrCollision) && !errors.Is(err, ErrFrame) &&
		!errors.Is(err, ErrRandomUID) && !errors.Is(err, ErrNotOriginal)
}

// Run implements hw.Reader: it initialises the chip, polls every
// PollInterval, sends a tap per new card and re-initialises a dead chip with
// a doubling backoff capped at MaxBackoff. It returns nil when ctx ends.
func (r *Reader) Run(ctx context.Context, taps chan<- hw.Tap) error {
	backoff := r.cfg.MinBackoff
	tick := time.NewTimer(0)
	defer tick.Stop()
	defer r.shutdown()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if err := r.cfg.Turn.take(ctx); err != nil {
			return nil
		}
		if !r.isReady() {
			if err := r.Init(); err != nil {
				r.cfg.Turn.give()
				r.setHealth(false, "", fmt.Errorf("init: %w", err))
				tick.Reset(backoff)
				backoff = min(2*backoff, r.cfg.MaxBackoff)
				continue
			}
			backoff = r.cfg.MinBackoff
			r.setReady(true)
			r.setHealth(true, Versions[r.d.version], nil)
		}
		det, err := r.Poll()
		r.cfg.Turn.give()
		r.checkIRQ()
		now := r.cfg.Now()
		switch {
		case err != nil && chipError(err):
			r.setReady(false)
			r.setHealth(false, "", err)
			tick.Reset(0)
			continue
		case errors.Is(err, ErrCollision):
			r.event(EventCollision, err, now)
		case errors.Is(err, ErrFrame):
			r.log.Debug("bad frame", "err", err)
		case det.UID == nil:
			if r.pres.empty(now) {
				r.setResting(false)
			}
		default:
			fresh := r.pres.seen(det.UID, now)
			r.setResting(true)
			if !fresh {
				break
			}
			if err != nil {
				r.event(EventRejected, err, now)
				break
			}
			select {
			case taps <- hw.Tap{Reader: r.cfg.Name, UID: det.UID, At: now}:
			case <-ctx.Done():
				return nil
			}
		}
		tick.Reset(r.cfg.PollInterval)
	}
}

// IRQStuck is Health.Degraded while a configured IRQ line is given up.
const IRQStuck = "irq line not moving; polling"

// checkIRQ shows in Health whether the IRQ line was given up for polling.
func (r *Reader) checkIRQ() {
	lost := r.d.irqLost
	r.mu.Lock()
	defer r.mu.Unlock()
	was := r.health.Degraded != ""
	if lost == was {
		return
	}
	if lost {
		r.health.Degraded = fmt.Sprintf("%s (commands complete but %s never changes: check the wire and the irq setting)", IRQStuck, r.cfg.IRQ)
		r.log.Warn("IRQ line not moving: polling the status register instead", "irq", r.cfg.IRQ.String())
	} else {
		r.health.Degraded = ""
		r.log.Info("IRQ line in use again", "irq", r.cfg.IRQ.String())
	}
}

func (r *Reader) event(k EventKind, err error, at time.Time) {
	r.log.Info("card refused", "kind", string(k), "err", err)
	if r.cfg.OnEvent != nil {
		r.cfg.OnEvent(Event{Reader: r.cfg.Name, Kind: k, Err: err, At: at})
	}
}

func (r *Reader) shutdown() {
	if r.isReady() {
		_ = r.d.writes([]byte{addrW(regTxControl), 0x80}, []byte{addrW(regCommand), cmdIdle})
	}
	r.setReady(false)
	r.mu.Lock() // stopping on purpose: no warning in the log
	if r.health.OK {
		r.health.Since = r.cfg.Now()
	}
	r.health.OK, r.health.Error = false, "stopped"
	r.mu.Unlock()
}

func (r *Reader) isReady() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ready
}

func (r *Reader) setReady(v bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ready = v
}

func (r *Reader) setResting(v bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.resting = v
}
