package rc522

import (
	"errors"
	"fmt"
)

// ISO/IEC 14443-3 type A commands.
const (
	piccREQA    = 0x26
	piccWUPA    = 0x52
	piccHLTA    = 0x50
	piccReadSig = 0x3C
	cascadeTag  = 0x88
)

var selCmd = [3]byte{0x93, 0x95, 0x97}

// crcA is the ISO/IEC 14443-3 CRC_A (preset 0x6363, reflected 0x8408); the
// low byte goes first on the air.
func crcA(b []byte) (lo, hi byte) {
	crc := uint16(0x6363)
	for _, v := range b {
		v ^= byte(crc)
		v ^= v << 4
		crc = crc>>8 ^ uint16(v)<<8 ^ uint16(v)<<3 ^ uint16(v)>>4
	}
	return byte(crc), byte(crc >> 8)
}

func appendCRC(b []byte) []byte {
	lo, hi := crcA(b)
	return append(b, lo, hi)
}

func checkCRC(b []byte) bool {
	if len(b) < 3 {
		return false
	}
	lo, hi := crcA(b[:len(b)-2])
	return b[len(b)-2] == lo && b[len(b)-1] == hi
}

// wakeup sends WUPA (which also wakes halted cards, so a resting card is
// seen on every poll) and returns the ATQA. A collision on the ATQA is not
// an error: cards of different types answer differently; anticollision
// decides.
func (d *dev) wakeup() (collided bool, err error) {
	f, err := d.transceive([]byte{piccWUPA}, 7, 0, 2)
	switch {
	case errors.Is(err, ErrCollision):
		return true, nil
	case err != nil:
		return false, err
	case len(f.data) != 2 || f.lastBits != 0:
		return false, fmt.Errorf("%w: ATQA of %d bytes", ErrFrame, len(f.data))
	}
	return false, nil
}

// halt sends HLTA to the selected card.
func (d *dev) halt() error {
	return d.transmit(appendCRC([]byte{piccHLTA, 0x00}))
}

// selectLevel sends SELECT for one cascade level with the 4 UID bytes (or
// CT + 3) and returns the SAK.
func (d *dev) selectLevel(lvl int, cl [4]byte) (byte, error) {
	bcc := cl[0] ^ cl[1] ^ cl[2] ^ cl[3]
	f, err := d.transceive(appendCRC([]byte{selCmd[lvl], 0x70, cl[0], cl[1], cl[2], cl[3], bcc}), 0, 0, 3)
	if err != nil {
		return 0, err
	}
	if len(f.data) != 3 || f.lastBits != 0 || !checkCRC(f.data) {
		return 0, fmt.Errorf("%w: SAK at cascade level %d", ErrFrame, lvl+1)
	}
	return f.data[0], nil
}

// anticollision runs ANTICOLLISION and SELECT through the cascade levels and
// returns the complete UID and the final SAK. A collision is not resolved:
// it is ErrCollision.
func (d *dev) anticollision() (uid []byte, sak byte, err error) {
	for lvl := 0; lvl < 3; lvl++ {
		f, err := d.transceive([]byte{selCmd[lvl], 0x20}, 0, 0, 5)
		if err != nil {
			return nil, 0, err
		}
		b := f.data
		if len(b) != 5 || f.lastBits != 0 {
			return nil, 0, fmt.Errorf("%w: %d bytes at cascade level %d", ErrFrame, len(b), lvl+1)
		}
		if b[0]^b[1]^b[2]^b[3] != b[4] {
			return nil, 0, fmt.Errorf("%w: BCC mismatch at cascade level %d", ErrFrame, lvl+1)
		}
		cl := [4]byte{b[0], b[1], b[2], b[3]}
		sak, err = d.selectLevel(lvl, cl)
		if err != nil {
			return nil, 0, err
		}
		if sak&0x04 == 0 { // UID complete
			if cl[0] == cascadeTag && lvl == 0 { // a single-size UID never starts with CT
				return nil, 0, fmt.Errorf("%w: cascade tag without cascade bit", ErrFrame)
			}
			return append(uid, cl[:]...), sak, nil
		}
		if cl[0] != cascadeTag || lvl == 2 {
			return nil, 0, fmt.Errorf("%w: cascade bit without cascade tag at level %d", ErrFrame, lvl+1)
		}
		uid = append(uid, cl[1:]...)
	}
	return nil, 0, fmt.Errorf("%w: UID longer than 10 bytes", ErrFrame)
}

// cascadeParts splits a UID into the 4-byte groups SELECT sends per level.
func cascadeParts(uid []byte) ([][4]byte, error) {
	switch len(uid) {
	case 4:
		return [][4]byte{{uid[0], uid[1], uid[2], uid[3]}}, nil
	case 7:
		return [][4]byte{{cascadeTag, uid[0], uid[1], uid[2]}, {uid[3], uid[4], uid[5], uid[6]}}, nil
	case 10:
		return [][4]byte{{cascadeTag, uid[0], uid[1], uid[2]}, {cascadeTag, uid[3], uid[4], uid[5]}, {uid[6], uid[7], uid[8], uid[9]}}, nil
	}
	return nil, fmt.Errorf("rc522: UID of %d bytes", len(uid))
}

// reselect selects a card whose UID is known (the one resting on the
// reader) without anticollision. It returns ErrNoCard when that card did not
// answer.
func (d *dev) reselect(uid []byte) (byte, error) {
	parts, err := cascadeParts(uid)
	if err != nil {
		return 0, err
	}
	var sak byte
	for lvl, cl := range parts {
		if sak, err = d.selectLevel(lvl, cl); err != nil {
			return 0, err
		}
		if (sak&0x04 != 0) != (lvl < len(parts)-1) {
			return 0, fmt.Errorf("%w: cascade bit at level %d", ErrFrame, lvl+1)
		}
	}
	return sak, nil
}

// readSig sends NTAG21x READ_SIG and returns the 32-byte signature.
func (d *dev) readSig() ([]byte, error) {
	f, err := d.transceive(appendCRC([]byte{piccReadSig, 0x00}), 0, 0, 34)
	if err != nil {
		return nil, err
	}
	if len(f.data) != 34 || !checkCRC(f.data) {
		return nil, fmt.Errorf("%w: READ_SIG answer of %d bytes", ErrFrame, len(f.data))
	}
	return f.data[:32], nil
}
