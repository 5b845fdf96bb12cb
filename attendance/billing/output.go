package billing

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
)

// LineColumns is the invoice-line CSV header: the seven contract-8 columns,
// then extensions.
var LineColumns = []string{"child_id", "date", "day_type", "minutes", "billed_minutes", "amount_cents", "rule",
	"child_name", "guardian_id", "stays", "rate_cents_per_hour", "flags"}

// WriteCSV writes invoice lines.
func WriteCSV(w io.Writer, lines []Line) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(LineColumns); err != nil {
		return fmt.Errorf("billing: write csv: %w", err)
	}
	rec := make([]string, len(LineColumns))
	for i := range lines {
		l := &lines[i]
		rec[0], rec[1], rec[2], rec[3] = l.ChildID, formatDate(l.Date), string(l.DayType), strconv.Itoa(l.Minutes)
		rec[4], rec[5], rec[6], rec[7] = strconv.Itoa(l.BilledMinutes), strconv.FormatInt(l.AmountCents, 10), l.Rule, l.ChildName
		rec[8], rec[9], rec[10], rec[11] = l.GuardianID, strconv.Itoa(l.Stays), strconv.FormatInt(l.RateCentsPerHour, 10), strings.Join(l.Flags, ";")
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("billing: write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("billing: write csv: %w", err)
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

// WriteSummaryCSV writes the monthly preview.
func WriteSummaryCSV(w io.Writer, rows []MonthSummary) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(SummaryColumns); err != nil {
		return fmt.Errorf("billing: write summary: %w", err)
	}
	for _, r := range rows {
		rec := []string{r.Month, r.Level, r.FamilyID, r.ChildID, r.ChildName, strconv.Itoa(r.Days), strconv.Itoa(r.Minutes),
			strconv.Itoa(r.BilledMinutes), strconv.Itoa(r.ContractMinutes), strconv.Itoa(r.ExtraMinutes),
			strconv.FormatInt(r.AmountCents, 10), strconv.Itoa(r.Unpriced), strconv.Itoa(r.FlaggedLines),
			strconv.Itoa(r.AbsenceMinutes)}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("billing: write summary: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
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
