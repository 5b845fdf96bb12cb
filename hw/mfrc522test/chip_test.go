package mfrc522test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

func connect(t testing.TB, c *Chip) spi.Conn {
	t.Helper()
	conn, err := c.Connect(1*physic.MegaHertz, spi.Mode0, 8)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

func wr(t testing.TB, s spi.Conn, reg byte, v ...byte) {
	t.Helper()
	if err := s.Tx(append([]byte{reg << 1}, v...), nil); err != nil {
		t.Fatal(err)
	}
}

func rd(t testing.TB, s spi.Conn, regs ...byte) []byte {
	t.Helper()
	w := make([]byte, len(regs)+1)
	for i, r := range regs {
		w[i] = r<<1 | 0x80
	}
	r := make([]byte, len(w))
	if err := s.Tx(w, r); err != nil {
		t.Fatal(err)
	}
	return r[1:]
}

func TestResetValuesAndBurstRead(t *testing.T) {
	c := New()
	s := connect(t, c)
	got := rd(t, s, CommandReg, ComIEnReg, ComIrqReg, ModeReg, TxControlReg, ModWidthReg, CRCResultRegH, VersionReg)
	want := []byte{0x20, 0x80, 0x14, 0x3F, 0x80, 0x26, 0xFF, 0x92}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reset values (-want +got):\n%s", diff)
	}
}

func TestFIFO(t *testing.T) {
	c := New()
	s := connect(t, c)
	data := make([]byte, 70)
	for i := range data {
		data[i] = byte(i)
	}
	wr(t, s, FIFODataReg, data...) // burst write: 64 fit
	if got := rd(t, s, FIFOLevelReg, ErrorReg); got[0] != 64 || got[1]&0x10 == 0 {
		t.Fatalf("level, error = %x; want 64 and BufferOvfl", got)
	}
	regs := make([]byte, 64)
	for i := range regs {
		regs[i] = FIFODataReg
	}
	if diff := cmp.Diff(data[:64], rd(t, s, regs...)); diff != "" {
		t.Errorf("FIFO (-want +got):\n%s", diff)
	}
	wr(t, s, FIFODataReg, 1, 2, 3)
	wr(t, s, FIFOLevelReg, 0x80)
	if got := rd(t, s, FIFOLevelReg, ErrorReg); got[0] != 0 || got[1] != 0 {
		t.Errorf("after flush level, error = %x", got)
	}
}

func TestCalcCRC(t *testing.T) {
	tests := []struct {
		mode   byte
		in     []byte
		hi, lo byte
	}{
		{0x3D, []byte{0x50, 0x00}, 0xCD, 0x57}, // preset 6363: HLTA's CRC_A
		{0x3D, []byte{0x93, 0x70, 0x11, 0x22, 0x33, 0x44, 0x44}, byte(CRCA([]byte{0x93, 0x70, 0x11, 0x22, 0x33, 0x44, 0x44}) >> 8), byte(CRCA([]byte{0x93, 0x70, 0x11, 0x22, 0x33, 0x44, 0x44}))},
	}
	for _, tt := range tests {
		c := New()
		s := connect(t, c)
		wr(t, s, ModeReg, tt.mode)
		wr(t, s, FIFODataReg, tt.in...)
		wr(t, s, CommandReg, CmdCalcCRC)
		got := rd(t, s, DivIrqReg, CRCResultRegH, CRCResultRegL)
		if diff := cmp.Diff([]byte{0x04, tt.hi, tt.lo}, got); diff != "" {
			t.Errorf("CalcCRC(%x) (-want +got):\n%s", tt.in, diff)
		}
	}
	// With ModeReg at its reset value the preset is 0xFFFF: a different CRC.
	c := New()
	s := connect(t, c)
	wr(t, s, FIFODataReg, 0x50, 0x00)
	wr(t, s, CommandReg, CmdCalcCRC)
	if got := rd(t, s, CRCResultRegH, CRCResultRegL); got[0] == 0xCD && got[1] == 0x57 {
		t.Error("CRC preset ignores ModeReg")
	}
}

func TestIRQLine(t *testing.T) {
	c := New()
	s := connect(t, c)
	irq := c.IRQ()
	if err := irq.In(gpio.PullUp, gpio.FallingEdge); err != nil {
		t.Fatal(err)
	}
	wr(t, s, ComIEnReg, 0xA1) // IRqInv, RxIEn, TimerIEn
	wr(t, s, ComIrqReg, 0x7F)
	if irq.Read() != gpio.High {
		t.Fatal("IRQ active with nothing pending")
	}
	wr(t, s, TModeReg, 0x80)
	wr(t, s, TxControlReg, 0x83)
	wr(t, s, FIFODataReg, 0x26)
	wr(t, s, CommandReg, CmdTransceive)
	wr(t, s, BitFramingReg, 0x87) // REQA, empty field: timer
	if irq.Read() != gpio.Low || !irq.WaitForEdge(0) {
		t.Fatal("no falling edge on timeout")
	}
	wr(t, s, ComIrqReg, 0x01) // Set1=0: clear TimerIRq
	if irq.Read() != gpio.High {
		t.Fatal("IRQ still active after clearing")
	}
}

func TestIRQLineStuck(t *testing.T) {
	c := New()
	s := connect(t, c)
	irq := c.IRQ()
	if err := irq.In(gpio.PullUp, gpio.FallingEdge); err != nil {
		t.Fatal(err)
	}
	wr(t, s, ComIEnReg, 0xA1)
	wr(t, s, TModeReg, 0x80)
	wr(t, s, TxControlReg, 0x83)
	irq.SetStuck(true, gpio.High) // broken wire with a pull-up
	wr(t, s, FIFODataReg, 0x26)
	wr(t, s, CommandReg, CmdTransceive)
	wr(t, s, BitFramingReg, 0x87) // REQA, empty field: timer
	if rd(t, s, ComIrqReg)[0]&0x01 == 0 {
		t.Fatal("TimerIRq not set")
	}
	if irq.Read() != gpio.High || irq.WaitForEdge(time.Millisecond) {
		t.Fatal("stuck line moved")
	}
	irq.SetStuck(false, gpio.Low) // mended: follows the chip again, which holds it low
	if irq.Read() != gpio.Low || !irq.WaitForEdge(time.Millisecond) {
		t.Fatal("mended line does not follow the chip")
	}
}

func TestTransceiveCollision(t *testing.T) {
	c := New()
	s := connect(t, c)
	a, _ := NewCard([]byte{0x11, 0x22, 0x33, 0x44})
	b, _ := NewCard([]byte{0x11, 0x22, 0x33, 0x45})
	c.Present(a, b)
	wr(t, s, TModeReg, 0x80)
	wr(t, s, TxControlReg, 0x83)
	send := func(bitFraming byte, data ...byte) []byte {
		wr(t, s, ComIrqReg, 0x7F)
		wr(t, s, FIFOLevelReg, 0x80)
		wr(t, s, FIFODataReg, data...)
		wr(t, s, CommandReg, CmdTransceive)
		wr(t, s, BitFramingReg, 0x80|bitFraming)
		return rd(t, s, ComIrqReg, ErrorReg, FIFOLevelReg, CollReg)
	}
	if got := send(0x07, 0x52); got[1] != 0 || got[2] != 2 { // same ATQA: no collision
		t.Fatalf("WUPA status %x", got)
	}
	wr(t, s, FIFOLevelReg, 0x80)
	got := send(0x00, 0x93, 0x20)
	// UIDs differ in bit 0 of byte 3 (0x44 vs 0x45): bit 25 of the frame.
	if got[1]&0x08 == 0 || got[3]&0x1F != 25 {
		t.Errorf("ANTICOLL status %x; want CollErr and CollPos 25", got)
	}
}

func TestDeadAndFaults(t *testing.T) {
	c := New()
	s := connect(t, c)
	c.SetDead(true, 0xFF)
	if got := rd(t, s, VersionReg, ComIrqReg); !cmp.Equal(got, []byte{0xFF, 0xFF}) {
		t.Errorf("dead chip reads %x", got)
	}
	c.SetDead(false, 0)
	c.FailAll(errors.New("EIO"))
	if err := s.Tx([]byte{VersionReg<<1 | 0x80, 0}, make([]byte, 2)); err == nil {
		t.Error("FailAll: Tx succeeded")
	}
	c.FailAll(nil)
	c.SetFaults(Faults{ErrorRate: 1})
	if err := s.Tx([]byte{VersionReg<<1 | 0x80, 0}, make([]byte, 2)); !errors.Is(err, ErrInjected) {
		t.Errorf("ErrorRate 1: %v", err)
	}
	c.SetFaults(Faults{})
	st := c.Stats()
	if st.Transactions != 3 || st.Calls != 3 || st.Bytes != 7 {
		t.Errorf("stats %+v", st)
	}
	// 7 bytes at 1 MHz: 56 µs.
	if st.BusTime.Microseconds() != 56 {
		t.Errorf("bus time %v, want 56µs", st.BusTime)
	}
}

func TestNewCardLengths(t *testing.T) {
	for n := 0; n <= 11; n++ {
		_, err := NewCard(make([]byte, n))
		if ok := n == 4 || n == 7 || n == 10; ok != (err == nil) {
			t.Errorf("NewCard(%d bytes) error = %v", n, err)
		}
	}
}

// FuzzChipTx feeds arbitrary SPI frames: the simulator must never panic and
// the FIFO never exceed 64 bytes, whatever a driver sends.
func FuzzChipTx(f *testing.F) {
	f.Add([]byte{FIFODataReg << 1, 0x52, BitFramingReg << 1, 0x87}, []byte{CommandReg << 1, CmdTransceive})
	f.Add([]byte{TxControlReg << 1, 0x83}, []byte{BitFramingReg << 1, 0x80})
	f.Add([]byte{0x80 | VersionReg<<1, 0x80 | FIFODataReg<<1, 0}, []byte{CommandReg << 1, CmdMFAuthent})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		c := New()
		card, _ := NewCard([]byte{1, 2, 3, 4})
		ntag, _ := NewCard([]byte{4, 1, 2, 3, 4, 5, 6})
		c.Present(card, ntag)
		s := connect(t, c)
		wr(t, s, TxControlReg, 0x83)
		wr(t, s, TModeReg, 0x80)
		for _, w := range [][]byte{a, b, a} {
			if err := s.Tx(w, make([]byte, len(w))); err != nil {
				t.Fatal(err)
			}
		}
		if n := rd(t, s, FIFOLevelReg)[0]; n > 64 {
			t.Fatalf("FIFO level %d", n)
		}
	})
}
