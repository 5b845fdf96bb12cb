package stays

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/calendar"
	"github.com/kinderdeur/kiosk/attendance/csvline"
	"github.com/kinderdeur/kiosk/attendance/sheet"
)

// Columns is the header WriteCSV writes: the eight contract-6 columns, then
// the extensions.
var Columns = []string{"child_id", "child_name", "group", "date", "check_in", "check_out", "minutes", "day_type",
	"location", "guardian_id", "time_quality", "flags"}

// RequiredColumns must be present in a CSV that ReadCSV accepts.
var RequiredColumns = Columns[:8]

// Table is the attendance export as a sheet: Columns as machine keys, with
// Dutch titles and typed cells for the formats people open.
var Table = sheet.Table{Name: "Aanwezigheid", Columns: []sheet.Column{
	{Key: "child_id", Title: "Kind-id", Kind: sheet.Text},
	{Key: "child_name", Title: "Kind", Kind: sheet.Text, Width: 16},
	{Key: "group", Title: "Groep", Kind: sheet.Text, Width: 16},
	{Key: "date", Title: "Datum", Kind: sheet.Date},
	{Key: "check_in", Title: "Aankomst", Kind: sheet.Clock, Width: 11},
	{Key: "check_out", Title: "Vertrek", Kind: sheet.Clock, Width: 11},
	{Key: "minutes", Title: "Minuten", Kind: sheet.Minutes},
	{Key: "day_type", Title: "Soort dag", Kind: sheet.Code, Width: 16},
	{Key: "location", Title: "Locatie", Kind: sheet.Text},
	{Key: "guardian_id", Title: "Ouder-id", Kind: sheet.Text},
	{Key: "time_quality", Title: "Tijdkwaliteit", Kind: sheet.Code},
	{Key: "flags", Title: "Bijzonderheden", Kind: sheet.Codes, Width: 24},
}}

// WriteCSV writes stays with the Columns header (contract 6).
func WriteCSV(w io.Writer, stays []Stay) error { return Write(w, sheet.CSV, stays) }

// Write writes stays in format f: the contract-6 CSV, the Excel CSV or xlsx.
func Write(w io.Writer, f sheet.Format, stays []Stay) error {
	sw, err := sheet.NewWriter(w, f, Table)
	if err != nil {
		return fmt.Errorf("stays: write: %w", err)
	}
	row := make([]sheet.Cell, len(Columns))
	for i := range stays {
		s := &stays[i]
		row[0], row[1], row[2], row[3] = sheet.Str(s.ChildID), sheet.Str(s.ChildName), sheet.Str(s.Group), sheet.Day(s.Date)
		row[4], row[5], row[6], row[7] = sheet.TimeOfDay(int(s.CheckIn)), sheet.TimeOfDay(int(s.CheckOut)), sheet.Mins(s.Minutes), sheet.CodeOf(string(s.DayType))
		row[8], row[9], row[10], row[11] = sheet.Str(s.Location), sheet.Str(s.GuardianID), sheet.CodeOf(string(s.Quality)), sheet.CodesOf(s.Flags)
		if err := sw.Write(row); err != nil {
			return fmt.Errorf("stays: write: %w", err)
		}
	}
	if err := sw.Close(); err != nil {
		return fmt.Errorf("stays: write: %w", err)
	}
	return nil
}

// jsonStay is the JSON form: the same keys as the CSV columns.
type jsonStay struct {
	ChildID     string   `json:"child_id"`
	ChildName   string   `json:"child_name"`
	Group       string   `json:"group"`
	Date        string   `json:"date"`
	CheckIn     string   `json:"check_in"`
	CheckOut    string   `json:"check_out"`
	Minutes     int      `json:"minutes"`
	DayType     string   `json:"day_type"`
	Location    string   `json:"location,omitempty"`
	GuardianID  string   `json:"guardian_id,omitempty"`
	TimeQuality string   `json:"time_quality,omitempty"`
	Flags       []string `json:"flags,omitempty"`
	// Corrected repeats the flag corrected for readers of the JSON.
	Corrected bool `json:"corrected,omitempty"`
}

// WriteJSON writes stays as a JSON array of objects keyed like the CSV columns.
func WriteJSON(w io.Writer, stays []Stay) error {
	out := make([]jsonStay, len(stays))
	for i, s := range stays {
		out[i] = jsonStay{s.ChildID, s.ChildName, s.Group, s.Date.String(), s.CheckIn.String(), s.CheckOut.String(),
			s.Minutes, string(s.DayType), s.Location, s.GuardianID, string(s.Quality), s.Flags, s.Has(FlagCorrected)}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("stays: write json: %w", err)
	}
	return nil
}

// Sentinel errors of ReadCSV; every *LineError wraps one.
var (
	ErrMissingColumn         = errors.New("missing column")
	ErrDuplicateColumn       = errors.New("duplicate column")
	ErrBadDate               = errors.New("bad date")
	ErrBadTime               = errors.New("bad time")
	ErrBadMinutes            = errors.New("bad minutes")
	ErrBadDayType            = errors.New("bad day type")
	ErrBadQuality            = errors.New("bad time quality")
	ErrEmpty                 = errors.New("empty value")
	ErrCheckOutBeforeCheckIn = errors.New("check-out before check-in")
	ErrDuplicate             = errors.New("duplicate stay")
	ErrOverlap               = errors.New("overlapping stays")
	ErrSyntax                = errors.New("csv syntax")
)

// LineError is one problem in a CSV input: line 1 is the header.
type LineError = csvline.Error

// ParseError collects every LineError of one input.
type ParseError = csvline.Errors

// maxReported bounds the message, not the list.
const maxReported = 50

// parseError is the error of ReadCSV for errs.
func parseError(errs []*LineError) *ParseError {
	return &ParseError{Summary: "stays: %d error(s) in csv", Limit: maxReported, Errs: errs}
}

// ParseClock parses HH:MM (00:00-23:59, or 24:00 as an end of day).
func ParseClock(s string) (Clock, error) {
	if len(s) != 5 || s[2] != ':' {
		return NoTime, fmt.Errorf("%w %q: want HH:MM", ErrBadTime, s)
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || s[0] == '+' || s[0] == '-' || s[3] == '+' || s[3] == '-' ||
		h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return NoTime, fmt.Errorf("%w %q: want HH:MM", ErrBadTime, s)
	}
	return Clock(h*60 + m), nil
}

// TravelColumn is an optional input column: the childminder's travel
// minutes for the stay (Stay.TravelMinutes, 0-720). WriteCSV does not
// write it: door events carry no travel, an admin adds it.
const TravelColumn = "travel_minutes"

// maxTravelMinutes bounds travel_minutes: half a day of driving.
const maxTravelMinutes = 720

// European summer time (the Netherlands and Belgium) changes at 01:00 UTC
// on the last Sunday of March (local 02:00 becomes 03:00: the hour
// 02:00-03:00 does not exist) and of October (local 03:00 becomes 02:00:
// the hour 02:00-03:00 happens twice).
const (
	dstHourStart Clock = 120 // 02:00
	dstHourEnd   Clock = 180 // 03:00
)

// dstChange returns +1 on the day summer time ends (October), -1 on the
// day it starts (March), 0 otherwise.
func dstChange(d attendance.Date) int {
	if d.Weekday() != time.Sunday || d.Day <= 24 {
		return 0
	}
	switch d.Month {
	case time.March:
		return -1
	case time.October:
		return 1
	}
	return 0
}

// elapsedMinutes is the set of real elapsed minutes a stay from in to out
// on d can have (in <= out): the wall-clock difference, except on a day
// summer time changes, where only a stay across the changed hour differs
// by 60 minutes. In October a time within 02:00-03:00 is ambiguous (it
// happened twice), so a stay that starts or ends within that hour may have
// either value. In March a time within 02:00-03:00 does not exist: ok is
// false.
func elapsedMinutes(d attendance.Date, in, out Clock) (want []int, ok bool) {
	wall := int(out - in)
	inHour := func(c Clock) bool { return c >= dstHourStart && c < dstHourEnd }
	switch dstChange(d) {
	case -1:
		if inHour(in) || inHour(out) {
			return nil, false
		}
		if in < dstHourStart && out >= dstHourEnd {
			return []int{wall - 60}, true
		}
	case 1:
		switch {
		case in < dstHourStart && out >= dstHourEnd:
			return []int{wall + 60}, true
		case inHour(in) || inHour(out):
			return []int{wall, wall + 60}, true
		}
	}
	return []int{wall}, true
}

// ReadCSV reads contract-6 attendance. Columns are found by header name (in
// any order; unknown columns are ignored); the eight contract columns are
// required, location, guardian_id, time_quality and flags are optional. An
// empty check_out is a missing check-out, an empty check_in a missing
// check-in (not both). Every problem is reported with its line and column;
// on any error nothing is returned.
func ReadCSV(r io.Reader) ([]Stay, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, parseError([]*LineError{{Line: 1, Err: fmt.Errorf("%w: no header", ErrMissingColumn)}})
	}
	if err != nil {
		return nil, parseError([]*LineError{{Line: 1, Err: fmt.Errorf("%w: %v", ErrSyntax, err)}})
	}
	col := map[string]int{}
	var errs []*LineError
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if _, dup := col[h]; dup {
			errs = append(errs, &LineError{Line: 1, Column: h, Err: ErrDuplicateColumn})
		}
		col[h] = i
	}
	for _, c := range RequiredColumns {
		if _, ok := col[c]; !ok {
			errs = append(errs, &LineError{Line: 1, Column: c, Err: ErrMissingColumn})
		}
	}
	if len(errs) > 0 {
		return nil, parseError(errs)
	}
	// Rows are gathered in fixed-size chunks and joined once: appending to
	// one slice of a year's stays would copy it over and over.
	var chunks [][]Stay
	cur := make([]Stay, 0, chunkSize)
	var lines []int
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			errs = append(errs, &LineError{Line: line, Err: fmt.Errorf("%w: %v", ErrSyntax, err)})
			if pe == nil || pe.Err == csv.ErrQuote || pe.Err == csv.ErrBareQuote {
				// The reader cannot resynchronise reliably after a quote error.
				break
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		get := func(name string) string {
			i, ok := col[name]
			if !ok || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		bad := func(column string, err error) { errs = append(errs, &LineError{Line: line, Column: column, Err: err}) }
		s := Stay{ChildID: get("child_id"), ChildName: sheet.Undefuse(get("child_name")), Group: sheet.Undefuse(get("group")),
			Location: get("location"), GuardianID: get("guardian_id"), CheckIn: NoTime, CheckOut: NoTime}
		ok := true
		if s.ChildID == "" {
			bad("child_id", ErrEmpty)
			ok = false
		}
		if s.Date, err = attendance.ParseDate(get("date")); err != nil {
			bad("date", fmt.Errorf("%w: %v", ErrBadDate, err))
			ok = false
		}
		inS, outS := get("check_in"), get("check_out")
		if inS == "" && outS == "" {
			bad("check_in", fmt.Errorf("%w: check_in and check_out both empty", ErrEmpty))
			ok = false
		}
		if inS != "" {
			if s.CheckIn, err = ParseClock(inS); err != nil {
				bad("check_in", err)
				ok = false
			} else if s.CheckIn == 1440 {
				bad("check_in", fmt.Errorf("%w %q: 24:00 only ends a day", ErrBadTime, inS))
				ok = false
			}
		}
		if outS != "" {
			if s.CheckOut, err = ParseClock(outS); err != nil {
				bad("check_out", err)
				ok = false
			}
		}
		minS := get("minutes")
		// 1500: a whole day (00:00-24:00) on the day summer time ends.
		if s.Minutes, err = strconv.Atoi(minS); err != nil || s.Minutes < 0 || s.Minutes > 1500 {
			bad("minutes", fmt.Errorf("%w %q: want a whole number 0-1500", ErrBadMinutes, minS))
			ok = false
		}
		if tS := get(TravelColumn); tS != "" {
			if s.TravelMinutes, err = strconv.Atoi(tS); err != nil || s.TravelMinutes < 0 || s.TravelMinutes > maxTravelMinutes || tS[0] == '+' {
				bad(TravelColumn, fmt.Errorf("%w %q: want whole minutes 0-%d", ErrBadMinutes, tS, maxTravelMinutes))
				ok = false
			}
		}
		dt, err := calendar.ParseDayType(get("day_type"))
		if err != nil {
			bad("day_type", fmt.Errorf("%w: %v", ErrBadDayType, err))
			ok = false
		}
		s.DayType = dt
		switch q := Quality(get("time_quality")); q {
		case "", QualityOK, QualityCorrected, QualityUnverified:
			s.Quality = q
		default:
			bad("time_quality", fmt.Errorf("%w %q: want ok, corrected or unverified", ErrBadQuality, q))
			ok = false
		}
		if f := get("flags"); f != "" {
			s.Flags = strings.Split(f, ";")
		}
		if !ok {
			continue
		}
		if s.CheckIn < 0 && !s.Has(FlagMissingCheckIn) {
			s.Flags = append(s.Flags, FlagMissingCheckIn)
		}
		if s.CheckOut < 0 && !s.Has(FlagMissingCheckOut) && !s.Has(FlagOpen) {
			s.Flags = append(s.Flags, FlagMissingCheckOut)
		}
		if s.Complete() {
			if s.CheckOut < s.CheckIn {
				bad("check_out", fmt.Errorf("%w: %s is before %s", ErrCheckOutBeforeCheckIn, s.CheckOut, s.CheckIn))
				continue
			}
			want, exists := elapsedMinutes(s.Date, s.CheckIn, s.CheckOut)
			if !exists {
				bad("check_in", fmt.Errorf("%w: %s-%s: local 02:00-03:00 does not exist on %s (summer time starts)", ErrBadTime, s.CheckIn, s.CheckOut, s.Date))
				continue
			}
			if !slices.Contains(want, s.Minutes) {
				bad("minutes", fmt.Errorf("%w: %d, but %s-%s on %s is %s minutes", ErrBadMinutes, s.Minutes, s.CheckIn, s.CheckOut, s.Date, joinInts(want)))
				continue
			}
		} else if s.Minutes != 0 {
			bad("minutes", fmt.Errorf("%w: %d for a stay without both times, want 0", ErrBadMinutes, s.Minutes))
			continue
		}
		if len(cur) == chunkSize {
			chunks = append(chunks, cur)
			cur = make([]Stay, 0, chunkSize)
		}
		cur = append(cur, s)
		lines = append(lines, line)
	}
	out := joinChunks(chunks, cur)
	errs = append(errs, conflicts(out, lines)...)
	if len(errs) > 0 {
		sortErrs(errs)
		return nil, parseError(errs)
	}
	return out, nil
}

const chunkSize = 4096

func joinChunks(chunks [][]Stay, last []Stay) []Stay {
	if len(chunks) == 0 {
		if len(last) == 0 {
			return nil
		}
		return last
	}
	out := make([]Stay, 0, len(chunks)*chunkSize+len(last))
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, last...)
}

// conflicts reports stays of one child on one day with the same check-in
// (duplicates) or overlapping times. It sorts an index instead of keeping
// maps, so a year of stays costs little memory.
func conflicts(s []Stay, lines []int) []*LineError {
	idx := make([]int32, 0, len(s))
	for i := range s {
		if s[i].CheckIn >= 0 {
			idx = append(idx, int32(i))
		}
	}
	sort.SliceStable(idx, func(a, b int) bool {
		x, y := &s[idx[a]], &s[idx[b]]
		if x.ChildID != y.ChildID {
			return x.ChildID < y.ChildID
		}
		if x.Date != y.Date {
			return x.Date.Before(y.Date)
		}
		return x.CheckIn < y.CheckIn
	})
	var errs []*LineError
	for k := 1; k < len(idx); k++ {
		y := &s[idx[k]]
		// Compare with the earlier stays of the same child and day (a
		// handful at most); report y once.
		for j := k - 1; j >= 0; j-- {
			x := &s[idx[j]]
			if x.ChildID != y.ChildID || x.Date != y.Date {
				break
			}
			lx, ly := lines[idx[j]], lines[idx[k]]
			first, later := min(lx, ly), max(lx, ly)
			if x.CheckIn == y.CheckIn {
				errs = append(errs, &LineError{Line: later, Column: "", Err: fmt.Errorf("%w: child %s checked in on %s at %s already on line %d", ErrDuplicate, y.ChildID, y.Date, y.CheckIn, first)})
				break
			}
			if x.Complete() && y.Complete() && y.CheckIn < x.CheckOut {
				errs = append(errs, &LineError{Line: later, Column: "check_in", Err: fmt.Errorf("%w: child %s on %s overlaps line %d", ErrOverlap, y.ChildID, y.Date, first)})
				break
			}
		}
	}
	return errs
}

func sortErrs(errs []*LineError) {
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
}

// formatDate is Date.String without fmt, for exports of a year of rows.
func formatDate(d attendance.Date) string {
	if d.IsZero() || d.Year < 0 || d.Year > 9999 {
		return d.String()
	}
	b := [10]byte{byte('0' + d.Year/1000), byte('0' + d.Year/100%10), byte('0' + d.Year/10%10), byte('0' + d.Year%10), '-',
		byte('0' + int(d.Month)/10), byte('0' + int(d.Month)%10), '-', byte('0' + d.Day/10), byte('0' + d.Day%10)}
	return string(b[:])
}

func joinInts(v []int) string {
	p := make([]string, len(v))
	for i, x := range v {
		p[i] = strconv.Itoa(x)
	}
	return strings.Join(p, " or ")
}
