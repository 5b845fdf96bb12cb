package retention_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "github.com/mattn/go-sqlite3"

	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/attendance/retention"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParsePeriod(t *testing.T) {
	tests := []struct {
		in   string
		want retention.Period
		err  bool
	}{
		{"7y", retention.P(7, 0, 0, 0), false},
		{"2y6m", retention.P(2, 6, 0, 0), false},
		{"6w", retention.P(0, 0, 6, 0), false},
		{"42d", retention.P(0, 0, 0, 42), false},
		{"1y2m3w4d", retention.P(1, 2, 3, 4), false},
		{"0d", retention.P(0, 0, 0, 0), false},
		{"", retention.Period{}, true},
		{"7", retention.Period{}, true},
		{"y", retention.Period{}, true},
		{"6m2y", retention.Period{}, true},
		{"1y1y", retention.Period{}, true},
		{"3h", retention.Period{}, true},
		{"-1y", retention.Period{}, true},
		{"101y", retention.Period{}, true},
		{"999999d", retention.Period{}, true},
		{"6 w", retention.Period{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := retention.ParsePeriod(tt.in)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestPeriodAtLeast(t *testing.T) {
	tests := []struct {
		p, q string
		want bool
	}{
		{"7y", "7y", true}, {"84m", "7y", true}, {"7y", "84m", true},
		{"1m", "4w", true}, {"4w", "1m", false}, {"42d", "6w", true}, {"41d", "6w", false},
		{"1y", "365d", true}, {"365d", "1y", false}, // leap years
	}
	for _, tt := range tests {
		p, _ := retention.ParsePeriod(tt.p)
		q, _ := retention.ParsePeriod(tt.q)
		if got := p.AtLeast(q); got != tt.want {
			t.Errorf("%s AtLeast %s = %v, want %v", tt.p, tt.q, got, tt.want)
		}
	}
}

func TestProfiles(t *testing.T) {
	type row struct{ Term, Extended, Disposal, Bound string }
	summary := func(profile string) map[retention.Category]row {
		pols, err := retention.Profile(profile)
		if err != nil {
			t.Fatal(err)
		}
		out := map[retention.Category]row{}
		for c, p := range pols {
			ext := ""
			if !p.ExtendedTerm.IsZero() {
				ext = p.ExtendedTerm.String()
			}
			out[c] = row{p.Term.String(), ext, string(p.Disposal), string(p.Bound)}
		}
		return out
	}
	wantNL := map[retention.Category]row{
		retention.Administration: {"7y", "", "delete", "minimum"},
		retention.Attendance:     {"7y", "", "anonymise", "minimum"},
		retention.Contact:        {"2y", "", "delete", "maximum"},
		retention.Sensitive:      {"1y", "", "delete", "maximum"},
		retention.Health:         {"1y", "", "delete", "maximum"},
		retention.Staff:          {"2y", "10y", "delete", "maximum"},
		retention.Applicant:      {"4w", "1y", "delete", "maximum"},
		retention.KioskEvents:    {"6w", "", "delete", "minimum"},
	}
	if diff := cmp.Diff(wantNL, summary("nl")); diff != "" {
		t.Errorf("nl (-want +got):\n%s", diff)
	}
	wantBE := map[retention.Category]row{
		retention.ChildFamily:    {"5y", "", "delete", "minimum"},
		retention.Complaint:      {"10y", "", "delete", "minimum"},
		retention.Attendance:     {"5y", "", "anonymise", "minimum"},
		retention.Administration: {"7y", "", "delete", "minimum"},
		retention.Health:         {"1y", "", "delete", "maximum"},
		retention.Staff:          {"2y", "10y", "delete", "maximum"},
		retention.Applicant:      {"4w", "1y", "delete", "maximum"},
		retention.KioskEvents:    {"6w", "", "delete", "minimum"},
	}
	if diff := cmp.Diff(wantBE, summary("be-vl")); diff != "" {
		t.Errorf("be-vl (-want +got):\n%s", diff)
	}
	if _, err := retention.Profile("de"); err == nil {
		t.Error("unknown profile accepted")
	}
	if err := retention.DefaultConfig().Validate(); err != nil {
		t.Errorf("default config invalid: %v", err)
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string // substring; "" = valid
		check   func(t *testing.T, c retention.Config)
	}{
		{"empty object is the default", `{}`, "", func(t *testing.T, c retention.Config) {
			if diff := cmp.Diff(retention.DefaultConfig(), c); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		}},
		{"kiosk term raised", `{"categories":{"kiosk_events":{"term":"8w"}}}`, "", func(t *testing.T, c retention.Config) {
			if got := c.Policies[retention.KioskEvents].Term.String(); got != "8w" {
				t.Errorf("term = %s", got)
			}
		}},
		{"kiosk 42 days is 6 weeks", `{"categories":{"kiosk_events":{"term":"42d"}}}`, "", nil},
		{"be-vl profile", `{"profile":"be-vl","holds":[{"category":"complaint","reason":"court case"}]}`, "", func(t *testing.T, c retention.Config) {
			if c.Profile != "be-vl" || len(c.Holds) != 1 || c.Policies[retention.ChildFamily].Term.String() != "5y" {
				t.Errorf("got %+v", c)
			}
		}},
		{"hold with until", `{"holds":[{"subject":"child:C1","reason":"GGD inquiry","until":"2027-01-01"}]}`, "", nil},
		{"kiosk below the inspection window", `{"categories":{"kiosk_events":{"term":"5w"}}}`, "categories.kiosk_events.term: 5w is below the minimum 6w", nil},
		{"kiosk one day short", `{"categories":{"kiosk_events":{"term":"41d"}}}`, "categories.kiosk_events.term: 41d is below the minimum 6w", nil},
		{"administration below legal minimum", `{"categories":{"administration":{"term":"5y"}}}`, "categories.administration.term: 5y is below the minimum 7y", nil},
		{"contact above promised maximum", `{"categories":{"contact":{"term":"3y"}}}`, "categories.contact.term: 3y is above the maximum 2y", nil},
		{"health above its maximum", `{"categories":{"health":{"term":"2y"}}}`, "categories.health.term: 2y is above the maximum 1y", nil},
		{"staff above 2 years", `{"categories":{"staff":{"term":"3y"}}}`, "categories.staff.term: 3y is above the maximum 2y", nil},
		{"staff dispute above 10 years", `{"categories":{"staff":{"extended_term":"11y"}}}`, "categories.staff.extended_term: 11y is above the maximum 10y", nil},
		{"staff shorter is fine", `{"categories":{"staff":{"term":"1y","extended_term":"5y"}}}`, "", nil},
		{"applicant above 4 weeks", `{"categories":{"applicant":{"term":"5w"}}}`, "categories.applicant.term: 5w is above the maximum 4w", nil},
		{"applicant a month is more than 4 weeks", `{"categories":{"applicant":{"term":"1m"}}}`, "categories.applicant.term: 1m is above the maximum 4w", nil},
		// A category with a promised maximum and no extended maximum of its
		// own: an extended term is a way around the maximum, so it is held
		// to the same ceiling.
		{"contact extended beyond its maximum", `{"categories":{"contact":{"extended_term":"50y"}}}`, "categories.contact.extended_term: 50y is above the maximum 2y", nil},
		{"health extended beyond its maximum", `{"categories":{"health":{"extended_term":"2y"}}}`, "categories.health.extended_term: 2y is above the maximum 1y", nil},
		{"be-vl health extended beyond its maximum", `{"profile":"be-vl","categories":{"health":{"extended_term":"13m"}}}`, "categories.health.extended_term: 13m is above the maximum 1y", nil},
		{"contact extended within its maximum", `{"categories":{"contact":{"term":"1y","extended_term":"2y"}}}`, "", nil},
		{"applicant consent above 1 year", `{"categories":{"applicant":{"extended_term":"13m"}}}`, "categories.applicant.extended_term: 13m is above the maximum 1y", nil},
		{"be-vl applicant above 4 weeks", `{"profile":"be-vl","categories":{"applicant":{"term":"2m"}}}`, "categories.applicant.term: 2m is above the maximum 4w", nil},
		{"unknown category", `{"categories":{"shoe_size":{"term":"1y"}}}`, "categories.shoe_size: no such category in profile nl", nil},
		{"category of another profile", `{"categories":{"complaint":{"term":"10y"}}}`, "categories.complaint: no such category", nil},
		{"unknown key at top", `{"profil":"nl"}`, `unknown field "profil"`, nil},
		{"unknown key in a category", `{"categories":{"contact":{"trem":"1y"}}}`, `categories.contact: json: unknown field "trem"`, nil},
		{"floor cannot be overridden", `{"categories":{"kiosk_events":{"floor":"1d","term":"1w"}}}`, `categories.kiosk_events: json: unknown field "floor"`, nil},
		{"bad term", `{"categories":{"contact":{"term":"two years"}}}`, `categories.contact`, nil},
		{"bad disposal", `{"categories":{"contact":{"disposal":"shred"}}}`, `categories.contact.disposal: "shred"`, nil},
		{"extended shorter than term", `{"categories":{"staff":{"extended_term":"1y"}}}`, `categories.staff.extended_term: 1y is shorter than term 2y`, nil},
		{"unknown profile", `{"profile":"fr"}`, `profile: "fr" is not one of nl, be-vl`, nil},
		{"hold without target", `{"holds":[{"reason":"x"}]}`, `holds[0]: needs a subject, a category or both`, nil},
		{"hold without reason", `{"holds":[{"subject":"child:C1"}]}`, `holds[0].reason`, nil},
		{"hold of unknown category", `{"holds":[{"category":"x","reason":"y"}]}`, `holds[0].category`, nil},
		{"hold with bad date", `{"holds":[{"subject":"a","reason":"y","until":"01-01-2027"}]}`, `holds[0]`, nil},
		{"hold unknown key", `{"holds":[{"subject":"a","reason":"y","untill":"2027-01-01"}]}`, `holds[0]: json: unknown field "untill"`, nil},
		{"trailing data", `{} {}`, `trailing data`, nil},
		{"not JSON", `profile=nl`, `bad config`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := retention.ParseConfig(strings.NewReader(tt.in))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseConfig: %v", err)
				}
				if tt.check != nil {
					tt.check(t, c)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, retention.ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestPlan(t *testing.T) {
	cfg, err := retention.ParseConfig(strings.NewReader(`{"holds":[
		{"subject":"child:C9","reason":"GGD inquiry"},
		{"category":"sensitive","reason":"expired hold","until":"2026-01-01"},
		{"subject":"child:C8","category":"contact","reason":"dispute about invoice","until":"2027-01-01"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	e, err := retention.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	now := day("2026-06-15")
	recs := []retention.Record{
		{ID: "ev1", Category: retention.KioskEvents, Subject: "child:C1", Anchor: day("2026-05-04")}, // due 06-15: goes
		{ID: "ev2", Category: retention.KioskEvents, Subject: "child:C1", Anchor: day("2026-05-05")}, // due 06-16: kept
		{ID: "ev3", Category: retention.KioskEvents, Subject: "child:C1"},                            // never synced: kept
		{ID: "adm1", Category: retention.Administration, Subject: "child:C1", Anchor: day("2019-06-15")},
		{ID: "adm2", Category: retention.Administration, Subject: "child:C1", Anchor: day("2019-06-16")},
		{ID: "att1", Category: retention.Attendance, Subject: "child:C1", Anchor: day("2019-01-01")},
		{ID: "con1", Category: retention.Contact, Subject: "child:C9", Anchor: day("2020-01-01")},   // held by subject
		{ID: "con2", Category: retention.Contact, Subject: "child:C8", Anchor: day("2020-01-01")},   // held, subject+category
		{ID: "sen1", Category: retention.Sensitive, Subject: "child:C8", Anchor: day("2025-01-01")}, // hold expired: goes
		{ID: "app1", Category: retention.Applicant, Subject: "applicant:A1", Anchor: day("2026-05-01")},
		{ID: "app2", Category: retention.Applicant, Subject: "applicant:A2", Anchor: day("2026-05-01"), Extended: true}, // consent: 1y
		{ID: "stf1", Category: retention.Staff, Subject: "staff:S1", Anchor: day("2024-06-01")},
		{ID: "stf2", Category: retention.Staff, Subject: "staff:S2", Anchor: day("2016-06-01"), Extended: true}, // dispute: 10y
	}
	rep, err := e.Plan(now, recs)
	if err != nil {
		t.Fatal(err)
	}
	type short struct {
		ID, Due, Disposal, Hold string
	}
	flat := func(items []retention.Item) []short {
		var out []short
		for _, it := range items {
			out = append(out, short{it.ID, it.Due.Format(time.DateOnly), string(it.Disposal), it.Hold})
		}
		return out
	}
	wantDue := []short{
		{"adm1", "2026-06-15", "delete", ""},
		{"app1", "2026-05-29", "delete", ""},
		{"att1", "2026-01-01", "anonymise", ""},
		{"ev1", "2026-06-15", "delete", ""},
		{"sen1", "2026-01-01", "delete", ""},
		{"stf1", "2026-06-01", "delete", ""},
		{"stf2", "2026-06-01", "delete", ""},
	}
	wantHeld := []short{
		{"con1", "2022-01-01", "delete", "GGD inquiry"},
		{"con2", "2022-01-01", "delete", "dispute about invoice"},
	}
	if diff := cmp.Diff(wantDue, flat(rep.Due)); diff != "" {
		t.Errorf("due (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantHeld, flat(rep.Held)); diff != "" {
		t.Errorf("held (-want +got):\n%s", diff)
	}
	if rep.Kept != 4 {
		t.Errorf("kept = %d, want 4", rep.Kept)
	}
	if _, err := e.Plan(now, []retention.Record{{ID: "x", Category: "nope"}}); !errors.Is(err, retention.ErrUnknownCategory) {
		t.Errorf("unknown category: %v", err)
	}
}

// kiosk is a kiosk-style SQLite database: an events table with a sync
// timestamp, central-style attendance, contact and administration tables,
// and the audit trail.
type kiosk struct {
	db  *sql.DB
	log *audit.Log
}

func openKiosk(t *testing.T) kiosk {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "kiosk.db")+"?_txlock=immediate&_busy_timeout=5000&_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	_, err = db.Exec(`
CREATE TABLE events (event_id TEXT PRIMARY KEY, type TEXT NOT NULL, child_id TEXT, note TEXT, synced_at_ms INTEGER);
CREATE TABLE attendance (id TEXT PRIMARY KEY, child_id TEXT, day TEXT NOT NULL, minutes INTEGER NOT NULL, year_end_ms INTEGER);
CREATE TABLE contact (id TEXT PRIMARY KEY, child_id TEXT NOT NULL, phone TEXT, ended_ms INTEGER);
CREATE TABLE administration (id TEXT PRIMARY KEY, child_id TEXT NOT NULL, contract TEXT, ended_ms INTEGER);
CREATE TABLE health (id TEXT PRIMARY KEY, child_id TEXT NOT NULL, kind TEXT NOT NULL, note TEXT, ended_ms INTEGER);
`)
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.Migrate(context.Background(), db, audit.SQLite); err != nil {
		t.Fatal(err)
	}
	return kiosk{db: db, log: audit.New(db, audit.SQLite)}
}

func ms(s string) any {
	if s == "" {
		return nil
	}
	return day(s).UnixMilli()
}

func (k kiosk) ids(t *testing.T, table string) []string {
	t.Helper()
	col := "id"
	if table == "events" {
		col = "event_id"
	}
	rows, err := k.db.Query(`SELECT ` + col + ` FROM ` + table + ` ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		out = append(out, s)
	}
	return out
}

func engineFor(t *testing.T, k kiosk, cfgJSON string) *retention.Engine {
	t.Helper()
	cfg, err := retention.ParseConfig(strings.NewReader(cfgJSON))
	if err != nil {
		t.Fatal(err)
	}
	e, err := retention.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.Audit = k.log.Hook
	reg := map[retention.Category]retention.Store{
		retention.KioskEvents: sqlTable{DB: k.db, Table: "events", ID: "event_id", Subject: "child_id", Anchor: "synced_at_ms",
			AnonymiseColumns: map[string]any{"child_id": nil, "note": nil}},
		retention.Attendance: sqlTable{DB: k.db, Table: "attendance", ID: "id", Subject: "child_id", Anchor: "year_end_ms",
			AnonymiseColumns: map[string]any{"child_id": nil}},
		retention.Contact:        sqlTable{DB: k.db, Table: "contact", ID: "id", Subject: "child_id", Anchor: "ended_ms"},
		retention.Administration: sqlTable{DB: k.db, Table: "administration", ID: "id", Subject: "child_id", Anchor: "ended_ms"},
		retention.Sensitive:      sqlTable{DB: k.db, Table: "health", ID: "id", Subject: "child_id", Anchor: "ended_ms", Where: "kind <> 'archive'"},
	}
	for c, s := range reg {
		if err := e.Register(c, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Register("complaint", reg[retention.Contact]); err == nil {
		t.Error("registered a category outside the profile")
	}
	return e
}

func TestApplyEndToEnd(t *testing.T) {
	k := openKiosk(t)
	ctx := context.Background()
	for _, ev := range []struct{ id, child, synced string }{
		{"e1", "child:C1", "2026-01-01"}, {"e2", "child:C1", "2026-05-04"}, {"e3", "child:C2", "2026-05-05"},
		{"e4", "child:C2", ""}, {"e5", "child:C3", "2026-04-01"},
	} {
		if _, err := k.db.Exec(`INSERT INTO events VALUES ($1, 'child_check_in', $2, 'note', $3)`, ev.id, ev.child, ms(ev.synced)); err != nil {
			t.Fatal(err)
		}
	}
	k.db.Exec(`INSERT INTO attendance VALUES ('a1', 'child:C1', '2018-03-01', 480, $1), ('a2', 'child:C1', '2024-03-01', 480, $2)`, ms("2018-12-31"), ms("2024-12-31"))
	// e5 belongs to a child under a legal hold.
	e := engineFor(t, k, `{"holds":[{"subject":"child:C3","reason":"incident investigation"}]}`)
	now := day("2026-06-15")

	rep, err := e.PlanStores(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	var due, held []string
	for _, it := range rep.Due {
		due = append(due, it.ID)
	}
	for _, it := range rep.Held {
		held = append(held, it.ID)
	}
	if diff := cmp.Diff([]string{"a1", "e1", "e2"}, due); diff != "" {
		t.Errorf("planned (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"e5"}, held); diff != "" {
		t.Errorf("held (-want +got):\n%s", diff)
	}
	// The plan was a dry run.
	if diff := cmp.Diff([]string{"e1", "e2", "e3", "e4", "e5"}, k.ids(t, "events")); diff != "" {
		t.Errorf("dry run changed events (-want +got):\n%s", diff)
	}

	res, err := e.Apply(ctx, rep)
	if err != nil {
		t.Fatal(err)
	}
	want := retention.Result{
		Deleted:    map[retention.Category]int64{retention.KioskEvents: 2},
		Anonymised: map[retention.Category]int64{retention.Attendance: 1},
		Held:       1,
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"e3", "e4", "e5"}, k.ids(t, "events")); diff != "" {
		t.Errorf("events left (-want +got):\n%s", diff)
	}
	var child sql.NullString
	var minutes int
	var anchor sql.NullInt64
	k.db.QueryRow(`SELECT child_id, minutes, year_end_ms FROM attendance WHERE id = 'a1'`).Scan(&child, &minutes, &anchor)
	if child.Valid || minutes != 480 || anchor.Valid {
		t.Errorf("a1 after anonymise: child %v minutes %d anchor %v; want NULL, 480, NULL", child, minutes, anchor)
	}
	// A second run finds nothing more to do.
	res2, err := e.Run(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(res2.Deleted)+len(res2.Anonymised) != 0 {
		t.Errorf("second run changed %+v", res2)
	}
	// Both runs are in the verified audit trail.
	n, err := k.log.Verify(ctx)
	if err != nil || n != 2 {
		t.Fatalf("audit Verify = %d, %v; want 2", n, err)
	}
	entries, _ := k.log.Entries(ctx, 1, 1)
	if entries[0].Action != audit.RetentionRun || !strings.Contains(string(entries[0].Details), `"kiosk_events":2`) {
		t.Errorf("audit entry %s %s", entries[0].Action, entries[0].Details)
	}
}

func TestErasureEndToEnd(t *testing.T) {
	k := openKiosk(t)
	ctx := context.Background()
	k.db.Exec(`INSERT INTO contact VALUES ('c1', 'child:C1', '0612345678', NULL), ('c2', 'child:C2', '0687654321', NULL)`)
	k.db.Exec(`INSERT INTO administration VALUES ('d1', 'child:C1', 'contract 2025', NULL), ('d2', 'child:C1', 'contract 2017', $1)`, ms("2018-01-31"))
	k.db.Exec(`INSERT INTO attendance VALUES ('a1', 'child:C1', '2026-03-01', 480, NULL)`)
	k.db.Exec(`INSERT INTO health VALUES ('h1', 'child:C1', 'allergy', 'peanuts', NULL), ('h2', 'child:C1', 'archive', 'x', NULL)`)
	k.db.Exec(`INSERT INTO events VALUES ('e1', 'child:C1', 'child:C1', '', $1)`, ms("2026-06-01"))
	e := engineFor(t, k, `{"holds":[{"subject":"child:C1","category":"kiosk_events","reason":"GGD inspection"}]}`)

	req := retention.ErasureRequest{ID: "R1", Subject: "child:C1", Received: day("2026-06-10")}
	e.LogErasureRequest(ctx, req)
	now := day("2026-06-15")
	plan, err := e.PlanErasure(ctx, req, now)
	if err != nil {
		t.Fatal(err)
	}
	type short struct{ ID, Due, Disposal, Hold string }
	flat := func(items []retention.Item) []short {
		var out []short
		for _, it := range items {
			out = append(out, short{it.ID, it.Due.Format(time.DateOnly), string(it.Disposal), it.Hold})
		}
		return out
	}
	got := map[string][]short{"now": flat(plan.Now), "scheduled": flat(plan.Scheduled), "held": flat(plan.Held)}
	want := map[string][]short{
		"now": {
			{"d2", "2026-06-15", "delete", ""}, // its 7 years are over
			{"c1", "2026-06-15", "delete", ""}, // maximum term: no law keeps it
			{"h1", "2026-06-15", "delete", ""},
		},
		"scheduled": {
			{"d1", "2033-06-10", "delete", ""},    // 7 years from the request
			{"a1", "2033-06-10", "anonymise", ""}, // likewise, then anonymised
		},
		"held": {{"e1", "2026-07-13", "delete", "GGD inspection"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if plan.Deadline != day("2026-07-10") {
		t.Errorf("deadline %s, want one month after receipt", plan.Deadline)
	}
	res, err := e.ApplyErasure(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(retention.ErasureResult{Deleted: 3, Scheduled: 2, Held: 1}, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	for table, wantIDs := range map[string][]string{
		"contact": {"c2"}, "administration": {"d1"}, "health": {"h2"}, "attendance": {"a1"}, "events": {"e1"},
	} {
		if diff := cmp.Diff(wantIDs, k.ids(t, table)); diff != "" {
			t.Errorf("%s left (-want +got):\n%s", table, diff)
		}
	}
	// The scheduled records now carry the request date as anchor, so the
	// regular run disposes of them when the 7 years end, not before.
	for _, at := range []struct {
		when string
		left []string
	}{{"2033-06-09", []string{"d1"}}, {"2033-06-10", nil}} {
		if _, err := e.Run(ctx, day(at.when)); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(at.left, k.ids(t, "administration")); diff != "" {
			t.Errorf("%s administration left (-want +got):\n%s", at.when, diff)
		}
	}
	// Audit: request with deadline, erasure with schedule, two runs.
	entries, err := k.log.Entries(ctx, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, en := range entries {
		actions = append(actions, string(en.Action))
	}
	if diff := cmp.Diff([]string{"erasure_requested", "erasure", "retention_run", "retention_run"}, actions); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
	if !strings.Contains(string(entries[0].Details), `"deadline":"2026-07-10T00:00:00Z"`) ||
		!strings.Contains(string(entries[1].Details), `"administration":"2033-06-10"`) {
		t.Errorf("audit details: %s / %s", entries[0].Details, entries[1].Details)
	}
	if _, err := e.PlanErasure(ctx, retention.ErasureRequest{ID: "R2"}, now); !errors.Is(err, retention.ErrNoSubject) {
		t.Errorf("request without subject: %v", err)
	}
}

func TestRunEveryStopsWithContext(t *testing.T) {
	k := openKiosk(t)
	e := engineFor(t, k, `{}`)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.RunEvery(ctx, time.Hour, func() time.Time { return day("2026-06-15") }) }()
	// The first run happens at once: wait for its audit entry.
	for i := 0; ; i++ {
		if n, _ := k.log.Verify(context.Background()); n == 1 {
			break
		}
		if i > 500 {
			t.Fatal("no run within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("RunEvery = %v, want nil on cancel", err)
	}
}

// TestKioskStoreShape runs retention over a table shaped like the kiosk
// store's events (STRICT, nanosecond times) with the acknowledgement time
// per event that the purge needs.
func TestKioskStoreShape(t *testing.T) {
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "kiosk.db")+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.Exec(`CREATE TABLE events (
		seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,
		child_id TEXT, staff_id TEXT, wall_ns INTEGER NOT NULL, body TEXT NOT NULL, acked_ns INTEGER) STRICT`)
	if err != nil {
		t.Fatal(err)
	}
	ack := func(s string) any {
		if s == "" {
			return nil // not yet acknowledged by central: never purged
		}
		return day(s).UnixNano()
	}
	for i, a := range []string{"2026-01-10", "2026-05-04", "2026-05-05", ""} {
		if _, err := db.Exec(`INSERT INTO events (event_id, type, child_id, wall_ns, body, acked_ns) VALUES ($1, 'child_check_in', 'C1', 0, '{}', $2)`,
			"ev"+string(rune('1'+i)), ack(a)); err != nil {
			t.Fatal(err)
		}
	}
	e, err := retention.NewEngine(retention.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Register(retention.KioskEvents, sqlTable{DB: db, Table: "events", ID: "event_id", Subject: "child_id", Anchor: "acked_ns", AnchorNanos: true}); err != nil {
		t.Fatal(err)
	}
	res, err := e.Run(context.Background(), day("2026-06-15"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted[retention.KioskEvents] != 2 {
		t.Errorf("deleted %d, want 2", res.Deleted[retention.KioskEvents])
	}
	var left []string
	rows, _ := db.Query(`SELECT event_id FROM events ORDER BY seq`)
	for rows.Next() {
		var s string
		rows.Scan(&s)
		left = append(left, s)
	}
	rows.Close()
	if diff := cmp.Diff([]string{"ev3", "ev4"}, left); diff != "" {
		t.Errorf("left (-want +got):\n%s", diff)
	}
}
