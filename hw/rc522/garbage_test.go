package rc522

import (
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/hw/mfrc522test"
	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

// misoPort is a bus whose chip answers every read with the next bytes of a
// script (a miswired, noisy or counterfeit module): whatever comes back on
// MISO, the driver must return an error or a well-formed UID, never panic.
// Writes go nowhere. When the script ends MISO reads 0x00, a dead chip.
type misoPort struct{ miso []byte }

func (p *misoPort) String() string { return "miso" }
func (p *misoPort) Connect(physic.Frequency, spi.Mode, int) (spi.Conn, error) {
	return p, nil
}
func (p *misoPort) Duplex() conn.Duplex { return conn.Full }
func (p *misoPort) Halt() error         { return nil }
func (p *misoPort) Tx(w, r []byte) error {
	for i := range r {
		if len(p.miso) == 0 {
			r[i] = 0
			continue
		}
		r[i], p.miso = p.miso[0], p.miso[1:]
	}
	return nil
}
func (p *misoPort) TxPackets(ps []spi.Packet) error {
	for _, pk := range ps {
		if err := p.Tx(pk.W, pk.R); err != nil {
			return err
		}
	}
	return nil
}

// FuzzPollGarbage runs Init and Poll on a bus that answers with arbitrary
// bytes, polled and with an (idle) IRQ line, with the strictest security
// tier so READ_SIG is parsed too, and with a resting card so re-selection
// runs: no panic, no hang, and any UID is 4, 7 or 10 bytes.
func FuzzPollGarbage(f *testing.F) {
	f.Add([]byte{0x00, 0x92, 0x00, 0x92}, uint8(0))
	f.Add([]byte{0, 0x00, 0x92, 0, 0x80, 0xA9, 0x3D, 0x83, 0x92, 0, 0x30, 0, 2, 0, 0x92}, uint8(1))
	f.Add([]byte{0, 0x20, 0, 2, 0, 0x92, 0x44, 0x00, 0, 0x20, 0, 5, 0, 0x92, 0x88, 0x04, 0x11, 0x22, 0xBF}, uint8(2))
	f.Fuzz(func(t *testing.T, miso []byte, mode uint8) {
		p := &misoPort{miso: miso}
		cfg := Config{Name: "garbage", Port: p, Logger: quietLog, Security: SecurityNTAGOriginal,
			CommandDeadline: time.Millisecond, StatusStep: time.Nanosecond, ResetDelay: -1}
		if mode&1 != 0 {
			cfg.IRQ = mfrc522test.NewPin("irq", 24)
		}
		r, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if mode&2 != 0 {
			r.pres.seen(uid7, time.Now())
		}
		if err := r.Init(); err != nil {
			r.d.version = 0x92 // poll anyway: a chip that answered once and then went strange
		}
		for range 3 {
			det, err := r.Poll()
			if err == nil && det.UID != nil && len(det.UID) != 4 && len(det.UID) != 7 && len(det.UID) != 10 {
				t.Fatalf("Poll returned a %d-byte UID %x", len(det.UID), det.UID)
			}
		}
	})
}
