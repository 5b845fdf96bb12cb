package ui

import (
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/door"
	"github.com/kinderdeur/kiosk/attendance/rules"
)

// Issue 14 item 4: a pickup staff confirmed names the children on the
// public result ("Daan is uitgecheckt"), while a request still waiting
// names none; a withdrawn guardian is as neutral as a contact ban.
func TestIssue14PublicResultOfAConfirmedPickup(t *testing.T) {
	daan := rules.Child{ID: "c-daan", Name: "Daan", Group: "Rupsen", Action: rules.ActCheckOut, Selected: true}
	at := time.Date(2026, 3, 4, 18, 51, 0, 0, time.UTC)
	henk := rules.Actor{Role: attendance.RolePickup, ID: "p-henk", Name: "Henk K.", Relation: "opa"}
	confirmed := door.Result{Decision: rules.Decision{Outcome: rules.CheckOut, Reason: rules.ReasonNotAnnounced, Actor: henk,
		Children: []rules.Child{daan}}, ID: "d-1", At: at, Committed: true}
	v := viewOf(confirmed)
	if len(v.Children) != 1 || v.Children[0].Name != "Daan" || v.Actor.Name != "Henk" {
		t.Errorf("confirmed pickup on the glass = %+v", v)
	}
	waiting := confirmed
	waiting.Outcome, waiting.Committed, waiting.Session = rules.NeedsStaff, false, "s-1"
	if v := viewOf(waiting); len(v.Children) != 0 {
		t.Errorf("waiting request names %+v", v.Children)
	}
	withdrawn := door.Result{Decision: rules.Decision{Outcome: rules.Denied, Reason: "rights_withdrawn", Actor: henk, StaffAlert: "Gezag ingetrokken"},
		ID: "d-2", At: at, Committed: true}
	if v := viewOf(withdrawn); v.Reason != "not_allowed" || v.Actor.Name != "" || len(v.Children) != 0 {
		t.Errorf("withdrawn rights on the glass = %+v", v)
	}
}
