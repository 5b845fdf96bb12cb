package portal_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/portal"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// checkOut ingests a check-out of child by actor (a person id) through the
// demo history device of the location, as a kiosk's batch would.
func checkOut(t *testing.T, e *env, child, actor string, at time.Time) attendance.Event {
	t.Helper()
	ctx := context.Background()
	if _, err := e.db.Demo.SeedDemoAttendance(ctx, "loc-regenboog", attendance.MustDate("2026-11-02")); err != nil {
		t.Fatal(err)
	}
	dev := central.DemoHistoryDevice + "-loc-regenboog"
	d, err := e.db.Devices.Device(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := uuid.NewV7()
	ev := attendance.Event{ID: id.String(), DeviceID: dev, Seq: d.AckedThrough + 1, Type: attendance.ChildCheckOut, LocationID: "loc-regenboog",
		ChildID: child, GroupID: "g-rupsen", ActorRole: attendance.RolePickup, ActorID: actor, Wall: at.UTC(), BootID: "boot-" + id.String(), MonoNS: 1e9, ClockSynced: true}
	raw, _ := json.Marshal(ev)
	b := protocol.Batch{Protocol: protocol.Version, DeviceID: dev, Events: []json.RawMessage{raw},
		Clock: protocol.ClockProbe{BootID: ev.BootID, MonoNS: ev.MonoNS, Wall: ev.Wall, Synced: true}}
	res, err := e.db.Events.Ingest(ctx, dev, b, []attendance.Event{ev})
	if err != nil || res.Results[0].Status != protocol.StatusStored {
		t.Fatalf("ingest: %v %+v", err, res)
	}
	return ev
}

type flakyMailer struct {
	fail atomic.Bool
	to   portal.Mailer
}

func (m *flakyMailer) Send(ctx context.Context, to, subject, body string) error {
	if m.fail.Load() {
		return errors.New("smtp: 451 try again later")
	}
	return m.to.Send(ctx, to, subject, body)
}

// TestCheckoutEmail: a guardian who opted in gets one e-mail when someone
// else checks their child out (the neighbour Els K. takes Mila), through
// the SMTP sender, after a failed attempt, once; it names only Mila and
// Els K. A guardian checking out themselves is not told; nobody is told
// where nobody opted in.
func TestCheckoutEmail(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		mailer := &flakyMailer{to: &portal.SMTPMailer{Addr: e.mb.addr, From: "ouders@kinderdeur.test", InsecurePlain: true}}
		w := portal.NewNoticeWorker(e.db.Parents, mailer, nil)
		at := time.Date(2026, 11, 17, 15, 55, 0, 0, time.UTC) // 16:55 in Amsterdam

		// Nobody opted in: no notice, no mail.
		before := e.mb.count()
		checkOut(t, e, "c-daan", "p-buurvrouw", at)
		if n, err := w.Once(ctx); err != nil || n != 0 || e.mb.count() != before {
			t.Fatalf("without opt-in: %d %v", n, err)
		}
		// Fatima opts in in the portal; Kees through the store.
		if a := e.do(t, tokFatima, "PUT", "/api/v1/parent/notify", map[string]bool{"checkout": true}); a.status != 200 {
			t.Fatalf("opt in: %d %s", a.status, a.body)
		}
		if a := e.do(t, tokFatima, "GET", "/api/v1/parent/today", nil); !strings.Contains(a.body, `"notify_checkout":true`) {
			t.Errorf("today: %s", a.body)
		}
		if err := e.db.Parents.SetNotifyCheckout(ctx, central.DemoGuardianEmails["p-kees"], true); err != nil {
			t.Fatal(err)
		}
		ev := checkOut(t, e, "c-mila", "p-buurvrouw", at)
		// The first attempt fails: the mails stay pending.
		mailer.fail.Store(true)
		if n, err := w.Once(ctx); err != nil || n != 0 {
			t.Fatalf("failing send: %d %v", n, err)
		}
		if st, _ := e.db.Parents.MailStatus(ctx, ev.ID); st["pending"] != 2 {
			t.Fatalf("after a failure: %v", st)
		}
		// Later the server is back: both guardians get exactly one mail.
		mailer.fail.Store(false)
		e.clock.mu.Lock()
		e.clock.t = e.clock.t.Add(5 * time.Minute)
		e.clock.mu.Unlock()
		if n, err := w.Once(ctx); err != nil || n != 2 {
			t.Fatalf("send: %d %v", n, err)
		}
		if n, _ := w.Once(ctx); n != 0 {
			t.Errorf("sent again: %d", n)
		}
		// Ingesting the same event again (a kiosk retry) adds nothing.
		if st, _ := e.db.Parents.MailStatus(ctx, ev.ID); st["sent"] != 2 || len(st) != 1 {
			t.Errorf("status: %v", st)
		}
		e.mb.mu.Lock()
		msgs := append([]string(nil), e.mb.msgs[before:]...)
		e.mb.mu.Unlock()
		if len(msgs) != 2 {
			t.Fatalf("%d mails", len(msgs))
		}
		for _, m := range msgs {
			for _, want := range []string{"Mila is om 16:55 opgehaald door Els K.", "Mila was picked up at 16:55 by Els K."} {
				if !strings.Contains(m, want) {
					t.Errorf("mail lacks %q:\n%s", want, m)
				}
			}
			for _, never := range []string{"Daan", "c-mila", "p-buurvrouw", "loc-regenboog", "Rupsen", "buurvrouw"} {
				if strings.Contains(m, never) {
					t.Errorf("mail says %q:\n%s", never, m)
				}
			}
		}
		joined := strings.Join(msgs, "\n")
		if !strings.Contains(joined, "To: fatima@ouders.demo") || !strings.Contains(joined, "To: "+central.DemoGuardianEmails["p-kees"]) {
			t.Errorf("recipients:\n%s", joined)
		}
		// Fatima checks Daan out herself: only Kees is told.
		before = e.mb.count()
		ev2 := checkOut(t, e, "c-daan", "p-fatima", at.Add(time.Minute))
		if n, err := w.Once(ctx); err != nil || n != 1 {
			t.Fatalf("self check-out: %d %v", n, err)
		}
		e.mb.mu.Lock()
		last := e.mb.msgs[len(e.mb.msgs)-1]
		e.mb.mu.Unlock()
		if e.mb.count() != before+1 || !strings.Contains(last, "To: "+central.DemoGuardianEmails["p-kees"]) || !strings.Contains(last, "Daan is om 16:56 opgehaald door Fatima B.") {
			t.Errorf("self check-out mail:\n%s", last)
		}
		if st, _ := e.db.Parents.MailStatus(ctx, ev2.ID); st["sent"] != 1 {
			t.Errorf("self check-out status: %v", st)
		}
		// Opted out: nothing more.
		if a := e.do(t, tokFatima, "PUT", "/api/v1/parent/notify", map[string]bool{"checkout": false}); a.status != 200 {
			t.Fatal(a.status)
		}
		if err := e.db.Parents.SetNotifyCheckout(ctx, central.DemoGuardianEmails["p-kees"], false); err != nil {
			t.Fatal(err)
		}
		before = e.mb.count()
		checkOut(t, e, "c-mila", "p-buurvrouw", at.Add(2*time.Minute))
		if n, _ := w.Once(ctx); n != 0 || e.mb.count() != before {
			t.Errorf("after opting out: %d mails", n)
		}
	})
}
