package central

import (
	"fmt"
	"io"
	"strings"

	"github.com/kinderdeur/kiosk/attendance/billing"
	"github.com/kinderdeur/kiosk/attendance/sheet"
)

// RunLineTable is a run's invoice lines for people (xlsx, csv-excel): each
// line with its invoice and the family named by its guardians, as on the
// invoice and the billing page, then the columns of the invoice lines.
var RunLineTable = sheet.Table{Name: "Factuurregels", Columns: append([]sheet.Column{
	{Key: "invoice", Title: "Factuur", Kind: sheet.Text, Width: 14},
	{Key: "family", Title: "Gezin", Kind: sheet.Text, Width: 28},
}, billing.LineTable.Columns...)}

// WriteRunLines writes a run's invoice lines. Format csv is contract 8 as
// it was (the machines' file, family by id); the formats people open name
// the invoice and the family by its guardians.
func WriteRunLines(w io.Writer, f sheet.Format, run Run) error {
	if f == sheet.CSV {
		return billing.Write(w, f, RunLines(run))
	}
	sw, err := sheet.NewWriter(w, f, RunLineTable)
	if err != nil {
		return fmt.Errorf("central: run lines: %w", err)
	}
	for _, i := range run.Invoices {
		fam := strings.Join(i.Invoice.Family.Guardians, ", ")
		for _, c := range i.Invoice.Children {
			for _, l := range c.Lines {
				row := []sheet.Cell{sheet.Str(i.Number), sheet.Str(fam),
					sheet.Str(l.ChildID), sheet.Day(l.Date), sheet.CodeOf(string(l.DayType)), sheet.Mins(l.Minutes),
					sheet.Mins(l.BilledMinutes), sheet.Cents(l.AmountCents), sheet.RuleOf(l.Rule), sheet.Str(l.ChildName),
					sheet.Str(l.GuardianID), sheet.Num(l.Stays), sheet.Cents(l.RateCentsPerHour), sheet.CodesOf(l.Flags)}
				if err := sw.Write(row); err != nil {
					return fmt.Errorf("central: run lines: %w", err)
				}
			}
		}
	}
	if err := sw.Close(); err != nil {
		return fmt.Errorf("central: run lines: %w", err)
	}
	return nil
}
