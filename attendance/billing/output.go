package billing

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/sheet"
)

// LineColumns is the invoice-line CSV header: the seven contract-8 columns,
// then extensions.
var LineColumns = []string{"child_id", "date", "day_type", "minutes", "billed_minutes", "amount_cents", "rule",
	"child_name", "guardian_id", "stays", "rate_cents_per_hour", "flags"}

// LineTable is the invoice lines as a sheet: LineColumns as machine keys,
// Dutch titles and typed cells for the formats people open.
var LineTable = sheet.Table{Name: "Factuurregels", Columns: []sheet.Column{
	{Key: "child_id", Title: "Kind-id", Kind: sheet.Text},
	{Key: "date", Title: "Datum", Kind: sheet.Date},
	{Key: "day_type", Title: "Soort dag", Kind: sheet.Code, Width: 16},
	{Key: "minutes", Title: "Minuten", Kind: sheet.Minutes},
	{Key: "billed_minutes", Title: "Gefactureerde minuten", Kind: sheet.Minutes},
	{Key: "amount_cents", Title: "Bedrag", Kind: sheet.Money},
	{Key: "rule", Title: "Tariefregel", Kind: sheet.Rule, Width: 24},
	{Key: "child_name", Title: "Kind", Kind: sheet.Text, Width: 16},
	{Key: "guardian_id", Title: "Ouder-id", Kind: sheet.Text},
	{Key: "stays", Title: "Verblijven", Kind: sheet.Int},
	{Key: "rate_cents_per_hour", Title: "Uurtarief", Kind: sheet.Money},
	{Key: "flags", Title: "Bijzonderheden", Kind: sheet.Codes, Width: 24},
}}

// WriteCSV writes invoice lines (contract 8).
func WriteCSV(w io.Writer, lines []Line) error { return Write(w, sheet.CSV, lines) }

// Write writes invoice lines in format f.
func Write(w io.Writer, f sheet.Format, lines []Line) error {
	sw, err := sheet.NewWriter(w, f, LineTable)
	if err != nil {
		return fmt.Errorf("billing: write lines: %w", err)
	}
	row := make([]sheet.Cell, len(LineColumns))
	for i := range lines {
		l := &lines[i]
		row[0], row[1], row[2], row[3] = sheet.Str(l.ChildID), sheet.Day(l.Date), sheet.CodeOf(string(l.DayType)), sheet.Mins(l.Minutes)
		row[4], row[5], row[6], row[7] = sheet.Mins(l.BilledMinutes), sheet.Cents(l.AmountCents), sheet.RuleOf(l.Rule), sheet.Str(l.ChildName)
		row[8], row[9], row[10], row[11] = sheet.Str(l.GuardianID), sheet.Num(l.Stays), sheet.Cents(l.RateCentsPerHour), sheet.CodesOf(l.Flags)
		if err := sw.Write(row); err != nil {
			return fmt.Errorf("billing: write lines: %w", err)
		}
	}
	if err := sw.Close(); err != nil {
		return fmt.Errorf("billing: write lines: %w", err)
	}
	return nil
}

type jsonLine struct {
	ChildID          string   `json:"child_id"`
	Date             string   `json:"date"`
	DayType          string   `json:"day_type"`
	Minutes          int      `json:"minutes"`
	BilledMinutes    int      `json:"billed_minutes"`
	AmountCents      int64    `json:"amount_cents"`
	Rule             string   `json:"rule"`
	ChildName        string   `json:"child_name,omitempty"`
	GuardianID       string   `json:"guardian_id,omitempty"`
	Stays            int      `json:"stays"`
	RateCentsPerHour int64    `json:"rate_cents_per_hour"`
	Flags            []string `json:"flags,omitempty"`
}

// WriteJSON writes invoice lines as a JSON array keyed like the CSV columns.
func WriteJSON(w io.Writer, lines []Line) error {
	out := make([]jsonLine, len(lines))
	for i, l := range lines {
		out[i] = jsonLine{l.ChildID, l.Date.String(), string(l.DayType), l.Minutes, l.BilledMinutes, l.AmountCents, l.Rule,
			l.ChildName, l.GuardianID, l.Stays, l.RateCentsPerHour, l.Flags}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("billing: write json: %w", err)
	}
	return nil
}

// MonthSummary is one row of the monthly invoice preview: a child's month,
// or (Level "family") the total of the children sharing a guardian.
type MonthSummary struct {
	Month           string // YYYY-MM
	Level           string // child | family
	FamilyID        string // guardian id, or the child id when unknown
	ChildID         string // "" on family rows
	ChildName       string
	Days            int // distinct days with priced care
	Minutes         int
	BilledMinutes   int
	ContractMinutes int // contracted hours of the month (sum on family rows)
	ExtraMinutes    int // billed beyond the contract (0 without a contract)
	AmountCents     int64
	Unpriced        int // stays not priced for a missing time
	FlaggedLines    int // lines with unverified or corrected times
	// AbsenceMinutes are the billed minutes of absence lines (agreed care
	// that did not take place); they are part of BilledMinutes and
	// AmountCents, not of Minutes or Days.
	AbsenceMinutes int
}

// Preview sums lines per child and month and per family and month.
// Billed absence lines add to billed minutes and amounts (and
// absence_billed_minutes), never to presence minutes or days. A family
// is the children sharing a guardian id (from the attendance or the
// contracts); a child without one is its own family.
func Preview(lines []Line, contracts map[string]Contract) []MonthSummary {
	type ck struct {
		y     int
		m     time.Month
		child string
	}
	rows := map[ck]*MonthSummary{}
	days := map[ck]map[attendance.Date]bool{}
	for _, l := range lines {
		k := ck{l.Date.Year, l.Date.Month, l.ChildID}
		r := rows[k]
		if r == nil {
			month := formatDate(l.Date)[:7]
			fam := l.GuardianID
			if fam == "" {
				fam = contracts[l.ChildID].GuardianID
			}
			if fam == "" {
				fam = l.ChildID
			}
			r = &MonthSummary{Month: month, Level: "child", FamilyID: fam, ChildID: l.ChildID, ChildName: l.ChildName,
				ContractMinutes: contracts[l.ChildID].MinutesPerMonth}
			rows[k] = r
			days[k] = map[attendance.Date]bool{}
		}
		if r.ChildName == "" {
			r.ChildName = l.ChildName
		}
		r.Minutes += l.Minutes
		r.BilledMinutes += l.BilledMinutes
		r.AmountCents += l.AmountCents
		if l.DayType != "" && l.Stays > 0 && !hasFlag(l.Flags, FlagMissingTime) {
			days[k][l.Date] = true
		}
		if hasFlag(l.Flags, FlagMissingTime) {
			r.Unpriced += l.Stays
		}
		if hasFlag(l.Flags, FlagUnverifiedTime) || hasFlag(l.Flags, FlagCorrectedTime) {
			r.FlaggedLines++
		}
		if _, ok := IsAbsence(&l); ok {
			r.AbsenceMinutes += l.BilledMinutes
		}
	}
	type fk struct{ month, fam string }
	fams := map[fk]*MonthSummary{}
	var out []MonthSummary
	for k, r := range rows {
		r.Days = len(days[k])
		if r.ContractMinutes > 0 && r.BilledMinutes > r.ContractMinutes {
			r.ExtraMinutes = r.BilledMinutes - r.ContractMinutes
		}
		out = append(out, *r)
		f := fams[fk{r.Month, r.FamilyID}]
		if f == nil {
			f = &MonthSummary{Month: r.Month, Level: "family", FamilyID: r.FamilyID}
			fams[fk{r.Month, r.FamilyID}] = f
		}
		f.Days += r.Days
		f.Minutes += r.Minutes
		f.BilledMinutes += r.BilledMinutes
		f.ContractMinutes += r.ContractMinutes
		f.ExtraMinutes += r.ExtraMinutes
		f.AmountCents += r.AmountCents
		f.Unpriced += r.Unpriced
		f.FlaggedLines += r.FlaggedLines
		f.AbsenceMinutes += r.AbsenceMinutes
	}
	for _, f := range fams {
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Month != b.Month {
			return a.Month < b.Month
		}
		if a.FamilyID != b.FamilyID {
			return a.FamilyID < b.FamilyID
		}
		if a.Level != b.Level {
			return a.Level == "child" // children first, then their family total
		}
		return a.ChildID < b.ChildID
	})
	return out
}

func hasFlag(f []string, x string) bool {
	for _, y := range f {
		if y == x {
			return true
		}
	}
	return false
}

// SummaryColumns is the preview CSV header.
var SummaryColumns = []string{"month", "level", "family_id", "child_id", "child_name", "days", "minutes", "billed_minutes",
	"contract_minutes", "extra_minutes", "amount_cents", "unpriced_stays", "flagged_lines", "absence_billed_minutes"}

// SummaryTable is the monthly preview as a sheet.
var SummaryTable = sheet.Table{Name: "Voorbeeld", Columns: []sheet.Column{
	{Key: "month", Title: "Maand", Kind: sheet.Text, Width: 10},
	{Key: "level", Title: "Niveau", Kind: sheet.Text, Width: 9},
	{Key: "family_id", Title: "Gezin", Kind: sheet.Text, Width: 22},
	{Key: "child_id", Title: "Kind-id", Kind: sheet.Text},
	{Key: "child_name", Title: "Kind", Kind: sheet.Text, Width: 16},
	{Key: "days", Title: "Dagen", Kind: sheet.Int},
	{Key: "minutes", Title: "Minuten aanwezig", Kind: sheet.Minutes},
	{Key: "billed_minutes", Title: "Gefactureerde minuten", Kind: sheet.Minutes},
	{Key: "contract_minutes", Title: "Contractminuten", Kind: sheet.Minutes},
	{Key: "extra_minutes", Title: "Extra minuten", Kind: sheet.Minutes},
	{Key: "amount_cents", Title: "Bedrag", Kind: sheet.Money},
	{Key: "unpriced_stays", Title: "Niet geprijsd", Kind: sheet.Int},
	{Key: "flagged_lines", Title: "Te controleren", Kind: sheet.Int},
	{Key: "absence_billed_minutes", Title: "Gefactureerde afwezigheid (min)", Kind: sheet.Minutes},
}}

// WriteSummaryCSV writes the monthly preview.
func WriteSummaryCSV(w io.Writer, rows []MonthSummary) error {
	return WriteSummary(w, sheet.CSV, rows, nil)
}

// WriteSummary writes the monthly preview in format f. familyName, when
// not nil, replaces the family id of the family column in the formats
// people open (the guardians' names instead of an id).
func WriteSummary(w io.Writer, f sheet.Format, rows []MonthSummary, familyName func(id string) string) error {
	sw, err := sheet.NewWriter(w, f, SummaryTable)
	if err != nil {
		return fmt.Errorf("billing: write summary: %w", err)
	}
	for _, r := range rows {
		fam := r.FamilyID
		if familyName != nil && f != sheet.CSV {
			fam = familyName(fam)
		}
		rec := []sheet.Cell{sheet.Str(r.Month), sheet.Str(r.Level), sheet.Str(fam), sheet.Str(r.ChildID), sheet.Str(r.ChildName),
			sheet.Num(r.Days), sheet.Mins(r.Minutes), sheet.Mins(r.BilledMinutes), sheet.Mins(r.ContractMinutes), sheet.Mins(r.ExtraMinutes),
			sheet.Cents(r.AmountCents), sheet.Num(r.Unpriced), sheet.Num(r.FlaggedLines), sheet.Mins(r.AbsenceMinutes)}
		if err := sw.Write(rec); err != nil {
			return fmt.Errorf("billing: write summary: %w", err)
		}
	}
	if err := sw.Close(); err != nil {
		return fmt.Errorf("billing: write summary: %w", err)
	}
	return nil
}

// WriteSummaryJSON writes the monthly preview as JSON.
func WriteSummaryJSON(w io.Writer, rows []MonthSummary) error {
	type js struct {
		Month           string `json:"month"`
		Level           string `json:"level"`
		FamilyID        string `json:"family_id"`
		ChildID         string `json:"child_id,omitempty"`
		ChildName       string `json:"child_name,omitempty"`
		Days            int    `json:"days"`
		Minutes         int    `json:"minutes"`
		BilledMinutes   int    `json:"billed_minutes"`
		ContractMinutes int    `json:"contract_minutes"`
		ExtraMinutes    int    `json:"extra_minutes"`
		AmountCents     int64  `json:"amount_cents"`
		Unpriced        int    `json:"unpriced_stays"`
		FlaggedLines    int    `json:"flagged_lines"`
		AbsenceMinutes  int    `json:"absence_billed_minutes"`
	}
	out := make([]js, len(rows))
	for i, r := range rows {
		out[i] = js(r)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("billing: write summary: %w", err)
	}
	return nil
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
