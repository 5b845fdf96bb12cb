package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/benefit"
	"github.com/kinderdeur/kiosk/attendance/billing"
	"github.com/kinderdeur/kiosk/attendance/calendar"
	"github.com/kinderdeur/kiosk/attendance/sheet"
	"github.com/kinderdeur/kiosk/attendance/stays"
)

func init() {
	commands["bill"] = command{summary: "price attendance (contract-6 CSV) with a tariff profile", run: runBill}
	commands["statement"] = command{summary: "childcare benefit statement (nl) or 281.86 data (be) from attendance", run: runStatement}
}

// billInputs are the flags bill and statement share.
type billInputs struct {
	profile, in, profiles, contracts string
	absences, calendar               string
	rate                             int64
}

func (b *billInputs) register(fs interface {
	StringVar(*string, string, string, string)
	Int64Var(*int64, string, int64, string)
}) {
	fs.StringVar(&b.profile, "profile", "", "tariff profile: deburcht, bernefertier, anzegem-bko, or one from -profiles")
	fs.StringVar(&b.in, "in", "", "attendance CSV (contract 6); - for stdin")
	fs.StringVar(&b.profiles, "profiles", "", "JSON file with more profiles (one profile or {\"profiles\":[...]})")
	fs.StringVar(&b.contracts, "contracts", "", "contracts CSV ("+strings.Join(billing.ContractColumns, ",")+")")
	fs.Int64Var(&b.rate, "rate", 0, "hourly rate in cents for the profile's contract-rate methods (children without a contract rate)")
	fs.StringVar(&b.absences, "absences", "", "absences CSV ("+strings.Join(billing.AbsenceColumns, ",")+"; note optional): agreed care that did not take place")
	fs.StringVar(&b.calendar, "calendar", "", "calendar config JSON giving the absences' day types (default: nl, region midden, free Wednesday afternoons)")
}

// billHelp is printed above the flags of kioskctl bill -h.
const billHelp = `usage: kioskctl bill -profile NAME -in ATTENDANCE.csv [flags]

Prices attendance (contract-6 CSV: the actual stays) with a tariff profile and
writes invoice lines (contract 8) or, with -summary, the monthly preview.

Absences (-absences FILE) add the agreed care that did not take place:
  child_id,date,kind,agreed_minutes[,note]
one row per child per day; date YYYY-MM-DD; agreed_minutes 0-1440; kind:
  sick           the child was ill
  late_cancel    cancelled less than 48 h before the agreed start
  cancel         cancelled in time
  provider_away  the childminder or location was closed, ill or away
  short_day      the child came, but for less than the agreed time
A row on a day the child also has a stay bills only what the day's stay lines
did not: max(0, agreed - billed), e.g. a child sent home ill.
Every row becomes a line (minutes 0) named after its rule, also when it bills 0:
  deburcht      late_cancel: agreed minutes rounded up to the quarter hour
                (deburcht/late-cancel); sick: the first two absent agreed days of
                a spell billed (deburcht/sick-first-two-days), later days 0
                (deburcht/sick-after-two-days); short_day: the agreed hours
                (deburcht/agreed-hours); cancel, provider_away: 0
  bernefertier  sick: agreed minutes for one week, the first sick day and the 6
                calendar days after it (bernefertier/sick-week), later 0
                (bernefertier/sick-after-week); late_cancel: agreed minutes
                (bernefertier/late-notice); cancel, provider_away: 0; sick on a
                day with a stay: the rest of the agreed hours, outside the week
                (bernefertier/sick-sent-home)
  anzegem-bko   no absence is billed (anzegem-bko/absence-not-billed)
A spell is a child's rows of one kind in date order; it ends at a stay or an
absence of another kind between two rows, or a gap of more than 7 days.
Weekends and days without a row neither count nor break it. Day types come
from -calendar. A bad CSV exits 1 naming every error's line and column.

flags:
`

// load reads everything and prices it.
func (b *billInputs) load(stdin io.Reader) ([]billing.Line, map[string]billing.Contract, error) {
	if b.profile == "" {
		return nil, nil, usageError{"-profile is required"}
	}
	if b.in == "" {
		return nil, nil, usageError{"-in is required (a contract-6 attendance CSV, or - for stdin)"}
	}
	if b.rate < 0 {
		return nil, nil, usageError{"-rate must be a positive number of cents"}
	}
	if b.calendar != "" && b.absences == "" {
		return nil, nil, usageError{"-calendar only gives the day types of -absences; add -absences"}
	}
	var extra []billing.Profile
	if b.profiles != "" {
		f, err := os.Open(b.profiles)
		if err != nil {
			return nil, nil, err
		}
		extra, err = billing.ParseProfiles(f)
		f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", b.profiles, err)
		}
	}
	p, err := billing.Lookup(b.profile, extra)
	if err != nil {
		return nil, nil, usageError{err.Error()}
	}
	if b.rate > 0 {
		for name, m := range p.Methods {
			if m.ContractRate {
				m.RateCentsPerHour = b.rate
				p.Methods[name] = m
			}
		}
	}
	var contracts map[string]billing.Contract
	if b.contracts != "" {
		f, err := os.Open(b.contracts)
		if err != nil {
			return nil, nil, err
		}
		contracts, err = billing.ReadContracts(f)
		f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", b.contracts, err)
		}
	}
	r := stdin
	if b.in != "-" {
		f, err := os.Open(b.in)
		if err != nil {
			return nil, nil, err
		}
		defer f.Close()
		r = f
	}
	in, err := stays.ReadCSV(r)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", b.in, err)
	}
	var abs []billing.Absence
	var dayType func(attendance.Date) calendar.DayType
	if b.absences != "" {
		f, err := os.Open(b.absences)
		if err != nil {
			return nil, nil, err
		}
		abs, err = billing.ReadAbsences(f)
		f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", b.absences, err)
		}
		cfg := calendar.DefaultConfig()
		if b.calendar != "" {
			f, err := os.Open(b.calendar)
			if err != nil {
				return nil, nil, err
			}
			cfg, err = calendar.ParseConfig(f)
			f.Close()
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", b.calendar, err)
			}
		}
		cal, err := calendar.New(cfg)
		if err != nil {
			return nil, nil, fmt.Errorf("calendar: %w", err)
		}
		dayType = cal.DayType
	}
	e, err := billing.New(p, contracts)
	if err != nil {
		return nil, nil, err
	}
	return e.BillWithAbsences(in, abs, dayType), contracts, nil
}

// writeOutput writes to -out (all or nothing: a temporary file renamed into
// place) or to stdout.
func writeOutput(out string, stdout io.Writer, write func(io.Writer) error) error {
	if out == "" || out == "-" {
		return write(stdout)
	}
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// outputFormat checks -format: csv, csv-excel, xlsx (and json when
// allowed; then the sheet format is ""). An xlsx workbook is binary: it
// is refused on a terminal unless -out names a file.
func outputFormat(format, out string, stdout io.Writer, allowJSON bool) (sheet.Format, error) {
	if allowJSON && format == "json" {
		return "", nil
	}
	f, err := sheet.ParseFormat(format)
	if err != nil {
		want := "csv, csv-excel or xlsx"
		if allowJSON {
			want = "csv, csv-excel, xlsx or json"
		}
		return "", usageError{fmt.Sprintf("-format %q: want %s", format, want)}
	}
	if f.Binary() && (out == "" || out == "-") && isTerminal(stdout) {
		return "", usageError{"-format xlsx writes a binary workbook: add -out FILE.xlsx (or redirect stdout)"}
	}
	return f, nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func runBill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bill", stderr)
	var b billInputs
	b.register(fs)
	out := fs.String("out", "", "write to this file instead of stdout")
	format := fs.String("format", "csv", "csv (contract 8), csv-excel (; BOM, decimal comma, euros), xlsx (needs -out or a redirect) or json")
	summary := fs.Bool("summary", false, "write the monthly preview per child and family instead of the lines")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), billHelp)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	sf, err := outputFormat(*format, *out, stdout, true)
	if err != nil {
		return err
	}
	lines, contracts, err := b.load(os.Stdin)
	if err != nil {
		return err
	}
	return writeOutput(*out, stdout, func(w io.Writer) error {
		switch {
		case *summary && *format == "json":
			return billing.WriteSummaryJSON(w, billing.Preview(lines, contracts))
		case *summary:
			return billing.WriteSummary(w, sf, billing.Preview(lines, contracts), nil)
		case *format == "json":
			return billing.WriteJSON(w, lines)
		default:
			return billing.Write(w, sf, lines)
		}
	})
}

func runStatement(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("statement", stderr)
	var b billInputs
	b.register(fs)
	kind := fs.String("kind", "", "nl (kinderopvangtoeslag statement) or be (model 281.86 data)")
	year := fs.Int("year", 0, "calendar year of the statement")
	lrk := fs.String("lrk", "", "nl: the location's LRK number (a contract's lrk column wins)")
	out := fs.String("out", "", "write to this file instead of stdout")
	format := fs.String("format", "csv", "csv, csv-excel (; BOM, decimal comma, euros) or xlsx (needs -out or a redirect)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	sf, err := outputFormat(*format, *out, stdout, false)
	if err != nil {
		return err
	}
	if *kind != "nl" && *kind != "be" {
		return usageError{fmt.Sprintf("-kind %q: want nl or be", *kind)}
	}
	if *year < 1970 || *year > 2199 {
		return usageError{"-year is required (e.g. -year 2026)"}
	}
	if *kind == "be" && b.contracts == "" {
		return usageError{"-kind be needs -contracts with birth_date (only children under 14 are certified)"}
	}
	lines, contracts, err := b.load(os.Stdin)
	if err != nil {
		return err
	}
	if *kind == "nl" {
		rows := benefit.NL(lines, contracts, benefit.NLOptions{Year: *year, LRK: *lrk})
		return writeOutput(*out, stdout, func(w io.Writer) error { return benefit.WriteNL(w, sf, rows) })
	}
	rows, err := benefit.BE(lines, contracts, *year)
	if err != nil {
		if errors.Is(err, benefit.ErrNoBirthDate) {
			return fmt.Errorf("%s: %w", b.contracts, err)
		}
		return err
	}
	return writeOutput(*out, stdout, func(w io.Writer) error { return benefit.WriteBE(w, sf, rows) })
}
