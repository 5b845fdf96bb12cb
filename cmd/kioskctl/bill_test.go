package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const stayGolden = "../../attendance/stays/testdata/export.golden.csv"

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestBillPresetsMatchGolden(t *testing.T) {
	for _, p := range []string{"deburcht", "bernefertier", "anzegem-bko"} {
		t.Run(p, func(t *testing.T) {
			code, out, errs := runCmd(t, "bill", "-profile", p, "-in", stayGolden)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			want, err := os.ReadFile(filepath.Join("../../attendance/billing/testdata", p+".golden.csv"))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), out); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestBillOptions(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	os.WriteFile(in, []byte("child_id,child_name,group,date,check_in,check_out,minutes,day_type\n"+
		"c1,Noor,g,2026-11-16,14:00,15:40,100,weekday\nc2,Daan,g,2026-11-16,14:00,15:50,110,weekday\n"), 0o644)
	contracts := filepath.Join(dir, "contracts.csv")
	os.WriteFile(contracts, []byte("child_id,guardian_id,rate_cents_per_hour,hours_per_month\nc1,g1,900,1\nc2,g1,,\n"), 0o644)
	profiles := filepath.Join(dir, "profiles.json")
	os.WriteFile(profiles, []byte(`{"name":"flat","methods":{"m":{"kind":"forfait","bands":[{"name":"day","amount_cents":1000}]}},"default":["m"]}`), 0o644)

	code, out, errs := runCmd(t, "bill", "-profile", "deburcht", "-in", in, "-rate", "700", "-contracts", contracts)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := "child_id,date,day_type,minutes,billed_minutes,amount_cents,rule,child_name,guardian_id,stays,rate_cents_per_hour,flags\n" +
		"c1,2026-11-16,weekday,100,105,1575,deburcht/quarter-hour,Noor,g1,1,900,\n" +
		"c2,2026-11-16,weekday,110,120,1400,deburcht/quarter-hour,Daan,g1,1,700,\n"
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("-rate and -contracts (-want +got):\n%s", diff)
	}

	code, out, errs = runCmd(t, "bill", "-profile", "deburcht", "-in", in, "-contracts", contracts, "-summary")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	wantSummary := "month,level,family_id,child_id,child_name,days,minutes,billed_minutes,contract_minutes,extra_minutes,amount_cents,unpriced_stays,flagged_lines,absence_billed_minutes\n" +
		"2026-11,child,g1,c1,Noor,1,100,105,60,45,1575,0,0,0\n" +
		"2026-11,child,g1,c2,Daan,1,110,120,0,0,1600,0,0,0\n" +
		"2026-11,family,g1,,,2,210,225,60,45,3175,0,0,0\n"
	if diff := cmp.Diff(wantSummary, out); diff != "" {
		t.Errorf("-summary (-want +got):\n%s", diff)
	}

	outFile := filepath.Join(dir, "lines.json")
	code, _, errs = runCmd(t, "bill", "-profile", "flat", "-profiles", profiles, "-in", in, "-format", "json", "-out", outFile)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	b, _ := os.ReadFile(outFile)
	if !strings.Contains(string(b), `"rule": "flat/day"`) || !strings.Contains(string(b), `"amount_cents": 1000`) {
		t.Errorf("profile from file, json out:\n%s", b)
	}
}

func TestBillErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("child_id,child_name,group,date,check_in,check_out,minutes,day_type\n"+
		"c1,Noor,g,2026-11-16,14:00,15:40,100,weekday\nc1,Noor,g,2026-11-17,15:40,14:00,0,weekday\nc1,Noor,g,2026-11-16,14:00,15:40,100,weekday\n"), 0o644)
	noCols := filepath.Join(dir, "nocols.csv")
	os.WriteFile(noCols, []byte("child_id,date\nc1,2026-11-16\n"), 0o644)
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"no profile", []string{"bill", "-in", bad}, 2, []string{"-profile is required"}},
		{"unknown profile", []string{"bill", "-profile", "x", "-in", bad}, 2, []string{`unknown tariff profile "x"`, "deburcht"}},
		{"no input", []string{"bill", "-profile", "deburcht"}, 2, []string{"-in is required"}},
		{"bad format", []string{"bill", "-profile", "deburcht", "-in", bad, "-format", "xml"}, 2, []string{`-format "xml"`}},
		{"bad rows with line numbers", []string{"bill", "-profile", "deburcht", "-in", bad}, 1,
			[]string{"line 3, column check_out: check-out before check-in", "line 4: duplicate stay", "already on line 2"}},
		{"missing columns", []string{"bill", "-profile", "deburcht", "-in", noCols}, 1,
			[]string{"line 1, column child_name: missing column", "line 1, column day_type: missing column"}},
		{"missing file", []string{"bill", "-profile", "deburcht", "-in", filepath.Join(dir, "nope.csv")}, 1, []string{"no such file"}},
		{"statement kind", []string{"statement", "-kind", "fr", "-profile", "deburcht", "-in", bad, "-year", "2026"}, 2, []string{"want nl or be"}},
		{"statement be needs contracts", []string{"statement", "-kind", "be", "-profile", "anzegem-bko", "-in", bad, "-year", "2026"}, 2, []string{"birth_date"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runCmd(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (%s)", code, tt.code, errs)
			}
			for _, w := range tt.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
		})
	}
}

func TestStatement(t *testing.T) {
	dir := t.TempDir()
	contracts := filepath.Join(dir, "contracts.csv")
	os.WriteFile(contracts, []byte("child_id,guardian_id,birth_date,end,hours_per_month,lrk\n"+
		"c1,g1,2019-01-01,2027-07-31,20,\nc2,g1,2018-01-01,,,\nc3,g2,2012-11-17,,,999\n"), 0o644)
	code, out, errs := runCmd(t, "statement", "-kind", "nl", "-profile", "bernefertier", "-in", stayGolden, "-contracts", contracts, "-year", "2026", "-lrk", "123456789")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, w := range []string{"2026,11,c1,Noor,g1,123456789,2027-07-31,20.00,", "2026,year,c3,Saar,g2,999,"} {
		if !strings.Contains(out, w) {
			t.Errorf("nl statement lacks %q:\n%s", w, out)
		}
	}
	code, out, errs = runCmd(t, "statement", "-kind", "be", "-profile", "anzegem-bko", "-in", stayGolden, "-contracts", contracts, "-year", "2026")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// c3 turned 14 on 2026-11-17: the July day counts, the November day not.
	for _, w := range []string{"2026,3,c3,Saar,g2,2012-11-17,2026-07-21,2026-07-21,1,375,375,0", "2026,4,c3,Saar,g2,2012-11-17,,,0,0,0,1"} {
		if !strings.Contains(out, w) {
			t.Errorf("281.86 data lacks %q:\n%s", w, out)
		}
	}
}

func TestBillAbsences(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	os.WriteFile(in, []byte("child_id,child_name,group,date,check_in,check_out,minutes,day_type\n"+
		"c1,Noor,g,2026-11-16,14:00,15:40,100,weekday\n"+
		"c2,Daan,g,2026-11-16,08:00,12:00,240,weekday\n"), 0o644)
	abs := filepath.Join(dir, "absences.csv")
	os.WriteFile(abs, []byte("child_id,date,kind,agreed_minutes,note\n"+
		"c1,2026-11-17,sick,100,koorts\nc1,2026-11-18,sick,100,\nc1,2026-11-19,sick,100,\n"+
		"c1,2026-11-20,provider_away,100,Adri vrij\nc1,2026-11-23,late_cancel,110,\nc1,2026-11-24,cancel,100,\n"+
		"c2,2026-11-17,sick,240,\nc2,2026-11-18,sick,240,\nc2,2026-11-19,sick,240,\nc2,2026-11-20,sick,240,\nc2,2026-11-21,sick,240,\n"+
		"c2,2026-11-22,sick,240,\nc2,2026-11-23,sick,240,\nc2,2026-11-24,sick,240,\nc2,2026-11-25,sick,240,\n"), 0o644)
	contracts := filepath.Join(dir, "contracts.csv")
	os.WriteFile(contracts, []byte("child_id,guardian_id,hours_per_month,birth_date\nc1,g1,10,2019-01-01\nc2,g2,40,2020-01-01\n"), 0o644)
	const head = "child_id,date,day_type,minutes,billed_minutes,amount_cents,rule,child_name,guardian_id,stays,rate_cents_per_hour,flags\n"

	t.Run("deburcht lines", func(t *testing.T) {
		code, out, errs := runCmd(t, "bill", "-profile", "deburcht", "-in", in, "-absences", abs, "-contracts", contracts)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		want := head +
			"c1,2026-11-16,weekday,100,105,1400,deburcht/quarter-hour,Noor,g1,1,800,\n" +
			"c1,2026-11-17,weekday,0,105,1400,deburcht/sick-first-two-days,Noor,g1,0,800,absence_sick\n" +
			"c1,2026-11-18,wednesday,0,105,1400,deburcht/sick-first-two-days,Noor,g1,0,800,absence_sick\n" +
			"c1,2026-11-19,weekday,0,0,0,deburcht/sick-after-two-days,Noor,g1,0,0,absence_sick\n" +
			"c1,2026-11-20,weekday,0,0,0,deburcht/provider-away,Noor,g1,0,0,absence_provider_away\n" +
			"c1,2026-11-23,weekday,0,120,1600,deburcht/late-cancel,Noor,g1,0,800,absence_late_cancel\n" +
			"c1,2026-11-24,weekday,0,0,0,deburcht/cancel-in-time,Noor,g1,0,0,absence_cancel\n"
		if got := strings.SplitAfter(out, "\n"); len(got) < 8 || strings.Join(got[:8], "") != want {
			t.Errorf("(-want +got):\n%s", cmp.Diff(want, out))
		}
	})
	t.Run("bernefertier summary", func(t *testing.T) {
		code, out, errs := runCmd(t, "bill", "-profile", "bernefertier", "-in", in, "-absences", abs, "-contracts", contracts, "-summary")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		// c2: 240 present (2200) + 7 sick days of 240 (5 x 2200, the weekend 2 x 3300 at 150%),
		// 2 days past the week unbilled; c1 is topped up to 20 h counting its 410 billed absence minutes.
		for _, want := range []string{"2026-11,child,g2,c2,Daan,1,240,1920,2400,0,19800,0,0,1680\n",
			"2026-11,child,g1,c1,Noor,1,100,1200,600,600,11000,0,0,410\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("summary lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("statement counts billed absence hours", func(t *testing.T) {
		code, out, errs := runCmd(t, "statement", "-kind", "nl", "-profile", "bernefertier", "-in", in, "-absences", abs,
			"-contracts", contracts, "-year", "2026", "-lrk", "123456789")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		if want := "2026,11,c2,Daan,g2,123456789,,32.00,19800,619,40.00,32.00,0.00"; !strings.Contains(out, want) {
			t.Errorf("statement lacks %q:\n%s", want, out)
		}
	})
	t.Run("calendar file sets day types", func(t *testing.T) {
		be := filepath.Join(dir, "be-abs.csv")
		os.WriteFile(be, []byte("child_id,date,kind,agreed_minutes\nc1,2026-11-11,sick,120\n"), 0o644)
		code, out, errs := runCmd(t, "bill", "-profile", "anzegem-bko", "-in", in, "-absences", be,
			"-calendar", "../../attendance/calendar/testdata/anzegem.json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		if want := "c1,2026-11-11,public_holiday,0,0,0,anzegem-bko/absence-not-billed,Noor,,0,0,absence_sick\n"; !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	})
	t.Run("help", func(t *testing.T) {
		code, _, errs := runCmd(t, "bill", "-h")
		if code != 0 {
			t.Errorf("exit %d", code)
		}
		for _, w := range []string{"child_id,date,kind,agreed_minutes[,note]", "late_cancel", "deburcht/sick-first-two-days", "-absences", "-calendar"} {
			if !strings.Contains(errs, w) {
				t.Errorf("bill -h lacks %q:\n%s", w, errs)
			}
		}
	})

	badAbs := filepath.Join(dir, "bad-abs.csv")
	os.WriteFile(badAbs, []byte("child_id,date,kind,agreed_minutes\nc1,2026-11-17,flu,100\nc1,2026-13-01,sick,100\nc1,2026-11-18,sick,-1\nc1,2026-11-17,sick,60\n"), 0o644)
	noCols := filepath.Join(dir, "nocols-abs.csv")
	os.WriteFile(noCols, []byte("child_id,date\nc1,2026-11-17\n"), 0o644)
	badCal := filepath.Join(dir, "cal.json")
	os.WriteFile(badCal, []byte(`{"country":"fr"}`), 0o644)
	out := filepath.Join(dir, "out.csv")
	for _, tt := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"bad absence rows", []string{"bill", "-profile", "deburcht", "-in", in, "-absences", badAbs, "-out", out}, 1, []string{
			badAbs + ": billing: 4 error(s)",
			`line 2, column kind: unknown absence kind "flu"`,
			"line 3, column date: absences: bad date",
			`line 4, column agreed_minutes: absences: bad agreed_minutes: "-1"`,
			"line 5, column date: absences: duplicate child and date: c1 2026-11-17 already on line 2"}},
		{"duplicate absence", []string{"bill", "-profile", "deburcht", "-in", in, "-absences", filepath.Join(dir, "dup.csv")}, 1, []string{
			"line 3, column date: absences: duplicate child and date: c1 2026-11-17 already on line 2"}},
		{"absence columns", []string{"bill", "-profile", "deburcht", "-in", in, "-absences", noCols}, 1, []string{
			"line 1, column kind: absences: bad header: missing column", "line 1, column agreed_minutes: absences: bad header: missing column"}},
		{"missing absences file", []string{"bill", "-profile", "deburcht", "-in", in, "-absences", filepath.Join(dir, "nope.csv")}, 1, []string{"no such file"}},
		{"calendar without absences", []string{"bill", "-profile", "deburcht", "-in", in, "-calendar", badCal}, 2, []string{"-calendar only gives"}},
		{"bad calendar", []string{"bill", "-profile", "deburcht", "-in", in, "-absences", abs, "-calendar", badCal}, 1, []string{badCal + ": calendar: config key \"country\""}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			os.WriteFile(filepath.Join(dir, "dup.csv"), []byte("child_id,date,kind,agreed_minutes\nc1,2026-11-17,sick,100\nc1,2026-11-17,cancel,100\n"), 0o644)
			code, _, errs := runCmd(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (%s)", code, tt.code, errs)
			}
			for _, w := range tt.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s written despite the error", out)
			}
		})
	}
}
