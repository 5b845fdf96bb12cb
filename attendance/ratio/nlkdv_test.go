package ratio

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// kids builds a group from counts per age: kids(2,0,1,2) = two aged 0, one
// aged 2, two aged 3.
func kids(counts ...int) []Child {
	var out []Child
	for age, n := range counts {
		for range n {
			out = append(out, Child{Age: age})
		}
	}
	return out
}

func mustLookup(t testing.TB, name string) Policy {
	t.Helper()
	p, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestNLKDVWorkedExamples checks every worked example of DOMAIN.md.
func TestNLKDVWorkedExamples(t *testing.T) {
	p := mustLookup(t, "nl-kdv")
	for _, tt := range []struct {
		a, b, c, d int
		want       int
	}{
		{2, 0, 1, 2, 2},
		{3, 3, 3, 3, 3},
		{8, 5, 0, 0, 4},
		{3, 5, 8, 0, 4},
		{0, 1, 11, 1, 3},
		{2, 2, 0, 0, 1},
		{0, 0, 9, 0, 2},
		{9, 0, 0, 0, 3},
	} {
		t.Run(fmt.Sprintf("%d,%d,%d,%d", tt.a, tt.b, tt.c, tt.d), func(t *testing.T) {
			req, err := p.Required(kids(tt.a, tt.b, tt.c, tt.d))
			if err != nil {
				t.Fatal(err)
			}
			if req.Staff != tt.want {
				t.Errorf("staff = %d, want %d; notes: %q", req.Staff, tt.want, req.Notes)
			}
			if req.Backup {
				t.Error("nl-kdv never asks for an achterwacht")
			}
		})
	}
}

// TestNLKDVNotes pins the explanation of one example that uses all three
// rules' wording.
func TestNLKDVNotes(t *testing.T) {
	p := mustLookup(t, "nl-kdv")
	for _, tt := range []struct {
		name  string
		group []Child
		want  []string
	}{
		{"babies", kids(3, 3, 3, 3), []string{
			"table 1 row 0-4 (aged 0 to 3), 12 children: 2 staff",
			"babies present: ceil((48x3 + 24x3 + 20x3 + 15x3) / 144) = ceil(321/144) = 3 staff",
		}},
		{"one fewer", kids(0, 1, 11, 1), []string{
			"table 1 row 1-4 (aged 1 to 3), 13 children: 2 staff",
			"one child fewer: without one child aged 3 the group needs 3 staff, more than 2: one more",
		}},
		{"empty", nil, []string{"no children: no staff required"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := p.Required(tt.group)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, req.Notes); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNLKDVNotPermitted checks groups no column permits and ages outside
// the policy.
func TestNLKDVNotPermitted(t *testing.T) {
	p := mustLookup(t, "nl-kdv")
	for _, tt := range []struct {
		name    string
		group   []Child
		wantErr error
		reason  string
	}{
		{"17 mixed", kids(2, 5, 5, 5), ErrGroupTooLarge, "17 children aged 0 to 3: at most 16 (table 1 row 0-4)"},
		{"13 babies", kids(13), ErrGroupTooLarge, "13 children all aged 0: at most 12 (table 1 row 0-1)"},
		{"9 babies with 1-year-olds", kids(9, 1), ErrGroupTooLarge,
			"9 children aged 0 in a group of 10 aged 0 to 1: at most 8 aged 0 with 3 staff (table 1 row 0-2)"},
		{"9 babies in 16", kids(9, 3, 4), ErrGroupTooLarge,
			"9 children aged 0 in a group of 16 aged 0 to 2: at most 8 aged 0 with 4 staff (table 1 row 0-3)"},
		{"17 two-year-olds", kids(0, 0, 17), ErrGroupTooLarge, "17 children all aged 2: at most 16 (table 1 row 2-3)"},
		{"aged 4", []Child{{Age: 2}, {Age: 4}}, ErrAgeOutOfRange,
			"a child aged 4: nl-kdv (dagopvang) covers ages 0 to 3; use nl-bso from age 4"},
		{"negative", []Child{{Age: -1}}, ErrAgeOutOfRange,
			"a child aged -1: nl-kdv (dagopvang) covers ages 0 to 3; use nl-bso from age 4"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := p.Required(tt.group)
			var npe *NotPermittedError
			if !errors.As(err, &npe) {
				t.Fatalf("Required = %+v, %v; want a *NotPermittedError", req, err)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v does not wrap %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.reason, npe.Reason); diff != "" {
				t.Errorf("reason (-want +got):\n%s", diff)
			}
			if npe.Policy != "nl-kdv/2019" {
				t.Errorf("policy = %q", npe.Policy)
			}
		})
	}
}

// TestNLKDVNotMonotonic pins the official rules' non-monotonic case: adding
// a 3-year-old lowers the requirement, because rule 3 is applied once.
func TestNLKDVNotMonotonic(t *testing.T) {
	p := mustLookup(t, "nl-kdv")
	for _, tt := range []struct {
		counts []int
		want   int
	}{
		{[]int{0, 11, 0, 1}, 3},
		{[]int{0, 11, 0, 2}, 2},
		{[]int{1, 8, 0, 1}, 3},
		{[]int{1, 8, 1, 1}, 2},
	} {
		req, err := p.Required(kids(tt.counts...))
		if err != nil || req.Staff != tt.want {
			t.Errorf("%v: got %d, %v; want %d", tt.counts, req.Staff, err, tt.want)
		}
	}
}

// table1 is DOMAIN.md's table 1, verbatim. The oracle below parses it, so
// the sweep checks the production table against the document's text.
const table1 = `
| ages in group | 1 | 2 | 3 | 4 |
|---|---|---|---|---|
| 0-1 only | 3 | 6 | 9 | 12 |
| 1-2 only | 5 | 10 | 15 | 16 |
| 2-3 only | 8 | 16 | - | - |
| 3-4 only | 8 | 16 | - | - |
| 0-2 | 4 | 8 | 14 (max 8 aged 0) | 16 (max 8 aged 0) |
| 0-3 | 5 | 10 | 13 (max 8 aged 0) / 14 (max 4) / 15 (max 3) | 16 (max 8 aged 0) |
| 0-4 | 5 | 12 | 14 (max 8 aged 0) / 15 (max 5) / 16 (max 3) | 16 (max 8 aged 0) |
| 1-3 | 6 | 11 | 16 | - |
| 1-4 | 7 | 13 | 16 | - |
| 2-4 | 8 | 16 | - | - |
`

// oracle is an independent implementation of the nl-kdv rules: the table
// is keyed "the other way round" by the set of ages spanned (a string like
// "012") and by staff count, each entry a predicate built from the text;
// rule 2 is checked with exact rationals in its original fractional form;
// staff is found by trying 1, 2, 3, ... rather than by a formula.
type oracle struct {
	// permits[span][staff] reports whether staff may take n children of
	// whom babies aged 0; nil means the table has "-".
	permits map[string]map[int]func(n, babies int) bool
}

var cellAlt = regexp.MustCompile(`^(\d+)(?: \(max (\d+)(?: aged 0)?\))?$`)

func newOracle(t testing.TB) *oracle {
	t.Helper()
	o := &oracle{permits: map[string]map[int]func(int, int) bool{}}
	for line := range strings.SplitSeq(strings.TrimSpace(table1), "\n") {
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		label := cells[0]
		if label == "ages in group" || strings.HasPrefix(label, "---") {
			continue
		}
		// "X-Y only": only age X; "X-Y": ages X to Y-1 (Y exclusive).
		var lo, hi int
		if f, ok := strings.CutSuffix(label, " only"); ok {
			lo, _ = strconv.Atoi(f[:1])
			hi = lo
		} else {
			lo, _ = strconv.Atoi(label[:1])
			hi, _ = strconv.Atoi(label[2:])
			hi--
		}
		span := ""
		for a := lo; a <= hi; a++ {
			span += strconv.Itoa(a)
		}
		o.permits[span] = map[int]func(int, int) bool{}
		for staff := 1; staff <= 4; staff++ {
			cell := cells[staff]
			if cell == "-" {
				continue
			}
			type alt struct{ n, babies int }
			var alts []alt
			for a := range strings.SplitSeq(cell, " / ") {
				m := cellAlt.FindStringSubmatch(a)
				if m == nil {
					t.Fatalf("table cell %q: cannot parse %q", cell, a)
				}
				n, _ := strconv.Atoi(m[1])
				b := 1 << 30
				if m[2] != "" {
					b, _ = strconv.Atoi(m[2])
				}
				alts = append(alts, alt{n, b})
			}
			o.permits[span][staff] = func(n, babies int) bool {
				for _, a := range alts {
					if n <= a.n && babies <= a.babies {
						return true
					}
				}
				return false
			}
		}
	}
	if len(o.permits) != 10 {
		t.Fatalf("parsed %d rows of table 1, want 10", len(o.permits))
	}
	return o
}

// rules12 returns the staff by the table and the baby rule; ok false when
// no staff count the table has permits the group.
func (o *oracle) rules12(c [4]int) (int, bool) {
	n := c[0] + c[1] + c[2] + c[3]
	if n == 0 {
		return 0, true
	}
	span := ""
	first, last := -1, -1
	for age, k := range c {
		if k > 0 {
			if first < 0 {
				first = age
			}
			last = age
		}
	}
	for a := first; a <= last; a++ {
		span += strconv.Itoa(a)
	}
	row := o.permits[span]
	base := 0
	for staff := 1; staff <= 4; staff++ {
		if p := row[staff]; p != nil && p(n, c[0]) {
			base = staff
			break
		}
	}
	if base == 0 {
		return 0, false
	}
	if c[0] == 0 {
		return base, true
	}
	// a/3 + (b/5 + c/6 + d/8) / 1.2, exactly.
	x := new(big.Rat).Add(new(big.Rat).SetFrac64(int64(c[1]), 5), new(big.Rat).SetFrac64(int64(c[2]), 6))
	x.Add(x, new(big.Rat).SetFrac64(int64(c[3]), 8))
	x.Quo(x, big.NewRat(6, 5))
	x.Add(x, new(big.Rat).SetFrac64(int64(c[0]), 3))
	staff := base
	for new(big.Rat).SetInt64(int64(staff)).Cmp(x) < 0 {
		staff++
	}
	return staff, true
}

func (o *oracle) staff(c [4]int) (int, bool) {
	full, ok := o.rules12(c)
	if !ok {
		return 0, false
	}
	extra := 0
	for age := range c {
		if c[age] > 0 {
			fewer := c
			fewer[age]--
			if s, ok := o.rules12(fewer); ok && s > full {
				extra = 1
			}
		}
	}
	return full + extra, true
}

// TestNLKDVSweep checks every group of up to 20 children against the oracle,
// and pins the permitted groups for which rule 3 meets a smaller group the
// table does not permit (the oracle, like the policy, lets such a group add
// nothing; see nlKDV.staff).
func TestNLKDVSweep(t *testing.T) {
	o := newOracle(t)
	p := mustLookup(t, "nl-kdv")
	groups, permitted := 0, 0
	var smallerRefused []string
	for a := 0; a <= 20; a++ {
		for b := 0; a+b <= 20; b++ {
			for c := 0; a+b+c <= 20; c++ {
				for d := 0; a+b+c+d <= 20; d++ {
					groups++
					counts := [4]int{a, b, c, d}
					want, wantOK := o.staff(counts)
					req, err := p.Required(kids(a, b, c, d))
					if wantOK != (err == nil) || req.Staff != want {
						t.Fatalf("%v: got %d, %v; oracle %d, permitted %v", counts, req.Staff, err, want, wantOK)
					}
					if err != nil {
						if !errors.Is(err, ErrGroupTooLarge) {
							t.Fatalf("%v: %v does not wrap ErrGroupTooLarge", counts, err)
						}
						continue
					}
					permitted++
					for age := range counts {
						if counts[age] > 0 {
							fewer := counts
							fewer[age]--
							if _, ok := o.rules12(fewer); !ok {
								smallerRefused = append(smallerRefused, fmt.Sprintf("%v: %d", counts, req.Staff))
							}
						}
					}
				}
			}
		}
	}
	// 4845 groups of up to 16 are the permitted candidates; the table
	// refuses some of them (too many babies) and every group over 16.
	if groups != 10626 || permitted < 4000 || permitted > 4845 {
		t.Fatalf("swept %d groups, %d permitted: sweep is not exhaustive", groups, permitted)
	}
	want := []string{
		"[9 0 2 1]: 4", "[9 1 0 1]: 4", "[9 1 1 1]: 4", "[9 2 0 1]: 4", "[10 0 1 1]: 4", "[10 1 0 1]: 4",
	}
	if diff := cmp.Diff(want, smallerRefused); diff != "" {
		t.Errorf("groups whose one-fewer group is not permitted (-want +got):\n%s", diff)
	}
	t.Logf("swept %d groups, %d permitted", groups, permitted)
}

// TestNLKDVOrderIndependent: the order in which children are listed does not
// matter.
func TestNLKDVOrderIndependent(t *testing.T) {
	p := mustLookup(t, "nl-kdv")
	g := kids(3, 5, 8, 0)
	rev := make([]Child, len(g))
	for i := range g {
		rev[len(g)-1-i] = g[i]
	}
	r1, err1 := p.Required(g)
	r2, err2 := p.Required(rev)
	if err1 != nil || err2 != nil || r1.Staff != r2.Staff {
		t.Fatalf("%v %v / %v %v", r1, err1, r2, err2)
	}
}
