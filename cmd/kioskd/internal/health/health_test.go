package health

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/hw"
	"github.com/kinderdeur/kiosk/sync/outbox"
	"github.com/kinderdeur/kiosk/ui"
)

type fakeStore struct{ err error }

func (s fakeStore) Ping(context.Context) error { return s.err }

type fakeDoor struct {
	storage error
	ix      *roster.Index
}

func (d fakeDoor) StorageError() error   { return d.storage }
func (d fakeDoor) Roster() *roster.Index { return d.ix }

type fakeClock bool

func (c fakeClock) Synced() bool { return bool(c) }

type fakeReader hw.Health

func (r fakeReader) Name() string                             { return r.Reader }
func (r fakeReader) Health() hw.Health                        { return hw.Health(r) }
func (r fakeReader) Run(context.Context, chan<- hw.Tap) error { return nil }

type fakeDisk struct{ err error }

func (d fakeDisk) Check() error { return d.err }

type fakeFeedback map[string]string

func (f fakeFeedback) Errors() map[string]string { return f }

type fakeSync outbox.Status

func (s fakeSync) Status() outbox.Status { return outbox.Status(s) }

func TestHealth(t *testing.T) {
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	ix := &roster.Index{TZ: ams}
	good := hw.Health{Reader: "entrance", Kind: "sim", OK: true}
	dead := hw.Health{Reader: "exit", Kind: "rc522", Error: "no chip"}
	for _, tt := range []struct {
		name   string
		r      Reporter
		wantOK bool
		want   map[string]any
	}{
		{"ready", Reporter{Store: fakeStore{}, Door: fakeDoor{ix: ix}, Readers: []hw.Reader{fakeReader(good)}, Clock: fakeClock(true)},
			true, map[string]any{"readers": []hw.Health{good}, "clock_synced": true}},
		{"disk nearly full", Reporter{Store: fakeStore{}, Door: fakeDoor{ix: ix}, Readers: []hw.Reader{fakeReader(good)}, Clock: fakeClock(true),
			Disk: fakeDisk{errors.New("disk_full: 12 MiB free")}},
			false, map[string]any{"disk": "disk_full: 12 MiB free", "readers": []hw.Health{good}, "clock_synced": true}},
		{"buzzer broken: degraded, still ready", Reporter{Store: fakeStore{}, Door: fakeDoor{ix: ix}, Readers: []hw.Reader{fakeReader(good)}, Clock: fakeClock(true),
			Feedback: fakeFeedback{"entrance": "feedback: GPIO18: busy"}},
			true, map[string]any{"feedback": map[string]string{"entrance": "feedback: GPIO18: busy"}, "readers": []hw.Health{good}, "clock_synced": true}},
		{"everything wrong", Reporter{Store: fakeStore{errors.New("db gone")}, Door: fakeDoor{storage: errors.New("disk full")},
			Readers: []hw.Reader{fakeReader(good), fakeReader(dead)}, Clock: fakeClock(false), Disk: fakeDisk{errors.New("disk_full: 0 MiB free")}},
			false, map[string]any{"database": "db gone", "storage": "disk full", "disk": "disk_full: 0 MiB free", "readers": []hw.Health{good, dead},
				"clock_synced": false, "roster": "no roster yet"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ok, got := tt.r.Health(context.Background())
			if ok != tt.wantOK {
				t.Errorf("Health() ok = %v, want %v", ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Health() details (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	good := hw.Health{Reader: "entrance", Kind: "sim", OK: true}
	r := Reporter{Store: fakeStore{}, Door: fakeDoor{ix: &roster.Index{TZ: ams}}, Readers: []hw.Reader{fakeReader(good)}, Clock: fakeClock(true)}
	want := ui.Status{Readers: []hw.Health{good}, Sync: map[string]any{"state": "disabled"}, ClockSynced: true, StorageOK: true}
	if diff := cmp.Diff(want, r.Status()); diff != "" {
		t.Errorf("Status() without central (-want +got):\n%s", diff)
	}
	r.Sync = fakeSync{Online: true, Pending: 3, Enrolled: true, LastSync: time.Date(2026, 11, 23, 7, 30, 0, 0, time.UTC), RosterVersion: 7, RosterLive: true}
	want.Sync = map[string]any{"state": "online", "pending": int64(3), "quarantined": int64(0), "last_sync": "08:30",
		"enrolled": true, "revoked": false, "roster_version": int64(7), "roster_live": true}
	if diff := cmp.Diff(want, r.Status()); diff != "" {
		t.Errorf("Status() online (-want +got):\n%s", diff)
	}
	// Staff see a nearly full disk on the screen before a tap is refused.
	r.Disk = fakeDisk{errors.New("disk_full: 3 MiB free")}
	if r.Status().StorageOK {
		t.Errorf("Status().StorageOK with a nearly full disk, want false")
	}
}
