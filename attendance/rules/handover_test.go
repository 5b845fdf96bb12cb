package rules

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
)

// door is the smallest door the rules need for tap sequences: it remembers
// the previous tap as the real door does (last = Decision.Remember) and
// commits final check-ins and check-outs to presence.
type door struct {
	ix   *roster.Index
	p    *attendance.Presence
	last *Tap
	now  time.Time
	seq  int64
}

func (dr *door) tap(holder string, after time.Duration) Decision {
	dr.now = dr.now.Add(after)
	in := tapBy(dr.ix, dr.p, holder, dr.now)
	in.Previous = dr.last
	d := Decide(in)
	dr.last = d.Remember
	if d.Outcome == CheckIn || d.Outcome == CheckOut {
		for _, e := range Events(d, attendance.Event{Wall: dr.now}, dr.ix) {
			dr.seq++
			e.Seq = dr.seq
			dr.p.Apply(e)
		}
	}
	return d
}

func TestHandover(t *testing.T) {
	start := at(wed, 16, 0)
	// c-m3 gets a card; p-ban is banned from c-stay too; p-ann is
	// announced for c-stay today 15:00-17:00.
	ix := fixture(func(r *roster.Roster) {
		r.Badges = append(r.Badges, roster.Badge{Hash: hashOf("c-m3"), Role: attendance.RoleChild, HolderID: "c-m3"})
		r.ContactBans = append(r.ContactBans, roster.ContactBan{ChildID: "c-stay", PersonID: "p-ban", Note: "rechtbank"})
		r.Announced = append(r.Announced, roster.AnnouncedPickup{ID: "a-2", ChildID: "c-stay", PersonID: "p-ann", Date: attendance.MustDate(wed), From: "15:00", Until: "17:00"})
	})
	type step struct {
		holder string
		after  time.Duration
		want   summary
	}
	for _, tt := range []struct {
		name        string
		present     []string
		steps       []step
		wantPresent []string
	}{
		{name: "child then guardian", present: []string{"s-b", "c-stay"}, steps: []step{
			{"c-stay", 0, summary{Outcome: NeedsStaff, Reason: ReasonNeedsGrownUp, Actor: "c-stay", Children: kids("c-stay:check_out:-")}},
			{"p-stay", 10 * time.Second, summary{Outcome: CheckOut, Reason: ReasonHandover, Actor: "p-stay", Children: kids("c-stay:check_out:sel")}},
		}, wantPresent: []string{}},
		{name: "child then announced person", present: []string{"s-b", "c-stay"}, steps: []step{
			{"c-stay", 0, summary{Outcome: NeedsStaff, Reason: ReasonNeedsGrownUp, Actor: "c-stay", Children: kids("c-stay:check_out:-")}},
			{"p-ann", 5 * time.Second, summary{Outcome: CheckOut, Reason: ReasonHandover, Actor: "p-ann", Children: kids("c-stay:check_out:sel")}},
		}, wantPresent: []string{}},
		{name: "guardian with several, then one child: only that child", present: []string{"s-a", "s-b", "c-m1", "c-m3"}, steps: []step{
			{"p-multi", 0, summary{Outcome: ChooseChildren, Actor: "p-multi", Children: kids("c-m1:check_out:-", "c-m2:check_in:-", "c-m3:check_out:-")}},
			{"c-m3", 4 * time.Second, summary{Outcome: CheckOut, Reason: ReasonHandover, Actor: "p-multi", Children: kids("c-m3:check_out:sel")}},
		}, wantPresent: []string{"c-m1"}},
		{name: "guardian takes the only child, the child's tap confirms", present: []string{"s-b", "c-stay"}, steps: []step{
			{"p-stay", 0, summary{Outcome: CheckOut, Actor: "p-stay", Children: kids("c-stay:check_out:sel")}},
			{"c-stay", 3 * time.Second, summary{Outcome: CheckOut, Reason: ReasonHandover, Actor: "c-stay", Children: kids("c-stay:none:-")}},
		}, wantPresent: []string{}},
		{name: "child then banned person: denied", present: []string{"s-b", "c-stay"}, steps: []step{
			{"c-stay", 0, summary{Outcome: NeedsStaff, Reason: ReasonNeedsGrownUp, Actor: "c-stay", Children: kids("c-stay:check_out:-")}},
			{"p-ban", 5 * time.Second, summary{Outcome: Denied, Reason: ReasonContactBan, Actor: "p-ban", Children: kids("c-stay:check_out:-"), Alert: true}},
		}, wantPresent: []string{"c-stay"}},
		{name: "banned person then child: denied", present: []string{"s-b", "c-stay"}, steps: []step{
			{"p-ban", 0, summary{Outcome: Denied, Reason: ReasonContactBan, Actor: "p-ban", Alert: true}},
			{"c-stay", 5 * time.Second, summary{Outcome: Denied, Reason: ReasonContactBan, Actor: "p-ban", Children: kids("c-stay:check_out:-"), Alert: true}},
		}, wantPresent: []string{"c-stay"}},
		{name: "banned person then a child with permission: denied", present: []string{"s-b", "c-stay", "c-free"}, steps: []step{
			{"p-ban", 0, summary{Outcome: Denied, Reason: ReasonContactBan, Actor: "p-ban", Alert: true}},
			{"c-stay", 5 * time.Second, summary{Outcome: Denied, Reason: ReasonContactBan, Actor: "p-ban", Children: kids("c-stay:check_out:-"), Alert: true}},
		}, wantPresent: []string{"c-free", "c-stay"}},
		{name: "child then unannounced person: staff", present: []string{"s-b", "c-stay"}, steps: []step{
			{"c-stay", 0, summary{Outcome: NeedsStaff, Reason: ReasonNeedsGrownUp, Actor: "c-stay", Children: kids("c-stay:check_out:-")}},
			{"p-stranger", 5 * time.Second, summary{Outcome: NeedsStaff, Reason: ReasonNotAnnounced, Actor: "p-stranger", Children: kids("c-stay:check_out:-")}},
		}, wantPresent: []string{"c-stay"}},
		{name: "unannounced person then child: staff", present: []string{"s-b", "c-stay"}, steps: []step{
			{"p-stranger", 0, summary{Outcome: Denied, Reason: ReasonNothingToDo, Actor: "p-stranger"}},
			{"c-stay", 5 * time.Second, summary{Outcome: NeedsStaff, Reason: ReasonNotAnnounced, Actor: "p-stranger", Children: kids("c-stay:check_out:-")}},
		}, wantPresent: []string{"c-stay"}},
		{name: "an unrelated adult's tap does not hold an independent child", present: []string{"s-b", "c-free"}, steps: []step{
			{"p-stranger", 0, summary{Outcome: Denied, Reason: ReasonNothingToDo, Actor: "p-stranger"}},
			{"c-free", 5 * time.Second, summary{Outcome: CheckOut, Reason: ReasonIndependent, Actor: "c-free", Children: kids("c-free:check_out:sel")}},
		}, wantPresent: []string{}},
		{name: "handover window passed: no pairing (child first)", present: []string{"s-b", "c-stay"}, steps: []step{
			{"c-stay", 0, summary{Outcome: NeedsStaff, Reason: ReasonNeedsGrownUp, Actor: "c-stay", Children: kids("c-stay:check_out:-")}},
			{"p-stranger", 31 * time.Second, summary{Outcome: Denied, Reason: ReasonNothingToDo, Actor: "p-stranger"}},
		}, wantPresent: []string{"c-stay"}},
		{name: "handover window passed: no pairing (adult first)", present: []string{"s-b", "c-stay"}, steps: []step{
			{"p-stranger", 0, summary{Outcome: Denied, Reason: ReasonNothingToDo, Actor: "p-stranger"}},
			{"c-stay", 31 * time.Second, summary{Outcome: NeedsStaff, Reason: ReasonNeedsGrownUp, Actor: "c-stay", Children: kids("c-stay:check_out:-")}},
		}, wantPresent: []string{"c-stay"}},
		{name: "handover at exactly the window still pairs", present: []string{"s-b", "c-stay"}, steps: []step{
			{"c-stay", 0, summary{Outcome: NeedsStaff, Reason: ReasonNeedsGrownUp, Actor: "c-stay", Children: kids("c-stay:check_out:-")}},
			{"p-ann", 30 * time.Second, summary{Outcome: CheckOut, Reason: ReasonHandover, Actor: "p-ann", Children: kids("c-stay:check_out:sel")}},
		}, wantPresent: []string{}},
		{name: "child taps twice on arrival: the second changes nothing", present: []string{"s-b"}, steps: []step{
			{"c-stay", 0, summary{Outcome: CheckIn, Actor: "c-stay", Children: kids("c-stay:check_in:sel")}},
			{"c-stay", 2 * time.Second, summary{Outcome: CheckIn, Reason: ReasonAlreadyDone, Actor: "c-stay", Children: kids("c-stay:none:-")}},
			{"c-stay", 2 * time.Second, summary{Outcome: CheckIn, Reason: ReasonAlreadyDone, Actor: "c-stay", Children: kids("c-stay:none:-")}},
		}, wantPresent: []string{"c-stay"}},
		{name: "child taps twice on leaving alone: stays out", present: []string{"s-b", "c-free"}, steps: []step{
			{"c-free", 0, summary{Outcome: CheckOut, Reason: ReasonIndependent, Actor: "c-free", Children: kids("c-free:check_out:sel")}},
			{"c-free", 2 * time.Second, summary{Outcome: CheckOut, Reason: ReasonAlreadyDone, Actor: "c-free", Children: kids("c-free:none:-")}},
		}, wantPresent: []string{}},
		{name: "child taps twice without permission: still a grown-up", present: []string{"s-b", "c-stay"}, steps: []step{
			{"c-stay", 0, summary{Outcome: NeedsStaff, Reason: ReasonNeedsGrownUp, Actor: "c-stay", Children: kids("c-stay:check_out:-")}},
			{"c-stay", 2 * time.Second, summary{Outcome: NeedsStaff, Reason: ReasonNeedsGrownUp, Actor: "c-stay", Children: kids("c-stay:check_out:-")}},
		}, wantPresent: []string{"c-stay"}},
		{name: "child back later in the day: checks in again", present: []string{"s-b", "c-free"}, steps: []step{
			{"c-free", 0, summary{Outcome: CheckOut, Reason: ReasonIndependent, Actor: "c-free", Children: kids("c-free:check_out:sel")}},
			{"c-free", time.Minute, summary{Outcome: CheckIn, Actor: "c-free", Children: kids("c-free:check_in:sel")}},
		}, wantPresent: []string{"c-free"}},
		{name: "guardian brings the child, the child taps too: stays in", present: []string{"s-b"}, steps: []step{
			{"p-stay", 0, summary{Outcome: CheckIn, Actor: "p-stay", Children: kids("c-stay:check_in:sel")}},
			{"c-stay", 3 * time.Second, summary{Outcome: CheckIn, Reason: ReasonAlreadyDone, Actor: "c-stay", Children: kids("c-stay:none:-")}},
		}, wantPresent: []string{"c-stay"}},
		{name: "child checks in, then the guardian taps: no handover", present: []string{"s-b"}, steps: []step{
			{"c-stay", 0, summary{Outcome: CheckIn, Actor: "c-stay", Children: kids("c-stay:check_in:sel")}},
			{"p-stay", 3 * time.Second, summary{Outcome: CheckOut, Actor: "p-stay", Children: kids("c-stay:check_out:sel")}},
		}, wantPresent: []string{}},
		{name: "staff tap between does not pair", present: []string{"s-b", "c-stay"}, steps: []step{
			{"s-b", 0, summary{Outcome: StaffMenu, Actor: "s-b"}},
			{"c-stay", 2 * time.Second, summary{Outcome: NeedsStaff, Reason: ReasonNeedsGrownUp, Actor: "c-stay", Children: kids("c-stay:check_out:-")}},
		}, wantPresent: []string{"c-stay"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dr := &door{ix: ix, p: present(ix, start.Add(-2*time.Hour), tt.present...), now: start}
			dr.seq = int64(len(tt.present))
			for i, st := range tt.steps {
				d := dr.tap(st.holder, st.after)
				if diff := cmp.Diff(st.want, summarise(d)); diff != "" {
					t.Errorf("step %d (%s) (-want +got):\n%s", i, st.holder, diff)
				}
			}
			got := []string{}
			for _, s := range dr.p.Children() {
				got = append(got, s.ID)
			}
			if diff := cmp.Diff(tt.wantPresent, got); diff != "" {
				t.Errorf("children present after (-want +got):\n%s", diff)
			}
		})
	}
}
