package ratio

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ages builds a group of children (not the childminder's own) from ages.
func ages(as ...int) []Child {
	out := make([]Child, len(as))
	for i, a := range as {
		out[i] = Child{Age: a}
	}
	return out
}

// own builds a group of the childminder's own children.
func own(as ...int) []Child {
	out := ages(as...)
	for i := range out {
		out[i].Own = true
	}
	return out
}

func repeat(age, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = age
	}
	return out
}

func join(groups ...[]Child) []Child {
	var out []Child
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

type policyCase struct {
	name       string
	group      []Child
	wantStaff  int
	wantBackup bool
	wantErr    error  // nil: permitted
	reason     string // checked when wantErr != nil
}

func runPolicyCases(t *testing.T, policy string, cases []policyCase) {
	t.Helper()
	p := mustLookup(t, policy)
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			req, err := p.Required(tt.group)
			if tt.wantErr != nil {
				var npe *NotPermittedError
				if !errors.As(err, &npe) || !errors.Is(err, tt.wantErr) {
					t.Fatalf("Required = %+v, %v; want a *NotPermittedError wrapping %v", req, err, tt.wantErr)
				}
				if diff := cmp.Diff(tt.reason, npe.Reason); diff != "" {
					t.Errorf("reason (-want +got):\n%s", diff)
				}
				if npe.Policy != p.Version() {
					t.Errorf("error names policy %q, want %q", npe.Policy, p.Version())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := struct{ Staff, Backup any }{req.Staff, req.Backup}
			want := struct{ Staff, Backup any }{tt.wantStaff, tt.wantBackup}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("requirement (-want +got):\n%s\nnotes: %q", diff, req.Notes)
			}
			if len(req.Notes) == 0 {
				t.Error("no explanation notes")
			}
		})
	}
}

func TestNLBSO(t *testing.T) {
	runPolicyCases(t, "nl-bso", []policyCase{
		{name: "empty", group: nil, wantStaff: 0},
		{name: "10 young", group: ages(repeat(4, 10)...), wantStaff: 1},
		{name: "11 young", group: ages(repeat(6, 11)...), wantStaff: 2},
		{name: "20 young", group: ages(repeat(5, 20)...), wantStaff: 2},
		{name: "21 young", group: ages(repeat(5, 21)...), wantErr: ErrGroupTooLarge,
			reason: "21 children: at most 20 (table 2 row 4-7 (all aged 4 to 6))"},
		{name: "12 old", group: ages(repeat(7, 12)...), wantStaff: 1},
		{name: "13 old", group: ages(repeat(12, 13)...), wantStaff: 2},
		{name: "24 old", group: ages(repeat(9, 24)...), wantStaff: 2},
		{name: "25 old", group: ages(repeat(9, 25)...), wantStaff: 3},
		{name: "30 old", group: ages(repeat(10, 30)...), wantStaff: 3},
		{name: "31 old", group: ages(repeat(10, 31)...), wantErr: ErrGroupTooLarge,
			reason: "31 children: at most 30 (table 2 row 7-13 (all aged 7 to 12))"},
		{name: "mixed 11 with 9 young", group: ages(append(repeat(4, 9), 7, 8)...), wantStaff: 1},
		{name: "mixed 11 with 10 young", group: ages(append(repeat(6, 10), 7)...), wantStaff: 2},
		{name: "mixed 12", group: ages(append(repeat(4, 2), repeat(8, 10)...)...), wantStaff: 2},
		{name: "mixed 22 with 18 young", group: ages(append(repeat(5, 18), repeat(8, 4)...)...), wantStaff: 2},
		{name: "mixed 20 with 19 young", group: ages(append(repeat(5, 19), 12)...), wantStaff: 3},
		{name: "mixed 23", group: ages(append(repeat(5, 3), repeat(8, 20)...)...), wantStaff: 3},
		{name: "mixed 30", group: ages(append(repeat(4, 25), repeat(12, 5)...)...), wantStaff: 3},
		{name: "mixed 31", group: ages(append(repeat(4, 1), repeat(12, 30)...)...), wantErr: ErrGroupTooLarge,
			reason: "31 children: at most 30 (table 2 row 4-13 (aged 4 to 12))"},
		{name: "aged 3", group: ages(3, 5), wantErr: ErrAgeOutOfRange, reason: "a child aged 3: nl-bso covers ages 4 to 12"},
		{name: "aged 13", group: ages(13), wantErr: ErrAgeOutOfRange, reason: "a child aged 13: nl-bso covers ages 4 to 12"},
	})
}

func TestNLGastouder(t *testing.T) {
	runPolicyCases(t, "nl-gastouder", []policyCase{
		{name: "empty", group: nil, wantStaff: 0},
		{name: "one", group: ages(5), wantStaff: 1},
		{name: "three", group: ages(1, 5, 8), wantStaff: 1},
		{name: "four: achterwacht", group: ages(1, 5, 8, 12), wantStaff: 1, wantBackup: true},
		{name: "six aged 4 to 12", group: ages(4, 5, 6, 7, 8, 12), wantStaff: 1, wantBackup: true},
		{name: "seven", group: ages(4, 5, 6, 7, 8, 9, 10), wantErr: ErrGroupTooLarge,
			reason: "7 children counted (own children under 10 included): at most 6"},
		{name: "own under 10 counts", group: join(ages(4, 5, 6, 7, 8), own(9, 3)), wantErr: ErrGroupTooLarge,
			reason: "7 children counted (own children under 10 included): at most 6"},
		{name: "own 10 and over not counted", group: join(ages(4, 5, 6, 7, 8, 9), own(10, 14)), wantStaff: 1, wantBackup: true},
		{name: "own aged 13 is fine", group: own(13), wantStaff: 0},
		{name: "own toward achterwacht", group: join(ages(2, 3, 5), own(1)), wantStaff: 1, wantBackup: true},
		{name: "own 10 not toward achterwacht", group: join(ages(2, 3, 5), own(10)), wantStaff: 1},
		{name: "five under 4", group: ages(0, 1, 2, 3, 3), wantStaff: 1, wantBackup: true},
		{name: "six under 4", group: ages(0, 1, 2, 3, 3, 3), wantErr: ErrGroupTooLarge,
			reason: "6 children, all under 4: at most 5"},
		{name: "six under 4 with own", group: join(ages(1, 2, 3, 3, 3), own(2)), wantErr: ErrGroupTooLarge,
			reason: "6 children, all under 4: at most 5"},
		{name: "six with one aged 4", group: ages(0, 1, 2, 3, 3, 4), wantStaff: 1, wantBackup: true},
		{name: "four under 2", group: ages(0, 0, 1, 1, 5), wantStaff: 1, wantBackup: true},
		{name: "five under 2", group: ages(0, 1, 1, 1, 1, 5), wantErr: ErrGroupTooLarge,
			reason: "5 children aged 0 or 1: at most 4"},
		{name: "five under 2 with own", group: join(ages(0, 1, 1, 1, 6), own(1)), wantErr: ErrGroupTooLarge,
			reason: "5 children aged 0 or 1: at most 4"},
		{name: "three aged 0", group: ages(0, 0, 0), wantErr: ErrGroupTooLarge,
			reason: "3 children aged 0: at most 2"},
		{name: "own baby counts", group: join(ages(0, 0), own(0)), wantErr: ErrGroupTooLarge,
			reason: "3 children aged 0: at most 2"},
		{name: "aged 13 not own", group: ages(13), wantErr: ErrAgeOutOfRange,
			reason: "a child aged 13: nl-gastouder covers ages 0 to 12"},
		{name: "negative", group: ages(-2), wantErr: ErrAgeOutOfRange, reason: "negative age -2"},
	})
}

func TestFlemishAndCustom(t *testing.T) {
	t.Run("be-vl-kdv", func(t *testing.T) {
		runPolicyCases(t, "be-vl-kdv", []policyCase{
			{name: "empty", wantStaff: 0},
			{name: "8", group: ages(repeat(1, 8)...), wantStaff: 1},
			{name: "9", group: ages(repeat(2, 9)...), wantStaff: 2},
			{name: "16", group: ages(repeat(0, 16)...), wantStaff: 2},
			{name: "17", group: ages(repeat(3, 17)...), wantStaff: 3},
			{name: "18", group: ages(repeat(3, 18)...), wantStaff: 3},
			{name: "19", group: ages(repeat(3, 19)...), wantErr: ErrGroupTooLarge, reason: "19 children: at most 18 per living group"},
			{name: "aged 4", group: ages(4), wantErr: ErrAgeOutOfRange, reason: "a child aged 4: be-vl-kdv covers ages 0 to 3"},
		})
	})
	t.Run("be-vl-kdv-1:9", func(t *testing.T) {
		runPolicyCases(t, "be-vl-kdv-1:9", []policyCase{
			{name: "9", group: ages(repeat(1, 9)...), wantStaff: 1},
			{name: "10", group: ages(repeat(1, 10)...), wantStaff: 2},
			{name: "18", group: ages(repeat(1, 18)...), wantStaff: 2},
			{name: "19", group: ages(repeat(1, 19)...), wantErr: ErrGroupTooLarge, reason: "19 children: at most 18 per living group"},
		})
	})
	t.Run("be-vl-gezinsopvang", func(t *testing.T) {
		runPolicyCases(t, "be-vl-gezinsopvang", []policyCase{
			{name: "empty", wantStaff: 0},
			{name: "1", group: ages(0), wantStaff: 1},
			{name: "8 at once", group: ages(0, 0, 1, 1, 2, 3, 6, 11), wantStaff: 1},
			{name: "the 9th is refused", group: ages(repeat(1, 9)...), wantErr: ErrGroupTooLarge,
				reason: "9 children: at most 8 per family care home at once"},
			{name: "aged 13", group: ages(13), wantErr: ErrAgeOutOfRange, reason: "a child aged 13: be-vl-gezinsopvang covers ages 0 to 12"},
		})
	})
	t.Run("1:8", func(t *testing.T) {
		runPolicyCases(t, "1:8", []policyCase{
			{name: "empty", wantStaff: 0},
			{name: "1", group: ages(7), wantStaff: 1},
			{name: "8", group: ages(repeat(15, 8)...), wantStaff: 1},
			{name: "9", group: ages(repeat(0, 9)...), wantStaff: 2},
			{name: "40", group: ages(repeat(6, 40)...), wantStaff: 5},
			{name: "41", group: ages(repeat(6, 41)...), wantStaff: 6},
			{name: "negative", group: ages(-1), wantErr: ErrAgeOutOfRange, reason: "negative age -1"},
		})
	})
	t.Run("1:1", func(t *testing.T) {
		runPolicyCases(t, "1:1", []policyCase{{name: "3", group: ages(1, 2, 3), wantStaff: 3}})
	})
}

func TestLookup(t *testing.T) {
	for _, tt := range []struct {
		name, wantName, wantVersion string
	}{
		{"nl-kdv", "nl-kdv", "nl-kdv/2019"},
		{"nl-kdv/2019", "nl-kdv", "nl-kdv/2019"},
		{"nl-bso", "nl-bso", "nl-bso/2019"},
		{"nl-gastouder", "nl-gastouder", "nl-gastouder/2019"},
		{"be-vl-kdv", "be-vl-kdv", "be-vl-kdv/2014"},
		{"be-vl-kdv-1:9", "be-vl-kdv-1:9", "be-vl-kdv-1:9/2014"},
		{"be-vl-gezinsopvang", "be-vl-gezinsopvang", "be-vl-gezinsopvang/2014"},
		{"1:8", "1:8", "1:8"},
		{"1:100", "1:100", "1:100"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := mustLookup(t, tt.name)
			if diff := cmp.Diff([]string{tt.wantName, tt.wantVersion}, []string{p.Name(), p.Version()}); diff != "" {
				t.Errorf("name, version (-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{"", "nl-kdv/2024", "NL-KDV", "1:0", "1:101", "1:08", "1:-3", "1:", "2:8", "1:8 ", "kdv"} {
		t.Run("bad "+bad, func(t *testing.T) {
			p, err := Lookup(bad)
			if !errors.Is(err, ErrUnknownPolicy) {
				t.Fatalf("Lookup(%q) = %v, %v; want ErrUnknownPolicy", bad, p, err)
			}
		})
	}
	_, err := Lookup("nope")
	for _, n := range append(Names(), Versions()...) {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error %q does not list %q", err, n)
		}
	}
}

func TestNames(t *testing.T) {
	want := []string{"1:N", "be-vl-gezinsopvang", "be-vl-kdv", "be-vl-kdv-1:9", "nl-bso", "nl-gastouder", "nl-kdv"}
	if diff := cmp.Diff(want, Names()); diff != "" {
		t.Errorf("Names (-want +got):\n%s", diff)
	}
	// Every bare name except the pattern, and every version, resolves to a
	// policy that reports that name.
	for _, n := range append(Names(), Versions()...) {
		if n == "1:N" {
			continue
		}
		p := mustLookup(t, n)
		if !strings.HasPrefix(n, p.Name()) || !strings.HasPrefix(p.Version(), p.Name()+"/") {
			t.Errorf("Lookup(%q): name %q version %q", n, p.Name(), p.Version())
		}
	}
}

func TestNotPermittedErrorMessage(t *testing.T) {
	_, err := mustLookup(t, "nl-kdv").Required(kids(13))
	want := "ratio: nl-kdv/2019: group not permitted: 13 children all aged 0: at most 12 (table 1 row 0-1)"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func TestCustom(t *testing.T) {
	for _, n := range []int{0, -1, 101} {
		if _, err := Custom(n); !errors.Is(err, ErrUnknownPolicy) {
			t.Errorf("Custom(%d) = %v, want ErrUnknownPolicy", n, err)
		}
	}
	p, err := Custom(12)
	if err != nil || p.Name() != "1:12" {
		t.Fatalf("Custom(12) = %v, %v", p, err)
	}
}
