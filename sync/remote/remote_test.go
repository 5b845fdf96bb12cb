package remote

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance/door"
	"github.com/kinderdeur/kiosk/sync/outbox"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

var since = time.Date(2026, 11, 23, 8, 5, 0, 0, time.UTC)

var centralPresence = protocol.Presence{
	LocationID: "loc-1",
	Children:   []protocol.PresentPerson{{ID: "c-mila", GroupID: "g-vlinders", Since: since, DeviceID: "door-2"}},
	Staff:      []protocol.PresentPerson{{ID: "s-ahmed", GroupID: "g-vlinders", Since: since, DeviceID: "door-1"}},
}

func TestFromPresence(t *testing.T) {
	asOf := since.Add(time.Hour)
	want := door.Remote{
		AsOf: asOf, AckedThrough: 41,
		Children: []door.RemoteStay{{ID: "c-mila", GroupID: "g-vlinders", Since: since, DeviceID: "door-2"}},
		Staff:    []door.RemoteStay{{ID: "s-ahmed", GroupID: "g-vlinders", Since: since, DeviceID: "door-1"}},
	}
	if diff := cmp.Diff(want, FromPresence(centralPresence, asOf, 41)); diff != "" {
		t.Errorf("FromPresence (-want +got):\n%s", diff)
	}
}

type fakeCentral struct {
	mu      sync.Mutex
	offline bool
	calls   int
}

func (c *fakeCentral) Status() outbox.Status { return outbox.Status{AckedThrough: 7} }

func (c *fakeCentral) Presence(context.Context) (protocol.Presence, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.offline {
		return protocol.Presence{}, errors.New("offline")
	}
	return centralPresence, nil
}

type fakeDoor chan door.Remote

func (d fakeDoor) SetRemote(r door.Remote) {
	select {
	case d <- r:
	default: // the test has seen enough
	}
}

func TestFollowerHandsCentralsPresenceToTheDoor(t *testing.T) {
	central := &fakeCentral{offline: true}
	d := make(fakeDoor, 16)
	asOf := since.Add(time.Minute)
	f := &Follower{Central: central, Door: d, Interval: time.Millisecond, Now: func() time.Time { return asOf }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	for {
		central.mu.Lock()
		n := central.calls
		if n >= 3 {
			central.offline = false // offline fetches gave the door nothing
		}
		central.mu.Unlock()
		if n >= 3 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case r := <-d:
		if diff := cmp.Diff(FromPresence(centralPresence, asOf, 7), r); diff != "" {
			t.Errorf("door got (-want +got):\n%s", diff)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the door never heard from central")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v, want nil after cancel", err)
	}
}
