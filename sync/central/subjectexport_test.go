package central_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/sync/central"
)

// TestSubjectExportHoldsEveryCategory: the right of access (AVG art. 15)
// answers with every category of seed 001's table that central holds on
// the subject, as the retention run knows them (administration: care
// period with legal name and BSN; contact: address, e-mail, phone, bank
// account, birth date in the roster entry; health: the staff alert in the
// stored roster versions; attendance; audit entries naming the subject),
// for a child, a guardian, a staff member and an applicant, and nothing of
// another subject.
func TestSubjectExportHoldsEveryCategory(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		seedDays(t, e.db, "2026-11-10")
		start := time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)
		put := func(subject, name, bsn, addr, iban string) {
			t.Helper()
			if err := e.db.Subjects.PutCarePeriod(ctx, central.CarePeriod{Subject: subject, LocationID: loc, Started: start, LegalName: name, BSN: bsn}); err != nil {
				t.Fatal(err)
			}
			if err := e.db.Subjects.PutContact(ctx, central.ContactDetails{Subject: subject, LocationID: loc, Address: addr, Postcode: "1234 AB",
				City: "Ergens", Email: strings.ToLower(strings.Fields(name)[0]) + "@example.nl", Phone: "0612345678", BankAccount: iban}); err != nil {
				t.Fatal(err)
			}
		}
		put("child:c-emma", "Emma de Vries", "111222333", "Emmastraat 1", "")
		put("child:c-noah", "Noah Jansen", "999888777", "Noahlaan 9", "")
		put("person:p-fatima", "Fatima Bakker", "123456782", "Fatimaweg 2", "NL20INGB0001234567")
		put("person:p-kees", "Kees Bakker", "234567891", "Keesweg 3", "NL91ABNA0417164300")
		put("staff:s-lotte", "Lotte Smit", "345678912", "Lottepad 4", "NL02RABO0123456789")
		put("staff:s-ahmed", "Ahmed Yilmaz", "456789123", "Ahmedhof 5", "NL44RABO0123456788")
		put("applicant:a-sara", "Sara Visser", "", "Saraplein 6", "")
		put("applicant:a-bram", "Bram Mulder", "", "Bramkade 7", "")
		// The alert changes in a later roster version: both are held.
		rs, _, _ := e.db.Sites.Roster(ctx, loc)
		for i := range rs.Children {
			if rs.Children[i].ID == "c-emma" {
				rs.Children[i].StaffAlert = "Pinda- en notenallergie"
			}
		}
		rs.Version++
		if _, err := e.db.Sites.PutRoster(ctx, rs); err != nil {
			t.Fatal(err)
		}
		for _, sub := range []string{"child:c-emma", "child:c-noah", "person:p-fatima", "person:p-kees", "staff:s-lotte", "staff:s-ahmed", "applicant:a-sara", "applicant:a-bram"} {
			if _, err := e.audit.Append(ctx, audit.Record{Actor: "user:test", Action: audit.PersonalDataChange, Subject: sub, Details: map[string]any{"n": sub}}); err != nil {
				t.Fatal(err)
			}
		}

		export := func(subject string) (central.SubjectExport, string) {
			t.Helper()
			x, err := e.db.Subjects.ExportSubject(ctx, subject, e.audit)
			if err != nil {
				t.Fatalf("export %s: %v", subject, err)
			}
			b, _ := json.Marshal(x)
			return x, string(b)
		}
		absent := func(subject, body string, others ...string) {
			t.Helper()
			for _, o := range others {
				if strings.Contains(body, o) {
					t.Errorf("export of %s holds %q of another subject", subject, o)
				}
			}
		}
		common := func(subject string, x central.SubjectExport, name, bsn, addr string) {
			t.Helper()
			if len(x.CarePeriods) != 1 || x.CarePeriods[0].LegalName != name || x.CarePeriods[0].BSN != bsn {
				t.Errorf("%s administration (care period): %+v", subject, x.CarePeriods)
			}
			if len(x.Contacts) != 1 || x.Contacts[0].Address != addr || x.Contacts[0].Phone == "" || x.Contacts[0].Email == "" {
				t.Errorf("%s contact details: %+v", subject, x.Contacts)
			}
			n := 0
			for _, a := range x.Audit {
				if a.Subject == subject {
					n++
				}
			}
			if n == 0 {
				t.Errorf("%s: no audit entry naming it", subject)
			}
		}

		x, body := export("child:c-emma")
		common("child:c-emma", x, "Emma de Vries", "111222333", "Emmastraat 1")
		if len(x.Locations) != 1 || x.Locations[0].Child == nil || x.Locations[0].Child.BirthDate.IsZero() || x.Locations[0].Left {
			t.Errorf("child roster entry (birth date): %+v", x.Locations)
		}
		var alerts []string
		for _, a := range x.HealthAlerts {
			alerts = append(alerts, a.Alert)
		}
		if len(alerts) != 2 || !strings.HasPrefix(alerts[0], "Pinda-allergie") || alerts[1] != "Pinda- en notenallergie" {
			t.Errorf("health alerts %q, want both versions' alerts", alerts)
		}
		if len(x.Stays) == 0 || len(x.Events) == 0 {
			t.Errorf("attendance: %d stays, %d events", len(x.Stays), len(x.Events))
		}
		absent("child:c-emma", body, "Noah Jansen", "999888777", "Noahlaan", "Lactose", "Fatima Bakker")

		x, body = export("person:p-fatima")
		common("person:p-fatima", x, "Fatima Bakker", "123456782", "Fatimaweg 2")
		if len(x.Contacts) == 1 && x.Contacts[0].BankAccount != "NL20INGB0001234567" {
			t.Errorf("guardian bank account: %+v", x.Contacts)
		}
		if len(x.Locations) != 1 || x.Locations[0].Person == nil || len(x.Locations[0].Guardianships) == 0 {
			t.Errorf("guardian roster entry: %+v", x.Locations)
		}
		absent("person:p-fatima", body, "Kees Bakker", "234567891", "Keesweg", "NL91ABNA", "Emma de Vries", "Pinda")

		x, body = export("staff:s-lotte")
		common("staff:s-lotte", x, "Lotte Smit", "345678912", "Lottepad 4")
		if len(x.Locations) != 1 || x.Locations[0].Staff == nil || x.Locations[0].Staff.Name != "Lotte" {
			t.Errorf("staff roster entry: %+v", x.Locations)
		}
		for _, ev := range x.Events {
			if ev.Role != "staff" && ev.Role != "actor" {
				t.Errorf("staff event %+v", ev)
			}
		}
		absent("staff:s-lotte", body, "Ahmed", "456789123", "pin_hash", "Emma de Vries")

		x, body = export("applicant:a-sara")
		common("applicant:a-sara", x, "Sara Visser", "", "Saraplein 6")
		if len(x.Locations) != 0 || len(x.Events) != 0 {
			t.Errorf("applicant: roster %+v events %d", x.Locations, len(x.Events))
		}
		absent("applicant:a-sara", body, "Bram", "Bramkade")

		if _, err := e.db.Subjects.ExportSubject(ctx, "applicant:a-nobody", e.audit); !errors.Is(err, central.ErrNotFound) {
			t.Errorf("unknown applicant: %v, want ErrNotFound", err)
		}
		if _, err := e.db.Subjects.ExportSubject(ctx, "martian:x", e.audit); !errors.Is(err, central.ErrMalformed) {
			t.Errorf("unknown kind: %v, want ErrMalformed", err)
		}
	})
}
