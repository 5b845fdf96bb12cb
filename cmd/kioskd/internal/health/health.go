// Package health reads the daemon's parts for GET /healthz and for the
// discreet status line on the kiosk screen: the database, the door's
// storage state, the free space in the data directory, the readers, the
// clock and, with central, the sync state.
package health

import (
	"context"
	"time"

	"github.com/kinderdeur/kiosk/attendance/door"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/store"
	"github.com/kinderdeur/kiosk/cmd/kioskd/internal/datadir"
	"github.com/kinderdeur/kiosk/cmd/kioskd/internal/taps"
	"github.com/kinderdeur/kiosk/hw"
	"github.com/kinderdeur/kiosk/sync/outbox"
	"github.com/kinderdeur/kiosk/sync/protocol"
	"github.com/kinderdeur/kiosk/ui"
)

// Store is the database (*store.Store).
type Store interface {
	Ping(ctx context.Context) error
}

// Door is the door's state (*door.Service).
type Door interface {
	StorageError() error
	Roster() *roster.Index
}

// Clock tells whether the wall clock is synchronised (*sysclock.Tracker).
type Clock interface {
	Synced() bool
}

// Disk tells whether the data directory has room for the next taps
// (*datadir.Dir): nil, or why not ("disk_full: 12 MiB free").
type Disk interface {
	Check() error
}

// Feedback is the readers' buzzers and LEDs (*taps.Outputs): the failed
// ones with their error, by reader name.
type Feedback interface {
	Errors() map[string]string
}

// Sync is the sync state (*outbox.Client).
type Sync interface {
	Status() outbox.Status
}

var (
	_ Store    = (*store.Store)(nil)
	_ Door     = (*door.Service)(nil)
	_ Sync     = (*outbox.Client)(nil)
	_ Disk     = (*datadir.Dir)(nil)
	_ Feedback = (*taps.Outputs)(nil)
)

// Reporter reads the parts; it holds no state of its own.
type Reporter struct {
	Store   Store
	Door    Door
	Readers []hw.Reader
	Clock   Clock
	Disk    Disk // nil: not checked
	// Feedback failures degrade the kiosk but leave it ready: the door
	// decides and records without a buzzer (nil: none fitted).
	Feedback Feedback
	Sync     Sync // nil without central
	// For the report sent to central: kioskd's version, when it started,
	// and the data directory's free space (nil: unknown).
	Version  string
	Started  time.Time
	DiskFree func() (uint64, error)
}

// Report is the health kioskd sends central with every batch; the outbox
// adds the sync part. It carries no personal data: versions, counts,
// reader names and states.
func (r *Reporter) Report() protocol.HealthReport {
	h := protocol.HealthReport{Version: r.Version, ClockSynced: r.Clock.Synced(), DiskFreeBytes: -1,
		StorageOK: r.Door.StorageError() == nil && r.diskError() == nil}
	if !r.Started.IsZero() {
		h.UptimeSeconds = int64(time.Since(r.Started).Seconds())
	}
	if r.DiskFree != nil {
		if free, err := r.DiskFree(); err == nil {
			h.DiskFreeBytes = int64(min(free, 1<<62))
		}
	}
	for _, rd := range r.Readers {
		x := rd.Health()
		h.Readers = append(h.Readers, protocol.ReaderHealth{Name: rd.Name(), Kind: x.Kind, OK: x.OK, Degraded: x.Degraded, Error: x.Error})
	}
	return h
}

// Health answers /healthz: ready, or why not.
func (r *Reporter) Health(ctx context.Context) (bool, map[string]any) {
	ok := true
	details := map[string]any{}
	if err := r.Store.Ping(ctx); err != nil {
		ok = false
		details["database"] = err.Error()
	}
	if err := r.Door.StorageError(); err != nil {
		ok = false
		details["storage"] = err.Error()
	}
	if err := r.diskError(); err != nil {
		ok = false
		details["disk"] = err.Error()
	}
	var rs []hw.Health
	for _, rd := range r.Readers {
		h := rd.Health()
		rs = append(rs, h)
		if !h.OK {
			ok = false
		}
	}
	details["readers"] = rs
	if r.Feedback != nil {
		if errs := r.Feedback.Errors(); len(errs) > 0 {
			details["feedback"] = errs
		}
	}
	details["clock_synced"] = r.Clock.Synced()
	if r.Door.Roster() == nil {
		ok = false
		details["roster"] = "no roster yet"
	}
	return ok, details
}

func (r *Reporter) diskError() error {
	if r.Disk == nil {
		return nil
	}
	return r.Disk.Check()
}

// Status is the status line: readers, sync, clock, storage.
func (r *Reporter) Status() ui.Status {
	var rs []hw.Health
	for _, rd := range r.Readers {
		rs = append(rs, rd.Health())
	}
	st := ui.Status{Readers: rs, ClockSynced: r.Clock.Synced(), StorageOK: r.Door.StorageError() == nil && r.diskError() == nil}
	st.Sync = map[string]any{"state": "disabled"}
	if r.Sync != nil {
		s := r.Sync.Status()
		state := "offline"
		if s.Online {
			state = "online"
		}
		last := ""
		if !s.LastSync.IsZero() {
			tz := time.Local
			if ix := r.Door.Roster(); ix != nil {
				tz = ix.TZ
			}
			last = s.LastSync.In(tz).Format("15:04")
		}
		st.Sync = map[string]any{"state": state, "pending": s.Pending, "quarantined": s.Quarantined,
			"last_sync": last, "enrolled": s.Enrolled, "revoked": s.Revoked,
			// the roster in force and whether central's push reaches us
			"roster_version": s.RosterVersion, "roster_live": s.RosterLive}
	}
	return st
}
