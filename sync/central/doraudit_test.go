package central_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance"
)

// Accountable door actions reach the audit trail once, in the ingest
// transaction; a resent batch adds nothing; the chain verifies.
func TestDoorActionsAreAudited(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		d := e.enrol(t)
		at := e.clock.Now().Add(-time.Hour)
		plain := d.event(1, attendance.ChildCheckIn, "c-noah", at, time.Minute, true)
		manual := d.event(2, attendance.ChildCheckIn, "c-mila", at, 2*time.Minute, true)
		manual.Manual, manual.ConfirmedBy, manual.Note = true, "s-lotte", "kaart vergeten"
		pickup := d.event(3, attendance.ChildCheckOut, "c-mila", at, 3*time.Minute, true)
		pickup.ConfirmedBy, pickup.IDChecked, pickup.ActorRole, pickup.ActorID = "s-lotte", "paspoort", attendance.RolePickup, "p-henk"
		override := d.event(4, attendance.RatioOverride, "", at, 4*time.Minute, true)
		override.ConfirmedBy, override.Note, override.Reason = "s-ahmed", "collega onderweg", "ratio"
		batch := d.batch(d.unsyncedProbe(), plain, manual, pickup, override)
		n0, _ := e.audit.Verify(ctx)
		if code, _, perr := d.post(t, batch); code != 200 {
			t.Fatalf("post: %d %v", code, perr)
		}
		if code, _, perr := d.post(t, batch); code != 200 { // lost ack: the kiosk resends
			t.Fatalf("resend: %d %v", code, perr)
		}
		n1, err := e.audit.Verify(ctx)
		if err != nil {
			t.Fatal(err)
		}
		entries, err := e.audit.Entries(ctx, n0+1, n1)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, en := range entries {
			got = append(got, string(en.Action)+" "+en.Actor+" "+en.Subject)
		}
		want := []string{
			"manual_check_in staff:s-lotte child:c-mila",
			"pickup_confirmed staff:s-lotte child:c-mila",
			"ratio_override staff:s-ahmed location:loc-regenboog",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("audit entries (-want +got):\n%s", diff)
		}
	})
}
