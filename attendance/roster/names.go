package roster

import (
	"errors"
	"fmt"
	"unicode"
)

// ErrBadName is wrapped by CheckName's errors.
var ErrBadName = errors.New("roster: bad name")

// CheckName refuses text that would hide or disguise itself on a screen,
// in a list or in a spreadsheet: control characters (tab, newline, CR,
// ...) and the bidirectional overrides and isolates (U+202A-U+202E,
// U+2066-U+2069), which can make "Zoë" display as a different name or
// reorder the cells of a printed list.
func CheckName(s string) error {
	for i, r := range s {
		switch {
		case r == unicode.ReplacementChar:
			return fmt.Errorf("%w: invalid UTF-8 at byte %d", ErrBadName, i)
		case unicode.IsControl(r):
			return fmt.Errorf("%w: control character %U at byte %d", ErrBadName, r, i)
		case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
			return fmt.Errorf("%w: bidirectional override %U at byte %d", ErrBadName, r, i)
		}
	}
	return nil
}

// CheckNames applies CheckName to every name in r that people read: the
// location, groups, children, guardians and pickup persons, staff, and
// their relations. Central refuses a roster
// edit and kioskctl import refuses a file that fails it. (Validate does not
// call it, so a kiosk keeps working with a roster stored before the rule.)
func (r *Roster) CheckNames() error {
	var errs []error
	check := func(what, id, name string) {
		if err := CheckName(name); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", what, id, err))
		}
	}
	check("location name", r.Location.ID, r.Location.Name)
	for _, g := range r.Groups {
		check("group name", g.ID, g.Name)
	}
	for _, c := range r.Children {
		check("child first_name", c.ID, c.FirstName)
	}
	for _, p := range r.People {
		check("person name", p.ID, p.Name)
		check("person relation", p.ID, p.Relation)
	}
	for _, s := range r.Staff {
		check("staff name", s.ID, s.Name)
	}
	return errors.Join(errs...)
}
