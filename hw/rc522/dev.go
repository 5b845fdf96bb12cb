// Package rc522 reads ISO/IEC 14443-3 type A cards through an NXP MFRC522
// (the "RC522" modules) on SPI with periph. It replaces periph's
// devices/v3/mfrc522 driver for the kiosk: the IRQ line is optional and
// never waited on with a zero timeout, all UID sizes (4, 7, 10 bytes) are
// selected through every cascade level with BCC and CRC_A checks, two cards
// in the field are reported as ErrCollision, a card resting on the reader is
// one tap, and a dead or unplugged chip is detected, reported through
// hw.Health and re-initialised with a capped backoff.
//
// Bus economy: register writes that belong together go out in one TxPackets
// call (one ioctl, one chip-select frame each), status registers are read in
// one burst, CRC_A is computed in software, and a resting card is re-selected
// with its known UID instead of a full anticollision.
package rc522

import (
	"errors"
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"
)

// MFRC522 registers and commands used here (datasheet section 9).
const (
	regCommand    = 0x01
	regComIEn     = 0x02
	regDivIEn     = 0x03
	regComIrq     = 0x04
	regError      = 0x06
	regFIFOData   = 0x09
	regFIFOLevel  = 0x0A
	regControl    = 0x0C
	regBitFraming = 0x0D
	regColl       = 0x0E
	regMode       = 0x11
	regTxMode     = 0x12
	regRxMode     = 0x13
	regTxControl  = 0x14
	regTxASK      = 0x15
	regRFCfg      = 0x26
	regTMode      = 0x2A
	regTPrescaler = 0x2B
	regTReloadH   = 0x2C
	regTReloadL   = 0x2D
	regVersion    = 0x37

	cmdIdle       = 0x00
	cmdTransmit   = 0x04
	cmdTransceive = 0x0C
	cmdSoftReset  = 0x0F

	irqRx    = 0x20
	irqIdle  = 0x10
	irqErr   = 0x02
	irqTimer = 0x01

	errColl = 0x08
	// BufferOvfl, CRCErr, ParityErr, ProtocolErr
	errFrame = 0x10 | 0x04 | 0x02 | 0x01
)

// Errors callers branch on.
var (
	// ErrNoCard: no card answered (the chip's timer ran out).
	ErrNoCard = errors.New("rc522: no card in the field")
	// ErrCollision: more than one card answered. Staff and parents see
	// "one card at a time".
	ErrCollision = errors.New("rc522: more than one card in the field (one card at a time)")
	// ErrFrame: a card answered with a bad BCC, CRC, parity or length; it is
	// usually a card leaving the field mid-transaction.
	ErrFrame = errors.New("rc522: bad frame from card")
	// ErrNoChip: the chip reads 0x00 or 0xFF, ignores writes or never
	// completes a command: unplugged, unpowered or broken wiring.
	ErrNoChip = errors.New("rc522: no MFRC522 answering")
	// ErrUnknownChip: VersionReg holds a value no known MFRC522 or clone uses.
	ErrUnknownChip = errors.New("rc522: unknown chip version")
	// ErrRandomUID: a 4-byte UID starting 0x08 (random UID, e.g. a phone
	// emulating a card) while the security tier rejects those.
	ErrRandomUID = errors.New("rc522: random UID rejected")
	// ErrNotOriginal: the card is not an NXP NTAG21x with a valid
	// originality signature while the security tier requires one.
	ErrNotOriginal = errors.New("rc522: card failed the NTAG21x originality check")
)

// Versions are the VersionReg values accepted at start, with display names.
var Versions = map[byte]string{
	0x90: "MFRC522 v0.0 (0x90)",
	0x91: "MFRC522 v1.0 (0x91)",
	0x92: "MFRC522 v2.0 (0x92)",
	0x88: "FM17522 clone (0x88)",
	0x89: "FM17522E clone (0x89)",
	0x12: "MFRC522 clone (0x12)",
	0xB2: "FM17522 clone (0xB2)",
}

// irqMisses is how many commands in a row may complete (ComIrqReg says
// so) without an edge on the IRQ line before the line is given up and the
// status register is polled instead. Each miss costs one CommandDeadline.
const irqMisses = 3

// dev is the register-level transport to one chip.
type dev struct {
	conn     spi.Conn
	irq      gpio.PinIn // nil when not wired
	version  byte
	deadline time.Duration // software limit for a command the chip never completes
	step     time.Duration // pause between status polls without IRQ

	// A configured IRQ line that never moves (broken wire, wrong pin) would
	// make every command wait for the deadline. missed counts commands in a
	// row that completed without an edge; at irqMisses the line is lost and
	// wait polls as if none were wired, until Init tries the line again.
	missed  int
	irqLost bool
}

// line is the IRQ line wait uses: nil when not wired or given up.
func (d *dev) line() gpio.PinIn {
	if d.irqLost {
		return nil
	}
	return d.irq
}

// sawEdge records whether a completed command's IRQ edge came.
func (d *dev) sawEdge(edge bool) {
	if edge {
		d.missed = 0
		return
	}
	if d.missed++; d.missed >= irqMisses {
		d.irqLost = true
	}
}

func addrW(reg byte) byte { return reg << 1 }
func addrR(reg byte) byte { return reg<<1 | 0x80 }

// writes sends register writes as one TxPackets call, one CS frame each.
func (d *dev) writes(kv ...[]byte) error {
	ps := make([]spi.Packet, len(kv))
	for i, w := range kv {
		ps[i] = spi.Packet{W: w}
	}
	if err := d.conn.TxPackets(ps); err != nil {
		return fmt.Errorf("rc522: spi write: %w", err)
	}
	return nil
}

// reads reads the registers in one burst frame.
func (d *dev) reads(regs ...byte) ([]byte, error) {
	w := make([]byte, len(regs)+1)
	for i, r := range regs {
		w[i] = addrR(r)
	}
	r := make([]byte, len(w))
	if err := d.conn.Tx(w, r); err != nil {
		return nil, fmt.Errorf("rc522: spi read: %w", err)
	}
	return r[1:], nil
}

// frame is what the chip received.
type frame struct {
	data     []byte
	lastBits int // valid bits in the last byte, 0 = all 8
}

// transceive sends tx (txLastBits valid bits in the last byte, 0 = 8) and
// returns the answer, aligned at rxAlign. expect is the answer length in
// bytes when known (used to read status and FIFO in one frame when the IRQ
// line already said the command is complete).
func (d *dev) transceive(tx []byte, txLastBits, rxAlign, expect int) (frame, error) {
	fifo := append([]byte{addrW(regFIFOData)}, tx...)
	if err := d.writes(
		[]byte{addrW(regComIrq), 0x7F},
		[]byte{addrW(regFIFOLevel), 0x80},
		fifo,
		// StartSend off before the command, then on: a StartSend left set
		// from the previous frame must not start this one early.
		[]byte{addrW(regBitFraming), byte(rxAlign)<<4 | byte(txLastBits)},
		[]byte{addrW(regCommand), cmdTransceive},
		[]byte{addrW(regBitFraming), 0x80 | byte(rxAlign)<<4 | byte(txLastBits)},
	); err != nil {
		return frame{}, err
	}
	st, err := d.wait(irqRx|irqErr|irqTimer, expect)
	if err != nil {
		return frame{}, err
	}
	irq, errReg, level, ctrl := st[0], st[1], int(st[2]&0x7F), st[3]
	if irq&irqRx == 0 {
		return frame{}, ErrNoCard
	}
	if errReg&errColl != 0 {
		return frame{}, ErrCollision
	}
	if errReg&errFrame != 0 {
		return frame{}, fmt.Errorf("%w: ErrorReg %#02x", ErrFrame, errReg)
	}
	var data []byte
	if len(st) > 5 && level == expect {
		data = st[5:]
	} else if level > 0 {
		regs := make([]byte, level)
		for i := range regs {
			regs[i] = regFIFOData
		}
		if data, err = d.reads(regs...); err != nil {
			return frame{}, err
		}
	}
	return frame{data: data, lastBits: int(ctrl & 0x07)}, nil
}

// transmit sends tx without waiting for an answer (HLTA: silence is success).
func (d *dev) transmit(tx []byte) error {
	return d.writes(
		[]byte{addrW(regComIrq), 0x7F},
		[]byte{addrW(regFIFOLevel), 0x80},
		append([]byte{addrW(regFIFOData)}, tx...),
		[]byte{addrW(regCommand), cmdTransmit},
	)
}

// wait waits for one of the irq bits and returns ComIrqReg, ErrorReg,
// FIFOLevelReg, ControlReg, VersionReg and, when the IRQ line is wired and
// expect > 0, the first expect FIFO bytes. It never calls WaitForEdge(0):
// on Pi kernels periph's host GPIO treats 0 as "forever" (periph/host#78).
// A command that completes without an edge counts towards giving the IRQ
// line up (sawEdge).
func (d *dev) wait(bits byte, expect int) ([]byte, error) {
	irq := d.line()
	regs := []byte{regComIrq, regError, regFIFOLevel, regControl, regVersion}
	if irq != nil && expect > 0 {
		for i := 0; i < expect; i++ {
			regs = append(regs, regFIFOData)
		}
	}
	start := time.Now()
	edge := false
	for {
		if irq != nil {
			left := d.deadline - time.Since(start)
			if left < time.Millisecond {
				left = time.Millisecond
			}
			edge = irq.WaitForEdge(left) || edge
		}
		st, err := d.reads(regs...)
		if err != nil {
			return nil, err
		}
		if st[4] != d.version {
			return nil, fmt.Errorf("%w: VersionReg reads %#02x, was %#02x", ErrNoChip, st[4], d.version)
		}
		if st[0]&bits != 0 {
			if irq != nil {
				d.sawEdge(edge)
			}
			return st, nil
		}
		if time.Since(start) > d.deadline {
			return nil, fmt.Errorf("%w: command not completed in %v (ComIrqReg %#02x)", ErrNoChip, d.deadline, st[0])
		}
		if irq == nil {
			time.Sleep(d.step)
		}
	}
}
