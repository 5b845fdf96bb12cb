// Package remote lets a door follow the location's presence at central,
// so that taps at another door of the same location count here too. It
// polls central through the outbox client while online and hands the door
// the answer as a door.Remote; offline the door decides on its own events.
package remote

import (
	"context"
	"time"

	"github.com/kinderdeur/kiosk/attendance/door"
	"github.com/kinderdeur/kiosk/sync/outbox"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// Central is what the follower needs of the sync client (*outbox.Client).
type Central interface {
	Status() outbox.Status
	Presence(ctx context.Context) (protocol.Presence, error)
}

var _ Central = (*outbox.Client)(nil)

// Door takes central's presence (*door.Service).
type Door interface {
	SetRemote(door.Remote)
}

// DefaultInterval is how often a Follower asks central.
const DefaultInterval = 5 * time.Second

// Follower fetches the location's presence from central every Interval and
// gives it to Door. Run is its one goroutine.
type Follower struct {
	Central  Central
	Door     Door
	Interval time.Duration    // default DefaultInterval
	Now      func() time.Time // default time.Now
}

// Run polls until ctx is done and then returns nil. A failed fetch is not
// an error: the door keeps deciding on its own events.
func (f *Follower) Run(ctx context.Context) error {
	interval, now := f.Interval, f.Now
	if interval <= 0 {
		interval = DefaultInterval
	}
	if now == nil {
		now = time.Now
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		acked := f.Central.Status().AckedThrough // before the fetch: central's answer includes these
		p, err := f.Central.Presence(ctx)
		if err != nil {
			continue // offline: the door decides on its own events
		}
		f.Door.SetRemote(FromPresence(p, now(), acked))
	}
}

// FromPresence converts central's presence, fetched at asOf after central had
// acknowledged this door's events through ackedThrough, to the door's form.
func FromPresence(p protocol.Presence, asOf time.Time, ackedThrough int64) door.Remote {
	r := door.Remote{AsOf: asOf, AckedThrough: ackedThrough}
	for _, c := range p.Children {
		r.Children = append(r.Children, door.RemoteStay{ID: c.ID, GroupID: c.GroupID, Since: c.Since, DeviceID: c.DeviceID})
	}
	for _, s := range p.Staff {
		r.Staff = append(r.Staff, door.RemoteStay{ID: s.ID, GroupID: s.GroupID, Since: s.Since, DeviceID: s.DeviceID})
	}
	return r
}
