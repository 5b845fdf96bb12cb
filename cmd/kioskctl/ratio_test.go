package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// runRatioCmd runs kioskctl in-process as main would.
func runRatioCmd(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestRatioCommand(t *testing.T) {
	for _, tt := range []struct {
		name     string
		args     []string
		wantCode int
		wantLast string   // last line of stdout (exit 0)
		wantOut  []string // lines stdout must contain
		wantErr  string   // substring of stderr (exit != 0)
	}{
		{name: "contract 7", args: []string{"-policy", "nl-kdv", "-ages", "0,0,2,3,3"}, wantLast: "2",
			wantOut: []string{"policy nl-kdv/2019: 5 children aged 0,0,2,3,3",
				"babies present: ceil((48x2 + 24x0 + 20x1 + 15x2) / 144) = ceil(146/144) = 2 staff"}},
		{name: "default policy is nl-kdv", args: []string{"-ages", "3,3,3,3,3,3,3,3,3"}, wantLast: "2",
			wantOut: []string{"policy nl-kdv/2019: 9 children aged 3,3,3,3,3,3,3,3,3"}},
		{name: "versioned name", args: []string{"-policy", "nl-kdv/2019", "-ages", "1,2,2,2,2,2,2,2,2,2,2,2,3"}, wantLast: "3",
			wantOut: []string{"one child fewer: without one child aged 3 the group needs 3 staff, more than 2: one more"}},
		{name: "spaces in ages", args: []string{"-policy", "nl-kdv", "-ages", " 0, 0 ,0 "}, wantLast: "1"},
		{name: "empty group", args: []string{"-policy", "nl-kdv", "-ages", ""}, wantLast: "0"},
		{name: "nl-bso", args: []string{"-policy", "nl-bso", "-ages", "4,5,6,7,8,9,10,11,12,4,5,6"}, wantLast: "2"},
		{name: "be-vl-kdv", args: []string{"-policy", "be-vl-kdv", "-ages", "0,1,1,2,2,2,3,3,3"}, wantLast: "2"},
		{name: "custom", args: []string{"-policy", "1:4", "-ages", "5,5,5,5,5"}, wantLast: "2"},
		{name: "be-vl-gezinsopvang 8", args: []string{"-policy", "be-vl-gezinsopvang", "-ages", "0,0,1,1,2,3,6,11"}, wantLast: "1",
			wantOut: []string{"policy be-vl-gezinsopvang/2014: 8 children aged 0,0,1,1,2,3,6,11"}},
		{name: "be-vl-gezinsopvang refuses the 9th", args: []string{"-policy", "be-vl-gezinsopvang", "-ages", "0,0,1,1,2,3,6,11,4"}, wantCode: 1,
			wantErr: "kioskctl ratio: be-vl-gezinsopvang/2014: group not permitted: 9 children: at most 8 per family care home at once\n"},
		{name: "gastouder with own children", args: []string{"-policy", "nl-gastouder", "-ages", "1,4,7", "-own", "3,11"}, wantLast: "1",
			wantOut: []string{
				"policy nl-gastouder/2019: 3 children aged 1,4,7 and 2 own children aged 3,11",
				"own children aged 10 or over, not counted: 1",
				"achterwacht: required (a backup adult reachable within 15 minutes)",
			}},
		{name: "gastouder without achterwacht", args: []string{"-policy", "nl-gastouder", "-ages", "1,4", "-own", "12"}, wantLast: "1",
			wantOut: []string{"achterwacht: not required"}},
		{name: "gastouder own children over the limit", args: []string{"-policy", "nl-gastouder", "-ages", "0,0", "-own", "0"}, wantCode: 1,
			wantErr: "kioskctl ratio: nl-gastouder/2019: group not permitted: 3 children aged 0: at most 2\n"},
		{name: "not permitted", args: []string{"-policy", "nl-kdv", "-ages", "0,0,0,0,0,0,0,0,0,0,0,0,0"}, wantCode: 1,
			wantErr: "kioskctl ratio: nl-kdv/2019: group not permitted: 13 children all aged 0: at most 12 (table 1 row 0-1)\n"},
		{name: "age outside policy", args: []string{"-policy", "nl-kdv", "-ages", "2,5"}, wantCode: 1,
			wantErr: "a child aged 5: nl-kdv (dagopvang) covers ages 0 to 3; use nl-bso from age 4"},
		{name: "unknown policy", args: []string{"-policy", "nl-kdw", "-ages", "1"}, wantCode: 2,
			wantErr: `kioskctl ratio: -policy: policy "nl-kdw": unknown ratio policy (valid: 1:N, be-vl-gezinsopvang, be-vl-kdv,`},
		{name: "bad custom", args: []string{"-policy", "1:0", "-ages", "1"}, wantCode: 2, wantErr: "custom ratio must be 1:N with N from 1 to 100"},
		{name: "missing ages", args: []string{"-policy", "nl-kdv"}, wantCode: 2, wantErr: "missing -ages"},
		{name: "negative age", args: []string{"-ages", "1,-1"}, wantCode: 2, wantErr: `-ages: age 2 "-1": want a whole number of years from 0 to 99`},
		{name: "word age", args: []string{"-ages", "baby"}, wantCode: 2, wantErr: `-ages: age 1 "baby"`},
		{name: "trailing comma", args: []string{"-ages", "1,2,"}, wantCode: 2, wantErr: "-ages: age 3 is empty"},
		{name: "ages as arguments", args: []string{"-ages", "1", "2", "3"}, wantCode: 2, wantErr: `unexpected argument "2"`},
		{name: "own for another policy", args: []string{"-policy", "nl-kdv", "-ages", "1", "-own", "2"}, wantCode: 2,
			wantErr: "-own applies only to nl-gastouder, not nl-kdv"},
		{name: "bad own", args: []string{"-policy", "nl-gastouder", "-ages", "1", "-own", "x"}, wantCode: 2, wantErr: `-own: age 1 "x"`},
		{name: "unknown flag", args: []string{"-agez", "1"}, wantCode: 2, wantErr: "flag provided but not defined: -agez"},
		{name: "help", args: []string{"-h"}, wantCode: 0, wantErr: "kioskctl ratio -policy nl-gastouder -ages 1,4,7 -own 3,11"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runRatioCmd(append([]string{"ratio"}, tt.args...)...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout, stderr)
			}
			if tt.wantCode == 0 && tt.wantLast != "" {
				if diff := cmp.Diff(tt.wantLast, lastLine(stdout)); diff != "" {
					t.Errorf("last line of stdout (-want +got):\n%s\nstdout:\n%s", diff, stdout)
				}
				if stderr != "" {
					t.Errorf("stderr on success: %q", stderr)
				}
			}
			for _, l := range tt.wantOut {
				if !strings.Contains(stdout, l+"\n") {
					t.Errorf("stdout lacks line %q:\n%s", l, stdout)
				}
			}
			if tt.wantErr != "" && !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, stderr)
			}
			if tt.wantCode == 1 && strings.TrimSpace(lastLine(stdout)) != "" && !strings.HasPrefix(lastLine(stdout), "policy ") {
				t.Errorf("a refused group printed a figure: %q", stdout)
			}
		})
	}
}

func TestParseAges(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []int
		err  bool
	}{
		{in: "", want: nil},
		{in: "  ", want: nil},
		{in: "0", want: []int{0}},
		{in: "0,0,2,3,3", want: []int{0, 0, 2, 3, 3}},
		{in: " 12 , 7", want: []int{12, 7}},
		{in: "07", want: []int{7}},
		{in: "99", want: []int{99}},
		{in: "100", err: true},
		{in: "-1", err: true},
		{in: "+1", err: true},
		{in: "1.5", err: true},
		{in: "1;2", err: true},
		{in: ",", err: true},
		{in: "1,,2", err: true},
		{in: "1 2", err: true},
		{in: strings.Repeat("1,", 1000) + "1", err: true},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseAges(tt.in)
			if (err != nil) != tt.err {
				t.Fatalf("parseAges(%q) = %v, %v", tt.in, got, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ages (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseAges(f *testing.F) {
	for _, s := range []string{"", "0,0,2,3,3", " 1 , 2", "1,,2", "-1", "100", "0x1", "١", "1,2,", "99,00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ages, err := parseAges(s)
		if err != nil {
			return
		}
		for _, a := range ages {
			if a < 0 || a > 99 {
				t.Fatalf("parseAges(%q) = %v: age out of range", s, ages)
			}
		}
		// The canonical form parses back to the same list.
		again, err := parseAges(joinInts(ages))
		if err != nil || !cmp.Equal(ages, again) {
			t.Fatalf("parseAges(%q) = %v; round trip %v, %v", s, ages, again, err)
		}
	})
}
