package billing

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/csvline"
)

// Contract is what the administration knows of a child's care agreement.
// Every field but ChildID is optional.
type Contract struct {
	ChildID    string
	ChildName  string
	GuardianID string
	// RateCentsPerHour replaces the rate of contract_rate methods (0 = keep).
	RateCentsPerHour int64
	// MinutesPerMonth are the contracted hours, in minutes.
	MinutesPerMonth int
	Start, End      attendance.Date
	CareKind        string // e.g. dagopvang, bso (monthly minimum)
	BirthDate       attendance.Date
	LRK             string // Dutch childcare register number of the location
}

// ContractColumns is the contracts CSV header (child_id required, the rest
// optional and in any order). hours_per_month may have up to two decimals.
var ContractColumns = []string{"child_id", "child_name", "guardian_id", "rate_cents_per_hour", "hours_per_month",
	"start", "end", "care_kind", "birth_date", "lrk"}

// Sentinel errors of ReadContracts.
var (
	ErrContractColumn = errors.New("contracts: bad header")
	ErrContractValue  = errors.New("contracts: bad value")
)

// LineError is one problem in a CSV input (line 1 is the header).
type LineError = csvline.Error

// LinesError collects every problem of an input; nothing is returned with it.
type LinesError = csvline.Errors

// linesError is the error of a reader for errs.
func linesError(errs []*LineError) *LinesError {
	return &LinesError{Summary: "billing: %d error(s)", Limit: 50, Errs: errs}
}

// ParseHours parses "40", "40.5" or "40,25" hours into minutes.
func ParseHours(s string) (int, error) {
	s = strings.Replace(s, ",", ".", 1)
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 || whole == "" || strings.ContainsAny(s, "+-eE ") {
		return 0, fmt.Errorf("%q: want hours like 40 or 40.5", s)
	}
	h, err := strconv.Atoi(whole)
	if err != nil || h > 744 {
		return 0, fmt.Errorf("%q: want hours like 40 or 40.5 (at most 744)", s)
	}
	cents := 0
	if frac != "" {
		if len(frac) == 1 {
			frac += "0"
		}
		if cents, err = strconv.Atoi(frac); err != nil {
			return 0, fmt.Errorf("%q: want hours like 40 or 40.5", s)
		}
	}
	return h*60 + (cents*60+50)/100, nil
}

// ReadContracts reads the contracts CSV (ContractColumns). Every error is
// reported with its line and column; on error nothing is returned.
func ReadContracts(r io.Reader) (map[string]Contract, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	col, errs := readHeader(cr, ContractColumns, []string{"child_id"}, ErrContractColumn)
	if len(errs) > 0 {
		return nil, linesError(errs)
	}
	out := map[string]Contract{}
	firstLine := map[string]int{}
	eachRow(cr, col, ErrContractValue, &errs, func(line int, get func(string) string) {
		bad := func(c string, f string, a ...any) {
			errs = append(errs, &LineError{Line: line, Column: c, Err: fmt.Errorf("%w: "+f, append([]any{ErrContractValue}, a...)...)})
		}
		c := Contract{ChildID: get("child_id"), ChildName: get("child_name"), GuardianID: get("guardian_id"),
			CareKind: get("care_kind"), LRK: get("lrk")}
		if c.ChildID == "" {
			bad("child_id", "empty")
		} else if first, dup := firstLine[c.ChildID]; dup {
			bad("child_id", "%s already on line %d", c.ChildID, first)
		}
		if s := get("rate_cents_per_hour"); s != "" {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil || v < 0 || v > 1_000_000 {
				bad("rate_cents_per_hour", "%q: want whole cents 0-1000000", s)
			}
			c.RateCentsPerHour = v
		}
		if s := get("hours_per_month"); s != "" {
			m, err := ParseHours(s)
			if err != nil {
				bad("hours_per_month", "%v", err)
			}
			c.MinutesPerMonth = m
		}
		for _, f := range []struct {
			name string
			dst  *attendance.Date
		}{{"start", &c.Start}, {"end", &c.End}, {"birth_date", &c.BirthDate}} {
			if s := get(f.name); s != "" {
				d, err := attendance.ParseDate(s)
				if err != nil {
					bad(f.name, "%v", err)
				}
				*f.dst = d
			}
		}
		if !c.Start.IsZero() && !c.End.IsZero() && c.End.Before(c.Start) {
			bad("end", "%s is before start %s", c.End, c.Start)
		}
		if c.ChildID != "" {
			if _, dup := firstLine[c.ChildID]; !dup {
				firstLine[c.ChildID] = line
			}
		}
		out[c.ChildID] = c
	})
	if len(errs) > 0 {
		return nil, linesError(errs)
	}
	return out, nil
}

// readHeader reads a CSV's header line and maps each column name to its
// index. Unknown, duplicate and missing (of required) columns are errors of
// kind sentinel, reported on line 1; the reader is left at the first row.
func readHeader(cr *csv.Reader, known, required []string, sentinel error) (map[string]int, []*LineError) {
	header, err := cr.Read()
	if err != nil {
		if err == io.EOF {
			err = errors.New("empty file")
		}
		return nil, []*LineError{{Line: 1, Err: fmt.Errorf("%w: %v", sentinel, err)}}
	}
	col := map[string]int{}
	var errs []*LineError
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if !slices.Contains(known, h) {
			errs = append(errs, &LineError{Line: 1, Column: h, Err: fmt.Errorf("%w: unknown column (want %s)", sentinel, strings.Join(known, ","))})
		}
		if _, dup := col[h]; dup {
			errs = append(errs, &LineError{Line: 1, Column: h, Err: fmt.Errorf("%w: duplicate column", sentinel)})
		}
		col[h] = i
	}
	for _, c := range required {
		if _, ok := col[c]; !ok {
			errs = append(errs, &LineError{Line: 1, Column: c, Err: fmt.Errorf("%w: missing column", sentinel)})
		}
	}
	return col, errs
}

// eachRow calls fn for each data row after the header, with the row's first
// line and a getter by column name (trimmed; "" for an absent column).
// Blank lines are skipped. A CSV syntax error is reported, of kind sentinel,
// on the record's first line; reading stops at a quote error (the rest of
// the file cannot be trusted) and goes on after any other. Errors go to
// errs in file order, with those fn adds.
func eachRow(cr *csv.Reader, col map[string]int, sentinel error, errs *[]*LineError, fn func(line int, get func(string) string)) {
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			*errs = append(*errs, &LineError{Line: line, Column: "", Err: fmt.Errorf("%w: %v", sentinel, err)})
			if pe == nil || pe.Err == csv.ErrQuote || pe.Err == csv.ErrBareQuote {
				return
			}
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		line, _ := cr.FieldPos(0)
		fn(line, func(name string) string {
			i, ok := col[name]
			if !ok || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		})
	}
}
