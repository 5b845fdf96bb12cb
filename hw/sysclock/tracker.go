package sysclock

import (
	"context"
	"sync/atomic"
	"time"
)

// Tracker is a Clock for the tap path: wall time, time since boot, the boot
// id and a synchronisation flag that Run keeps current, so that reading it
// costs no file read or system call. It has the shape of the door's clock
// (Now, MonoNS, BootID, Synced). Safe for concurrent use.
type Tracker struct {
	clk    *Clock
	synced atomic.Bool
	boot   string
}

// NewTracker reads c's state once; Run keeps the flag current.
func NewTracker(c *Clock) *Tracker {
	t := &Tracker{clk: c}
	t.synced.Store(c.Synced())
	t.boot, _ = c.BootID()
	return t
}

// Now returns the wall time.
func (t *Tracker) Now() time.Time { return time.Now() }

// Synced reports the synchronisation state Run saw last.
func (t *Tracker) Synced() bool { return t.synced.Load() }

// BootID returns this boot's id, empty when it could not be read.
func (t *Tracker) BootID() string { return t.boot }

// MonoNS returns the time since boot in nanoseconds, 0 when unreadable.
func (t *Tracker) MonoNS() int64 {
	d, err := t.clk.SinceBoot()
	if err != nil {
		return 0
	}
	return int64(d)
}

// Stamp reads the underlying Clock afresh (see Clock.Stamp).
func (t *Tracker) Stamp() (Stamp, error) { return t.clk.Stamp() }

// Run watches the clock every interval until ctx is done (see Clock.Watch),
// keeps Synced current and then calls onChange, if not nil, with each
// change. It returns nil when ctx is cancelled.
func (t *Tracker) Run(ctx context.Context, interval time.Duration, onChange func(Status)) error {
	return t.clk.Watch(ctx, interval, func(st Status) {
		t.synced.Store(st.Synced)
		if onChange != nil {
			onChange(st)
		}
	})
}
