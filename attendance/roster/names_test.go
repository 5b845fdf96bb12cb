package roster

import (
	"errors"
	"testing"

	"github.com/kinderdeur/kiosk/attendance"
)

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"Zoë", "Sanne de V.", "Jan-Willem", "=HYPERLINK()", "محمد", "李"} {
		if err := CheckName(ok); err != nil {
			t.Errorf("CheckName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"a\tb", "a\rb", "a\nb", "\x00", "\x7f", "\u0085", "a\u202ab", "\u202e", "\u2066x", "x\u2069", "\xff"} {
		if err := CheckName(bad); !errors.Is(err, ErrBadName) {
			t.Errorf("CheckName(%q) = %v, want ErrBadName", bad, err)
		}
	}
	r, _ := Demo(attendance.Date{Year: 2026, Month: 11, Day: 17})
	if err := r.CheckNames(); err != nil {
		t.Errorf("demo roster: %v", err)
	}
	r.People[0].Name = "Fatima\u202eB."
	if err := r.CheckNames(); !errors.Is(err, ErrBadName) {
		t.Errorf("CheckNames = %v", err)
	}
}
