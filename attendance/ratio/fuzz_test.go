package ratio

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func FuzzLookup(f *testing.F) {
	for _, s := range []string{"nl-kdv", "nl-kdv/2019", "nl-bso", "nl-gastouder", "be-vl-kdv", "be-vl-kdv-1:9",
		"1:8", "1:0", "1:100", "1:101", "1:08", "1:+8", "1: 8", "nl-kdv/", "/2019", "", "1:N", "1:9999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		p, err := Lookup(name)
		if err != nil {
			if !errors.Is(err, ErrUnknownPolicy) {
				t.Fatalf("Lookup(%q): %v does not wrap ErrUnknownPolicy", name, err)
			}
			return
		}
		// A policy found by any name is found again by its version and its
		// name, and the name is one Names lists (or a custom 1:N).
		again, err := Lookup(p.Version())
		if err != nil || again.Version() != p.Version() {
			t.Fatalf("Lookup(%q) = %s, but Lookup(its version) = %v, %v", name, p.Version(), again, err)
		}
		byName, err := Lookup(p.Name())
		if err != nil || byName.Name() != p.Name() {
			t.Fatalf("Lookup(%q) = %s, but Lookup(its name) = %v, %v", name, p.Name(), byName, err)
		}
		if _, err := p.Required([]Child{{Age: 1}}); err != nil && !errors.As(err, new(*NotPermittedError)) {
			t.Fatalf("%s: Required: %v", p.Version(), err)
		}
	})
}

func FuzzParseWindows(f *testing.F) {
	for _, s := range []string{"", "mon=07:00-08:30", "mon-fri=07:00-08:30,17:00-18:30; wed=12:00-13:00",
		"sun-sat=00:00-24:00", "mon=08:00-07:00", "fri-mon=07:00-08:00", "mon=07:00-09:00,08:00-10:00", ";;", "MON = 07:00 - 08:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ws, err := ParseWindows(s)
		if err != nil {
			return
		}
		r := DefaultRule()
		r.Windows = ws
		if err := r.Validate(); err != nil {
			t.Fatalf("ParseWindows(%q) = %v, which does not validate: %v", s, ws, err)
		}
		again, err := ParseWindows(ws.String())
		if err != nil {
			t.Fatalf("ParseWindows(%q) = %q, which does not parse: %v", s, ws.String(), err)
		}
		if diff := cmp.Diff(ws, again); diff != "" {
			t.Fatalf("round trip of %q (-first +second):\n%s", s, diff)
		}
	})
}

func FuzzParseClock(f *testing.F) {
	for _, s := range []string{"00:00", "07:30", "24:00", "24:01", "7:30", "-1:00", "+1:00", "12:5", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseClock(s)
		if err != nil {
			return
		}
		if c < 0 || c > 24*60 || c.String() != s {
			t.Fatalf("ParseClock(%q) = %d (%s)", s, c, c)
		}
	})
}

// FuzzRequired feeds every policy arbitrary groups: no panics, a permitted
// group gets a sane number, a refused one a *NotPermittedError with a reason.
func FuzzRequired(f *testing.F) {
	f.Add("nl-kdv", []byte{0, 0, 2, 3, 3}, []byte{})
	f.Add("nl-gastouder", []byte{1, 4, 11}, []byte{0, 0, 1})
	f.Add("nl-bso", []byte{4, 7, 12, 13}, []byte{})
	f.Add("be-vl-kdv", []byte{0, 1, 2, 3, 4}, []byte{})
	f.Add("1:3", []byte{200, 255}, []byte{})
	f.Fuzz(func(t *testing.T, name string, ages, owns []byte) {
		p, err := Lookup(name)
		if err != nil {
			return
		}
		group := make([]Child, len(ages))
		for i, a := range ages {
			group[i] = Child{Age: int(int8(a)), Own: i < len(owns) && owns[i]&1 == 1}
		}
		req, err := p.Required(group)
		if err != nil {
			var npe *NotPermittedError
			if !errors.As(err, &npe) || npe.Reason == "" || npe.Policy != p.Version() {
				t.Fatalf("%s %v: %v", p.Version(), group, err)
			}
			if !errors.Is(err, ErrGroupTooLarge) && !errors.Is(err, ErrAgeOutOfRange) {
				t.Fatalf("%s %v: %v wraps neither sentinel", p.Version(), group, err)
			}
			return
		}
		if req.Staff < 0 || req.Staff > len(group) || (len(group) > 0 && req.Staff == 0 && p.Name() != "nl-gastouder") {
			t.Fatalf("%s %v: staff %d", p.Version(), group, req.Staff)
		}
	})
}
