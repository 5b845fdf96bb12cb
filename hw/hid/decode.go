// Package hid reads USB keyboard-wedge RFID/NFC readers (the cheap ones
// that "type" the card UID followed by Enter) through Linux evdev, with an
// exclusive grab so the digits never reach the kiosk's UI as keystrokes.
package hid

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Linux input event types and key codes (linux/input-event-codes.h).
const (
	evKey = 0x01

	keyEnter   = 28
	keyKPEnter = 96
	keyLShift  = 42
	keyRShift  = 54
	keyMinus   = 12
	keySpace   = 57
	keySemi    = 39 // ':' with shift
)

var keyChars = map[uint16]byte{
	2: '1', 3: '2', 4: '3', 5: '4', 6: '5', 7: '6', 8: '7', 9: '8', 10: '9', 11: '0',
	30: 'a', 48: 'b', 46: 'c', 32: 'd', 18: 'e', 33: 'f',
	79: '1', 80: '2', 81: '3', 75: '4', 76: '5', 77: '6', 71: '7', 72: '8', 73: '9', 82: '0',
}

// Event is one struct input_event.
type Event struct {
	Time  time.Time
	Type  uint16
	Code  uint16
	Value int32
}

// EventSize is sizeof(struct input_event) for a word size in bytes: a
// struct timeval (two longs) then type, code (uint16) and value (int32).
// 24 bytes on 64-bit kernels, 16 on 32-bit ones (Raspberry Pi OS armhf).
func EventSize(wordSize int) int { return 2*wordSize + 8 }

// ReadEvent reads one little-endian input_event of the given word size.
func ReadEvent(r io.Reader, wordSize int) (Event, error) {
	buf := make([]byte, EventSize(wordSize))
	if _, err := io.ReadFull(r, buf); err != nil {
		return Event{}, err
	}
	return ParseEvent(buf, wordSize)
}

// ParseEvent decodes one input_event.
func ParseEvent(b []byte, wordSize int) (Event, error) {
	if wordSize != 4 && wordSize != 8 {
		return Event{}, fmt.Errorf("hid: word size %d", wordSize)
	}
	if len(b) != EventSize(wordSize) {
		return Event{}, fmt.Errorf("hid: input_event of %d bytes, want %d", len(b), EventSize(wordSize))
	}
	var sec, usec int64
	if wordSize == 8 {
		sec, usec = int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint64(b[8:]))
	} else {
		sec, usec = int64(int32(binary.LittleEndian.Uint32(b))), int64(int32(binary.LittleEndian.Uint32(b[4:])))
	}
	o := 2 * wordSize
	return Event{
		Time:  time.Unix(sec, usec*1000),
		Type:  binary.LittleEndian.Uint16(b[o:]),
		Code:  binary.LittleEndian.Uint16(b[o+2:]),
		Value: int32(binary.LittleEndian.Uint32(b[o+4:])),
	}, nil
}

// AppendEvent encodes e (for tests and recordings).
func AppendEvent(b []byte, e Event, wordSize int) []byte {
	if wordSize == 8 {
		b = binary.LittleEndian.AppendUint64(b, uint64(e.Time.Unix()))
		b = binary.LittleEndian.AppendUint64(b, uint64(e.Time.Nanosecond()/1000))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(e.Time.Unix()))
		b = binary.LittleEndian.AppendUint32(b, uint32(e.Time.Nanosecond()/1000))
	}
	b = binary.LittleEndian.AppendUint16(b, e.Type)
	b = binary.LittleEndian.AppendUint16(b, e.Code)
	return binary.LittleEndian.AppendUint32(b, uint32(e.Value))
}

// Format is how a reader types the UID.
type Format string

// Formats.
const (
	// FormatAuto: 10 decimal digits are a 4-byte UID (big-endian number),
	// 8, 14 or 20 hex digits are a 4-, 7- or 10-byte UID.
	FormatAuto Format = "auto"
	FormatHex  Format = "hex"
	// FormatDec: a decimal number of a 4-byte UID, big-endian.
	FormatDec Format = "dec"
	// FormatDecLE: a decimal number of a 4-byte UID read little-endian
	// (what many 125 kHz/13.56 MHz wedge readers print).
	FormatDecLE Format = "dec-le"
)

// ErrBadUID is returned for a typed line that is not a UID.
var ErrBadUID = errors.New("hid: typed text is not a card UID")

// Decoder turns key events into UIDs.
type Decoder struct {
	Format Format
	buf    []byte
	bad    bool
}

// maxTyped bounds a line so a stuck key cannot grow memory.
const maxTyped = 32

// Feed takes one event. It returns a UID when Enter ends a line, or
// ErrBadUID for a line that is not a UID (the caller logs and moves on).
func (d *Decoder) Feed(e Event) ([]byte, error) {
	if e.Type != evKey || e.Value != 1 { // key presses only, no repeats/releases
		return nil, nil
	}
	switch e.Code {
	case keyEnter, keyKPEnter:
		line, bad := d.buf, d.bad
		d.buf, d.bad = d.buf[:0], false
		if len(line) == 0 && !bad {
			return nil, nil
		}
		if bad {
			return nil, fmt.Errorf("%w: unexpected key", ErrBadUID)
		}
		return ParseUID(string(line), d.Format)
	case keyLShift, keyRShift, keyMinus, keySpace, keySemi:
		return nil, nil // case and separators
	}
	c, ok := keyChars[e.Code]
	if !ok || len(d.buf) >= maxTyped {
		d.bad = true
		return nil, nil
	}
	d.buf = append(d.buf, c)
	return nil, nil
}

// ParseUID parses a typed UID.
func ParseUID(s string, f Format) ([]byte, error) {
	if f == "" {
		f = FormatAuto
	}
	digits := true
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			digits = false
		}
	}
	if f == FormatAuto {
		switch {
		case digits && len(s) == 10:
			f = FormatDec
		default:
			f = FormatHex
		}
	}
	switch f {
	case FormatHex:
		if n := len(s); n != 8 && n != 14 && n != 20 {
			return nil, fmt.Errorf("%w: %d hex digits", ErrBadUID, n)
		}
		b, err := hex.DecodeString(s)
		if err != nil { // no detail: the text may be most of a card number
			return nil, fmt.Errorf("%w: not hexadecimal", ErrBadUID)
		}
		return b, nil
	case FormatDec, FormatDecLE:
		if !digits || len(s) == 0 || len(s) > 10 {
			return nil, fmt.Errorf("%w: not a decimal 32-bit number", ErrBadUID)
		}
		v, err := strconv.ParseUint(s, 10, 32)
		if err != nil { // no detail: strconv quotes the number
			return nil, fmt.Errorf("%w: not a 32-bit number", ErrBadUID)
		}
		b := binary.BigEndian.AppendUint32(nil, uint32(v))
		if f == FormatDecLE {
			b[0], b[1], b[2], b[3] = b[3], b[2], b[1], b[0]
		}
		return b, nil
	}
	return nil, fmt.Errorf("hid: unknown format %q", f)
}

// bufioReader reads whole events at a time from f (evdev returns only
// whole events per read).
func bufioReader(r io.Reader) io.Reader { return &eventReader{r: r} }

type eventReader struct {
	r   io.Reader
	buf []byte
}

func (e *eventReader) Read(p []byte) (int, error) {
	if len(e.buf) == 0 {
		b := make([]byte, 64*24)
		n, err := e.r.Read(b)
		if n == 0 {
			return 0, err
		}
		e.buf = b[:n]
	}
	n := copy(p, e.buf)
	e.buf = e.buf[n:]
	return n, nil
}
