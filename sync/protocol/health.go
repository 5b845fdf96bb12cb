package protocol

import (
	"fmt"
	"time"
)

// HealthReport is a kiosk's health, sent with every batch (Batch.Health,
// optional: an older kiosk sends none). It says how the device is, never
// who was at the door: no names, no badge, no event. Central keeps the
// latest per device for the fleet page and its problem checks.
type HealthReport struct {
	Version       string         `json:"version"`                  // kioskd's version
	UptimeSeconds int64          `json:"uptime_s"`                 // since kioskd started
	Readers       []ReaderHealth `json:"readers,omitempty"`        // one per configured reader
	ClockSynced   bool           `json:"clock_synced"`             // the wall clock is synchronised (NTP)
	DiskFreeBytes int64          `json:"disk_free_bytes"`          // free in the data directory; -1 unknown
	StorageOK     bool           `json:"storage_ok"`               // the last write to the store worked
	Pending       int64          `json:"pending"`                  // events not yet acknowledged (this batch's included)
	OldestPending time.Time      `json:"oldest_pending,omitzero"`  // wall time of the oldest of them
	Quarantined   int64          `json:"quarantined"`              // events central rejected, kept on the kiosk
	LastError     string         `json:"last_error,omitempty"`     // the last sync error, if the last exchange failed
	LastErrorAt   time.Time      `json:"last_error_at,omitzero"`   // when
	RosterVersion int64          `json:"roster_version,omitempty"` // the roster in force
}

// ReaderHealth is one reader in a HealthReport (hw.Health without the chip
// details).
type ReaderHealth struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"` // rc522, hid, sim
	OK       bool   `json:"ok"`   // false: dead or re-initialising
	Degraded string `json:"degraded,omitempty"`
	Error    string `json:"error,omitempty"`
}

// Bounds of a HealthReport; a report over them is refused with the batch
// (malformed), a kiosk's never is.
const (
	MaxHealthReaders = 16
	MaxHealthText    = 300
)

// Validate checks a report's bounds.
func (h *HealthReport) Validate() error {
	if len(h.Readers) > MaxHealthReaders {
		return fmt.Errorf("health: %d readers: at most %d", len(h.Readers), MaxHealthReaders)
	}
	long := func(s string) bool { return len(s) > MaxHealthText }
	if long(h.Version) || long(h.LastError) {
		return fmt.Errorf("health: a text over %d bytes", MaxHealthText)
	}
	for _, r := range h.Readers {
		if long(r.Name) || long(r.Kind) || long(r.Degraded) || long(r.Error) {
			return fmt.Errorf("health: reader text over %d bytes", MaxHealthText)
		}
	}
	if h.UptimeSeconds < 0 || h.Pending < 0 || h.Quarantined < 0 {
		return fmt.Errorf("health: negative count")
	}
	return nil
}

// Clip shortens the report's texts to the bounds, so a kiosk never sends
// a report central refuses.
func (h *HealthReport) Clip() {
	clip := func(s *string) {
		if len(*s) > MaxHealthText {
			*s = (*s)[:MaxHealthText]
		}
	}
	clip(&h.Version)
	clip(&h.LastError)
	if len(h.Readers) > MaxHealthReaders {
		h.Readers = h.Readers[:MaxHealthReaders]
	}
	for i := range h.Readers {
		r := &h.Readers[i]
		clip(&r.Name)
		clip(&r.Kind)
		clip(&r.Degraded)
		clip(&r.Error)
	}
}
