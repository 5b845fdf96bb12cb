package ratio

import "fmt"

// nlBSO is Dutch buitenschoolse opvang, Besluit kwaliteit kinderopvang
// table 2 (2019): ages 4-7 (4, 5, 6): 1:10, 2:20; ages 7-13 (7 to 12):
// 1:12, 2:24, 3:30; mixed 4-13: 1:11 with at most 9 aged 4-6, 2:22 with at
// most 18 aged 4-6, 3:30. The first column that holds gives the staff, as
// in table 1; the table has no further calculation rules.
//
// The 2024 change (Stb. 2024, 64: counting at location level) is
// unconfirmed and not implemented; it would be registered as "nl-bso/2024"
// beside this version.
type nlBSO struct{}

func (nlBSO) Name() string    { return "nl-bso" }
func (nlBSO) Version() string { return "nl-bso/2019" }

// bsoLimit is one column: at most children, of whom at most young aged 4-6.
type bsoLimit struct{ children, young int }

var (
	bsoYoung = []bsoLimit{{10, 10}, {20, 20}}
	bsoOld   = []bsoLimit{{12, 0}, {24, 0}, {30, 0}}
	bsoMixed = []bsoLimit{{11, 9}, {22, 18}, {30, 30}}
)

func (p nlBSO) Required(children []Child) (Requirement, error) {
	young, old := 0, 0
	for _, c := range children {
		switch {
		case c.Age >= 4 && c.Age <= 6:
			young++
		case c.Age >= 7 && c.Age <= 12:
			old++
		default:
			return Requirement{}, notPermitted(p.Version(), ErrAgeOutOfRange,
				"a child aged %d: nl-bso covers ages 4 to 12", c.Age)
		}
	}
	n := young + old
	if n == 0 {
		return Requirement{Notes: []string{"no children: no staff required"}}, nil
	}
	var (
		row   []bsoLimit
		label string
	)
	switch {
	case old == 0:
		row, label = bsoYoung, "4-7 (all aged 4 to 6)"
	case young == 0:
		row, label = bsoOld, "7-13 (all aged 7 to 12)"
	default:
		row, label = bsoMixed, "4-13 (aged 4 to 12)"
	}
	for s, l := range row {
		if n <= l.children && young <= l.young {
			return Requirement{Staff: s + 1, Notes: []string{
				fmt.Sprintf("table 2 row %s, %d children (%d aged 4 to 6): %d staff", label, n, young, s+1),
			}}, nil
		}
	}
	most := row[len(row)-1].children
	if n > most {
		return Requirement{}, notPermitted(p.Version(), ErrGroupTooLarge,
			"%d children: at most %d (table 2 row %s)", n, most, label)
	}
	// Unreachable with the 2019 table (its last mixed column has no cap on
	// the young), kept so that a future table cannot fall through silently.
	return Requirement{}, notPermitted(p.Version(), ErrGroupTooLarge,
		"%d children aged 4 to 6 in a group of %d: too many for table 2 row %s", young, n, label)
}
