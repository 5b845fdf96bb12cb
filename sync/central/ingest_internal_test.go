package central

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// The ingest steps that need no database, on a batch built by hand.

func TestBatchSeqGap(t *testing.T) {
	for _, tt := range []struct {
		name  string
		acked int64
		first int64
		gap   bool
	}{
		{"next", 4, 5, false},
		{"overlap (resend)", 4, 3, false},
		{"gap", 4, 6, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := &batch{acked: tt.acked, evs: []attendance.Event{{Seq: tt.first}}}
			if err := in.seqGap(); errors.Is(err, ErrSeqGap) != tt.gap {
				t.Errorf("seqGap() = %v, want gap %v", err, tt.gap)
			}
		})
	}
}

func TestBatchGrade(t *testing.T) {
	now := time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)
	ev := func(seq int64, typ attendance.EventType, loc string, synced bool, wall time.Time) attendance.Event {
		return attendance.Event{ID: "e" + string(rune('0'+seq)), Seq: seq, DeviceID: "d1", Type: typ, LocationID: loc,
			ChildID: "c1", BootID: "b1", MonoNS: wall.UnixNano(), Wall: wall, ClockSynced: synced}
	}
	evs := []attendance.Event{
		ev(1, attendance.ChildCheckIn, "loc-a", true, now.Add(-time.Hour)),
		ev(2, attendance.ChildCheckIn, "loc-b", true, now),
		ev(3, "no_such_type", "loc-a", true, now),
		ev(4, attendance.ChildCheckOut, "loc-a", false, now.Add(time.Hour)),
	}
	b := protocol.Batch{}
	for _, e := range evs {
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		b.Events = append(b.Events, raw)
	}
	in := &batch{b: b, evs: evs, loc: "loc-a", now: now,
		resp: protocol.BatchResponse{Results: make([]protocol.EventResult, len(evs))}}
	in.grade(nil)
	var got []string
	for _, v := range in.verdicts {
		got = append(got, v.quality+"/"+v.reject)
	}
	want := []string{"ok/", "/" + protocol.ReasonWrongLocation, "/" + protocol.ReasonUnknownType, "unverified/"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("verdicts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{0, 3}, in.insert); diff != "" {
		t.Errorf("insert (-want +got):\n%s", diff)
	}
}
