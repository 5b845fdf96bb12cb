package ratio

import "fmt"

// nlGastouder is Dutch gastouderopvang (home-based care by one
// childminder): at most 6 children aged 0 to 12 at once, the childminder's
// own children under 10 included; at most 5 when all of them are under 4;
// at most 4 aged 0 or 1, of whom at most 2 aged 0. From 4 children an
// achterwacht (backup adult reachable within 15 minutes) must be designated.
//
// Counting: every child that is not the childminder's own counts and must
// be 0 to 12; own children count when under 10 and are ignored (with a
// note) from 10. The achterwacht threshold uses the same count. The staff
// required is the childminder: 1 whenever a counted child is present.
type nlGastouder struct{}

func (nlGastouder) Name() string    { return "nl-gastouder" }
func (nlGastouder) Version() string { return "nl-gastouder/2019" }

const (
	gastouderMax       = 6
	gastouderMaxUnder4 = 5
	gastouderMaxUnder2 = 4
	gastouderMaxAged0  = 2
	gastouderBackupAt  = 4
)

func (p nlGastouder) Required(children []Child) (Requirement, error) {
	var counted, under4, under2, aged0, ownIgnored int
	for _, c := range children {
		switch {
		case c.Age < 0:
			return Requirement{}, notPermitted(p.Version(), ErrAgeOutOfRange, "negative age %d", c.Age)
		case c.Own && c.Age >= 10:
			ownIgnored++
			continue
		case !c.Own && c.Age > 12:
			return Requirement{}, notPermitted(p.Version(), ErrAgeOutOfRange,
				"a child aged %d: nl-gastouder covers ages 0 to 12", c.Age)
		}
		counted++
		if c.Age < 4 {
			under4++
		}
		if c.Age < 2 {
			under2++
		}
		if c.Age == 0 {
			aged0++
		}
	}
	switch {
	case counted > gastouderMax:
		return Requirement{}, notPermitted(p.Version(), ErrGroupTooLarge,
			"%d children counted (own children under 10 included): at most %d", counted, gastouderMax)
	case counted == under4 && counted > gastouderMaxUnder4:
		return Requirement{}, notPermitted(p.Version(), ErrGroupTooLarge,
			"%d children, all under 4: at most %d", counted, gastouderMaxUnder4)
	case under2 > gastouderMaxUnder2:
		return Requirement{}, notPermitted(p.Version(), ErrGroupTooLarge,
			"%d children aged 0 or 1: at most %d", under2, gastouderMaxUnder2)
	case aged0 > gastouderMaxAged0:
		return Requirement{}, notPermitted(p.Version(), ErrGroupTooLarge,
			"%d children aged 0: at most %d", aged0, gastouderMaxAged0)
	}
	var req Requirement
	if ownIgnored > 0 {
		req.Notes = append(req.Notes, fmt.Sprintf("own children aged 10 or over, not counted: %d", ownIgnored))
	}
	if counted == 0 {
		req.Notes = append(req.Notes, "no children counted: no staff required")
		return req, nil
	}
	req.Staff = 1
	req.Backup = counted >= gastouderBackupAt
	req.Notes = append(req.Notes, fmt.Sprintf("%d children counted (%d under 4, %d aged 0 or 1, %d aged 0): 1 childminder",
		counted, under4, under2, aged0))
	if req.Backup {
		req.Notes = append(req.Notes, fmt.Sprintf("%d or more children: an achterwacht must be designated", gastouderBackupAt))
	}
	return req, nil
}
