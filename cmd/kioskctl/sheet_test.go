package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/kinderdeur/kiosk/attendance/sheet"
)

// hostileCSV is contract-6 attendance whose names are formulas.
const hostileCSV = `child_id,child_name,group,date,check_in,check_out,minutes,day_type,location,guardian_id
c-zoe,"=HYPERLINK(""http://evil.example"",""Zoë"")",@Rupsen,2026-11-16,08:00,17:30,570,weekday,loc,+p-1
c-levi,-1+2,=Vlinders,2026-11-17,08:15,12:00,225,weekday,loc,-p-2
`

// TestBillAndStatementFormats runs bill, bill -summary and both statements
// in every format on hostile names: no cell would run as a formula, the
// contract-8 CSV stays integer cents, xlsx opens with typed cells.
func TestBillAndStatementFormats(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "att.csv")
	contracts := filepath.Join(dir, "contracts.csv")
	os.WriteFile(in, []byte(hostileCSV), 0o644)
	os.WriteFile(contracts, []byte("child_id,birth_date\nc-zoe,2020-01-01\nc-levi,2019-05-05\n"), 0o644)
	runs := map[string][]string{
		"bill":         {"bill", "-profile", "bernefertier", "-in", in},
		"summary":      {"bill", "-profile", "bernefertier", "-in", in, "-summary"},
		"statement-nl": {"statement", "-kind", "nl", "-year", "2026", "-profile", "bernefertier", "-in", in},
		"statement-be": {"statement", "-kind", "be", "-year", "2026", "-profile", "anzegem-bko", "-in", in, "-contracts", contracts},
	}
	for name, args := range runs {
		for _, f := range []string{"csv", "csv-excel", "xlsx"} {
			out := filepath.Join(dir, name+"-"+f)
			var stderr bytes.Buffer
			if code := run(context.Background(), append(append([]string{}, args...), "-format", f, "-out", out), &bytes.Buffer{}, &stderr); code != 0 {
				t.Fatalf("%s -format %s: exit %d: %s", name, f, code, stderr.String())
			}
			b, _ := os.ReadFile(out)
			var cells []string
			switch f {
			case "xlsx":
				x, err := excelize.OpenReader(bytes.NewReader(b))
				if err != nil {
					t.Fatalf("%s xlsx: %v", name, err)
				}
				rows, _ := x.GetRows(x.GetSheetName(0), excelize.Options{RawCellValue: true})
				for _, r := range rows {
					cells = append(cells, r...)
				}
				x.Close()
			default:
				cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "\ufeff")))
				if f == "csv-excel" {
					cr.Comma = ';'
					if !bytes.HasPrefix(b, []byte("\ufeff")) {
						t.Errorf("%s csv-excel: no BOM", name)
					}
				}
				recs, err := cr.ReadAll()
				if err != nil {
					t.Fatalf("%s %s: %v", name, f, err)
				}
				for _, r := range recs {
					cells = append(cells, r...)
				}
			}
			for _, c := range cells {
				if sheet.Dangerous(c) {
					t.Errorf("%s -format %s: cell %q would run as a formula", name, f, c)
				}
			}
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "bill-csv")); !strings.HasPrefix(string(b), "child_id,date,day_type,minutes,billed_minutes,amount_cents,rule,") {
		t.Errorf("contract-8 header changed: %.80s", b)
	}
}

// TestXLSXNeedsOut: a workbook is not written to a terminal.
func TestXLSXNeedsOut(t *testing.T) {
	tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no terminal")
	}
	defer tty.Close()
	if _, err := outputFormat("xlsx", "", tty, true); err == nil {
		t.Error("xlsx to a terminal was accepted")
	}
	if _, err := outputFormat("xlsx", "x.xlsx", tty, true); err != nil {
		t.Errorf("xlsx with -out: %v", err)
	}
	if _, err := outputFormat("ods", "", &bytes.Buffer{}, true); err == nil {
		t.Error("-format ods accepted")
	}
}
