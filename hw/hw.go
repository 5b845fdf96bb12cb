// Package hw holds what the kiosk's hardware layer hands to the rest of the
// daemon: taps from badge readers and the readers' health. It knows no
// children, guardians or staff: a tap is a reader name, raw UID bytes and a
// time. Everything downstream stores only keyed hashes of the UID.
package hw

import (
	"context"
	"time"
)

// Tap is one card presented to one reader. A card left on the reader is one
// tap; removed and presented again is a new tap.
type Tap struct {
	Reader string    // configured reader name, e.g. "entrance"
	UID    []byte    // raw UID, 4, 7 or 10 bytes; never logged, never stored raw
	At     time.Time // when the card was detected (carries the monotonic reading)
}

// Health is a reader's state as shown in /healthz and to staff.
type Health struct {
	Reader string `json:"reader"`
	Kind   string `json:"kind"`           // "rc522", "hid", "sim"
	OK     bool   `json:"ok"`             // false while the reader is dead or re-initialising
	Chip   string `json:"chip,omitempty"` // e.g. "MFRC522 v2.0 (0x92)"
	Error  string `json:"error,omitempty"`
	// Degraded says what is wrong while the part still does its job, so OK
	// stays true and /healthz stays green: "irq line not moving; polling",
	// a buzzer whose GPIO write fails. Staff and the logs should see it.
	Degraded string    `json:"degraded,omitempty"`
	Since    time.Time `json:"since"` // when OK last changed
}

// Reader is a source of taps. Run blocks, sending taps, until ctx is done; it
// handles its own re-initialisation and reports trouble through Health.
type Reader interface {
	Name() string
	Run(ctx context.Context, taps chan<- Tap) error
	Health() Health
}
