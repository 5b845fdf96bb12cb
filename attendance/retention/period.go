package retention

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Period is a calendar term: years, months, weeks and days, added with
// time.AddDate so that "7y" ends on the same calendar day seven years on.
type Period struct {
	Years, Months, Weeks, Days int
}

// P is shorthand for building periods in code.
func P(years, months, weeks, days int) Period { return Period{years, months, weeks, days} }

// IsZero reports whether p is empty.
func (p Period) IsZero() bool { return p == Period{} }

// AddTo returns t plus p.
func (p Period) AddTo(t time.Time) time.Time {
	return t.AddDate(p.Years, p.Months, 7*p.Weeks+p.Days)
}

// SubFrom returns t minus p.
func (p Period) SubFrom(t time.Time) time.Time {
	return t.AddDate(-p.Years, -p.Months, -(7*p.Weeks + p.Days))
}

// String returns the canonical text form, e.g. "2y6m", "6w", "0d".
func (p Period) String() string {
	var b strings.Builder
	for _, f := range []struct {
		n    int
		unit string
	}{{p.Years, "y"}, {p.Months, "m"}, {p.Weeks, "w"}, {p.Days, "d"}} {
		if f.n != 0 {
			b.WriteString(strconv.Itoa(f.n))
			b.WriteString(f.unit)
		}
	}
	if b.Len() == 0 {
		return "0d"
	}
	return b.String()
}

// maxPeriodYears bounds parsed terms: nothing is kept for a century.
const maxPeriodYears = 100

// ParsePeriod parses terms like "7y", "2y6m", "6w", "42d": numbers each
// followed by one unit (y, m, w, d), every unit at most once, in that order.
func ParsePeriod(s string) (Period, error) {
	if s == "" {
		return Period{}, errors.New("empty term")
	}
	var p Period
	order := "ymwd"
	last := -1
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) {
			return Period{}, fmt.Errorf("term %q: want numbers with units y, m, w, d (e.g. 2y6m, 6w)", s)
		}
		if i > 5 {
			return Period{}, fmt.Errorf("term %q: number too large", s)
		}
		n, _ := strconv.Atoi(rest[:i])
		u := strings.IndexByte(order, rest[i])
		if u < 0 {
			return Period{}, fmt.Errorf("term %q: unknown unit %q (want y, m, w or d)", s, rest[i])
		}
		if u <= last {
			return Period{}, fmt.Errorf("term %q: units must appear once, in the order y m w d", s)
		}
		last = u
		switch u {
		case 0:
			p.Years = n
		case 1:
			p.Months = n
		case 2:
			p.Weeks = n
		case 3:
			p.Days = n
		}
		rest = rest[i+1:]
	}
	if p.Years+p.Months/12+p.Weeks/52+p.Days/365 > maxPeriodYears {
		return Period{}, fmt.Errorf("term %q: longer than %d years", s, maxPeriodYears)
	}
	return p, nil
}

// MarshalText implements encoding.TextMarshaler.
func (p Period) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *Period) UnmarshalText(b []byte) error {
	q, err := ParsePeriod(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// AtLeast reports whether p is at least q from every start day: calendar
// terms such as "1m" and "4w" compare differently by month, so this
// checks every day of a four-year (leap) cycle.
func (p Period) AtLeast(q Period) bool {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for d := 0; d < 1461; d++ {
		t := start.AddDate(0, 0, d)
		if p.AddTo(t).Before(q.AddTo(t)) {
			return false
		}
	}
	return true
}
