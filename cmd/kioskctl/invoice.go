package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/invoice"
	"github.com/kinderdeur/kiosk/attendance/sepa"
)

func init() {
	commands["invoice"] = command{summary: "monthly invoices per family as PDF, and a SEPA direct-debit file", run: runInvoice}
}

const invoiceHelp = `usage: kioskctl invoice -profile NAME -in ATTENDANCE.csv -month YYYY-MM -provider PROVIDER.json
                        -families FAMILIES.csv -numbers NUMBERS.db -out DIR [-sepa FILE.xml] [flags]

Prices a month of attendance like kioskctl bill (same -profile, -contracts,
-absences, -calendar, -rate, -profiles) and writes one invoice per family
(the guardian_id of the attendance) to DIR as NUMBER-FAMILY.pdf. With -sepa
it also writes a SEPA Core direct-debit batch (pain.008.001.08) for the
families with a mandate.

-provider is JSON: name, address (lines), country (NL or BE), kvk and lrk
(NL) or enterprise_number (BE), iban, bic, email, phone, number_prefix,
due_day_of_next_month or payment_term_days, vat_exemption (replaces the
default text), creditor_id and collection_day (direct debits).

-families is CSV:
  family_id,guardians,street,postcode,city,country,email,lang,iban,bic,mandate_id,mandate_date,sequence
family_id and guardians (names separated by ';') are required; a mandate is
iban + mandate_id + mandate_date; sequence FRST or RCUR (default RCUR).

Invoice numbers come from -numbers, a SQLite file holding the last number per
year (created when missing): numbers are committed only after every PDF is
written, so a failed run leaves no gap, and a rerun of the same month with the
same data and -date gives the same bytes. The invoice date (-date) defaults to
the first day of the month after -month. Every input error names its file,
line and column.

flags:
`

func runInvoice(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("invoice", stderr)
	var b billInputs
	b.register(fs)
	month := fs.String("month", "", "the month to invoice, YYYY-MM (required)")
	providerFile := fs.String("provider", "", "provider config JSON (required)")
	familiesFile := fs.String("families", "", "families CSV (required)")
	numbersFile := fs.String("numbers", "", "SQLite file with the invoice number sequence (required; created when missing)")
	outDir := fs.String("out", "", "directory for the PDFs (required; created when missing)")
	sepaFile := fs.String("sepa", "", "also write the SEPA direct-debit batch (pain.008.001.08) to this file")
	dateFlag := fs.String("date", "", "invoice date YYYY-MM-DD (default: the first day of the next month)")
	langFlag := fs.String("lang", "", "nl or en for every invoice (default: each family's lang, else nl)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), invoiceHelp)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	for _, req := range []struct{ v, name string }{{*month, "-month"}, {*providerFile, "-provider"}, {*familiesFile, "-families"},
		{*numbersFile, "-numbers"}, {*outDir, "-out"}} {
		if req.v == "" {
			return usageError{req.name + " is required"}
		}
	}
	mt, err := time.Parse("2006-01", *month)
	if err != nil {
		return usageError{fmt.Sprintf("-month %q: want YYYY-MM", *month)}
	}
	year, mon := mt.Year(), mt.Month()
	date := attendance.DateOf(time.Date(year, mon+1, 1, 0, 0, 0, 0, time.UTC))
	if *dateFlag != "" {
		if date, err = attendance.ParseDate(*dateFlag); err != nil {
			return usageError{"-date: " + err.Error()}
		}
	}
	var lang invoice.Lang
	if *langFlag != "" {
		if lang, err = invoice.ParseLang(*langFlag); err != nil {
			return usageError{"-lang: " + err.Error()}
		}
	}
	provider, err := readFile(*providerFile, invoice.ParseProvider)
	if err != nil {
		return err
	}
	families, err := readFile(*familiesFile, invoice.ReadFamilies)
	if err != nil {
		return err
	}
	if *sepaFile != "" {
		if err := sepa.CheckCreditorID(provider.CreditorID); err != nil {
			return fmt.Errorf("%s: key \"creditor_id\" (needed for -sepa): %w", *providerFile, err)
		}
	}
	lines, _, err := b.load(os.Stdin)
	if err != nil {
		return err
	}
	ids, byFamily := invoice.MonthLines(lines, year, mon)
	if len(ids) == 0 {
		return fmt.Errorf("%s: no invoice lines in %s", b.in, *month)
	}
	var missing []string
	for _, id := range ids {
		if _, ok := families[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: no row for family_id %s (the guardian_id of the attendance; a child without one is its own family)",
			*familiesFile, strings.Join(missing, ", "))
	}

	db, err := sql.Open("sqlite3", "file:"+*numbersFile+"?_journal_mode=WAL&_busy_timeout=5000&_synchronous=FULL")
	if err != nil {
		return fmt.Errorf("-numbers: %w", err)
	}
	defer db.Close()
	seq, err := invoice.NewSQLiteSequence(ctx, db)
	if err != nil {
		return fmt.Errorf("-numbers %s: %w", *numbersFile, err)
	}
	series := fmt.Sprint(date.Year)
	first, err := seq.Next(ctx, series)
	if err != nil {
		return err
	}

	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(*outDir, ".invoice-")
	if err != nil {
		return err
	}
	keep := false // after the numbers are taken, a failed move keeps the files
	defer func() {
		if !keep {
			os.RemoveAll(tmp)
		}
	}()
	type written struct{ tmp, final string }
	var files []written
	var total int64
	batch := sepa.Batch{Created: date.In(time.UTC),
		Creditor: sepa.Creditor{Name: provider.Name, IBAN: provider.IBAN, BIC: provider.BIC, ID: provider.CreditorID}}
	for i, id := range ids {
		f := families[id]
		if lang != "" {
			f.Lang = lang
		}
		number := invoice.FormatNumber(provider.NumberPrefix, series, first+int64(i))
		inv := invoice.New(provider, f, year, mon, byFamily[id], number, date)
		var buf bytes.Buffer
		if err := invoice.WritePDF(&buf, inv); err != nil {
			return err
		}
		name := number + "-" + safeName(id) + ".pdf"
		if err := os.WriteFile(filepath.Join(tmp, name), buf.Bytes(), 0o644); err != nil {
			return err
		}
		files = append(files, written{filepath.Join(tmp, name), filepath.Join(*outDir, name)})
		total += inv.TotalCents
		if m := f.Mandate; m != nil && inv.TotalCents > 0 {
			seqType := sepa.Recurring
			if m.First {
				seqType = sepa.First
			}
			holder := m.Holder
			if holder == "" {
				holder = f.Guardians[0]
			}
			batch.Debits = append(batch.Debits, sepa.Debit{EndToEndID: number, AmountCents: inv.TotalCents, MandateID: m.ID,
				MandateDate: m.Signed, Sequence: seqType, DebtorName: holder, DebtorIBAN: m.IBAN, DebtorBIC: m.BIC,
				Remittance:   fmt.Sprintf("%s %s %02d-%d", number, provider.Name, int(mon), year),
				CollectionOn: inv.Collection})
		}
	}
	last := invoice.FormatNumber(provider.NumberPrefix, series, first+int64(len(ids))-1)
	var sepaTmp string
	if *sepaFile != "" {
		if len(batch.Debits) == 0 {
			fmt.Fprintf(stderr, "kioskctl invoice: no family with a mandate and an amount: %s not written\n", *sepaFile)
		} else {
			batch.MessageID = fmt.Sprintf("SDD-%s-%d", invoice.FormatNumber(provider.NumberPrefix, series, first), len(ids))
			var buf bytes.Buffer
			if err := sepa.Write(&buf, batch); err != nil {
				return fmt.Errorf("-sepa: %w", err)
			}
			sepaTmp = filepath.Join(tmp, "sepa.xml")
			if err := os.WriteFile(sepaTmp, buf.Bytes(), 0o644); err != nil {
				return err
			}
		}
	}
	// Every file is written: take the numbers, then move the files in place.
	if err := seq.Commit(ctx, series, first, int64(len(ids))); err != nil {
		return fmt.Errorf("-numbers %s: %w", *numbersFile, err)
	}
	for _, f := range files {
		if err := os.Rename(f.tmp, f.final); err != nil {
			keep = true
			return fmt.Errorf("invoices %s to %s are numbered and written to %s, but not moved: %w",
				invoice.FormatNumber(provider.NumberPrefix, series, first), last, tmp, err)
		}
	}
	if sepaTmp != "" {
		if err := os.Rename(sepaTmp, *sepaFile); err != nil {
			keep = true
			return fmt.Errorf("-sepa: the batch is in %s: %w", sepaTmp, err)
		}
	}
	fmt.Fprintf(stdout, "%d invoices %s to %s in %s, total %s\n", len(ids), invoice.FormatNumber(provider.NumberPrefix, series, first), last,
		*outDir, invoice.FormatMoney(total, invoice.Dutch))
	if sepaTmp != "" {
		var sum int64
		for _, d := range batch.Debits {
			sum += d.AmountCents
		}
		fmt.Fprintf(stdout, "%d direct debits, %s, in %s\n", len(batch.Debits), invoice.FormatMoney(sum, invoice.Dutch), *sepaFile)
	}
	return nil
}

// readFile opens name and parses it, prefixing errors with the file name.
func readFile[T any](name string, parse func(io.Reader) (T, error)) (T, error) {
	f, err := os.Open(name)
	if err != nil {
		var zero T
		return zero, err
	}
	defer f.Close()
	v, err := parse(f)
	if err != nil {
		return v, fmt.Errorf("%s: %w", name, err)
	}
	return v, nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// safeName keeps a family id usable in a file name.
func safeName(s string) string { return strings.Trim(unsafeName.ReplaceAllString(s, "_"), "._") }
