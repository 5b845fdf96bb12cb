package ui

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/door"
	"github.com/kinderdeur/kiosk/attendance/rules"
)

// TestPublicViewHidesStaffOnlyData: the public screen shows first names
// only, a contact ban as the same neutral "not_allowed" with no actor and
// no child, and no child at stake in an unannounced pickup (the door's
// results carry all of it for staff).
func TestPublicViewHidesStaffOnlyData(t *testing.T) {
	at := time.Date(2026, 3, 4, 8, 1, 0, 0, time.UTC)
	julia := rules.Child{ID: "c-julia", Name: "Julia", GroupID: "g-rupsen", Group: "Rupsen", Present: true, Since: at, Action: rules.ActCheckOut}
	tom := rules.Actor{Role: attendance.RolePickup, ID: "p-tom", Name: "Tom J.", Relation: "vader"}
	for _, tt := range []struct {
		name    string
		r       door.Result
		reason  string
		secrets []string
	}{
		{"contact ban", door.Result{ID: "d-1", At: at, Committed: true, Decision: rules.Decision{Outcome: rules.Denied, Reason: rules.ReasonContactBan,
			Actor: tom, StaffAlert: "Contactverbod: Tom J. voor Julia. rechtbank"}},
			"not_allowed", []string{"Tom", "Julia", "Lucas", "contact", "rechtbank", "p-tom"}},
		{"contact ban on a handover pair", door.Result{ID: "d-2", At: at, Committed: true, Decision: rules.Decision{Outcome: rules.Denied, Reason: rules.ReasonContactBan,
			Actor: tom, Children: []rules.Child{julia}}},
			"not_allowed", []string{"Tom", "Julia", "contact", "p-tom", "c-julia"}},
		{"unannounced pickup names no child", door.Result{ID: "d-3", At: at, Session: "s-1", ExpiresIn: 5 * time.Minute, Decision: rules.Decision{Outcome: rules.NeedsStaff, Reason: rules.ReasonNotAnnounced,
			Actor: rules.Actor{Role: attendance.RolePickup, ID: "p-els", Name: "Els K.", Relation: "buurvrouw"}, Children: []rules.Child{julia}}},
			rules.ReasonNotAnnounced, []string{"Julia", "K.", "buurvrouw"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := viewOf(tt.r)
			if v.Reason != tt.reason || len(v.Children) != 0 {
				t.Errorf("public view = %+v", v)
			}
			if tt.reason == "not_allowed" && v.Actor != (PublicActor{}) {
				t.Errorf("public actor = %+v", v.Actor)
			}
			b, _ := json.Marshal(v)
			for _, secret := range tt.secrets {
				if strings.Contains(string(b), secret) {
					t.Errorf("public view %s contains %q", b, secret)
				}
			}
		})
	}
}

// TestWireJSON pins the bytes of a decision, the presence and the staff
// panel (PROTOCOL.md, contract 4) as the door's own view types wrote them.
func TestWireJSON(t *testing.T) {
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 4, 8, 1, 2, 0, ams)
	r := door.Result{ID: "d-17", At: at, Session: "s-9f2c", ExpiresIn: 20 * time.Second, Decision: rules.Decision{
		Outcome: rules.ChooseChildren, Actor: rules.Actor{Role: attendance.RoleGuardian, ID: "p-sanne", Name: "Sanne de V."},
		Children: []rules.Child{{ID: "c-noah", Name: "Noah", GroupID: "g-rupsen", Group: "Rupsen", Present: true, Since: at.UTC(), Action: rules.ActCheckOut, Selected: true},
			{ID: "c-emma", Name: "Emma", GroupID: "g-vlinders", Group: "Vlinders", Action: rules.ActCheckIn, Selected: true}}}}
	want := `{"decision":{"id":"d-17","outcome":"choose_children","at":"2026-03-04T08:01:02+01:00",` +
		`"actor":{"role":"guardian","name":"Sanne"},"children":[{"id":"c-noah","name":"Noah","group":"Rupsen","present":true,"action":"check_out","selected":true,"since":"08:01"},` +
		`{"id":"c-emma","name":"Emma","group":"Vlinders","present":false,"action":"check_in","selected":true}],"session":"s-9f2c","expires_in_ms":20000,"committed":false},"type":"decision","v":1}`
	if got := string(message(door.Update{Type: "decision", Decision: &r})); got != want {
		t.Errorf("decision\n got %s\nwant %s", got, want)
	}
	if got, want := string(message(door.Update{Type: "staff"})), `{"staff":null,"type":"staff","v":1}`; got != want {
		t.Errorf("no staff panel: got %s, want %s", got, want)
	}

	p := door.Presence{At: at, Children: []door.Person{{ID: "c-noah", Name: "Noah", GroupID: "g-rupsen", Group: "Rupsen", Since: at, Alert: "never on the API"}}}
	b, _ := json.Marshal(presenceOf(p))
	if got, want := string(b), `{"at":"2026-03-04T08:01:02+01:00","children":[{"id":"c-noah","name":"Noah","group_id":"g-rupsen","group":"Rupsen","since":"2026-03-04T08:01:02+01:00"}],"staff":[],"groups":[]}`; got != want {
		t.Errorf("presence\n got %s\nwant %s", got, want)
	}

	// A locked panel (PIN first) shows nothing but the lock.
	b, _ = json.Marshal(staffViewOf(&door.StaffPanel{StaffID: "s-lotte", Name: "Lotte", LocksIn: time.Minute, PINRequired: true,
		Present: []door.Person{}, StaffPresent: []door.Person{}, Requests: []door.Request{}, Forgotten: []door.Person{}, Absent: []door.Person{}, Warnings: []door.Note{}}))
	if got, want := string(b), `{"name":"Lotte","staff_id":"s-lotte","locks_in_ms":60000,"pin_required":true,"groups":null,"present":[],"staff_present":[],"requests":[],"roll_call":null,"forgotten":[],"warnings":[],"absent":[],"expected":[]}`; got != want {
		t.Errorf("locked staff panel\n got %s\nwant %s", got, want)
	}
	panel := &door.StaffPanel{StaffID: "s-lotte", Name: "Lotte", LocksIn: 59500 * time.Millisecond,
		Groups: []rules.GroupState{{GroupID: "g-rupsen", Name: "Rupsen", Policy: "nl-kdv", Children: 1, Staff: 1, Required: 1, OK: true, ThreeHour: &rules.ThreeHour{MinutesBelow: 12, Budget: 180}}},
		Present: []door.Person{{ID: "c-noah", Name: "Noah", GroupID: "g-rupsen", Group: "Rupsen", Since: at, Alert: "Pinda-allergie",
			Announced: []door.Announcement{{ChildID: "c-noah", PersonID: "p-henk", Person: "Henk K.", Relation: "opa", From: "16:00", Until: "17:00", By: "Fatima B.", At: at.Add(-time.Minute), IDNote: "rijbewijs"}}}},
		StaffPresent: []door.Person{{ID: "s-lotte", Name: "Lotte", GroupID: "g-rupsen", Group: "Rupsen", Since: at.Add(-time.Hour)}},
		Requests: []door.Request{{Session: "s-1", Reason: "not_announced", Person: "Els K.", Role: attendance.RolePickup, Relation: "buurvrouw",
			Children: []door.Person{{ID: "c-daan", Name: "Daan", Group: "Vlinders"}}, Photo: true, Warnings: []rules.Warning{{Code: "ratio", Text: "te weinig"}},
			Announced: []door.Announcement{{ChildID: "c-daan", PersonID: "p-els", Person: "Els K.", From: "16:00", Until: "17:00", By: "Fatima B.", Covers: false}}}},
		RollCall:  &door.RollCall{Started: at, People: []door.RollCallLine{{Person: door.Person{ID: "c-noah", Name: "Noah", Group: "Rupsen"}, Kind: "child"}}, Missing: 1},
		Forgotten: []door.Person{{ID: "c-sem", Name: "Sem", Group: "Vlinders", Since: at.AddDate(0, 0, -1)}},
		Warnings:  []door.Note{{Warning: rules.Warning{Code: "ratio", GroupID: "g-rupsen", Text: "..."}, At: at, Count: 3}},
		Absent:    []door.Person{{ID: "c-emma", Name: "Emma", Group: "Vlinders", Alert: "not shown for the absent", Absence: "sick"}},
		Expected:  []door.GroupExpected{{GroupID: "g-vlinders", Group: "Vlinders", Expected: 5, Absent: []door.AbsentChild{{ID: "c-emma", Name: "Emma", Kind: "sick"}}}, {GroupID: "g-rupsen", Group: "Rupsen", Expected: 4}},
		Confirm:   &door.ConfirmStaffLeave{Warnings: []rules.Warning{{Code: "ratio_after_staff_out", Text: "x"}}},
	}
	b, _ = json.Marshal(staffViewOf(panel))
	want = `{"name":"Lotte","staff_id":"s-lotte","locks_in_ms":59500,"pin_required":false,` +
		`"groups":[{"id":"g-rupsen","name":"Rupsen","policy":"nl-kdv","children":1,"staff_present":1,"staff_required":1,"ok":true,"three_hour":{"minutes_below":12,"budget":180,"alert":""}}],` +
		`"present":[{"id":"c-noah","name":"Noah","group":"Rupsen","since":"08:01","alert":"Pinda-allergie",` +
		`"announced":[{"child_id":"c-noah","person_id":"p-henk","person":"Henk K.","relation":"opa","from":"16:00","until":"17:00","by":"Fatima B.","at":"08:00","id_note":"rijbewijs","now":false}]}],` +
		`"staff_present":[{"id":"s-lotte","name":"Lotte","group_id":"g-rupsen","group":"Rupsen","since":"2026-03-04T07:01:02+01:00"}],` +
		`"requests":[{"session":"s-1","reason":"not_announced","person":"Els K.","role":"pickup","relation":"buurvrouw","children":[{"id":"c-daan","name":"Daan","group":"Vlinders"}],"photo":true,"warnings":["te weinig"],` +
		`"announced":[{"child_id":"c-daan","person_id":"p-els","person":"Els K.","from":"16:00","until":"17:00","by":"Fatima B.","now":false}]}],` +
		`"roll_call":{"started":"08:01","people":[{"id":"c-noah","name":"Noah","group":"Rupsen","kind":"child","accounted":false}],"missing":1},` +
		`"forgotten":[{"id":"c-sem","name":"Sem","group":"Vlinders","since":"2026-03-03 08:01"}],` +
		`"warnings":[{"code":"ratio","group":"g-rupsen","text":"...","at":"08:01","count":3}],"absent":[{"id":"c-emma","name":"Emma","group":"Vlinders","absence":"sick"}],` +
		`"confirm":{"warnings":[{"code":"ratio_after_staff_out","text":"x"}]},` +
		`"expected":[{"group_id":"g-vlinders","group":"Vlinders","expected":5,"absent":[{"id":"c-emma","name":"Emma","kind":"sick"}]},{"group_id":"g-rupsen","group":"Rupsen","expected":4,"absent":[]}]}`
	if got := string(b); got != want {
		t.Errorf("staff panel\n got %s\nwant %s", got, want)
	}
}

// TestSnapshotJSON: a screen connecting during a staff session gets the
// decision on screen and the staff panel with its three-hour state.
func TestSnapshotJSON(t *testing.T) {
	ts, d := newTestServer(t)
	ctx := context.Background()
	if _, err := d.Tap(ctx, "entrance", []byte{0xE2, 0xB3, 0x1C, 0x4D}); err != nil { // Ahmed clocks in
		t.Fatal(err)
	}
	r, err := d.Tap(ctx, "entrance", []byte{0x04, 0xA1, 0x1C, 0x2A, 0x6B, 0x5E, 0x80}) // Sanne: choose
	if err != nil {
		t.Fatal(err)
	}
	// Sanne's tap locked the staff panel (issue 14 item 3: a screen
	// connecting now got Ahmed's panel, allergies and all, beside her choice).
	c0, _, err := dial(t, ts, ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, b0, err := c0.ReadMessage()
	c0.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"session":"` + r.Session + `"`, `"staff":null`} {
		if !strings.Contains(string(b0), want) {
			t.Errorf("snapshot with a parent's choice lacks %s: %s", want, b0)
		}
	}
	if _, err := d.Tap(ctx, "entrance", []byte{0xE2, 0xB3, 0x1C, 0x4D}); err != nil { // Ahmed opens the panel again
		t.Fatal(err)
	}
	c, _, err := dial(t, ts, ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"type":"snapshot"`, `"three_hour":{"minutes_below":`, `"staff":{"name":"Ahmed"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("snapshot lacks %s: %s", want, b)
		}
	}
}
