package rc522

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kinderdeur/kiosk/hw"
	"github.com/kinderdeur/kiosk/hw/mfrc522test"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

func newReader(t testing.TB, chip *mfrc522test.Chip, irq bool, mod func(*Config)) *Reader {
	t.Helper()
	cfg := Config{Name: "entrance", Port: chip, Logger: quietLog, PollInterval: 2 * time.Millisecond,
		Debounce: -1, MinBackoff: 2 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}
	if irq {
		cfg.IRQ = chip.IRQ()
	}
	if mod != nil {
		mod(&cfg)
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func card(t testing.TB, uid ...byte) *mfrc522test.Card {
	t.Helper()
	c, err := mfrc522test.NewCard(uid)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	uid4  = []byte{0x11, 0x22, 0x33, 0x44}
	uid7  = []byte{0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66}
	uid10 = []byte{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A}
)

func TestPollUIDs(t *testing.T) {
	tests := []struct {
		name    string
		uid     []byte
		sak     byte
		wantTxn int64 // chip-select frames per tap, polled mode
	}{
		{"4 bytes", uid4, 0x08, 28},
		{"7 bytes", uid7, 0x00, 44},
		{"10 bytes", uid10, 0x20, 60},
		// 0x88 may not start a single-size UID, but 7- and 10-byte UIDs
		// may contain it anywhere else.
		{"7 bytes with 88", []byte{0x04, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88}, 0x00, 44},
	}
	for _, tt := range tests {
		for _, irq := range []bool{false, true} {
			t.Run(tt.name+map[bool]string{false: "/polled", true: "/irq"}[irq], func(t *testing.T) {
				chip := mfrc522test.New()
				r := newReader(t, chip, irq, nil)
				if err := r.Init(); err != nil {
					t.Fatal(err)
				}
				chip.Present(card(t, tt.uid...))
				for i := 0; i < 2; i++ { // HLTA then WUPA: the same card again
					chip.ResetStats()
					det, err := r.Poll()
					if err != nil {
						t.Fatalf("Poll %d: %v", i, err)
					}
					if diff := cmp.Diff(Detection{UID: tt.uid, SAK: tt.sak}, det); diff != "" {
						t.Errorf("Poll %d (-want +got):\n%s", i, diff)
					}
				}
				want := tt.wantTxn
				if irq { // status and FIFO in one frame: one less per transceive
					want -= 1 + 2*int64(len(tt.uid)-1)/3
				}
				if n := chip.IRQ().ZeroWaits(); n != 0 {
					t.Errorf("WaitForEdge(0) called %d times (periph/host#78)", n)
				}
				if got := chip.Stats().Transactions; got != want {
					t.Errorf("transactions per tap = %d, want %d", got, want)
				}
			})
		}
	}
}

func TestPollEmptyField(t *testing.T) {
	chip := mfrc522test.New()
	r := newReader(t, chip, false, nil)
	if err := r.Init(); err != nil {
		t.Fatal(err)
	}
	chip.ResetStats()
	det, err := r.Poll()
	if err != nil || det.UID != nil {
		t.Fatalf("Poll = %+v, %v; want empty, nil", det, err)
	}
	if got := chip.Stats().Transactions; got != 7 {
		t.Errorf("idle poll = %d transactions, want 7", got)
	}
}

func TestCollisions(t *testing.T) {
	tests := []struct {
		name string
		uids [][]byte
	}{
		{"two 4-byte", [][]byte{uid4, {0x11, 0x22, 0x33, 0x45}}},
		{"4 and 7 bytes", [][]byte{uid4, uid7}},
		{"two 7-byte same CL1", [][]byte{uid7, {0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x67}}},
		{"three 10-byte", [][]byte{uid10, {1, 2, 3, 4, 5, 6, 7, 8, 9, 11}, {1, 2, 3, 4, 5, 7, 7, 8, 9, 10}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chip := mfrc522test.New()
			r := newReader(t, chip, false, nil)
			if err := r.Init(); err != nil {
				t.Fatal(err)
			}
			for _, u := range tt.uids {
				chip.Present(card(t, u...))
			}
			_, err := r.Poll()
			if !errors.Is(err, ErrCollision) {
				t.Fatalf("Poll error = %v, want ErrCollision", err)
			}
			if chipError(err) {
				t.Error("a collision is treated as a chip fault")
			}
		})
	}
}

func TestRemovedMidTransaction(t *testing.T) {
	// The card answers n frames (WUPA, ANTICOLLISION, SELECT, ...) and leaves.
	for n := 1; n <= 5; n++ {
		chip := mfrc522test.New()
		r := newReader(t, chip, false, nil)
		if err := r.Init(); err != nil {
			t.Fatal(err)
		}
		c := card(t, uid7...)
		c.LeaveAfter(n)
		chip.Present(c)
		det, err := r.Poll()
		if n < 5 { // 7-byte UID: WUPA, AC1, SEL1, AC2 answered, SEL2 missing
			if !errors.Is(err, ErrFrame) || det.UID != nil {
				t.Errorf("leave after %d: Poll = %x, %v; want ErrFrame and no UID", n, det.UID, err)
			}
		} else if err != nil || !cmp.Equal(det.UID, uid7) {
			t.Errorf("leave after %d: Poll = %x, %v; want the UID", n, det.UID, err)
		}
		if det, err := r.Poll(); err != nil || det.UID != nil {
			t.Errorf("leave after %d: next Poll = %x, %v; want empty field", n, det.UID, err)
		}
	}
}

func TestVersions(t *testing.T) {
	tests := []struct {
		v       byte
		wantErr error
		chip    string
	}{
		{0x91, nil, "MFRC522 v1.0 (0x91)"},
		{0x92, nil, "MFRC522 v2.0 (0x92)"},
		{0x88, nil, "FM17522 clone (0x88)"},
		{0x12, nil, "MFRC522 clone (0x12)"},
		{0xB2, nil, "FM17522 clone (0xB2)"},
		{0x55, ErrUnknownChip, ""},
		{0x00, ErrNoChip, ""},
		{0xFF, ErrNoChip, ""},
	}
	for _, tt := range tests {
		chip := mfrc522test.New(mfrc522test.WithVersion(tt.v))
		r := newReader(t, chip, false, nil)
		err := r.Init()
		if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
			t.Errorf("version %#02x: Init = %v, want %v", tt.v, err, tt.wantErr)
		}
		if err == nil && Versions[r.d.version] != tt.chip {
			t.Errorf("version %#02x: name %q, want %q", tt.v, Versions[r.d.version], tt.chip)
		}
	}
}

// runReader runs r until the test ends.
func runReader(t *testing.T, r *Reader) chan hw.Tap {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	taps := make(chan hw.Tap, 64)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := r.Run(ctx, taps); err != nil {
			t.Errorf("Run = %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return taps
}

func waitTap(t *testing.T, taps <-chan hw.Tap) hw.Tap {
	t.Helper()
	select {
	case tp := <-taps:
		return tp
	case <-time.After(5 * time.Second):
		t.Fatal("no tap within 5s")
	}
	return hw.Tap{}
}

func waitHealth(t *testing.T, r *Reader, ok bool) hw.Health {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if h := r.Health(); h.OK == ok {
			return h
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("health never became OK=%v: %+v", ok, r.Health())
	return hw.Health{}
}

func TestDeadReaderAndRecovery(t *testing.T) {
	tests := []struct {
		name string
		kill func(*mfrc522test.Chip)
		heal func(*mfrc522test.Chip)
	}{
		{"reads 0x00", func(c *mfrc522test.Chip) { c.SetDead(true, 0x00) }, func(c *mfrc522test.Chip) { c.SetDead(false, 0) }},
		{"reads 0xFF", func(c *mfrc522test.Chip) { c.SetDead(true, 0xFF) }, func(c *mfrc522test.Chip) { c.SetDead(false, 0) }},
		{"SPI errors", func(c *mfrc522test.Chip) { c.FailAll(errors.New("spidev: EIO")) }, func(c *mfrc522test.Chip) { c.FailAll(nil) }},
		{"power cut", func(c *mfrc522test.Chip) { _ = c.ResetPin().Out(false) }, func(c *mfrc522test.Chip) { _ = c.ResetPin().Out(true) }},
	}
	for _, tt := range tests {
		for _, irq := range []bool{false, true} {
			t.Run(tt.name, func(t *testing.T) {
				chip := mfrc522test.New()
				r := newReader(t, chip, irq, nil)
				taps := runReader(t, r)
				waitHealth(t, r, true)
				tt.kill(chip)
				h := waitHealth(t, r, false)
				if h.Error == "" {
					t.Error("dead reader without an error in Health")
				}
				tt.heal(chip)
				waitHealth(t, r, true)
				chip.Present(card(t, uid4...))
				if got := waitTap(t, taps); !cmp.Equal(got.UID, uid4) {
					t.Errorf("tap after recovery = %x", got.UID)
				}
			})
		}
	}
}

func TestFlakyBusNeverInventsUIDs(t *testing.T) {
	for _, irq := range []bool{false, true} {
		chip := mfrc522test.New()
		chip.SetFaults(mfrc522test.Faults{ErrorRate: 0.03, GarbageRate: 0.03, Seed: 7})
		r := newReader(t, chip, irq, nil)
		taps := runReader(t, r)
		for _, u := range [][]byte{uid4, uid7, uid10} {
			chip.Present(card(t, u...))
			got := waitTap(t, taps)
			if !cmp.Equal(got.UID, u) {
				t.Fatalf("irq=%v: flaky bus produced UID %x, want %x", irq, got.UID, u)
			}
			chip.RemoveAll()
			deadline := time.Now().Add(5 * time.Second)
			for r.Resting() && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
		}
	}
}

func TestRestingCardIsOneTap(t *testing.T) {
	chip := mfrc522test.New()
	r := newReader(t, chip, false, nil)
	taps := runReader(t, r)
	chip.Present(card(t, uid4...))
	waitTap(t, taps)
	waitHealth(t, r, true)
	time.Sleep(30 * time.Millisecond) // ~15 polls with the card resting
	select {
	case tp := <-taps:
		t.Fatalf("resting card tapped again: %x", tp.UID)
	default:
	}
	chip.RemoveAll()
	for r.Resting() {
		time.Sleep(time.Millisecond)
	}
	chip.Present(card(t, uid4...))
	waitTap(t, taps)
	// A different card swapped in without an empty poll in between is a new tap.
	chip.RemoveAll()
	chip.Present(card(t, uid7...))
	if got := waitTap(t, taps); !cmp.Equal(got.UID, uid7) {
		t.Errorf("swapped card tap = %x", got.UID)
	}
}

func TestSecurityTiers(t *testing.T) {
	key, d := testKey(t)
	random := []byte{0x08, 0x12, 0x34, 0x56}
	good, err := mfrc522test.NewNTAG(uid7, testSign(t, d, uid7))
	if err != nil {
		t.Fatal(err)
	}
	forged, err := mfrc522test.NewNTAG([]byte{0x04, 1, 2, 3, 4, 5, 6}, testSign(t, d, uid7))
	if err != nil {
		t.Fatal(err)
	}
	// A genuine NTAG21x's UID and READ_SIG answer (public test vector):
	// accepted with the default configuration, i.e. NXP's key.
	realUID, _ := hex.DecodeString("04E10CDA993C80")
	realSig, _ := hex.DecodeString("8B76052EE42F5567BEB53238B3E3F9950707C0DCC956B5C5EFCFDB709B2D82B3")
	genuine, err := mfrc522test.NewNTAG(realUID, realSig)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		security Security
		card     *mfrc522test.Card
		wantErr  error
	}{
		{"original accepts genuine NXP tag (NXP key)", SecurityNTAGOriginal, genuine, nil},
		{"any accepts random", SecurityAny, card(t, random...), nil},
		{"no-random rejects random", SecurityNoRandom, card(t, random...), ErrRandomUID},
		{"no-random accepts fixed", SecurityNoRandom, card(t, uid4...), nil},
		{"original accepts signed NTAG", SecurityNTAGOriginal, good, nil},
		{"original rejects copied signature", SecurityNTAGOriginal, forged, ErrNotOriginal},
		{"original rejects Classic", SecurityNTAGOriginal, card(t, uid4...), ErrNotOriginal},
		{"original rejects random", SecurityNTAGOriginal, card(t, random...), ErrRandomUID},
		{"original rejects NTAG signed by another key (NXP key)", SecurityNTAGOriginal, good, ErrNotOriginal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chip := mfrc522test.New()
			r := newReader(t, chip, false, func(c *Config) {
				c.Security = tt.security
				if !strings.HasSuffix(tt.name, "(NXP key)") {
					c.OriginalityKey = key
				}
			})
			if err := r.Init(); err != nil {
				t.Fatal(err)
			}
			chip.Present(tt.card)
			det, err := r.Poll()
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Poll error = %v, want %v", err, tt.wantErr)
			}
			if det.UID == nil {
				t.Error("rejected card has no UID in the Detection (presence needs it)")
			}
		})
	}
}

func TestRejectedCardEventOnce(t *testing.T) {
	var mu sync.Mutex
	var events []EventKind
	chip := mfrc522test.New()
	r := newReader(t, chip, false, func(c *Config) {
		c.Security = SecurityNoRandom
		c.OnEvent = func(e Event) { mu.Lock(); events = append(events, e.Kind); mu.Unlock() }
	})
	taps := runReader(t, r)
	chip.Present(card(t, 0x08, 1, 2, 3))
	deadline := time.Now().Add(5 * time.Second)
	for !r.Resting() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	mu.Lock()
	got := append([]EventKind(nil), events...)
	mu.Unlock()
	if diff := cmp.Diff([]EventKind{EventRejected}, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	select {
	case tp := <-taps:
		t.Errorf("rejected card produced a tap %x", tp.UID)
	default:
	}
}

func TestPresence(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	a, b := []byte{1, 2, 3, 4}, []byte{5, 6, 7, 8}
	type step struct {
		ms  int
		uid []byte // nil: empty poll
	}
	tests := []struct {
		name     string
		debounce time.Duration
		misses   int
		steps    []step
		want     []int // indexes of steps that are taps
	}{
		{"resting card is one tap", 0, 2, []step{{0, a}, {25, a}, {50, a}, {75, a}}, []int{0}},
		{"one empty poll is a flicker", 0, 2, []step{{0, a}, {25, nil}, {50, a}}, []int{0}},
		{"two empty polls: gone", 0, 2, []step{{0, a}, {25, nil}, {50, nil}, {75, a}}, []int{0, 3}},
		{"back within debounce", 500 * time.Millisecond, 2, []step{{0, a}, {25, nil}, {50, nil}, {300, a}}, []int{0}},
		{"back after debounce", 500 * time.Millisecond, 2, []step{{0, a}, {25, nil}, {50, nil}, {600, a}}, []int{0, 3}},
		{"debounce is per card", 500 * time.Millisecond, 2, []step{{0, a}, {25, nil}, {50, nil}, {100, b}, {125, nil}, {150, nil}, {200, a}}, []int{0, 3}},
		{"swap without gap", 0, 2, []step{{0, a}, {25, b}, {50, a}}, []int{0, 1, 2}},
		{"misses 1", 0, 1, []step{{0, a}, {25, nil}, {50, a}}, []int{0, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPresence(tt.debounce, tt.misses)
			var got []int
			for i, s := range tt.steps {
				if s.uid == nil {
					p.empty(at(s.ms))
				} else if p.seen(s.uid, at(s.ms)) {
					got = append(got, i)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("taps (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCRCA(t *testing.T) {
	tests := []struct {
		in     []byte
		lo, hi byte
	}{
		{[]byte{0x50, 0x00}, 0x57, 0xCD}, // HLTA, ISO/IEC 14443-3
		{[]byte{0x00, 0x00}, 0xA0, 0x1E}, // ISO/IEC 14443-3 annex B
		{[]byte{0x12, 0x34}, 0x26, 0xCF},
	}
	for _, tt := range tests {
		lo, hi := crcA(tt.in)
		if lo != tt.lo || hi != tt.hi {
			t.Errorf("crcA(%x) = %02x %02x, want %02x %02x", tt.in, lo, hi, tt.lo, tt.hi)
		}
		if s := mfrc522test.CRCA(tt.in); byte(s) != tt.lo || byte(s>>8) != tt.hi {
			t.Errorf("simulator CRCA(%x) = %04x", tt.in, s)
		}
	}
}

// overlap wraps a port and records how many transactions were in flight
// at once across every port sharing the counters.
type overlap struct {
	spi.Port
	active, max *atomic.Int32
}

func (o overlap) Connect(f physic.Frequency, m spi.Mode, bits int) (spi.Conn, error) {
	c, err := o.Port.Connect(f, m, bits)
	return overlapConn{c, o}, err
}

type overlapConn struct {
	spi.Conn
	o overlap
}

func (c overlapConn) enter() func() {
	n := c.o.active.Add(1)
	for {
		m := c.o.max.Load()
		if n <= m || c.o.max.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(20 * time.Microsecond) // widen the window a concurrent poll would hit
	return func() { c.o.active.Add(-1) }
}

func (c overlapConn) Tx(w, r []byte) error           { defer c.enter()(); return c.Conn.Tx(w, r) }
func (c overlapConn) TxPackets(p []spi.Packet) error { defer c.enter()(); return c.Conn.TxPackets(p) }

func TestTurnSharesBus(t *testing.T) {
	turn := NewTurn()
	var active, most atomic.Int32
	chipA, chipB := mfrc522test.New(), mfrc522test.New()
	ra := newReader(t, chipA, false, func(c *Config) {
		c.Name, c.Turn, c.FieldOff, c.FieldSettle = "in", turn, true, time.Microsecond
		c.Port = overlap{chipA, &active, &most}
	})
	rb := newReader(t, chipB, true, func(c *Config) {
		c.Name, c.Turn, c.FieldOff, c.FieldSettle = "out", turn, true, time.Microsecond
		c.Port = overlap{chipB, &active, &most}
	})
	ta, tb := runReader(t, ra), runReader(t, rb)
	chipA.Present(card(t, uid4...))
	chipB.Present(card(t, uid10...))
	if got := waitTap(t, ta); got.Reader != "in" || !cmp.Equal(got.UID, uid4) {
		t.Errorf("reader in: %s %x", got.Reader, got.UID)
	}
	if got := waitTap(t, tb); got.Reader != "out" || !cmp.Equal(got.UID, uid10) {
		t.Errorf("reader out: %s %x", got.Reader, got.UID)
	}
	if m := most.Load(); m != 1 {
		t.Errorf("%d SPI transactions in flight at once on a shared turn", m)
	}
}

func TestFieldOffBetweenPolls(t *testing.T) {
	chip := mfrc522test.New()
	r := newReader(t, chip, false, func(c *Config) { c.FieldOff, c.FieldSettle = true, time.Microsecond })
	if err := r.Init(); err != nil {
		t.Fatal(err)
	}
	if v := chip.Reg(mfrc522test.TxControlReg); v&0x03 != 0 {
		t.Fatalf("antenna on after Init: %#02x", v)
	}
	chip.Present(card(t, uid7...))
	det, err := r.Poll()
	if err != nil || !cmp.Equal(det.UID, uid7) {
		t.Fatalf("Poll = %x, %v", det.UID, err)
	}
	if v := chip.Reg(mfrc522test.TxControlReg); v&0x03 != 0 {
		t.Errorf("antenna on after Poll: %#02x", v)
	}
}

// Issue 14: with IRQ configured but the line stuck (broken wire, wrong pin)
// every command waited for the edge timeout, so a 7-byte tap took five
// CommandDeadlines, with health OK. The reader now sees commands complete
// without an edge, gives the line up for polling and says so in Health.
func TestStuckIRQFallsBackToPolling(t *testing.T) {
	const deadline = 100 * time.Millisecond
	tests := []struct {
		name  string
		stick func(*mfrc522test.Pin)
		stuck bool
	}{
		{"line moving", func(*mfrc522test.Pin) {}, false},
		{"stuck high (broken wire, pull-up)", func(p *mfrc522test.Pin) { p.SetStuck(true, gpio.High) }, true},
		{"stuck low", func(p *mfrc522test.Pin) { p.SetStuck(true, gpio.Low) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chip := mfrc522test.New()
			tt.stick(chip.IRQ())
			r := newReader(t, chip, true, func(c *Config) { c.CommandDeadline = deadline })
			taps := runReader(t, r)
			waitHealth(t, r, true)
			for end := time.Now().Add(10 * deadline); time.Now().Before(end) && r.Health().Degraded == ""; {
				time.Sleep(time.Millisecond)
			}
			var worst time.Duration
			for range 3 {
				t0 := time.Now()
				chip.Present(card(t, uid7...))
				tp := waitTap(t, taps)
				worst = max(worst, tp.At.Sub(t0))
				chip.RemoveAll()
				for r.Resting() {
					time.Sleep(time.Millisecond)
				}
			}
			if worst >= deadline {
				t.Errorf("slowest tap detected after %v, want the polling figure (< CommandDeadline %v)", worst, deadline)
			}
			h := r.Health()
			if got := strings.Contains(h.Degraded, "irq line not moving; polling"); got != tt.stuck || !h.OK {
				t.Errorf("health = %+v, want OK and degraded=%v", h, tt.stuck)
			}
		})
	}
}
