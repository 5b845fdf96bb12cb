package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kinderdeur/kiosk/attendance/benefit"
	"github.com/kinderdeur/kiosk/attendance/billing"
	"github.com/kinderdeur/kiosk/attendance/stays"
)

func init() {
	commands["bill"] = command{summary: "price attendance (contract-6 CSV) with a tariff profile", run: runBill}
	commands["statement"] = command{summary: "childcare benefit statement (nl) or 281.86 data (be) from attendance", run: runStatement}
}

// billInputs are the flags bill and statement share.
type billInputs struct {
	profile, in, profiles, contracts string
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
}

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
	e, err := billing.New(p, contracts)
	if err != nil {
		return nil, nil, err
	}
	return e.Bill(in), contracts, nil
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

func runBill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bill", stderr)
	var b billInputs
	b.register(fs)
	out := fs.String("out", "", "write to this file instead of stdout")
	format := fs.String("format", "csv", "csv or json")
	summary := fs.Bool("summary", false, "write the monthly preview per child and family instead of the lines")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	if *format != "csv" && *format != "json" {
		return usageError{fmt.Sprintf("-format %q: want csv or json", *format)}
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
			return billing.WriteSummaryCSV(w, billing.Preview(lines, contracts))
		case *format == "json":
			return billing.WriteJSON(w, lines)
		default:
			return billing.WriteCSV(w, lines)
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
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
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
		return writeOutput(*out, stdout, func(w io.Writer) error { return benefit.WriteNLCSV(w, rows) })
	}
	rows, err := benefit.BE(lines, contracts, *year)
	if err != nil {
		if errors.Is(err, benefit.ErrNoBirthDate) {
			return fmt.Errorf("%s: %w", b.contracts, err)
		}
		return err
	}
	return writeOutput(*out, stdout, func(w io.Writer) error { return benefit.WriteBECSV(w, rows) })
}
