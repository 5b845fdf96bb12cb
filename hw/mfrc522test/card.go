package mfrc522test

import (
	"bytes"
	"fmt"
)

// Kind is the card family a simulated card answers as.
type Kind int

// Card families.
const (
	Generic   Kind = iota // ISO 14443-3A card: anticollision, SELECT, HLTA only
	NTAG215               // NXP NTAG215: READ, GET_VERSION, READ_SIG
	Classic1K             // MIFARE Classic 1K: authenticate (via MFAuthent) and READ
)

// ISO 14443-3A commands the cards understand.
const (
	cmdREQA       = 0x26
	cmdWUPA       = 0x52
	cmdSelCL1     = 0x93
	cmdSelCL2     = 0x95
	cmdSelCL3     = 0x97
	cmdHLTA       = 0x50
	cmdRead       = 0x30
	cmdGetVersion = 0x60
	cmdReadSig    = 0x3C
	cascadeTag    = 0x88
)

type cardState int

const (
	stIdle cardState = iota
	stReady
	stActive
	stHalt
)

// Card is a simulated ISO/IEC 14443-3 type A card (PICC).
type Card struct {
	uid   []byte
	kind  Kind
	atqa  [2]byte
	sak   byte // final SAK
	mem   []byte
	sig   []byte // NTAG originality signature, 32 bytes
	keyA  [6]byte
	keyB  [6]byte
	level int // current cascade level 1..3 while READY
	state cardState
	// haltedBefore: the card came from HALT and returns there on errors.
	haltedBefore bool
	authSector   int // -1 when not authenticated
	leaveAfter   int // >0: leave the field after answering this many frames
	frames       int // frames answered
}

// NewCard returns a card with the given UID (4, 7 or 10 bytes). 4-byte UIDs
// answer as MIFARE Classic 1K, 7-byte UIDs as NTAG215 with an all-zero
// signature, 10-byte UIDs as a generic type A card.
func NewCard(uid []byte) (*Card, error) {
	switch len(uid) {
	case 4:
		return NewClassic(uid)
	case 7:
		return NewNTAG(uid, make([]byte, 32))
	case 10:
		return newCard(uid, Generic, 0x20), nil
	}
	return nil, fmt.Errorf("mfrc522test: UID must be 4, 7 or 10 bytes, got %d", len(uid))
}

// NewNTAG returns an NTAG215 with a 7-byte UID and a 32-byte originality
// signature (what READ_SIG returns).
func NewNTAG(uid, sig []byte) (*Card, error) {
	if len(uid) != 7 {
		return nil, fmt.Errorf("mfrc522test: NTAG UID must be 7 bytes, got %d", len(uid))
	}
	if len(sig) != 32 {
		return nil, fmt.Errorf("mfrc522test: NTAG signature must be 32 bytes, got %d", len(sig))
	}
	c := newCard(uid, NTAG215, 0x00)
	c.sig = append([]byte(nil), sig...)
	c.mem = make([]byte, 135*4)
	c.mem[0], c.mem[1], c.mem[2] = uid[0], uid[1], uid[2]
	c.mem[3] = cascadeTag ^ uid[0] ^ uid[1] ^ uid[2]
	copy(c.mem[4:8], uid[3:7])
	c.mem[8] = uid[3] ^ uid[4] ^ uid[5] ^ uid[6]
	c.mem[9] = 0x48
	copy(c.mem[12:16], []byte{0xE1, 0x10, 0x3E, 0x00})
	return c, nil
}

// NewClassic returns a MIFARE Classic 1K with a 4-byte UID, default keys
// (FF FF FF FF FF FF) and block 0 filled as NXP does.
func NewClassic(uid []byte) (*Card, error) {
	if len(uid) != 4 {
		return nil, fmt.Errorf("mfrc522test: Classic UID must be 4 bytes, got %d", len(uid))
	}
	c := newCard(uid, Classic1K, 0x08)
	c.mem = make([]byte, 64*16)
	copy(c.mem, uid)
	c.mem[4] = uid[0] ^ uid[1] ^ uid[2] ^ uid[3]
	c.mem[5], c.mem[6], c.mem[7] = 0x08, 0x04, 0x00
	for s := 0; s < 16; s++ {
		t := c.mem[(s*4+3)*16:]
		copy(t, []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x80, 0x69, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})
	}
	for i := range c.keyA {
		c.keyA[i], c.keyB[i] = 0xFF, 0xFF
	}
	return c, nil
}

func newCard(uid []byte, kind Kind, sak byte) *Card {
	c := &Card{uid: append([]byte(nil), uid...), kind: kind, sak: sak, authSector: -1}
	switch len(uid) {
	case 4:
		c.atqa = [2]byte{0x04, 0x00}
	case 7:
		c.atqa = [2]byte{0x44, 0x00}
	case 10:
		c.atqa = [2]byte{0x84, 0x00}
	}
	return c
}

// UID returns a copy of the card's UID.
func (c *Card) UID() []byte { return append([]byte(nil), c.uid...) }

// SetBlock writes card memory: for MIFARE Classic index is a block number
// (16 bytes each), for NTAG a page number (4 bytes each); data may span
// several blocks or pages.
func (c *Card) SetBlock(index int, data []byte) {
	unit := 16
	if c.kind == NTAG215 {
		unit = 4
	}
	copy(c.mem[index*unit:], data)
}

// LeaveAfter makes the card leave the field right after it has answered n
// more frames (n >= 1): a card pulled away in the middle of a transaction.
func (c *Card) LeaveAfter(n int) { c.leaveAfter = c.frames + n }

// cascade returns the 5 bytes (4 UID bytes or CT+3, then BCC) the card
// sends at cascade level lvl, and whether the UID continues at the next level.
func (c *Card) cascade(lvl int) (cl [5]byte, more bool) {
	var part []byte
	switch {
	case len(c.uid) == 4 && lvl == 1:
		part = c.uid
	case len(c.uid) == 7 && lvl == 1, len(c.uid) == 10 && lvl == 1:
		part, more = append([]byte{cascadeTag}, c.uid[0:3]...), true
	case len(c.uid) == 7 && lvl == 2:
		part = c.uid[3:7]
	case len(c.uid) == 10 && lvl == 2:
		part, more = append([]byte{cascadeTag}, c.uid[3:6]...), true
	case len(c.uid) == 10 && lvl == 3:
		part = c.uid[6:10]
	}
	copy(cl[:], part)
	cl[4] = cl[0] ^ cl[1] ^ cl[2] ^ cl[3]
	return cl, more
}

// bits is a received or sent bit stream, LSB first within each byte as on
// the air.
type bits []bool

func toBits(b []byte, n int) bits {
	out := make(bits, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, b[i/8]>>(i%8)&1 == 1)
	}
	return out
}

func (bs bits) bytes() []byte {
	out := make([]byte, (len(bs)+7)/8)
	for i, v := range bs {
		if v {
			out[i/8] |= 1 << (i % 8)
		}
	}
	return out
}

// reset puts the card in its power-on state (field switched off or card
// taken away).
func (c *Card) reset() {
	c.state, c.level, c.haltedBefore, c.authSector = stIdle, 0, false, -1
}

// fail sends the card back to IDLE, or HALT if it was woken from HALT.
func (c *Card) fail() {
	if c.haltedBefore {
		c.state = stHalt
	} else {
		c.state = stIdle
	}
	c.level, c.authSector = 0, -1
}

// handle processes one frame received from the reader and returns the bits
// the card answers with, or nil for silence.
func (c *Card) handle(frame bits) bits {
	data := frame.bytes()
	if len(frame) == 7 { // short frame
		switch data[0] {
		case cmdWUPA:
			if c.state == stIdle || c.state == stHalt {
				c.haltedBefore = c.state == stHalt
				c.state, c.level = stReady, 1
				return toBits(c.atqa[:], 16)
			}
		case cmdREQA:
			if c.state == stIdle {
				c.state, c.level = stReady, 1
				return toBits(c.atqa[:], 16)
			}
			if c.state == stHalt {
				return nil
			}
		}
		c.fail()
		return nil
	}
	switch c.state {
	case stIdle, stHalt:
		return nil
	case stReady:
		return c.ready(frame, data)
	case stActive:
		return c.active(frame, data)
	}
	return nil
}

func (c *Card) ready(frame bits, data []byte) bits {
	if len(frame) < 16 {
		c.fail()
		return nil
	}
	sel := []byte{cmdSelCL1, cmdSelCL2, cmdSelCL3}
	if c.level < 1 || c.level > 3 || data[0] != sel[c.level-1] {
		c.fail()
		return nil
	}
	cl, more := c.cascade(c.level)
	nvb := data[1]
	if nvb == 0x70 { // SELECT
		if len(frame) != 9*8 || !crcOK(data) || !bytes.Equal(data[2:7], cl[:]) {
			c.fail()
			return nil
		}
		if more {
			c.level++
			return withCRC([]byte{0x04})
		}
		c.state = stActive
		return withCRC([]byte{c.sak})
	}
	known := int(nvb>>4-2)*8 + int(nvb&0x0F)
	if nvb>>4 < 2 || known > 39 || len(frame) != 16+known {
		c.fail()
		return nil
	}
	mine := toBits(cl[:], 40)
	sent := frame[16:]
	for i := range sent {
		if sent[i] != mine[i] {
			return nil // not this card: stay READY, keep quiet
		}
	}
	return mine[known:]
}

func (c *Card) active(frame bits, data []byte) bits {
	if len(frame)%8 != 0 || !crcOK(data) {
		c.fail()
		return nack(0x1)
	}
	switch {
	case len(data) == 4 && data[0] == cmdHLTA && data[1] == 0:
		c.state, c.level, c.authSector = stHalt, 0, -1
		return nil
	case len(data) == 4 && data[0] == cmdRead:
		return c.read(int(data[1]))
	case len(data) == 3 && data[0] == cmdGetVersion && c.kind == NTAG215:
		return withCRC([]byte{0x00, 0x04, 0x04, 0x02, 0x01, 0x00, 0x11, 0x03})
	case len(data) == 4 && data[0] == cmdReadSig && c.kind == NTAG215:
		return withCRC(c.sig)
	}
	c.fail()
	return nack(0x0)
}

func (c *Card) read(addr int) bits {
	switch c.kind {
	case NTAG215:
		pages := len(c.mem) / 4
		if addr >= pages {
			c.fail()
			return nack(0x0)
		}
		out := make([]byte, 16)
		for i := 0; i < 4; i++ {
			copy(out[i*4:], c.mem[((addr+i)%pages)*4:][:4])
		}
		return withCRC(out)
	case Classic1K:
		if addr >= 64 || c.authSector != addr/4 {
			c.fail()
			return nack(0x4)
		}
		out := append([]byte(nil), c.mem[addr*16:addr*16+16]...)
		if addr%4 == 3 { // keys read back as zeros, like the real card
			for i := 0; i < 6; i++ {
				out[i] = 0
			}
		}
		return withCRC(out)
	}
	c.fail()
	return nack(0x0)
}

// authenticate is what MFAuthent does when the chip runs the three-pass
// authentication against this card; crypto is transparent in the simulator.
func (c *Card) authenticate(cmd, block byte, key []byte, uid []byte) bool {
	if c.kind != Classic1K || c.state != stActive || int(block) >= 64 {
		return false
	}
	if !bytes.Equal(uid, c.uid[:4]) {
		return false
	}
	want := c.keyA
	if cmd == 0x61 {
		want = c.keyB
	} else if cmd != 0x60 {
		return false
	}
	if !bytes.Equal(key, want[:]) {
		c.fail()
		return false
	}
	c.authSector = int(block) / 4
	return true
}

func nack(code byte) bits { return toBits([]byte{code}, 4) }

func withCRC(b []byte) bits {
	crc := CRCA(b)
	out := append(append([]byte(nil), b...), byte(crc), byte(crc>>8))
	return toBits(out, len(out)*8)
}

func crcOK(b []byte) bool {
	if len(b) < 3 {
		return false
	}
	crc := CRCA(b[:len(b)-2])
	return b[len(b)-2] == byte(crc) && b[len(b)-1] == byte(crc>>8)
}

// CRCA is the ISO/IEC 14443-3 CRC_A (polynomial x^16+x^12+x^5+1, reflected,
// preset 0x6363); the low byte is sent first.
func CRCA(b []byte) uint16 { return crc16(0x6363, b) }

func crc16(preset uint16, b []byte) uint16 {
	crc := preset
	for _, v := range b {
		v ^= byte(crc)
		v ^= v << 4
		crc = crc>>8 ^ uint16(v)<<8 ^ uint16(v)<<3 ^ uint16(v)>>4
	}
	return crc
}
