// Package sheet writes the admins' exports (attendance, invoice lines,
// previews, statements, inspection lists) as tables of typed cells, in three
// formats: the machines' CSV of contracts 6 and 8 (comma, dot, integer cents,
// byte for byte what scripts already parse), an Excel-friendly CSV for a
// Dutch or Flemish office (semicolon, UTF-8 BOM, decimal comma, euros) and a
// real .xlsx workbook (dates as dates, euro amounts with a € format, minutes
// as numbers, a frozen header row with an autofilter).
//
// It is also the one place where spreadsheet formula injection is defused:
// every text cell of every format passes through Defuse. Numbers are written
// by this package from integers, never from text, so a negative amount
// ("-1250" in CSV, a negative number in xlsx) stays a number: a spreadsheet
// reads a cell that is only a signed number as that number, not a formula.
package sheet

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/codes"
)

// Kind is what a column holds; it decides how each format writes a cell.
type Kind uint8

const (
	Text    Kind = iota // free text: defused
	Int                 // a whole number (minutes, days, counts)
	Money               // euro cents: integer cents in CSV, euros elsewhere
	Date                // a calendar date
	Clock               // a time of day, minutes after midnight (1440 = 24:00)
	Hours               // minutes shown as hours with two decimals ("1.50")
	Minutes             // like Int, but a duration (a column total makes sense)
	// Code is a machine code (a day type, a time quality): as it is in
	// CSV, in words (package codes, Dutch) in xlsx and csv-excel.
	Code
	// Codes is a ';'-separated list of codes (the flags column): as it is
	// in CSV, in words separated by ", " elsewhere.
	Codes
	// Rule is a tariff rule ("bernefertier/hourly+weekend-150%"): as it is
	// in CSV, in words without the profile's name elsewhere.
	Rule
)

// Column is one column of a table.
type Column struct {
	Key   string  // the machine header (CSV)
	Title string  // the human header (xlsx, csv-excel); Key when empty
	Kind  Kind    // what its cells hold
	Width float64 // xlsx width in characters; 0 picks one from Kind and Title
}

// Cell is one typed value. The zero Cell is empty.
type Cell struct {
	kind Kind
	set  bool
	s    string
	n    int64
	d    attendance.Date
}

// Str is a text cell.
func Str(s string) Cell { return Cell{kind: Text, set: s != "", s: s} }

// Num is a whole number.
func Num(n int) Cell { return Cell{kind: Int, set: true, n: int64(n)} }

// Mins is a duration in minutes.
func Mins(n int) Cell { return Cell{kind: Minutes, set: true, n: int64(n)} }

// Cents is an amount in euro cents.
func Cents(c int64) Cell { return Cell{kind: Money, set: true, n: c} }

// Day is a date; the zero date is an empty cell.
func Day(d attendance.Date) Cell { return Cell{kind: Date, set: !d.IsZero(), d: d} }

// TimeOfDay is minutes after midnight; a negative value is an empty cell.
func TimeOfDay(m int) Cell { return Cell{kind: Clock, set: m >= 0, n: int64(m)} }

// HoursOf is minutes shown as hours with two decimals.
func HoursOf(m int) Cell { return Cell{kind: Hours, set: true, n: int64(m)} }

// CodeOf is a machine code cell (Kind Code).
func CodeOf(s string) Cell { return Cell{kind: Code, set: s != "", s: s} }

// CodesOf is a list of codes (Kind Codes), written ';'-separated in CSV.
func CodesOf(list []string) Cell {
	return Cell{kind: Codes, set: len(list) > 0, s: strings.Join(list, ";")}
}

// RuleOf is a tariff rule cell (Kind Rule).
func RuleOf(s string) Cell { return Cell{kind: Rule, set: s != "", s: s} }

// Empty is an empty cell.
func Empty() Cell { return Cell{} }

// Format is an output format.
type Format string

const (
	CSV      Format = "csv"       // machines: contracts 6 and 8
	CSVExcel Format = "csv-excel" // ; separated, UTF-8 BOM, decimal comma
	XLSX     Format = "xlsx"      // Office Open XML workbook
)

// ErrFormat is returned by ParseFormat for an unknown format.
var ErrFormat = errors.New("sheet: unknown format")

// ParseFormat accepts csv, csv-excel and xlsx.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case CSV, CSVExcel, XLSX:
		return f, nil
	}
	return "", fmt.Errorf("%w %q: want csv, csv-excel or xlsx", ErrFormat, s)
}

// ContentType is the HTTP Content-Type of f.
func (f Format) ContentType() string {
	if f == XLSX {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "text/csv; charset=utf-8"
}

// Ext is the file name extension of f, with the dot.
func (f Format) Ext() string {
	if f == XLSX {
		return ".xlsx"
	}
	return ".csv"
}

// Binary reports whether f must not be written to a terminal.
func (f Format) Binary() bool { return f == XLSX }

// Table describes what a Writer writes.
type Table struct {
	Name    string // the worksheet's name (xlsx)
	Columns []Column
}

// Writer writes the rows of one table. Close finishes the output; nothing
// is complete before it.
type Writer interface {
	Write(row []Cell) error
	Close() error
}

// NewWriter writes t in format f to w, starting with the header row.
func NewWriter(w io.Writer, f Format, t Table) (Writer, error) {
	switch f {
	case CSV:
		return newCSV(w, t, false)
	case CSVExcel:
		return newCSV(w, t, true)
	case XLSX:
		return newXLSX(w, t)
	}
	return nil, fmt.Errorf("%w %q", ErrFormat, f)
}

// Defuse makes text safe to open in a spreadsheet: text starting with
// = + - @, a tab, CR or LF (or their full-width forms, which some
// spreadsheets also read as formulas) gets a leading apostrophe, which
// spreadsheets show as text and never evaluate. Everything else is
// unchanged.
func Defuse(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r', '\n':
		return "'" + s
	}
	if strings.HasPrefix(s, "＝") || strings.HasPrefix(s, "＋") || strings.HasPrefix(s, "－") || strings.HasPrefix(s, "＠") {
		return "'" + s
	}
	return s
}

// Undefuse reverses Defuse for a value read back from an export.
func Undefuse(s string) string {
	if len(s) > 1 && s[0] == '\'' && Defuse(s[1:]) != s[1:] {
		return s[1:]
	}
	return s
}

// Dangerous reports whether a written cell would be read as a formula: it
// starts with = + - @ tab CR or LF and is not a plain signed number. Tests
// of every export use it.
func Dangerous(cell string) bool {
	if Defuse(cell) == cell {
		return false
	}
	if cell[0] == '-' {
		if _, err := strconv.ParseFloat(strings.Replace(cell, ",", ".", 1), 64); err == nil && !strings.ContainsAny(cell, "eEnNiI") {
			return false
		}
	}
	return true
}

// FormatDate writes d as YYYY-MM-DD without fmt (exports write a year of rows).
func FormatDate(d attendance.Date) string {
	if d.IsZero() || d.Year < 0 || d.Year > 9999 {
		return d.String()
	}
	b := [10]byte{byte('0' + d.Year/1000), byte('0' + d.Year/100%10), byte('0' + d.Year/10%10), byte('0' + d.Year%10), '-',
		byte('0' + int(d.Month)/10), byte('0' + int(d.Month)%10), '-', byte('0' + d.Day/10), byte('0' + d.Day%10)}
	return string(b[:])
}

// FormatHours renders minutes as hours with two decimals and sep as the
// decimal separator (90 -> "1.50"), rounding half up.
func FormatHours(m int, sep byte) string {
	neg := m < 0
	if neg {
		m = -m
	}
	h, c := m/60, (m%60*100+30)/60
	b := make([]byte, 0, 12)
	if neg {
		b = append(b, '-')
	}
	b = strconv.AppendInt(b, int64(h), 10)
	b = append(b, sep, byte('0'+c/10), byte('0'+c%10))
	return string(b)
}

// FormatClock renders minutes after midnight as HH:MM; negative is "".
func FormatClock(m int) string {
	if m < 0 {
		return ""
	}
	return string([]byte{byte('0' + m/600), byte('0' + m/60%10), ':', byte('0' + m%60/10), byte('0' + m%10)})
}

// formatEuro renders cents as euros with two decimals and sep (14309 -> "143,09").
func formatEuro(c int64, sep byte) string {
	neg := c < 0
	if neg {
		c = -c
	}
	b := make([]byte, 0, 16)
	if neg {
		b = append(b, '-')
	}
	b = strconv.AppendInt(b, c/100, 10)
	b = append(b, sep, byte('0'+c%100/10), byte('0'+c%10))
	return string(b)
}

// machine renders c as the machines' CSV has it.
func (c Cell) machine() string {
	if !c.set {
		return ""
	}
	switch c.kind {
	case Int, Minutes, Money:
		return strconv.FormatInt(c.n, 10)
	case Date:
		return FormatDate(c.d)
	case Clock:
		return FormatClock(int(c.n))
	case Hours:
		return FormatHours(int(c.n), '.')
	}
	return Defuse(c.s)
}

// human is a code cell in words (Dutch, like the tables' titles); other
// cells as they are.
func (c Cell) human() string {
	switch c.kind {
	case Code:
		return codes.Text("nl", c.s)
	case Codes:
		return codes.List("nl", strings.Split(c.s, ";"))
	case Rule:
		return codes.Rule("nl", c.s)
	}
	return c.s
}

// excel renders c for the Excel-friendly CSV.
func (c Cell) excel() string {
	if !c.set {
		return ""
	}
	switch c.kind {
	case Code, Codes, Rule:
		return Defuse(c.human())
	case Money:
		return formatEuro(c.n, ',')
	case Hours:
		return FormatHours(int(c.n), ',')
	}
	return c.machine()
}
