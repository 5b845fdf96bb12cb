// Package benefit derives the parents' tax documents from invoice lines:
// the Dutch childcare-benefit statement (kinderopvangtoeslag: hours per
// month and year, average hourly price, LRK number, contract end date;
// Regeling Wet kinderopvang art. 11) and the data of the Flemish fiscal
// certificate for childcare (model 281.86: days of care, amounts and day
// price for children under 14).
//
// Hours are the billed hours of the invoice lines (month top-ups included,
// free settling-in minutes not). The benefit is paid on at most 230 hours
// per child per month and on the contracted hours: the statement shows the
// capped hours and the hours over the cap, and the contracted hours beside
// the billed ones, so the check-in times stay evidence, not a replacement
// for the contract.
//
// Absence lines (billing.IsAbsence: agreed care that did not take place but
// is billed by the contract, e.g. the first sick days or a late
// cancellation) are paid contracted hours: the Dutch statement counts their
// billed hours and amounts like care hours (the benefit follows the
// contracted, paid hours; lines billing nothing add nothing). The Flemish
// certificate counts their amount, since the parent paid it for childcare,
// but not their day: model 281.86 certifies days on which the child was in
// care.
package benefit

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/billing"
	"github.com/kinderdeur/kiosk/attendance/sheet"
)

// CapMinutesPerMonth is the benefit's ceiling: 230 hours per child per month.
const CapMinutesPerMonth = 230 * 60

// NLRow is one row of the Dutch statement: a child's month (Month 1-12) or
// year (Month 0), for the parent who pays.
type NLRow struct {
	Year            int
	Month           int // 0 on the year row
	ChildID         string
	ChildName       string
	GuardianID      string
	LRK             string
	ContractEnd     attendance.Date
	BilledMinutes   int
	AmountCents     int64
	AvgHourlyCents  int64 // round_half_up(amount * 60 / minutes)
	ContractMinutes int
	CappedMinutes   int // min(billed, 230 h) per month, summed on the year row
	OverCapMinutes  int
}

// NLOptions configure the Dutch statement.
type NLOptions struct {
	Year int    // only lines in this year
	LRK  string // the location's LRK number, unless a contract names one
}

// NL builds the Dutch statement per child per month, with a year row per
// child after its months.
func NL(lines []billing.Line, contracts map[string]billing.Contract, opt NLOptions) []NLRow {
	type key struct {
		child string
		month int
	}
	rows := map[key]*NLRow{}
	for _, l := range lines {
		if l.Date.Year != opt.Year || l.BilledMinutes == 0 && l.AmountCents == 0 {
			continue
		}
		k := key{l.ChildID, int(l.Date.Month)}
		r := rows[k]
		if r == nil {
			c := contracts[l.ChildID]
			r = &NLRow{Year: opt.Year, Month: k.month, ChildID: l.ChildID, ChildName: firstNonEmpty(l.ChildName, c.ChildName),
				GuardianID: firstNonEmpty(l.GuardianID, c.GuardianID), LRK: firstNonEmpty(c.LRK, opt.LRK), ContractEnd: c.End,
				ContractMinutes: c.MinutesPerMonth}
			rows[k] = r
		}
		r.BilledMinutes += l.BilledMinutes
		r.AmountCents += l.AmountCents
	}
	years := map[string]*NLRow{}
	var out []NLRow
	for _, r := range rows {
		r.CappedMinutes = min(r.BilledMinutes, CapMinutesPerMonth)
		r.OverCapMinutes = r.BilledMinutes - r.CappedMinutes
		r.AvgHourlyCents = avg(r.AmountCents, r.BilledMinutes)
		out = append(out, *r)
		y := years[r.ChildID]
		if y == nil {
			y = &NLRow{Year: r.Year, ChildID: r.ChildID, ChildName: r.ChildName, GuardianID: r.GuardianID, LRK: r.LRK, ContractEnd: r.ContractEnd}
			years[r.ChildID] = y
		}
		y.BilledMinutes += r.BilledMinutes
		y.AmountCents += r.AmountCents
		y.ContractMinutes += r.ContractMinutes
		y.CappedMinutes += r.CappedMinutes
		y.OverCapMinutes += r.OverCapMinutes
	}
	for _, y := range years {
		y.AvgHourlyCents = avg(y.AmountCents, y.BilledMinutes)
		out = append(out, *y)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.ChildID != b.ChildID {
			return a.ChildID < b.ChildID
		}
		if (a.Month == 0) != (b.Month == 0) {
			return b.Month == 0
		}
		return a.Month < b.Month
	})
	return out
}

func avg(cents int64, minutes int) int64 {
	if minutes == 0 {
		return 0
	}
	return (cents*60*2 + int64(minutes)) / (int64(minutes) * 2)
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// Hours renders minutes as hours with two decimals (90 -> "1.50").
func Hours(m int) string { return sheet.FormatHours(m, '.') }

// NLColumns is the Dutch statement's CSV header.
var NLColumns = keys(NLTable)

// NLTable is the Dutch statement as a sheet.
var NLTable = sheet.Table{Name: "Jaaropgave", Columns: []sheet.Column{
	{Key: "year", Title: "Jaar", Kind: sheet.Int},
	{Key: "month", Title: "Maand", Kind: sheet.Text, Width: 8},
	{Key: "child_id", Title: "Kind-id", Kind: sheet.Text},
	{Key: "child_name", Title: "Kind", Kind: sheet.Text, Width: 16},
	{Key: "guardian_id", Title: "Ouder-id", Kind: sheet.Text},
	{Key: "lrk", Title: "LRK-nummer", Kind: sheet.Text},
	{Key: "contract_end", Title: "Einde contract", Kind: sheet.Date, Width: 15},
	{Key: "hours", Title: "Uren", Kind: sheet.Hours},
	{Key: "amount_cents", Title: "Bedrag", Kind: sheet.Money},
	{Key: "avg_hourly_cents", Title: "Gemiddelde uurprijs", Kind: sheet.Money},
	{Key: "contract_hours", Title: "Contracturen", Kind: sheet.Hours},
	{Key: "benefit_hours_capped", Title: "Uren tot 230-urengrens", Kind: sheet.Hours},
	{Key: "hours_over_230_cap", Title: "Uren boven 230", Kind: sheet.Hours},
}}

// WriteNLCSV writes the Dutch statement; the month column is "year" on the
// year rows.
func WriteNLCSV(w io.Writer, rows []NLRow) error { return WriteNL(w, sheet.CSV, rows) }

// WriteNL writes the Dutch statement in format f.
func WriteNL(w io.Writer, f sheet.Format, rows []NLRow) error {
	return write(w, f, NLTable, len(rows), func(i int) []sheet.Cell {
		r := rows[i]
		month := "year"
		if f != sheet.CSV {
			month = "jaar"
		}
		if r.Month != 0 {
			month = fmt.Sprintf("%02d", r.Month)
		}
		return []sheet.Cell{sheet.Num(r.Year), sheet.Str(month), sheet.Str(r.ChildID), sheet.Str(r.ChildName), sheet.Str(r.GuardianID),
			sheet.Str(r.LRK), sheet.Day(r.ContractEnd), sheet.HoursOf(r.BilledMinutes), sheet.Cents(r.AmountCents),
			sheet.Cents(r.AvgHourlyCents), sheet.HoursOf(r.ContractMinutes), sheet.HoursOf(r.CappedMinutes), sheet.HoursOf(r.OverCapMinutes)}
	})
}

// BERow is the model 281.86 data of one child for one period (a quarter of
// the year; the form has four period boxes).
type BERow struct {
	Year          int
	Quarter       int
	ChildID       string
	ChildName     string
	GuardianID    string // the debtor of the invoices
	BirthDate     attendance.Date
	From, To      attendance.Date // first and last day of care in the period
	Days          int             // distinct days of care
	AmountCents   int64
	DayPriceCents int64 // round_half_up(amount / days)
	ExcludedDays  int   // days of care on or after the 14th birthday (not certified)
}

// ErrNoBirthDate is returned when a child has care but no birth date in the
// contracts: the under-14 rule cannot be applied.
var ErrNoBirthDate = errors.New("benefit: no birth date")

// BEMaxAge: care is certified for children under 14 on the day of care.
const BEMaxAge = 14

// BE builds the 281.86 data for a year: per child and quarter, only days
// on which the child was under 14. A month top-up line counts for its
// quarter's amount but is not a day.
func BE(lines []billing.Line, contracts map[string]billing.Contract, year int) ([]BERow, error) {
	type key struct {
		child string
		q     int
	}
	rows := map[key]*BERow{}
	days := map[key]map[attendance.Date]bool{}
	var missing []string
	seenMissing := map[string]bool{}
	for _, l := range lines {
		if l.Date.Year != year || l.AmountCents == 0 {
			continue
		}
		c := contracts[l.ChildID]
		if c.BirthDate.IsZero() {
			if !seenMissing[l.ChildID] {
				seenMissing[l.ChildID] = true
				missing = append(missing, l.ChildID)
			}
			continue
		}
		k := key{l.ChildID, (int(l.Date.Month)-1)/3 + 1}
		r := rows[k]
		if r == nil {
			r = &BERow{Year: year, Quarter: k.q, ChildID: l.ChildID, ChildName: firstNonEmpty(l.ChildName, c.ChildName),
				GuardianID: firstNonEmpty(l.GuardianID, c.GuardianID), BirthDate: c.BirthDate}
			rows[k] = r
			days[k] = map[attendance.Date]bool{}
		}
		_, absence := billing.IsAbsence(&l)
		if c.BirthDate.AgeOn(l.Date) >= BEMaxAge {
			if l.DayType != "" && !absence {
				r.ExcludedDays++
			}
			continue
		}
		r.AmountCents += l.AmountCents
		if l.DayType == "" {
			continue // a month top-up: money, not a day
		}
		if absence {
			continue // billed absence: money, not a day of care
		}
		days[k][l.Date] = true
		if r.From.IsZero() || l.Date.Before(r.From) {
			r.From = l.Date
		}
		if r.To.IsZero() || r.To.Before(l.Date) {
			r.To = l.Date
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("%w for children %s (add birth_date to the contracts file)", ErrNoBirthDate, strings.Join(missing, ", "))
	}
	var out []BERow
	for k, r := range rows {
		r.Days = len(days[k])
		if r.Days > 0 {
			r.DayPriceCents = (r.AmountCents*2 + int64(r.Days)) / (int64(r.Days) * 2)
		}
		// A period with only days after the 14th birthday stays, with 0
		// days, so the exclusion is visible.
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ChildID != out[j].ChildID {
			return out[i].ChildID < out[j].ChildID
		}
		return out[i].Quarter < out[j].Quarter
	})
	return out, nil
}

// BETable is the 281.86 data as a sheet.
var BETable = sheet.Table{Name: "281.86", Columns: []sheet.Column{
	{Key: "year", Title: "Jaar", Kind: sheet.Int},
	{Key: "quarter", Title: "Kwartaal", Kind: sheet.Int},
	{Key: "child_id", Title: "Kind-id", Kind: sheet.Text},
	{Key: "child_name", Title: "Kind", Kind: sheet.Text, Width: 16},
	{Key: "guardian_id", Title: "Ouder-id (schuldenaar)", Kind: sheet.Text},
	{Key: "birth_date", Title: "Geboortedatum", Kind: sheet.Date, Width: 15},
	{Key: "period_from", Title: "Periode van", Kind: sheet.Date, Width: 13},
	{Key: "period_to", Title: "Periode tot", Kind: sheet.Date, Width: 13},
	{Key: "days", Title: "Dagen", Kind: sheet.Int},
	{Key: "amount_cents", Title: "Bedrag", Kind: sheet.Money},
	{Key: "day_price_cents", Title: "Dagprijs", Kind: sheet.Money},
	{Key: "excluded_days_age_14_plus", Title: "Dagen vanaf 14 jaar (niet op attest)", Kind: sheet.Int},
}}

// BEColumns is the 281.86 CSV header.
var BEColumns = keys(BETable)

// WriteBECSV writes the 281.86 data.
func WriteBECSV(w io.Writer, rows []BERow) error { return WriteBE(w, sheet.CSV, rows) }

// WriteBE writes the 281.86 data in format f.
func WriteBE(w io.Writer, f sheet.Format, rows []BERow) error {
	return write(w, f, BETable, len(rows), func(i int) []sheet.Cell {
		r := rows[i]
		return []sheet.Cell{sheet.Num(r.Year), sheet.Num(r.Quarter), sheet.Str(r.ChildID), sheet.Str(r.ChildName), sheet.Str(r.GuardianID),
			sheet.Day(r.BirthDate), sheet.Day(r.From), sheet.Day(r.To), sheet.Num(r.Days), sheet.Cents(r.AmountCents),
			sheet.Cents(r.DayPriceCents), sheet.Num(r.ExcludedDays)}
	})
}

func keys(t sheet.Table) []string {
	out := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = c.Key
	}
	return out
}

func write(w io.Writer, f sheet.Format, t sheet.Table, n int, row func(int) []sheet.Cell) error {
	sw, err := sheet.NewWriter(w, f, t)
	if err != nil {
		return fmt.Errorf("benefit: write: %w", err)
	}
	for i := 0; i < n; i++ {
		if err := sw.Write(row(i)); err != nil {
			return fmt.Errorf("benefit: write: %w", err)
		}
	}
	if err := sw.Close(); err != nil {
		return fmt.Errorf("benefit: write: %w", err)
	}
	return nil
}
