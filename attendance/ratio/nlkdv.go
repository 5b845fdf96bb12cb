package ratio

import "fmt"

// nlKDV is Dutch dagopvang: Besluit kwaliteit kinderopvang table 1 (2019)
// plus the calculation rules of the government rekentool (1ratio.nl), as
// DOMAIN.md states them. The rules are applied exactly once and are not
// monotonic: adding a child can lower the requirement (a,b,c,d = 0,11,0,1
// needs 3 staff by rule 3, 0,11,0,2 needs 2). That is the official method;
// do not "fix" it.
type nlKDV struct{}

func (nlKDV) Name() string    { return "nl-kdv" }
func (nlKDV) Version() string { return "nl-kdv/2019" }

// kdvLimit is one alternative in a table cell: at most children in the
// group, of whom at most babies aged 0.
type kdvLimit struct{ children, babies int }

// kdvRow is one row of table 1, chosen by the youngest and oldest age
// present. cols[s-1] lists the alternatives for s staff; a cell holds when
// any alternative holds; an empty cell is a "-" in the table.
type kdvRow struct {
	youngest, oldest int
	label            string // the table's own notation, e.g. "0-4"
	cols             [4][]kdvLimit
}

// anyBabies is the baby cap of a cell that has none.
const anyBabies = 16

// kdvRows is table 1 of DOMAIN.md, row by row.
var kdvRows = []kdvRow{
	{0, 0, "0-1", [4][]kdvLimit{{{3, anyBabies}}, {{6, anyBabies}}, {{9, anyBabies}}, {{12, anyBabies}}}},
	{1, 1, "1-2", [4][]kdvLimit{{{5, 0}}, {{10, 0}}, {{15, 0}}, {{16, 0}}}},
	{2, 2, "2-3", [4][]kdvLimit{{{8, 0}}, {{16, 0}}, nil, nil}},
	{3, 3, "3-4", [4][]kdvLimit{{{8, 0}}, {{16, 0}}, nil, nil}},
	{0, 1, "0-2", [4][]kdvLimit{{{4, anyBabies}}, {{8, anyBabies}}, {{14, 8}}, {{16, 8}}}},
	{0, 2, "0-3", [4][]kdvLimit{{{5, anyBabies}}, {{10, anyBabies}}, {{13, 8}, {14, 4}, {15, 3}}, {{16, 8}}}},
	{0, 3, "0-4", [4][]kdvLimit{{{5, anyBabies}}, {{12, anyBabies}}, {{14, 8}, {15, 5}, {16, 3}}, {{16, 8}}}},
	{1, 2, "1-3", [4][]kdvLimit{{{6, 0}}, {{11, 0}}, {{16, 0}}, nil}},
	{1, 3, "1-4", [4][]kdvLimit{{{7, 0}}, {{13, 0}}, {{16, 0}}, nil}},
	{2, 3, "2-4", [4][]kdvLimit{{{8, 0}}, {{16, 0}}, nil, nil}},
}

// kdvRowIndex[youngest][oldest] indexes kdvRows.
var kdvRowIndex = func() (idx [4][4]int8) {
	for y := range idx {
		for o := range idx[y] {
			idx[y][o] = -1
		}
	}
	for i, r := range kdvRows {
		idx[r.youngest][r.oldest] = int8(i)
	}
	return idx
}()

// kdvCounts holds the children present by age 0..3 (a, b, c, d).
type kdvCounts [4]int

func (k kdvCounts) total() int { return k[0] + k[1] + k[2] + k[3] }

// row returns the table row for the ages present; ok is false for an
// empty group.
func (k kdvCounts) row() (*kdvRow, bool) {
	y, o := -1, -1
	for age, n := range k {
		if n > 0 {
			if y < 0 {
				y = age
			}
			o = age
		}
	}
	if y < 0 {
		return nil, false
	}
	return &kdvRows[kdvRowIndex[y][o]], true
}

// tableStaff is rule 1: the first column of the row whose maximum and
// baby cap both hold. ok is false when no column fits.
func (k kdvCounts) tableStaff() (staff int, ok bool) {
	r, any := k.row()
	if !any {
		return 0, true
	}
	n := k.total()
	for s, cell := range r.cols {
		for _, l := range cell {
			if n <= l.children && k[0] <= l.babies {
				return s + 1, true
			}
		}
	}
	return 0, false
}

// babyStaff is the rule-2 figure ceil((48a + 24b + 20c + 15d) / 144), the
// exact integer form of ceil(a/3 + (b/5 + c/6 + d/8) / 1.2).
func (k kdvCounts) babyStaff() int {
	return ceilDiv(48*k[0]+24*k[1]+20*k[2]+15*k[3], 144)
}

// staff12 applies rules 1 and 2.
func (k kdvCounts) staff12() (int, bool) {
	s, ok := k.tableStaff()
	if !ok {
		return 0, false
	}
	if k[0] > 0 {
		s = max(s, k.babyStaff())
	}
	return s, true
}

// staff applies rules 1, 2 and 3 once. It reports which age triggered
// rule 3 (-1: none).
//
// A smaller group that the table does not permit needs no number of staff,
// so it is not one that "needs more": it adds nothing. This happens in
// exactly six permitted groups, 9 or 10 aged 0 with one aged 3 in a group
// of 11 or 12 (row 0-4 column 2 has no baby cap; without the 3-year-old the
// group falls into row 0-3, whose columns 3 and 4 allow at most 8 aged 0).
// They need 4 staff by rule 2. The test sweep pins that list.
func (k kdvCounts) staff() (staff int, ok bool, fewerAge, fewerStaff int) {
	full, ok := k.staff12()
	if !ok {
		return 0, false, -1, 0
	}
	for age := range k {
		if k[age] == 0 {
			continue
		}
		smaller := k
		smaller[age]--
		if s, ok := smaller.staff12(); ok && s > full {
			return full + 1, true, age, s
		}
	}
	return full, true, -1, 0
}

// notPermittedReason explains why no column of the row fits.
func (k kdvCounts) notPermittedReason() string {
	r, _ := k.row()
	n := k.total()
	most := 0
	for _, cell := range r.cols {
		for _, l := range cell {
			most = max(most, l.children)
		}
	}
	if n > most {
		return fmt.Sprintf("%d children %s: at most %d (table 1 row %s)", n, agesPhrase(r), most, r.label)
	}
	// The group is small enough for the row but has too many babies for
	// every column that takes its size: name the largest baby cap on offer.
	best, bestStaff := -1, 0
	for s, cell := range r.cols {
		for _, l := range cell {
			if n <= l.children && l.babies > best {
				best, bestStaff = l.babies, s+1
			}
		}
	}
	return fmt.Sprintf("%d children aged 0 in a group of %d %s: at most %d aged 0 with %d staff (table 1 row %s)",
		k[0], n, agesPhrase(r), best, bestStaff, r.label)
}

func agesPhrase(r *kdvRow) string {
	if r.youngest == r.oldest {
		return fmt.Sprintf("all aged %d", r.youngest)
	}
	return fmt.Sprintf("aged %d to %d", r.youngest, r.oldest)
}

var ageNames = [4]string{"aged 0", "aged 1", "aged 2", "aged 3"}

func (p nlKDV) Required(children []Child) (Requirement, error) {
	var k kdvCounts
	for _, c := range children {
		if c.Age < 0 || c.Age > 3 {
			return Requirement{}, notPermitted(p.Version(), ErrAgeOutOfRange,
				"a child aged %d: nl-kdv (dagopvang) covers ages 0 to 3; use nl-bso from age 4", c.Age)
		}
		k[c.Age]++
	}
	if k.total() == 0 {
		return Requirement{Notes: []string{"no children: no staff required"}}, nil
	}
	staff, ok, fewerAge, fewerStaff := k.staff()
	if !ok {
		return Requirement{}, notPermitted(p.Version(), ErrGroupTooLarge, "%s", k.notPermittedReason())
	}
	r, _ := k.row()
	base, _ := k.tableStaff()
	notes := make([]string, 0, 3)
	notes = append(notes, fmt.Sprintf("table 1 row %s (%s), %d children: %d staff", r.label, agesPhrase(r), k.total(), base))
	if k[0] > 0 {
		sum := 48*k[0] + 24*k[1] + 20*k[2] + 15*k[3]
		notes = append(notes, fmt.Sprintf("babies present: ceil((48x%d + 24x%d + 20x%d + 15x%d) / 144) = ceil(%d/144) = %d staff",
			k[0], k[1], k[2], k[3], sum, k.babyStaff()))
	}
	if fewerAge >= 0 {
		notes = append(notes, fmt.Sprintf("one child fewer: without one child %s the group needs %d staff, more than %d: one more",
			ageNames[fewerAge], fewerStaff, staff-1))
	}
	return Requirement{Staff: staff, Notes: notes}, nil
}
