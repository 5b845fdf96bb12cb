package central_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/centraltest"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

func TestIngestExactlyOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		d := e.enrol(t)
		t0 := e.clock.Now()
		var evs []attendance.Event
		for i := int64(1); i <= 10; i++ {
			evs = append(evs, d.event(i, attendance.ChildCheckIn, "c-noah", t0.Add(time.Duration(i)*time.Minute), time.Duration(i)*time.Minute, true))
		}
		body := d.batch(d.unsyncedProbe(), evs...)
		code, r, perr := d.post(t, body)
		if code != 200 {
			t.Fatalf("first post: %d %v", code, perr)
		}
		want := strings.Split(strings.Repeat("stored,", 10), ",")[:10]
		if diff := cmp.Diff(want, statuses(r)); diff != "" {
			t.Errorf("first post statuses (-want +got):\n%s", diff)
		}
		if r.AckedThroughSeq != 10 {
			t.Errorf("acked_through = %d, want 10", r.AckedThroughSeq)
		}
		// The retry of a lost acknowledgement: same bytes, new signature.
		_, r, _ = d.post(t, body)
		want = strings.Split(strings.Repeat("duplicate,", 10), ",")[:10]
		if diff := cmp.Diff(want, statuses(r)); diff != "" {
			t.Errorf("retry statuses (-want +got):\n%s", diff)
		}
		// A retry overlapping new events.
		more := append(evs[5:], d.event(11, attendance.ChildCheckOut, "c-noah", t0.Add(time.Hour), time.Hour, true))
		_, r, _ = d.post(t, d.batch(d.unsyncedProbe(), more...))
		want = []string{"duplicate", "duplicate", "duplicate", "duplicate", "duplicate", "stored"}
		if diff := cmp.Diff(want, statuses(r)); diff != "" {
			t.Errorf("overlap statuses (-want +got):\n%s", diff)
		}
		if r.AckedThroughSeq != 11 {
			t.Errorf("acked_through = %d, want 11", r.AckedThroughSeq)
		}
		if n := e.count(t, "events"); n != 11 {
			t.Errorf("%d events stored, want 11", n)
		}
		// An empty batch asks for the acknowledgement state.
		_, r, _ = d.post(t, d.batch(d.unsyncedProbe()))
		if r.AckedThroughSeq != 11 || len(r.Results) != 0 {
			t.Errorf("empty batch: %+v", r)
		}
	})
}

func TestIngestRefusesBadBatches(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		d := e.enrol(t)
		other := e.enrol(t)
		t0 := e.clock.Now()
		ev := func(seq int64) attendance.Event {
			return d.event(seq, attendance.ChildCheckIn, "c-emma", t0, time.Minute, true)
		}
		// seq 1..2 stored first, so a gap can be tested.
		if code, _, perr := d.post(t, d.batch(d.unsyncedProbe(), ev(1), ev(2))); code != 200 {
			t.Fatalf("setup: %v", perr)
		}
		foreign := ev(3)
		foreign.DeviceID = other.id
		tooMany := make([]attendance.Event, protocol.MaxBatchEvents+1)
		for i := range tooMany {
			tooMany[i] = ev(int64(3 + i))
		}
		otherBatch := protocol.Batch{Protocol: 1, DeviceID: other.id, Clock: d.unsyncedProbe(), Events: []json.RawMessage{mustJSON(foreign)}}
		tests := []struct {
			name     string
			body     []byte
			wantCode int
			wantErr  string
		}{
			{"not json", []byte(`{"protocol":1,`), 400, protocol.CodeMalformed},
			{"trailing data", append(d.batch(d.unsyncedProbe(), ev(3)), []byte(`{}`)...), 400, protocol.CodeMalformed},
			{"wrong protocol", bytes.Replace(d.batch(d.unsyncedProbe(), ev(3)), []byte(`"protocol":1`), []byte(`"protocol":9`), 1), 400, protocol.CodeUnsupported},
			{"event not an object", bytes.Replace(d.batch(d.unsyncedProbe()), []byte(`"events":null`), []byte(`"events":[1]`), 1), 400, protocol.CodeMalformed},
			{"bad event id", bytes.Replace(d.batch(d.unsyncedProbe(), ev(3)), []byte(`"event_id":"`), []byte(`"event_id":"x`), 1), 400, protocol.CodeMalformed},
			{"out of order", d.batch(d.unsyncedProbe(), ev(4), ev(3)), 400, protocol.CodeOutOfOrder},
			{"hole inside", d.batch(d.unsyncedProbe(), ev(3), ev(5)), 400, protocol.CodeOutOfOrder},
			{"gap after ack", d.batch(d.unsyncedProbe(), ev(4), ev(5)), 409, protocol.CodeSeqGap},
			{"event of another device", d.batch(d.unsyncedProbe(), ev(3), foreign), 403, protocol.CodeOtherDevice},
			{"batch of another device", mustJSON(otherBatch), 403, protocol.CodeOtherDevice},
			{"too many events", d.batch(d.unsyncedProbe(), tooMany...), 413, protocol.CodeTooLarge},
			{"body too large", bytes.Repeat([]byte(" "), protocol.MaxBatchBytes+10), 413, protocol.CodeTooLarge},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code, _, perr := d.post(t, tt.body)
				if code != tt.wantCode || perr == nil || perr.Code != tt.wantErr {
					t.Errorf("got %d %+v, want %d %s", code, perr, tt.wantCode, tt.wantErr)
				}
				if n := e.count(t, "events"); n != 2 {
					t.Errorf("%d events stored after a refused batch, want 2", n)
				}
			})
		}
		// The gap is an alert for admins, raised once however often the kiosk retries.
		d.post(t, d.batch(d.unsyncedProbe(), ev(4), ev(5)))
		alerts, err := e.db.Events.Alerts(context.Background())
		if err != nil || len(alerts) != 1 || alerts[0].Kind != "seq_gap" || alerts[0].Seq != 4 {
			t.Errorf("alerts %+v %v", alerts, err)
		}
	})
}

func TestConflictsAreRejectedAndKept(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		d := e.enrol(t)
		t0 := e.clock.Now()
		e1 := d.event(1, attendance.ChildCheckIn, "c-sem", t0, time.Minute, true)
		e2 := d.event(2, attendance.ChildCheckIn, "c-finn", t0, 2*time.Minute, true)
		d.post(t, d.batch(d.unsyncedProbe(), e1, e2))
		// A restored kiosk reuses seq 2 for another event; a buggy one sends
		// e1's id under seq 3; a newer kiosk sends a type central does not know;
		// and an event names another location.
		reuse := d.event(2, attendance.ChildCheckOut, "c-sem", t0, 3*time.Minute, true)
		moved := e1
		moved.Seq = 3
		odd := d.event(4, "teleport", "c-sem", t0, 4*time.Minute, true)
		elsewhere := d.event(5, attendance.ChildCheckIn, "c-sem", t0, 5*time.Minute, true)
		elsewhere.LocationID = "loc-other"
		// Events whose content is broken are rejected on their own, so one bad
		// event never blocks the kiosk's outbox.
		huge := d.event(6, attendance.ChildCheckIn, "c-sem", t0, 6*time.Minute, true)
		huge.Note = strings.Repeat("x", protocol.MaxEventBytes)
		year1 := d.event(7, attendance.ChildCheckIn, "c-sem", time.Time{}, 7*time.Minute, true)
		ok := d.event(8, attendance.ChildCheckIn, "c-anna", t0, 8*time.Minute, true)
		_, r, perr := d.post(t, d.batch(d.unsyncedProbe(), reuse, moved, odd, elsewhere, huge, year1, ok))
		if perr != nil {
			t.Fatal(perr)
		}
		want := []string{"rejected:seq_conflict", "rejected:event_id_conflict", "rejected:unknown_type", "rejected:wrong_location",
			"rejected:invalid", "rejected:invalid", "stored"}
		if diff := cmp.Diff(want, statuses(r)); diff != "" {
			t.Errorf("statuses (-want +got):\n%s", diff)
		}
		if r.AckedThroughSeq != 8 {
			t.Errorf("acked_through = %d, want 8 (rejected seqs are settled)", r.AckedThroughSeq)
		}
		if r.Results[5].Detail != "wall 0001-01-01T00:00:00Z outside 1900..2200" {
			t.Errorf("detail %q", r.Results[5].Detail)
		}
		evs, err := e.db.Events.Events(context.Background(), central.EventFilter{DeviceID: d.id})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, se := range evs {
			got = append(got, se.ID)
		}
		if diff := cmp.Diff([]string{e1.ID, e2.ID, ok.ID}, got); diff != "" {
			t.Errorf("stored events (-want +got):\n%s", diff)
		}
		if n := e.count(t, "rejected_events"); n != 6 {
			t.Errorf("%d rejected events kept, want 6", n)
		}
		alerts, _ := e.db.Events.Alerts(context.Background())
		var kinds []string
		for _, a := range alerts {
			kinds = append(kinds, a.Kind)
		}
		if diff := cmp.Diff([]string{"seq_conflict", "event_id_conflict"}, kinds); diff != "" {
			t.Errorf("alerts (-want +got):\n%s", diff)
		}
		// A resend whose bytes changed is still a duplicate (the stored bytes
		// stand) but raises an alert.
		changed := e1
		changed.Note = "edited"
		_, r, _ = d.post(t, d.batch(d.unsyncedProbe(), changed))
		if diff := cmp.Diff([]string{"duplicate"}, statuses(r)); diff != "" {
			t.Errorf("changed resend (-want +got):\n%s", diff)
		}
		alerts, _ = e.db.Events.Alerts(context.Background())
		if len(alerts) != 3 || alerts[2].Kind != "body_changed" || alerts[2].Seq != 1 {
			t.Errorf("alerts after a changed resend: %+v", alerts)
		}
		// Admins see them.
		code, body := e.admin(t, http.MethodGet, "/api/v1/admin/rejected", nil)
		if code != 200 || !strings.Contains(string(body), "seq_conflict") {
			t.Errorf("admin rejected: %d %s", code, body)
		}
	})
}

func TestTimeQuality(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		d := e.enrol(t)
		now := e.clock.Now()
		// The kiosk booted at 1970 (unsynced), its clock later jumped back
		// an hour and forward a year, all in one boot; then NTP synced.
		bootWall := time.Unix(0, 0)
		unsynced := []attendance.Event{
			d.event(1, attendance.ChildCheckIn, "c-noah", bootWall.Add(10*time.Minute), 10*time.Minute, false),
			d.event(2, attendance.ChildCheckIn, "c-emma", bootWall.Add(-50*time.Minute), 20*time.Minute, false),
			d.event(3, attendance.ChildCheckIn, "c-sem", bootWall.AddDate(1, 0, 0), 30*time.Minute, false),
		}
		_, r, perr := d.post(t, d.batch(d.unsyncedProbe(), unsynced...))
		if perr != nil || r.AckedThroughSeq != 3 {
			t.Fatalf("post: %v %+v", perr, r)
		}
		quality := func() map[int64]string {
			evs, err := e.db.Events.Events(context.Background(), central.EventFilter{DeviceID: d.id})
			if err != nil {
				t.Fatal(err)
			}
			m := map[int64]string{}
			for _, se := range evs {
				m[se.Seq] = se.TimeQuality + "@" + se.Time.Format(time.RFC3339)
			}
			return m
		}
		at := func(q string, tm time.Time) string { return q + "@" + tm.UTC().Format(time.RFC3339) }
		want := map[int64]string{
			1: at("unverified", bootWall.Add(10*time.Minute)),
			2: at("unverified", bootWall.Add(-50*time.Minute)),
			3: at("unverified", bootWall.AddDate(1, 0, 0)),
		}
		if diff := cmp.Diff(want, quality()); diff != "" {
			t.Errorf("before sync (-want +got):\n%s", diff)
		}
		// Synced now at mono 60 min: boot time is now-60min, so event k
		// happened at now-60min+mono.
		probe := protocol.ClockProbe{BootID: d.boot, MonoNS: int64(time.Hour), Wall: now, Synced: true}
		otherBoot := d.event(4, attendance.ChildCheckIn, "c-julia", bootWall.Add(time.Minute), time.Minute, false)
		otherBoot.BootID = uuid.NewString() // a boot with no anchor: stays unverified
		synced := d.event(5, attendance.ChildCheckOut, "c-noah", now.Add(-time.Minute), 59*time.Minute, true)
		future := d.event(6, attendance.ChildCheckOut, "c-emma", now.AddDate(0, 0, 2), 59*time.Minute+time.Second, true)
		future.BootID = uuid.NewString()
		_, r, perr = d.post(t, d.batch(probe, otherBoot, synced, future))
		if perr != nil {
			t.Fatal(perr)
		}
		boot := now.Add(-time.Hour)
		want = map[int64]string{
			1: at("corrected", boot.Add(10*time.Minute)),
			2: at("corrected", boot.Add(20*time.Minute)),
			3: at("corrected", boot.Add(30*time.Minute)),
			4: at("unverified", bootWall.Add(time.Minute)),
			5: at("ok", now.Add(-time.Minute)),
			6: at("unverified", now.AddDate(0, 0, 2)),
		}
		if diff := cmp.Diff(want, quality()); diff != "" {
			t.Errorf("after sync (-want +got):\n%s", diff)
		}
	})
}

func TestDeviceAuth(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		a := e.enrol(t)
		b := e.enrol(t)
		t0 := e.clock.Now()
		evA := a.event(1, attendance.ChildCheckIn, "c-noah", t0, time.Minute, true)
		bodyA := a.batch(a.unsyncedProbe(), evA)

		// B signs with its own key but claims to be A.
		impostor := &device{e: e, id: a.id, key: b.key, boot: b.boot}
		if code, _, perr := impostor.post(t, bodyA); code != 401 || perr.Code != protocol.CodeUnauthorized {
			t.Errorf("impostor: %d %+v", code, perr)
		}
		// B signs honestly but posts A's batch.
		if code, _, perr := b.post(t, bodyA); code != 403 || perr.Code != protocol.CodeOtherDevice {
			t.Errorf("other device's batch: %d %+v", code, perr)
		}
		// Unsigned.
		if code, _ := e.do(t, http.MethodPost, protocol.PathEvents, bodyA, nil); code != 401 {
			t.Errorf("unsigned: %d", code)
		}
		// A tampered body breaks the signature.
		code, _ := e.do(t, http.MethodPost, protocol.PathEvents, bodyA, func(r *http.Request) {
			protocol.Sign(r, a.id, a.key, bodyA, t0)
			r.Body = http.NoBody
			r.ContentLength = 0
		})
		if code != 401 {
			t.Errorf("tampered: %d", code)
		}
		// A replayed request (same headers and body) is refused; nothing is stored twice anyway.
		var saved http.Header
		code, _ = e.do(t, http.MethodPost, protocol.PathEvents, bodyA, func(r *http.Request) {
			protocol.Sign(r, a.id, a.key, bodyA, t0)
			saved = r.Header.Clone()
		})
		if code != 200 {
			t.Fatalf("signed post: %d", code)
		}
		code, out := e.do(t, http.MethodPost, protocol.PathEvents, bodyA, func(r *http.Request) { r.Header = saved })
		if perr := protocol.DecodeError(code, out); code != 401 || perr.Code != protocol.CodeReplay {
			t.Errorf("replay: %d %s", code, out)
		}
		// An old signature (outside the window) is refused with central's time.
		code, out = e.do(t, http.MethodPost, protocol.PathEvents, bodyA, func(r *http.Request) {
			protocol.Sign(r, a.id, a.key, bodyA, t0.Add(-time.Hour))
		})
		perr := protocol.DecodeError(code, out)
		if code != 401 || perr.Code != protocol.CodeClockSkew || !perr.ServerTime.Equal(t0) {
			t.Errorf("skewed: %d %s", code, out)
		}
		// Revoked: refused from now on.
		if code, out := e.admin(t, http.MethodPost, "/api/v1/admin/devices/"+a.id+"/revoke", nil); code != 200 {
			t.Fatalf("revoke: %d %s", code, out)
		}
		if code, _, perr := a.post(t, a.batch(a.unsyncedProbe())); code != 403 || perr.Code != protocol.CodeRevoked {
			t.Errorf("revoked: %d %+v", code, perr)
		}
		if n := e.count(t, "events"); n != 1 {
			t.Errorf("%d events, want 1", n)
		}
		// An admin enrols the revoked device again with a new key: the old
		// key stays refused, the new one works and the sequence continues.
		_, newKey, _ := ed25519.GenerateKey(nil)
		code, out = e.do(t, http.MethodPost, protocol.PathEnrol, mustJSON(protocol.EnrolRequest{
			Token: e.token, DeviceID: a.id, PublicKey: protocol.EncodePublicKey(newKey.Public().(ed25519.PublicKey))}), nil)
		if code != 200 {
			t.Fatalf("re-enrol: %d %s", code, out)
		}
		if code, _, _ := a.post(t, a.batch(a.unsyncedProbe())); code != 401 {
			t.Errorf("old key after re-enrolment: %d, want 401", code)
		}
		a.key = newKey
		_, r, perr := a.post(t, a.batch(a.unsyncedProbe(), a.event(2, attendance.ChildCheckOut, "c-noah", t0, 2*time.Minute, true)))
		if perr != nil || r.AckedThroughSeq != 2 {
			t.Errorf("new key: %+v %+v", perr, r)
		}
	})
}

func TestEnrolment(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		code, out := e.admin(t, http.MethodPost, "/api/v1/admin/enrolment-tokens", []byte(`{"location_id":"loc-regenboog","ttl_hours":1}`))
		if code != 200 {
			t.Fatalf("create token: %d %s", code, out)
		}
		var tok struct{ Token string }
		json.Unmarshal(out, &tok)
		pub, _, _ := ed25519.GenerateKey(nil)
		pub2, _, _ := ed25519.GenerateKey(nil)
		req := func(token, id string, key ed25519.PublicKey) []byte {
			return mustJSON(protocol.EnrolRequest{Token: token, DeviceID: id, PublicKey: protocol.EncodePublicKey(key)})
		}
		tests := []struct {
			name     string
			body     []byte
			wantCode int
			wantErr  string
		}{
			{"unknown token", req("nope", "kiosk-1", pub), 401, protocol.CodeBadToken},
			{"bad key", []byte(`{"token":"` + tok.Token + `","device_id":"kiosk-1","public_key":"AAAA"}`), 400, protocol.CodeMalformed},
			{"first use", req(tok.Token, "kiosk-1", pub), 200, ""},
			{"retry of the same enrolment", req(tok.Token, "kiosk-1", pub), 200, ""},
			{"second device, used token", req(tok.Token, "kiosk-2", pub2), 401, protocol.CodeBadToken},
			{"take over an enrolled id", req(protocol.DemoEnrolToken, "kiosk-1", pub2), 409, protocol.CodeConflict},
			{"demo token is reusable", req(protocol.DemoEnrolToken, "kiosk-3", pub2), 200, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code, out := e.do(t, http.MethodPost, protocol.PathEnrol, tt.body, nil)
				if code != tt.wantCode {
					t.Fatalf("got %d %s, want %d", code, out, tt.wantCode)
				}
				if tt.wantErr != "" {
					if perr := protocol.DecodeError(code, out); perr.Code != tt.wantErr {
						t.Errorf("error %s, want %s", perr.Code, tt.wantErr)
					}
					return
				}
				var r protocol.EnrolResponse
				json.Unmarshal(out, &r)
				if r.LocationID != "loc-regenboog" || r.BadgeKey != roster.DemoBadgeKey.String() {
					t.Errorf("enrol response %+v", r)
				}
			})
		}
		// An expired token.
		tok2, err := e.db.Devices.CreateEnrolmentToken(context.Background(), "loc-regenboog", time.Minute, "")
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Set(e.clock.Now().Add(2 * time.Minute))
		if code, _ := e.do(t, http.MethodPost, protocol.PathEnrol, req(tok2, "kiosk-9", pub), nil); code != 401 {
			t.Errorf("expired token: %d", code)
		}
	})
}

func TestRosterAPI(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		d := e.enrol(t)
		code, out := d.signed(t, http.MethodGet, protocol.PathRoster, nil)
		var r roster.Roster
		if code != 200 || json.Unmarshal(out, &r) != nil || r.Version != 20261116 || r.Location.ID != "loc-regenboog" {
			t.Fatalf("roster: %d %.200s", code, out)
		}
		notModified := func() int {
			code, _ := d.e.do(t, http.MethodGet, protocol.PathRoster, nil, func(req *http.Request) {
				req.Header.Set("If-None-Match", `"20261116"`)
				protocol.Sign(req, d.id, d.key, nil, e.clock.Now())
			})
			return code
		}
		if c := notModified(); c != 304 {
			t.Errorf("If-None-Match current: %d, want 304", c)
		}
		r.Version = 0
		r.Children[0].FirstName = "Noa"
		if code, out := e.admin(t, http.MethodPut, "/api/v1/admin/locations/loc-regenboog/roster", mustJSON(r)); code != 200 {
			t.Fatalf("put roster: %d %s", code, out)
		}
		if c := notModified(); c != 200 {
			t.Errorf("after a new version: %d, want 200", c)
		}
		tests := []struct {
			name     string
			mutate   func(*roster.Roster)
			wantCode int
		}{
			{"stale version", func(r *roster.Roster) { r.Version = 20261117 }, 409},
			{"invalid", func(r *roster.Roster) { r.Children[0].GroupID = "g-nowhere" }, 422},
			{"other location", func(r *roster.Roster) { r.Location.ID = "loc-x" }, 400},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := r
				c.Children = append([]roster.Child(nil), r.Children...)
				tt.mutate(&c)
				if code, out := e.admin(t, http.MethodPut, "/api/v1/admin/locations/loc-regenboog/roster", mustJSON(c)); code != tt.wantCode {
					t.Errorf("got %d %s, want %d", code, out, tt.wantCode)
				}
			})
		}
		if code, _ := e.do(t, http.MethodPut, "/api/v1/admin/locations/loc-regenboog/roster", mustJSON(r), nil); code != 401 {
			t.Errorf("without admin token: %d", code)
		}
	})
}

func TestAttendanceExport(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		d := e.enrol(t)
		ams, _ := time.LoadLocation("Europe/Amsterdam")
		day := time.Date(2026, 11, 16, 0, 0, 0, 0, ams)
		e.clock.Set(day.Add(20 * time.Hour))
		evs := []attendance.Event{
			d.event(1, attendance.ChildCheckIn, "c-noah", day.Add(7*time.Hour+30*time.Minute), time.Hour, true),
			d.event(2, attendance.ChildCheckOut, "c-noah", day.Add(17*time.Hour), 2*time.Hour, true),
			// Emma's check-in comes from a kiosk whose clock never synced.
			d.event(3, attendance.ChildCheckIn, "c-emma", day.Add(8*time.Hour), 3*time.Hour, false),
			d.event(4, attendance.ChildCheckOut, "c-emma", day.Add(12*time.Hour), 4*time.Hour, true),
		}
		evs[2].BootID = "old-boot"
		if _, _, perr := d.post(t, d.batch(d.unsyncedProbe(), evs...)); perr != nil {
			t.Fatal(perr)
		}
		code, out := e.admin(t, http.MethodGet, "/api/v1/attendance?from=2026-11-16&to=2026-11-16&format=csv", nil)
		if code != 200 {
			t.Fatalf("export: %d %s", code, out)
		}
		recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var got [][]string
		for _, r := range recs {
			got = append(got, r[:8:8])
			got[len(got)-1] = append(got[len(got)-1], r[10])
		}
		want := [][]string{
			{"child_id", "child_name", "group", "date", "check_in", "check_out", "minutes", "day_type", "time_quality"},
			{"c-emma", "Emma", "Vlinders", "2026-11-16", "08:00", "12:00", "240", "weekday", "unverified"},
			{"c-noah", "Noah", "Rupsen", "2026-11-16", "07:30", "17:00", "570", "weekday", "ok"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("export (-want +got):\n%s", diff)
		}
		code, out = e.admin(t, http.MethodGet, "/api/v1/attendance?from=2026-11-16&to=2026-11-16&format=json", nil)
		var rows []map[string]any
		if code != 200 || json.Unmarshal(out, &rows) != nil || len(rows) != 2 || rows[1]["child_id"] != "c-noah" || rows[1]["minutes"] != 570.0 {
			t.Errorf("json export: %d %s", code, out)
		}
		for q, want := range map[string]string{"group=g-rupsen": "c-noah", "group=Vlinders": "c-emma", "child=c-emma": "c-emma"} {
			code, out := e.admin(t, http.MethodGet, "/api/v1/attendance?from=2026-11-16&to=2026-11-16&format=json&"+q, nil)
			var rows []map[string]any
			if code != 200 || json.Unmarshal(out, &rows) != nil || len(rows) != 1 || rows[0]["child_id"] != want {
				t.Errorf("%s: %d %s", q, code, out)
			}
		}
		for _, q := range []string{"from=2026-11-16", "from=x&to=2026-11-16", "from=2026-11-16&to=2026-11-15", "from=2026-11-16&to=2026-11-16&format=xml"} {
			if code, _ := e.admin(t, http.MethodGet, "/api/v1/attendance?"+q, nil); code != 400 {
				t.Errorf("%s: %d, want 400", q, code)
			}
		}
		if code, _ := e.do(t, http.MethodGet, "/api/v1/attendance?from=2026-11-16&to=2026-11-16", nil, nil); code != 401 {
			t.Errorf("unauthenticated export: %d", code)
		}
	})
}

func TestPresenceAcrossDoors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		front, back := e.enrol(t), e.enrol(t)
		t0 := e.clock.Now()
		front.post(t, front.batch(front.unsyncedProbe(),
			front.event(1, attendance.ChildCheckIn, "c-noah", t0.Add(-3*time.Hour), time.Minute, true),
			front.event(2, attendance.ChildCheckIn, "c-emma", t0.Add(-2*time.Hour), 2*time.Minute, true)))
		// Emma leaves by the back door.
		back.post(t, back.batch(back.unsyncedProbe(),
			back.event(1, attendance.ChildCheckOut, "c-emma", t0.Add(-time.Hour), time.Minute, true)))
		staff := back.event(2, attendance.StaffIn, "", t0.Add(-30*time.Minute), 2*time.Minute, true)
		staff.StaffID = "s-lotte"
		// An event timed hours ahead (a clock gone wrong) checks nobody out.
		future := back.event(3, attendance.ChildCheckOut, "c-noah", t0.Add(3*time.Hour), 3*time.Minute, false)
		future.BootID = "another-boot" // no anchor: its time stays unverified, 3 h ahead
		back.post(t, back.batch(back.unsyncedProbe(), staff, future))
		for _, d := range []*device{front, back} {
			code, out := d.signed(t, http.MethodGet, protocol.PathDevicePresence, nil)
			var p protocol.Presence
			if code != 200 || json.Unmarshal(out, &p) != nil {
				t.Fatalf("presence: %d %s", code, out)
			}
			want := protocol.Presence{LocationID: "loc-regenboog", AsOf: t0,
				Children: []protocol.PresentPerson{{ID: "c-noah", GroupID: "g-rupsen", Since: t0.Add(-3 * time.Hour), DeviceID: front.id}},
				Staff:    []protocol.PresentPerson{{ID: "s-lotte", GroupID: "g-rupsen", Since: t0.Add(-30 * time.Minute), DeviceID: back.id}}}
			if diff := cmp.Diff(want, p); diff != "" {
				t.Errorf("presence (-want +got):\n%s", diff)
			}
		}
	})
}

func TestReopenKeepsData(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		// Migrations are idempotent: opening the same database again works.
		e.enrol(t)
		devs, err := e.db.Devices.Devices(context.Background())
		if err != nil || len(devs) != 1 {
			t.Fatalf("devices: %v %v", devs, err)
		}
		if err := e.db.Demo.SeedDemo(context.Background(), attendance.DateOf(e.clock.Now())); err != nil {
			t.Fatal(err)
		}
		r, _, _ := e.db.Sites.Roster(context.Background(), "loc-regenboog")
		if r.Version != 20261116 {
			t.Errorf("re-seeding the same day made roster v%d, want 20261116", r.Version)
		}
		if err := e.db.Demo.SeedDemo(context.Background(), attendance.DateOf(e.clock.Now().AddDate(0, 0, 1))); err != nil {
			t.Fatal(err)
		}
		r, _, _ = e.db.Sites.Roster(context.Background(), "loc-regenboog")
		if r.Version != 20261117 {
			t.Errorf("seeding the next day made roster v%d, want 20261117", r.Version)
		}
	})
}

func TestEnrolmentIsRateLimited(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		pub, _, _ := ed25519.GenerateKey(nil)
		body := mustJSON(protocol.EnrolRequest{Token: "guess", DeviceID: "kiosk-x", PublicKey: protocol.EncodePublicKey(pub)})
		var got []int
		for i := 0; i < 22; i++ {
			code, _ := e.do(t, http.MethodPost, protocol.PathEnrol, body, nil)
			got = append(got, code)
		}
		e.clock.Set(e.clock.Now().Add(5 * time.Second))
		code, _ := e.do(t, http.MethodPost, protocol.PathEnrol, body, nil)
		got = append(got, code)
		want := append(append(make([]int, 0, 23), repeat(401, 20)...), 429, 429, 401)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("status codes (-want +got):\n%s", diff)
		}
	})
}

func repeat(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, centraltest.Backends()[0])
	resp, err := http.Get(e.srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("missing %s", h)
		}
	}
}

func TestAPITokenRoles(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		create := func(role string) (int, string, string) {
			code, out := e.admin(t, http.MethodPost, "/api/v1/admin/tokens", []byte(`{"name":"n","role":"`+role+`"}`))
			var r struct{ Token, ID string }
			json.Unmarshal(out, &r)
			return code, r.Token, r.ID
		}
		code, billing, billingID := create("billing")
		if code != 200 || !strings.HasPrefix(billing, "kda_") {
			t.Fatalf("create billing token: %d %q", code, billing)
		}
		_, inspector, _ := create("inspector")
		for _, role := range []string{"device", "king"} {
			if code, _, _ := create(role); code != 400 {
				t.Errorf("create %s token: %d, want 400", role, code)
			}
		}
		r, _, _ := e.db.Sites.Roster(context.Background(), "loc-regenboog")
		r.Version = 0
		tests := []struct {
			name, token, method, path string
			body                      []byte
			want                      int
		}{
			{"billing exports", billing, "GET", "/api/v1/attendance?from=2026-11-16&to=2026-11-16", nil, 200},
			{"billing may not edit rosters", billing, "PUT", "/api/v1/admin/locations/loc-regenboog/roster", mustJSON(r), 403},
			{"billing may not manage devices", billing, "GET", "/api/v1/admin/devices", nil, 403},
			{"billing may not make tokens", billing, "POST", "/api/v1/admin/tokens", []byte(`{"name":"x","role":"admin"}`), 403},
			{"inspector sees presence", inspector, "GET", "/api/v1/admin/locations/loc-regenboog/presence", nil, 200},
			{"inspector may not revoke", inspector, "POST", "/api/v1/admin/devices/kiosk-x/revoke", nil, 403},
			{"admin edits rosters", adminToken, "PUT", "/api/v1/admin/locations/loc-regenboog/roster", mustJSON(r), 200},
			{"unknown token", "kda_nope", "GET", "/api/v1/attendance?from=2026-11-16&to=2026-11-16", nil, 401},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code, out := e.do(t, tt.method, tt.path, tt.body, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tt.token) })
				if code != tt.want {
					t.Errorf("got %d %s, want %d", code, out, tt.want)
				}
			})
		}
		if code, out := e.admin(t, http.MethodPost, "/api/v1/admin/tokens/"+billingID+"/revoke", nil); code != 200 {
			t.Fatalf("revoke token: %d %s", code, out)
		}
		code, _ = e.do(t, "GET", "/api/v1/attendance?from=2026-11-16&to=2026-11-16", nil, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+billing) })
		if code != 401 {
			t.Errorf("revoked token: %d, want 401", code)
		}
	})
}

func TestMigrations(t *testing.T) {
	for _, b := range centraltest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			dsn := b.DSN(t)
			ctx := context.Background()
			db, err := central.Open(ctx, dsn, nil)
			if err != nil {
				t.Fatal(err)
			}
			var n1 int
			db.SQL().QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n1)
			db.Close()
			db, err = central.Open(ctx, dsn, nil) // nothing left to apply
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			var n2 int
			db.SQL().QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n2)
			if n1 < 2 || n1 != n2 {
				t.Errorf("migrations recorded: %d then %d", n1, n2)
			}
			if _, err := db.SQL().Exec("INSERT INTO schema_migrations (version, name, applied_ns) VALUES (999, '9999_from_the_future.sql', 0)"); err != nil {
				t.Fatal(err)
			}
			db.Close()
			if db, err := central.Open(ctx, dsn, nil); err == nil || !strings.Contains(err.Error(), "newer than this binary") {
				if db != nil {
					db.Close()
				}
				t.Errorf("open with an unknown migration: %v, want a refusal", err)
			}
		})
	}
}

func TestAuditTrail(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		d := e.enrol(t)
		r, _, _ := e.db.Sites.Roster(context.Background(), "loc-regenboog")
		r.Version = 0
		if code, out := e.admin(t, http.MethodPut, "/api/v1/admin/locations/loc-regenboog/roster", mustJSON(r)); code != 200 {
			t.Fatalf("put roster: %d %s", code, out)
		}
		if code, _ := e.admin(t, http.MethodPost, "/api/v1/admin/devices/"+d.id+"/revoke", nil); code != 200 {
			t.Fatal("revoke")
		}
		entries, err := e.audit.Entries(context.Background(), 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, en := range entries {
			got = append(got, string(en.Action)+" "+en.Actor+" "+en.Subject)
		}
		want := []string{
			"device_enrolled device:" + d.id + " device:" + d.id,
			"roster_change user:admin-token-1 location:loc-regenboog",
			"device_revoked user:admin-token-1 device:" + d.id,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("audit trail (-want +got):\n%s", diff)
		}
		if _, err := e.audit.Verify(context.Background()); err != nil {
			t.Errorf("audit chain: %v", err)
		}
	})
}
