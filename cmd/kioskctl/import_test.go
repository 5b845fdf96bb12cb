package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/centraltest"
)

const goodCSV = `child_id,first_name,group,group_name,birth_date,photo_consent,guardian1_id,guardian1_name,guardian1_relation,guardian2_id,guardian2_name,pickup1_id,pickup1_name,pickup1_relation,staff_alert
c-noah,Noah,g-rupsen,Rupsen,2025-04-01,ja,p-sanne,Sanne de V.,moeder,p-mark,Mark de V.,p-riet,Riet J.,oma,
c-emma,Emma,g-vlinders,Vlinders,2023-10-14,,p-sanne,Sanne de V.,moeder,p-mark,Mark de V.,,,,Pinda-allergie
c-julia,Julia,g-rupsen,,2025-01-20,nee,p-ingrid,Ingrid J.,moeder,,,p-riet,Riet J.,oma,
`

var testLoc = roster.Location{ID: "loc-test", Name: "Test", Country: "NL", TimeZone: "Europe/Amsterdam", Kind: "kdv"}

func TestParseRosterCSV(t *testing.T) {
	r, err := ParseRosterCSV(strings.NewReader("\xef\xbb\xbf"+goodCSV), testLoc)
	if err != nil {
		t.Fatal(err)
	}
	full, err := mergeRoster(roster.Roster{Location: testLoc}, r)
	if err != nil {
		t.Fatal(err)
	}
	type summary struct {
		Groups    []roster.Group
		Children  []string
		People    []string
		Guardians int
		Pickups   int
	}
	got := summary{Groups: full.Groups, Guardians: len(full.Guardianships), Pickups: len(full.Authorisations)}
	for _, c := range full.Children {
		got.Children = append(got.Children, c.ID+"/"+c.FirstName+"/"+c.BirthDate.String())
	}
	for _, p := range full.People {
		got.People = append(got.People, p.ID+"/"+p.Name+"/"+p.Relation)
	}
	want := summary{
		Groups:    []roster.Group{{ID: "g-rupsen", Name: "Rupsen", Policy: "nl-kdv"}, {ID: "g-vlinders", Name: "Vlinders", Policy: "nl-kdv"}},
		Children:  []string{"c-noah/Noah/2025-04-01", "c-emma/Emma/2023-10-14", "c-julia/Julia/2025-01-20"},
		People:    []string{"p-sanne/Sanne de V./moeder", "p-mark/Mark de V./", "p-riet/Riet J./oma", "p-ingrid/Ingrid J./moeder"},
		Guardians: 5, Pickups: 2,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("roster (-want +got):\n%s", diff)
	}
	if !full.Children[0].PhotoConsent || full.Children[1].StaffAlert != "Pinda-allergie" {
		t.Error("photo consent or staff alert lost")
	}
}

func TestParseRosterCSVErrors(t *testing.T) {
	hdr := "child_id,first_name,group,birth_date,guardian1_id,guardian1_name\n"
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty file", "", []string{"line 1: empty file: want a header line"}},
		{"missing columns", "child_id,first_name\nc1,A\n", []string{`line 1: missing required column "group"`, `line 1: missing required column "birth_date"`}},
		{"unknown and double column", "child_id,first_name,group,birth_date,bsn,group\n", []string{`line 1: unknown column "bsn"`, `line 1: column "group" twice`}},
		{"bad date and empty name", hdr + "c1,,g1,2024-13-01,,\n", []string{"line 2: first_name is empty", `line 2: birth_date "2024-13-01": want YYYY-MM-DD`}},
		{"duplicate child", hdr + "c1,A,g1,2024-01-01,,\nc2,B,g1,2024-01-01,,\nc1,C,g1,2024-01-01,,\n", []string{`line 4: child_id "c1" already on line 2`}},
		{"person differs", hdr + "c1,A,g1,2024-01-01,p1,Pa\nc2,B,g1,2024-01-01,p1,Pb\n", []string{`line 3: guardian1 "p1" differs from line 2 ("Pa", "")`}},
		{"id without name", hdr + "c1,A,g1,2024-01-01,p1,\n", []string{"line 2: guardian1: id and name go together"}},
		{"field count", hdr + "c1,A,g1,2024-01-01\n", []string{"line 2: 4 fields, the header has 6"}},
		{"bad id", hdr + "c 1,A,g1,2024-01-01,,\n", []string{`line 2: child_id "c 1": use letters, digits, '-', '_' or '.' (at most 64)`}},
		{"bad quote", hdr + "c1,\"A,g1,2024-01-01,,\n", []string{"line 2: extraneous or missing \" in quoted-field (reading stops here)"}},
		{"group renamed", "child_id,first_name,group,group_name,birth_date\nc1,A,g1,One,2024-01-01\nc2,B,g1,Two,2024-01-01\n", []string{`line 3: group "g1" is named "One" on an earlier line, "Two" here`}},
		{"photo consent", "child_id,first_name,group,birth_date,photo_consent\nc1,A,g1,2024-01-01,maybe\n", []string{`line 2: photo_consent "maybe": want yes or no`}},
		{"errors on many lines", hdr + "c1,A,g1,x,,\nc2,B,,2024-01-01,,\n", []string{`line 2: birth_date "x": want YYYY-MM-DD`, "line 3: group is empty"}},
		{"no children", hdr, []string{"no children in the file"}},
		{"bidi override in a name", hdr + "c1,Zo\u202eë,g1,2024-01-01,,\n", []string{"line 2: first_name: roster: bad name: bidirectional override U+202E at byte 2"}},
		{"isolate in a guardian", hdr + "c1,A,g1,2024-01-01,p1,P\u2068x\n", []string{"line 2: guardian1: roster: bad name: bidirectional override U+2068 at byte 1"}},
		{"control character", hdr + "c1,\"A\tB\",g1,2024-01-01,,\n", []string{"line 2: first_name: roster: bad name: control character U+0009 at byte 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseRosterCSV(strings.NewReader(tt.in), testLoc)
			if !errors.Is(err, ErrImport) {
				t.Fatalf("err = %v, want ErrImport", err)
			}
			if len(r.Children) != 0 {
				t.Error("a roster came back with the error")
			}
			var got []string
			for _, e := range err.(*ImportErrors).Errs {
				got = append(got, e.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunImportOut(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "roster.csv")
	os.WriteFile(in, []byte(goodCSV), 0o644)
	out := filepath.Join(dir, "roster.json")
	var stderr bytes.Buffer
	if err := runImport(context.Background(), []string{"-in", in, "-location", "loc-test", "-name", "Test", "-out", out}, &bytes.Buffer{}, &stderr); err != nil {
		t.Fatal(err)
	}
	var r roster.Roster
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if err := r.Validate(); err != nil || len(r.Children) != 3 || r.Location.ID != "loc-test" {
		t.Fatalf("roster: %v, %d children", err, len(r.Children))
	}
	// A bad file writes nothing.
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte(goodCSV+"c-x,X,g-rupsen,nope,,,,,,,,,,,\n"), 0o644)
	out2 := filepath.Join(dir, "bad.json")
	err := runImport(context.Background(), []string{"-in", bad, "-location", "loc-test", "-out", out2}, &bytes.Buffer{}, &stderr)
	if !errors.Is(err, ErrImport) || !strings.Contains(err.Error(), "line 5:") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(out2); !os.IsNotExist(err) {
		t.Error("output written for a bad file")
	}
	for _, args := range [][]string{{}, {"-in", in}, {"-in", in, "-location", "l"}, {"-in", in, "-location", "l", "-out", "x", "-central", "http://x"}, {"-in", in, "-location", "l", "-out", "x", "-country", "DE"}} {
		var ue usageError
		if err := runImport(context.Background(), args, &bytes.Buffer{}, &stderr); !errors.As(err, &ue) {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
}

// TestRunImportCentral imports into a real central (SQLite and PostgreSQL):
// a new roster, a second version replacing the children while keeping
// staff and badges, and a file that would orphan a badge, refused with
// nothing stored.
func TestRunImportCentral(t *testing.T) {
	for _, b := range centraltest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, err := central.Open(ctx, b.DSN(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Sites.PutLocation(ctx, "loc-test", "Test", nil); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(central.NewServer(central.Config{DB: db, AdminTokens: []string{"tok-import"}}).Handler())
			defer srv.Close()
			dir := t.TempDir()
			in := filepath.Join(dir, "r.csv")
			imp := func(content, token string) error {
				os.WriteFile(in, []byte(content), 0o644)
				return runImport(ctx, []string{"-in", in, "-location", "loc-test", "-central", srv.URL, "-token", token}, &bytes.Buffer{}, &bytes.Buffer{})
			}
			if err := imp(goodCSV, "tok-import"); err != nil {
				t.Fatal(err)
			}
			r1, _, err := db.Sites.Roster(ctx, "loc-test")
			if err != nil || len(r1.Children) != 3 {
				t.Fatalf("v1: %v, %d children", err, len(r1.Children))
			}
			// Staff and a child badge added at central are kept by the next import.
			r1.Version = 0
			r1.Staff = []roster.Staff{{ID: "s-1", Name: "Lotte", Groups: []string{"g-rupsen"}}}
			r1.Badges = []roster.Badge{{Hash: strings.Repeat("ab", 32), Role: attendance.RoleChild, HolderID: "c-emma"}}
			if _, err := db.Sites.PutRoster(ctx, r1); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(goodCSV, "\n")
			withoutJulia := strings.Join(lines[:3], "\n") + "\n"
			if err := imp(withoutJulia, "tok-import"); err != nil {
				t.Fatal(err)
			}
			r3, _, _ := db.Sites.Roster(ctx, "loc-test")
			if len(r3.Children) != 2 || len(r3.Staff) != 1 || len(r3.Badges) != 1 || r3.Version != 3 {
				t.Fatalf("v%d: %d children, %d staff, %d badges", r3.Version, len(r3.Children), len(r3.Staff), len(r3.Badges))
			}
			// Dropping Emma would orphan her badge: refused, nothing stored.
			err = imp(lines[0]+"\n"+lines[1]+"\n", "tok-import")
			if !errors.Is(err, ErrImport) || !strings.Contains(err.Error(), "roster: badges[0]: unknown child") {
				t.Fatalf("err = %v", err)
			}
			if last, _, _ := db.Sites.Roster(ctx, "loc-test"); last.Version != 3 {
				t.Errorf("a refused import stored v%d", last.Version)
			}
			if err := imp(goodCSV, "wrong"); err == nil || !strings.Contains(err.Error(), "401") {
				t.Errorf("wrong token: %v", err)
			}
		})
	}
}

func FuzzParseRosterCSV(f *testing.F) {
	f.Add(goodCSV)
	f.Add("child_id,first_name,group,birth_date\nc1,A,g1,2024-01-01\n")
	f.Add("child_id,first_name,group,birth_date\n\"c1,A,g1,2024-01-01\n")
	f.Add("child_id,first_name,group,birth_date,guardian1_id,guardian1_name\nc1,A,g1,2024-01-01,p1,P\nc2,B,g1,2024-02-30,p1,P\n")
	f.Add("\xef\xbb\xbfchild_id;first_name\n")
	f.Fuzz(func(t *testing.T, in string) {
		r, err := ParseRosterCSV(strings.NewReader(in), testLoc)
		if err != nil {
			if !errors.Is(err, ErrImport) {
				t.Fatalf("error not an ImportErrors: %v", err)
			}
			if len(r.Children) != 0 {
				t.Fatal("roster returned with an error")
			}
			return
		}
		// Whatever parses must make a valid roster (ids unique, groups known).
		if _, err := mergeRoster(roster.Roster{Location: testLoc}, r); err != nil {
			t.Fatalf("parsed roster does not validate: %v", err)
		}
	})
}

const contractCSV = `child_id,first_name,group,birth_date,guardian1_id,guardian1_name,contract_start,contract_end
c-noah,Noah,g-rupsen,2025-04-01,p-sanne,Sanne de V.,2025-09-01,2026-07-31
c-emma,Emma,g-rupsen,2023-10-14,p-sanne,Sanne de V.,2024-01-08,
c-julia,Julia,g-rupsen,2025-01-20,p-ingrid,Ingrid J.,,
`

// The optional contract columns become the children's care periods at
// central (the retention terms count from their end), keeping a legal name
// and BSN entered there; they never enter the roster a kiosk receives.
func TestRunImportContracts(t *testing.T) {
	for _, bad := range []struct{ row, want string }{
		{"c1,A,g1,2024-01-01,,,2026-09-01,2026-08-31", "line 2: contract_end 2026-08-31 is before contract_start 2026-09-01"},
		{"c1,A,g1,2024-01-01,,,,2026-08-31", "line 2: contract_start \"\": want YYYY-MM-DD (required with contract_end)"},
		{"c1,A,g1,2024-01-01,,,1-9-2026,", "line 2: contract_start \"1-9-2026\""},
	} {
		_, err := ParseRosterCSV(strings.NewReader(strings.SplitN(contractCSV, "\n", 2)[0]+"\n"+bad.row+"\n"), testLoc)
		if !errors.Is(err, ErrImport) || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: %v, want %q", bad.row, err, bad.want)
		}
	}
	for _, b := range centraltest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, err := central.Open(ctx, b.DSN(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Sites.PutLocation(ctx, "loc-test", "Test", nil); err != nil {
				t.Fatal(err)
			}
			if err := db.Subjects.PutCarePeriod(ctx, central.CarePeriod{Subject: "child:c-emma", LocationID: "loc-test",
				Started: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), LegalName: "Emma de Vries", BSN: "111222333"}); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(central.NewServer(central.Config{DB: db, AdminTokens: []string{"tok-import"}}).Handler())
			defer srv.Close()
			in := filepath.Join(t.TempDir(), "r.csv")
			os.WriteFile(in, []byte(contractCSV), 0o644)
			var stderr bytes.Buffer
			if err := runImport(ctx, []string{"-in", in, "-location", "loc-test", "-central", srv.URL, "-token", "tok-import"}, &bytes.Buffer{}, &stderr); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(stderr.String(), "stored 2 contract periods") {
				t.Errorf("stderr: %s", stderr.String())
			}
			day := func(s string) time.Time {
				d := attendance.MustDate(s)
				return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
			}
			noah, err := db.Subjects.CarePeriodOf(ctx, "child:c-noah", "loc-test")
			if err != nil || !noah.Started.Equal(day("2025-09-01")) || !noah.Ended.Equal(day("2026-07-31")) {
				t.Errorf("Noah: %+v %v", noah, err)
			}
			emma, err := db.Subjects.CarePeriodOf(ctx, "child:c-emma", "loc-test")
			if err != nil || !emma.Started.Equal(day("2024-01-08")) || !emma.Ended.IsZero() || emma.LegalName != "Emma de Vries" || emma.BSN != "111222333" {
				t.Errorf("Emma: %+v %v", emma, err)
			}
			if _, err := db.Subjects.CarePeriodOf(ctx, "child:c-julia", "loc-test"); !errors.Is(err, central.ErrNotFound) {
				t.Errorf("Julia has no contract columns: %v", err)
			}
			r, _, _ := db.Sites.Roster(ctx, "loc-test")
			if body, _ := json.Marshal(r); strings.Contains(string(body), "2026-07-31") || strings.Contains(string(body), "contract") {
				t.Errorf("contract data in the roster: %s", body)
			}
			// -out: the roster JSON (for a kiosk) has no contract data.
			out := filepath.Join(t.TempDir(), "r.json")
			stderr.Reset()
			if err := runImport(ctx, []string{"-in", in, "-location", "loc-test", "-out", out}, &bytes.Buffer{}, &stderr); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(out); strings.Contains(string(b), "2026-07-31") || !strings.Contains(stderr.String(), "2 contract periods not written") {
				t.Errorf("-out: %s / %s", b, stderr.String())
			}
		})
	}
}
