package door

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/store"
)

// Staff correct today's stays on the panel: a correction is a new event,
// presence follows it, and the door rebuilt from the store agrees; a
// correction made at central (stored as a remote one) drops a child too.
func TestStaffCorrectionsOfToday(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.tap(cardYoussef) // Zoë in
	in := r.events(0)[0]
	r.clk.advance(2 * time.Hour)
	r.tap(cardAhmed) // staff panel opens (Ahmed clocks in)
	corr := func(c Correction) error { return r.s.Correct(ctx, c) }
	if err := corr(Correction{Kind: attendance.SetCheckIn, Target: in.ID, CheckIn: "07:00"}); !errors.Is(err, ErrBadRequest) {
		t.Errorf("no reason: %v", err)
	}
	if err := corr(Correction{Kind: attendance.SetCheckIn, Target: "nope", CheckIn: "07:00", Reason: "x"}); !errors.Is(err, ErrNotToday) {
		t.Errorf("unknown stay: %v", err)
	}
	future := r.clk.Now().In(r.s.Roster().TZ).Add(time.Hour).Format("15:04")
	if err := corr(Correction{Kind: attendance.SetCheckOut, Target: in.ID, CheckOut: future, Reason: "x"}); !errors.Is(err, ErrBadRequest) {
		t.Errorf("future check-out: %v", err)
	}
	sinceBefore := in.Wall.In(r.s.Roster().TZ).Add(-10 * time.Minute).Format("15:04")
	if err := corr(Correction{Kind: attendance.SetCheckIn, Target: in.ID, CheckIn: sinceBefore, Reason: "kaart vergeten bij binnenkomst"}); err != nil {
		t.Fatal(err)
	}
	today := r.s.TodayStays()
	if len(today) != 1 || !today[0].Corrected || today[0].In.In(r.s.Roster().TZ).Format("15:04") != sinceBefore {
		t.Fatalf("today %+v", today)
	}
	out := in.Wall.In(r.s.Roster().TZ).Add(time.Hour).Format("15:04")
	if err := corr(Correction{Kind: attendance.SetCheckOut, Target: in.ID, CheckOut: out, Reason: "vader haalde op, tikte niet"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.s.pres.current().Child("c-zoe"); ok {
		t.Fatal("Zoë still present after her check-out was set")
	}
	evs := r.events(0)
	last := evs[len(evs)-1]
	if last.Type != attendance.CorrectionEvent || last.Correction.By != "staff:s-ahmed" || last.ActorID != "s-ahmed" || last.Correction.Target != in.ID {
		t.Errorf("correction event %+v %+v", last, last.Correction)
	}
	// A fresh door on the same store agrees.
	s2, err := New(ctx, r.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s2.pres.current().Child("c-zoe"); ok {
		t.Error("rebuilt door has Zoë present")
	}

	// Central ends a stay: stored as a remote correction, applied, and kept on rebuild.
	r.tap(cardRuben) // Levi in
	noah := r.events(0)[len(r.events(0))-1]
	if noah.Type != attendance.ChildCheckIn {
		t.Fatalf("last event %+v", noah)
	}
	remote := attendance.Event{ID: "0199aaaa-0000-7000-8000-000000000001", DeviceID: "central", Seq: 1, Type: attendance.CorrectionEvent,
		ChildID: noah.ChildID, Wall: r.clk.Now(), ClockSynced: true,
		Correction: &attendance.Correction{Kind: attendance.RemoveStay, Target: noah.ID, Reason: "per ongeluk", By: "user:u-manager"}}
	body, err := json.Marshal(remote)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := r.st.ApplyRemoteCorrections(ctx, []store.RemoteCorrection{{Cursor: 1, Body: body}}, 1)
	if err != nil || len(fresh) != 1 {
		t.Fatalf("apply remote: %v %v", fresh, err)
	}
	if again, err := r.st.ApplyRemoteCorrections(ctx, []store.RemoteCorrection{{Cursor: 1, Body: body}}, 1); err != nil || len(again) != 0 {
		t.Fatalf("apply remote again: %v %v", again, err)
	}
	r.s.ApplyCorrections(fresh)
	if _, ok := r.s.pres.current().Child(noah.ChildID); ok {
		t.Error("child still present after central removed the stay")
	}
	s3, err := New(ctx, r.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s3.pres.current().Child(noah.ChildID); ok {
		t.Error("rebuilt door has the removed stay present")
	}
}
