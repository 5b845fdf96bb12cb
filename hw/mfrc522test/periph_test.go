package mfrc522test_test

// These tests run periph's own MFRC522 driver (periph.io/x/devices/v3/mfrc522
// v3.7.4) against the simulator: it works for the case it was written for (a
// 4-byte UID with the IRQ line wired), and the defects listed in the readers
// issue are shown one by one.

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kinderdeur/kiosk/hw/mfrc522test"
	"periph.io/x/devices/v3/mfrc522"
	"periph.io/x/devices/v3/mfrc522/commands"
)

var (
	uid4  = []byte{0x11, 0x22, 0x33, 0x44}
	uid7  = []byte{0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66}
	uid10 = []byte{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A}
)

func newPeriph(t *testing.T, uids ...[]byte) (*mfrc522test.Chip, *mfrc522.Dev) {
	t.Helper()
	chip := mfrc522test.New()
	dev, err := mfrc522.NewSPI(chip, chip.ResetPin(), chip.IRQ())
	if err != nil {
		t.Fatalf("NewSPI: %v", err)
	}
	for _, u := range uids {
		c, err := mfrc522test.NewCard(u)
		if err != nil {
			t.Fatal(err)
		}
		chip.Present(c)
	}
	return chip, dev
}

func TestPeriphReadUID4ByteWithIRQ(t *testing.T) {
	chip, dev := newPeriph(t, uid4)
	chip.ResetStats()
	got, err := dev.ReadUID(time.Second)
	if err != nil {
		t.Fatalf("ReadUID: %v", err)
	}
	if diff := cmp.Diff(uid4, got); diff != "" {
		t.Errorf("UID (-want +got):\n%s", diff)
	}
	st := chip.Stats()
	t.Logf("periph ReadUID, 4-byte UID: %d SPI transactions, %v bus time", st.Transactions, st.BusTime)
	if st.Transactions < 100 {
		t.Errorf("periph ReadUID used %d transactions; the issue measured 113", st.Transactions)
	}
}

func TestPeriphReadCardClassic(t *testing.T) {
	c, err := mfrc522test.NewClassic(uid4)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte("kinderdeur block")
	c.SetBlock(1*4+2, want)
	chip := mfrc522test.New()
	chip.Present(c)
	dev, err := mfrc522.NewSPI(chip, chip.ResetPin(), chip.IRQ())
	if err != nil {
		t.Fatal(err)
	}
	got, err := dev.ReadCard(time.Second, commands.PICC_AUTHENT1A, 1, 2, mfrc522.DefaultKey)
	if err != nil {
		t.Fatalf("ReadCard: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("block (-want +got):\n%s", diff)
	}
	// A wrong key fails authentication.
	if _, err := dev.ReadCard(time.Second, commands.PICC_AUTHENT1A, 1, 2, mfrc522.Key{1, 2, 3, 4, 5, 6}); err == nil {
		t.Error("ReadCard with a wrong key succeeded")
	}
}

// Defect: a 10-byte UID comes back as 7 wrong bytes without an error.
func TestPeriphDefect10ByteUID(t *testing.T) {
	_, dev := newPeriph(t, uid10)
	got, err := dev.ReadUID(time.Second)
	if err != nil {
		t.Fatalf("ReadUID: %v", err)
	}
	if len(got) != 7 || bytes.Equal(got, uid10[:7]) {
		t.Fatalf("ReadUID = %x; the defect is 7 wrong bytes", got)
	}
	t.Logf("10-byte UID %x read by periph as %x (cascade tag inside, no error)", uid10, got)
}

func selectCL2(t *testing.T, ll *commands.LowLevel, uid []byte) {
	t.Helper()
	frame := []byte{0x95, 0x70, uid[3], uid[4], uid[5], uid[6], uid[3] ^ uid[4] ^ uid[5] ^ uid[6]}
	crc := mfrc522test.CRCA(frame)
	sak, _, err := ll.CardWrite(commands.PCD_TRANSCEIVE, append(frame, byte(crc), byte(crc>>8)))
	if err != nil || len(sak) != 3 {
		t.Fatalf("manual SELECT CL2: %x, %v", sak, err)
	}
}

func readPage0(ll *commands.LowLevel) ([]byte, error) {
	crc := mfrc522test.CRCA([]byte{0x30, 0x00})
	data, _, err := ll.CardWrite(commands.PCD_TRANSCEIVE, []byte{0x30, 0x00, byte(crc), byte(crc >> 8)})
	return data, err
}

// Defect: a 7-byte UID is read but never selected at cascade level 2, so the
// next card command gets no answer.
func TestPeriphDefect7ByteNotSelected(t *testing.T) {
	_, dev := newPeriph(t, uid7)
	got, err := dev.ReadUID(time.Second)
	if err != nil || !bytes.Equal(got, uid7) {
		t.Fatalf("ReadUID = %x, %v; want the 7-byte UID", got, err)
	}
	if data, _ := readPage0(dev.LowLevel); len(data) == 16 {
		t.Fatalf("READ after ReadUID answered %x: the card was selected after all", data)
	}
	// Doing the missing SELECT CL2 by hand makes the same READ work.
	_, dev = newPeriph(t, uid7)
	if _, err := dev.ReadUID(time.Second); err != nil {
		t.Fatal(err)
	}
	// ReadUID left the card in READY at level 2 (ANTICOLLISION CL2 done).
	selectCL2(t, dev.LowLevel, uid7)
	data, err := readPage0(dev.LowLevel)
	if err != nil || len(data) != 16 || !bytes.Equal(data[:3], uid7[:3]) {
		t.Fatalf("READ after SELECT CL2 = %x, %v", data, err)
	}
}

// Defect: two cards in the field give a nil error with no data from
// CardWrite; ReadUID's error says nothing about a collision.
func TestPeriphDefectCollisionLooksLikeBadRead(t *testing.T) {
	chip, dev := newPeriph(t, uid4, []byte{0x11, 0x22, 0x33, 0x45})
	_, err := dev.ReadUID(time.Second)
	if err == nil {
		t.Fatal("ReadUID with two cards succeeded")
	}
	if strings.Contains(strings.ToLower(err.Error()), "collision") {
		t.Fatalf("periph reported a collision (%v); the defect is gone", err)
	}
	t.Logf("periph with two cards: %v", err)
	// The same exchange by hand: ErrorReg has CollErr, CardWrite says nil.
	ll := dev.LowLevel
	if err := ll.Init(); err != nil {
		t.Fatal(err)
	}
	if err := ll.DevWrite(commands.BitFramingReg, 0x07); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ll.CardWrite(commands.PCD_TRANSCEIVE, []byte{0x26}); err != nil {
		t.Fatal(err)
	}
	if err := ll.DevWrite(commands.BitFramingReg, 0x00); err != nil {
		t.Fatal(err)
	}
	data, bits, err := ll.CardWrite(commands.PCD_TRANSCEIVE, []byte{0x93, 0x20})
	if err != nil || data != nil || bits != -1 {
		t.Fatalf("CardWrite(ANTICOLL) = %x, %d, %v; the defect is nil, -1, nil", data, bits, err)
	}
	if e := chip.Reg(mfrc522test.ErrorReg); e&0x08 == 0 {
		t.Fatalf("ErrorReg = %#02x, want CollErr set", e)
	}
}

// Defect: CardWrite cuts answers at 16 bytes; READ_SIG's 32-byte signature
// (34 bytes with CRC) comes back as 16.
func TestPeriphDefectCutAt16Bytes(t *testing.T) {
	sig := bytes.Repeat([]byte{0xA5}, 32)
	c, err := mfrc522test.NewNTAG(uid7, sig)
	if err != nil {
		t.Fatal(err)
	}
	chip := mfrc522test.New()
	chip.Present(c)
	dev, err := mfrc522.NewSPI(chip, chip.ResetPin(), chip.IRQ())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dev.ReadUID(time.Second); err != nil {
		t.Fatal(err)
	}
	selectCL2(t, dev.LowLevel, uid7)
	crc := mfrc522test.CRCA([]byte{0x3C, 0x00})
	data, bits, err := dev.LowLevel.CardWrite(commands.PCD_TRANSCEIVE, []byte{0x3C, 0x00, byte(crc), byte(crc >> 8)})
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != 16 || bits != 34*8 {
		t.Fatalf("READ_SIG = %d bytes, %d bits; the defect is 16 bytes of 272 bits", len(data), bits)
	}
}

// Defect: a card resting on the reader is reported on every call.
func TestPeriphDefectRestingCardEveryCall(t *testing.T) {
	_, dev := newPeriph(t, uid4)
	for i := 0; i < 3; i++ {
		if got, err := dev.ReadUID(time.Second); err != nil || !bytes.Equal(got, uid4) {
			t.Fatalf("call %d: %x, %v", i, got, err)
		}
	}
}

// Defect: ReadUID's ClearInterrupt calls WaitForEdge(0) to drain the edge
// queue; on current Pi kernels periph's host GPIO treats 0 as "wait forever"
// (periph/host#78), so with no edge pending the call never returns.
func TestPeriphDefectWaitForEdgeZero(t *testing.T) {
	chip, dev := newPeriph(t, uid4)
	if _, err := dev.ReadUID(time.Second); err != nil {
		t.Fatal(err)
	}
	if n := chip.IRQ().ZeroWaits(); n == 0 {
		t.Fatal("ReadUID did not call WaitForEdge(0); the defect is gone")
	}
	chip.IRQ().ZeroWaitsForever = true
	done := make(chan struct{})
	go func() {
		dev.LowLevel.ClearInterrupt() // no edge pending now
		close(done)
	}()
	select {
	case <-done:
		t.Fatal("ClearInterrupt returned although WaitForEdge(0) blocks")
	case <-time.After(100 * time.Millisecond):
	}
	chip.IRQ().Halt() // releases the blocked WaitForEdge, like closing the pin
	<-done
}

// Defect: with no IRQ pin (the common wiring) ReadUID dereferences the nil
// pin in a goroutine and the whole process dies. Shown in a child process.
func TestPeriphDefectNilIRQCrashes(t *testing.T) {
	if os.Getenv("MFRC522TEST_NIL_IRQ") == "1" {
		chip := mfrc522test.New()
		dev, err := mfrc522.NewSPI(chip, chip.ResetPin(), nil)
		if err != nil {
			os.Exit(3)
		}
		_, _ = dev.ReadUID(time.Second)
		// ReadUID returns when the panicking goroutine's deferred close
		// runs; give the panic the moment it needs to end the process.
		time.Sleep(2 * time.Second)
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPeriphDefectNilIRQCrashes$")
	cmd.Env = append(os.Environ(), "MFRC522TEST_NIL_IRQ=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("child exited cleanly; the defect is a crash. Output:\n%s", out)
	}
	if !strings.Contains(string(out), "nil pointer dereference") {
		t.Fatalf("child failed without a nil dereference: %v\n%s", err, out)
	}
}
