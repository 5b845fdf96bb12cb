// Package mfrc522test is a register-level simulator of the NXP MFRC522 NFC
// reader chip on SPI, with a simulated RF field holding ISO/IEC 14443-3 type
// A cards. It implements periph's spi.Port and spi.Conn, so real driver code
// (ours in hw/rc522 and periph's own mfrc522.Dev) runs against it unchanged.
//
// What is modelled: the SPI framing (address byte (reg<<1)|0x80 for reads,
// reg<<1 for writes, burst reads of several addresses and burst writes to one
// register), the registers drivers touch with their reset values, the 64-byte
// FIFO, the CRC coprocessor (CalcCRC, with the ModeReg preset), the commands
// Idle, Transmit, Transceive (with StartSend, TxLastBits, RxAlign, TxCRCEn,
// RxCRCEn), MFAuthent and SoftReset, the interrupt request bits and the IRQ
// output line (IRqInv), antenna on/off (cards lose power), bit-oriented
// anticollision with collisions reported in ErrorReg/CollReg, cards that
// leave mid-transaction, and faults: injected SPI errors, garbage on MISO, a
// dead chip reading 0x00 or 0xFF.
//
// Simplifications, documented rather than hidden: commands complete at once
// (within the SPI write that starts them), MIFARE Crypto1 is transparent
// (MFAuthent checks the key; the traffic after it is plain), RxCRCEn checks
// the CRC but leaves the two CRC bytes in the FIFO, and CollPos counts bit
// positions of the received frame including the RxAlign offset.
package mfrc522test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"sync"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

// Register addresses (MFRC522 datasheet, section 9).
const (
	CommandReg    = 0x01
	ComIEnReg     = 0x02
	DivIEnReg     = 0x03
	ComIrqReg     = 0x04
	DivIrqReg     = 0x05
	ErrorReg      = 0x06
	Status1Reg    = 0x07
	Status2Reg    = 0x08
	FIFODataReg   = 0x09
	FIFOLevelReg  = 0x0A
	WaterLevelReg = 0x0B
	ControlReg    = 0x0C
	BitFramingReg = 0x0D
	CollReg       = 0x0E
	ModeReg       = 0x11
	TxModeReg     = 0x12
	RxModeReg     = 0x13
	TxControlReg  = 0x14
	TxASKReg      = 0x15
	CRCResultRegH = 0x21
	CRCResultRegL = 0x22
	ModWidthReg   = 0x24
	RFCfgReg      = 0x26
	TModeReg      = 0x2A
	TPrescalerReg = 0x2B
	TReloadRegH   = 0x2C
	TReloadRegL   = 0x2D
	AutoTestReg   = 0x36
	VersionReg    = 0x37
)

// Commands written to CommandReg.
const (
	CmdIdle       = 0x0
	CmdMem        = 0x1
	CmdCalcCRC    = 0x3
	CmdTransmit   = 0x4
	CmdReceive    = 0x8
	CmdTransceive = 0xC
	CmdMFAuthent  = 0xE
	CmdSoftReset  = 0xF
)

// ComIrqReg and ErrorReg bits.
const (
	irqTx    = 0x40
	irqRx    = 0x20
	irqIdle  = 0x10
	irqErr   = 0x02
	irqTimer = 0x01
	divCRC   = 0x04

	errBufferOvfl = 0x10
	errColl       = 0x08
	errCRC        = 0x04
	errProtocol   = 0x01
)

// ErrInjected is the error an injected SPI fault returns.
var ErrInjected = errors.New("mfrc522test: injected SPI error")

var resetValues = map[byte]byte{
	CommandReg: 0x20, ComIEnReg: 0x80, ComIrqReg: 0x14, ControlReg: 0x10,
	WaterLevelReg: 0x08, CollReg: 0xA0, ModeReg: 0x3F, TxControlReg: 0x80,
	0x16: 0x10, 0x17: 0x84, 0x18: 0x84, 0x19: 0x4D, 0x1A: 0x00, 0x1C: 0x62,
	0x1F: 0xEB, CRCResultRegH: 0xFF, CRCResultRegL: 0xFF, ModWidthReg: 0x26,
	RFCfgReg: 0x48, 0x27: 0x88, 0x28: 0x20, 0x29: 0x20,
}

// Stats counts what went over the SPI bus and the air.
type Stats struct {
	Calls        int64         // Tx/TxPackets calls (ioctls on a Pi)
	Transactions int64         // chip-select frames (one register access or burst each)
	Bytes        int64         // bytes clocked on the bus
	BusTime      time.Duration // Bytes * 8 / SPI clock
	Frames       int64         // RF frames the chip transmitted
}

// Faults injects bus trouble. Rates are probabilities per SPI transaction.
type Faults struct {
	ErrorRate   float64 // Tx returns ErrInjected and the transaction has no effect
	GarbageRate float64 // the transaction happens but MISO returns random bytes
	Seed        int64
}

// Chip is a simulated MFRC522 with its RF field. The zero value is not
// usable; call New.
type Chip struct {
	mu      sync.Mutex
	regs    [64]byte
	fifo    []byte
	version byte
	hz      physic.Frequency
	crcRun  uint16 // running CRC while CalcCRC is active
	cards   []*Card
	stats   Stats
	dead    bool
	deadVal byte
	failErr error
	faults  Faults
	rng     *rand.Rand
	powered bool // NRSTPD high
	irq     *Pin
	rst     *Pin
	name    string
}

// Option configures a Chip.
type Option func(*Chip)

// WithVersion sets VersionReg (0x91 v1.0, 0x92 v2.0; clones report 0x88,
// 0x12, 0xB2 and others).
func WithVersion(v byte) Option { return func(c *Chip) { c.version = v } }

// WithName names the chip (shown by String).
func WithName(n string) Option { return func(c *Chip) { c.name = n } }

// New returns a powered chip in its reset state with an empty field.
func New(opts ...Option) *Chip {
	c := &Chip{version: 0x92, powered: true, name: "mfrc522test", rng: rand.New(rand.NewSource(1))}
	for _, o := range opts {
		o(c)
	}
	c.irq = NewPin(c.name+"-IRQ", 24)
	c.rst = NewPin(c.name+"-RST", 25)
	c.rst.onOut = c.resetLine
	c.softReset()
	c.updateIRQ()
	return c
}

// IRQ returns the chip's IRQ output line.
func (c *Chip) IRQ() *Pin { return c.irq }

// ResetPin returns the chip's NRSTPD input: low powers the chip down, a
// rising edge resets it.
func (c *Chip) ResetPin() *Pin { return c.rst }

func (c *Chip) resetLine(l gpio.Level) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l == gpio.Low {
		c.powered = false
		c.fieldOff()
		return
	}
	if !c.powered {
		c.powered = true
		c.softReset()
	}
	c.updateIRQ()
}

// Present puts cards into the field, powered by the antenna if it is on.
func (c *Chip) Present(cards ...*Card) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cd := range cards {
		cd.reset()
		c.cards = append(c.cards, cd)
	}
}

// Remove takes the card with this UID out of the field; it reports whether
// such a card was there.
func (c *Chip) Remove(uid []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, cd := range c.cards {
		if bytes.Equal(cd.uid, uid) {
			cd.reset()
			c.cards = append(c.cards[:i], c.cards[i+1:]...)
			return true
		}
	}
	return false
}

// RemoveAll empties the field.
func (c *Chip) RemoveAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cd := range c.cards {
		cd.reset()
	}
	c.cards = nil
}

// Cards returns the UIDs of the cards in the field.
func (c *Chip) Cards() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out [][]byte
	for _, cd := range c.cards {
		out = append(out, cd.UID())
	}
	return out
}

// SetDead makes every read return v (0x00 or 0xFF, a chip that is unplugged
// or unpowered) and every write vanish; SetDead(false, 0) revives the chip
// with its registers as they were.
func (c *Chip) SetDead(dead bool, v byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dead, c.deadVal = dead, v
}

// FailAll makes every SPI transaction fail with err (nil to stop).
func (c *Chip) FailAll(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failErr = err
}

// SetFaults injects random SPI errors and garbage.
func (c *Chip) SetFaults(f Faults) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults = f
	c.rng = rand.New(rand.NewSource(f.Seed))
}

// Stats returns the counters since New or the last ResetStats.
func (c *Chip) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// ResetStats zeroes the counters.
func (c *Chip) ResetStats() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats = Stats{}
}

// Reg returns a register's raw value without going over the bus (for tests).
func (c *Chip) Reg(r byte) byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.regs[r&0x3F]
}

// String implements spi.Port.
func (c *Chip) String() string { return c.name }

// Connect implements spi.Port. The MFRC522 takes up to 10 MHz in mode 0.
func (c *Chip) Connect(f physic.Frequency, mode spi.Mode, bitsPerWord int) (spi.Conn, error) {
	if mode&spi.Mode3 != spi.Mode0 {
		return nil, fmt.Errorf("mfrc522test: SPI mode %s not supported, the MFRC522 uses Mode0", mode)
	}
	if bitsPerWord != 8 {
		return nil, fmt.Errorf("mfrc522test: %d bits per word not supported", bitsPerWord)
	}
	if f <= 0 || f > 10*physic.MegaHertz {
		f = 10 * physic.MegaHertz
	}
	c.mu.Lock()
	c.hz = f
	c.mu.Unlock()
	return &spiConn{c: c}, nil
}

var _ spi.Port = (*Chip)(nil)

type spiConn struct{ c *Chip }

var _ spi.Conn = (*spiConn)(nil)
var _ conn.Resource = (*spiConn)(nil)

func (s *spiConn) String() string                 { return s.c.name }
func (s *spiConn) Duplex() conn.Duplex            { return conn.Full }
func (s *spiConn) Halt() error                    { return nil }
func (s *spiConn) Tx(w, r []byte) error           { return s.c.tx([]spi.Packet{{W: w, R: r}}) }
func (s *spiConn) TxPackets(p []spi.Packet) error { return s.c.tx(p) }

func (c *Chip) tx(ps []spi.Packet) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Calls++
	for _, p := range ps {
		if p.R != nil && len(p.R) != len(p.W) {
			return fmt.Errorf("mfrc522test: Tx with len(w)=%d, len(r)=%d", len(p.W), len(p.R))
		}
		c.stats.Transactions++
		c.stats.Bytes += int64(len(p.W))
		c.stats.BusTime += time.Duration(int64(len(p.W)) * 8 * int64(time.Second) / int64(c.hz/physic.Hertz))
		if c.failErr != nil {
			return fmt.Errorf("mfrc522test: %w", c.failErr)
		}
		if c.faults.ErrorRate > 0 && c.rng.Float64() < c.faults.ErrorRate {
			return ErrInjected
		}
		switch {
		case c.dead:
			fill(p.R, c.deadVal)
			continue
		case !c.powered:
			fill(p.R, 0x00)
			continue
		}
		c.transaction(p.W, p.R)
		if c.faults.GarbageRate > 0 && c.rng.Float64() < c.faults.GarbageRate && len(p.R) > 1 {
			for i := 1; i < len(p.R); i++ {
				p.R[i] = byte(c.rng.Intn(256))
			}
		}
		c.updateIRQ()
	}
	return nil
}

func fill(b []byte, v byte) {
	for i := range b {
		b[i] = v
	}
}

// transaction is one chip-select frame.
func (c *Chip) transaction(w, r []byte) {
	if len(w) == 0 {
		return
	}
	if w[0]&0x80 != 0 { // read: each MOSI byte addresses the next MISO byte
		if r != nil {
			r[0] = 0
		}
		for i := 1; i < len(w); i++ {
			v := c.read((w[i-1] >> 1) & 0x3F)
			if r != nil {
				r[i] = v
			}
		}
		return
	}
	reg := (w[0] >> 1) & 0x3F
	if r != nil {
		fill(r, 0)
	}
	for _, v := range w[1:] {
		c.write(reg, v)
	}
}

func (c *Chip) read(reg byte) byte {
	switch reg {
	case FIFODataReg:
		if len(c.fifo) == 0 {
			return 0
		}
		v := c.fifo[0]
		c.fifo = c.fifo[1:]
		return v
	case FIFOLevelReg:
		return byte(len(c.fifo))
	case Status1Reg:
		v := c.regs[Status1Reg] & 0x30
		if c.irqActive() {
			v |= 0x08
		}
		if len(c.fifo) <= int(c.regs[WaterLevelReg]) {
			v |= 0x01
		}
		if 64-len(c.fifo) <= int(c.regs[WaterLevelReg]) {
			v |= 0x02
		}
		return v
	case ComIrqReg, DivIrqReg:
		return c.regs[reg] & 0x7F
	case VersionReg:
		return c.version
	}
	return c.regs[reg]
}

func (c *Chip) write(reg, v byte) {
	switch reg {
	case CommandReg:
		c.regs[CommandReg] = v & 0x3F
		c.command(v & 0x0F)
	case ComIrqReg, DivIrqReg:
		if v&0x80 != 0 {
			c.regs[reg] |= v & 0x7F
		} else {
			c.regs[reg] &^= v & 0x7F
		}
	case FIFODataReg:
		if len(c.fifo) >= 64 {
			c.regs[ErrorReg] |= errBufferOvfl
			return
		}
		c.fifo = append(c.fifo, v)
		if c.regs[CommandReg]&0x0F == CmdCalcCRC {
			c.crcRun = crc16(c.crcRun, []byte{v})
			c.fifo = c.fifo[:len(c.fifo)-1]
			c.setCRC()
		}
	case FIFOLevelReg:
		if v&0x80 != 0 {
			c.fifo = c.fifo[:0]
			c.regs[ErrorReg] &^= errBufferOvfl
		}
	case BitFramingReg:
		c.regs[reg] = v
		if v&0x80 != 0 && c.regs[CommandReg]&0x0F == CmdTransceive {
			c.transceive(true)
		}
	case ControlReg:
		c.regs[reg] = c.regs[reg]&0x07 | v&0xC0 | 0x10
	case TxControlReg:
		c.regs[reg] = v
		if v&0x03 == 0 {
			c.fieldOff()
		}
	case Status2Reg:
		c.regs[reg] = c.regs[reg]&0x07 | v&0xC8
	case ErrorReg, VersionReg, Status1Reg:
		// read-only
	default:
		c.regs[reg] = v
	}
}

func (c *Chip) antennaOn() bool { return c.regs[TxControlReg]&0x03 != 0 }

// fieldOff unpowers every card: they come back in IDLE when the field returns.
func (c *Chip) fieldOff() {
	for _, cd := range c.cards {
		cd.reset()
	}
	c.regs[Status2Reg] &^= 0x08
}

func (c *Chip) softReset() {
	for i := range c.regs {
		c.regs[i] = resetValues[byte(i)]
	}
	c.fifo = c.fifo[:0]
	c.fieldOff()
}

func (c *Chip) command(cmd byte) {
	switch cmd {
	case CmdSoftReset:
		c.softReset()
	case CmdCalcCRC:
		c.crcRun = crcPreset(c.regs[ModeReg])
		c.crcRun = crc16(c.crcRun, c.fifo)
		c.fifo = c.fifo[:0]
		c.setCRC()
	case CmdTransmit:
		c.transceive(false)
		c.regs[CommandReg] &^= 0x0F
		c.regs[ComIrqReg] |= irqIdle
	case CmdMFAuthent:
		c.mfAuthent()
		c.regs[CommandReg] &^= 0x0F
		c.regs[ComIrqReg] |= irqIdle
	case CmdTransceive:
		// Waits for StartSend: only a write of BitFramingReg with StartSend
		// starts a transmission.
	case CmdIdle, CmdReceive:
	default: // Mem, GenerateRandomID: nothing observable for our drivers
		c.regs[CommandReg] &^= 0x0F
		c.regs[ComIrqReg] |= irqIdle
	}
}

func crcPreset(mode byte) uint16 {
	return [4]uint16{0x0000, 0x6363, 0xA671, 0xFFFF}[mode&0x03]
}

func (c *Chip) setCRC() {
	c.regs[CRCResultRegH] = byte(c.crcRun >> 8)
	c.regs[CRCResultRegL] = byte(c.crcRun)
	c.regs[DivIrqReg] |= divCRC
	c.regs[Status1Reg] |= 0x20 // CRCReady
}

func (c *Chip) mfAuthent() {
	c.regs[ErrorReg] = 0
	if len(c.fifo) < 12 || !c.antennaOn() {
		c.regs[ComIrqReg] |= irqTimer
		c.fifo = c.fifo[:0]
		return
	}
	in := append([]byte(nil), c.fifo[:12]...)
	c.fifo = c.fifo[:0]
	for _, cd := range c.cards {
		if cd.state == stActive && cd.authenticate(in[0], in[1], in[2:8], in[8:12]) {
			c.regs[Status2Reg] |= 0x08
			return
		}
	}
	c.regs[Status2Reg] &^= 0x08
	c.regs[ComIrqReg] |= irqTimer
}

// transceive sends the FIFO as one frame and, if receive, collects answers.
func (c *Chip) transceive(receive bool) {
	data := append([]byte(nil), c.fifo...)
	c.fifo = c.fifo[:0]
	c.regs[ErrorReg] &^= errColl | errCRC | errProtocol | 0x02
	c.regs[CollReg] = c.regs[CollReg]&0x80 | 0x20
	c.regs[ControlReg] &^= 0x07
	if c.regs[TxModeReg]&0x80 != 0 {
		crc := crc16(crcPreset(c.regs[ModeReg]), data)
		data = append(data, byte(crc), byte(crc>>8))
	}
	n := len(data) * 8
	if lb := int(c.regs[BitFramingReg] & 0x07); lb != 0 && len(data) > 0 {
		n = (len(data)-1)*8 + lb
	}
	c.regs[ComIrqReg] |= irqTx
	c.stats.Frames++
	if !c.antennaOn() || n == 0 {
		if receive {
			c.timeout()
		}
		return
	}
	frame := toBits(data, n)
	var answers []bits
	var left []*Card
	for _, cd := range c.cards {
		if a := cd.handle(frame); a != nil {
			answers = append(answers, a)
			cd.frames++
			if cd.leaveAfter > 0 && cd.frames >= cd.leaveAfter {
				left = append(left, cd)
			}
		}
	}
	for _, cd := range left {
		for i, x := range c.cards {
			if x == cd {
				cd.reset()
				c.cards = append(c.cards[:i], c.cards[i+1:]...)
				break
			}
		}
	}
	if !receive {
		return
	}
	if len(answers) == 0 {
		c.timeout()
		return
	}
	c.receive(answers)
}

func (c *Chip) timeout() {
	if c.regs[TModeReg]&0x80 != 0 { // TAuto: the timer starts with the transmission
		c.regs[ComIrqReg] |= irqTimer
	}
}

// receive merges the answers of all cards (Manchester coding shows a
// collision where they differ) and fills the FIFO.
func (c *Chip) receive(answers []bits) {
	got := answers[0]
	coll := -1
	for _, a := range answers[1:] {
		for i := 0; i < len(got) || i < len(a); i++ {
			if i >= len(got) || i >= len(a) || got[i] != a[i] {
				if coll < 0 || i < coll {
					coll = i
				}
				break
			}
		}
	}
	if coll >= 0 {
		merged := make(bits, 0, len(got))
		longest := 0
		for _, a := range answers {
			longest = max(longest, len(a))
		}
		keep := c.regs[CollReg]&0x80 != 0
		for i := 0; i < longest; i++ {
			v := false
			switch {
			case i < coll:
				v = got[i]
			case i == coll:
				v = true
			case keep:
				for _, a := range answers {
					if i < len(a) && a[i] {
						v = true
					}
				}
			}
			merged = append(merged, v)
		}
		got = merged
	}
	align := int(c.regs[BitFramingReg]>>4) & 0x07
	stream := append(make(bits, align), got...)
	out := stream.bytes()
	if align > 0 { // bits below RxAlign are not received
		out[0] &^= byte(1<<align) - 1
	}
	space := 64 - len(c.fifo)
	if len(out) > space {
		out = out[:space]
		c.regs[ErrorReg] |= errBufferOvfl
	}
	c.fifo = append(c.fifo, out...)
	c.regs[ControlReg] = c.regs[ControlReg]&^0x07 | byte(len(stream)%8)
	c.regs[ComIrqReg] |= irqRx
	if coll >= 0 {
		pos := align + coll + 1
		c.regs[ErrorReg] |= errColl
		if pos <= 32 {
			c.regs[CollReg] = c.regs[CollReg]&0x80 | byte(pos&0x1F)
		}
		c.regs[ComIrqReg] |= irqErr
	}
	if c.regs[RxModeReg]&0x80 != 0 && len(got)%8 == 0 && len(got) >= 24 && coll < 0 {
		if !crcOK(got.bytes()) {
			c.regs[ErrorReg] |= errCRC
			c.regs[ComIrqReg] |= irqErr
		} else {
			c.regs[Status1Reg] |= 0x20
		}
	}
}

func (c *Chip) irqActive() bool {
	return c.regs[ComIrqReg]&c.regs[ComIEnReg]&0x7F != 0 || c.regs[DivIrqReg]&c.regs[DivIEnReg]&0x14 != 0
}

// updateIRQ drives the IRQ line: active low when IRqInv (ComIEnReg bit 7) is
// set, as every driver configures it.
func (c *Chip) updateIRQ() {
	active := c.powered && !c.dead && c.irqActive()
	inv := c.regs[ComIEnReg]&0x80 != 0
	level := gpio.Level(active != inv)
	// Drive without holding c.mu in the pin (pin has its own lock).
	c.irq.drive(level)
}
