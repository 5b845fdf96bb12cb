package sheet_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/sheet"
)

var table = sheet.Table{Name: "Test", Columns: []sheet.Column{
	{Key: "child_name", Title: "Kind", Kind: sheet.Text},
	{Key: "date", Title: "Datum", Kind: sheet.Date},
	{Key: "check_in", Title: "Aankomst", Kind: sheet.Clock},
	{Key: "minutes", Title: "Minuten", Kind: sheet.Minutes},
	{Key: "amount_cents", Title: "Bedrag", Kind: sheet.Money},
	{Key: "hours", Title: "Uren", Kind: sheet.Hours},
}}

var rows = [][]sheet.Cell{
	{sheet.Str("Zoë"), sheet.Day(attendance.Date{Year: 2026, Month: 11, Day: 3}), sheet.TimeOfDay(8*60 + 5), sheet.Mins(490), sheet.Cents(14309), sheet.HoursOf(90)},
	{sheet.Str(`=HYPERLINK("http://x","y")`), sheet.Empty(), sheet.TimeOfDay(-1), sheet.Mins(0), sheet.Cents(-1250), sheet.HoursOf(0)},
}

func write(t *testing.T, f sheet.Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := sheet.NewWriter(&buf, f, table)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCSV(t *testing.T) {
	want := "child_name,date,check_in,minutes,amount_cents,hours\n" +
		"Zoë,2026-11-03,08:05,490,14309,1.50\n" +
		`"'=HYPERLINK(""http://x"",""y"")",,,0,-1250,0.00` + "\n"
	if diff := cmp.Diff(want, string(write(t, sheet.CSV))); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func TestCSVExcel(t *testing.T) {
	want := "\ufeffKind;Datum;Aankomst;Minuten;Bedrag;Uren\r\n" +
		"Zoë;2026-11-03;08:05;490;143,09;1,50\r\n" +
		`"'=HYPERLINK(""http://x"",""y"")";;;0;-12,50;0,00` + "\r\n"
	if diff := cmp.Diff(want, string(write(t, sheet.CSVExcel))); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func TestXLSXTypes(t *testing.T) {
	f, err := excelize.OpenReader(bytes.NewReader(write(t, sheet.XLSX)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type cell struct {
		Type   excelize.CellType
		Raw    string
		Shown  string
		Format string
	}
	get := func(ref string) cell {
		typ, _ := f.GetCellType("Test", ref)
		raw, _ := f.GetCellValue("Test", ref, excelize.Options{RawCellValue: true})
		shown, _ := f.GetCellValue("Test", ref)
		st, _ := f.GetCellStyle("Test", ref)
		s, _ := f.GetStyle(st)
		code := ""
		if s != nil && s.CustomNumFmt != nil {
			code = *s.CustomNumFmt
		}
		return cell{typ, raw, shown, code}
	}
	got := map[string]cell{}
	for _, ref := range []string{"A1", "A2", "B2", "C2", "D2", "E2", "F2", "A3", "E3", "B3"} {
		got[ref] = get(ref)
	}
	want := map[string]cell{
		"A1": {excelize.CellTypeInlineString, "Kind", "Kind", ""},
		"A2": {excelize.CellTypeInlineString, "Zoë", "Zoë", ""},
		"B2": {excelize.CellTypeUnset, "46329", "03-11-2026", "dd-mm-yyyy"},
		"C2": {excelize.CellTypeUnset, "0.336805555555555", "8:05", "[hh]:mm"}, // Excel shows 08:05
		"D2": {excelize.CellTypeUnset, "490", "490", "0"},
		"E2": {excelize.CellTypeUnset, "143.09", "€ 143.09", `"€ "#,##0.00;"€ -"#,##0.00`},
		"F2": {excelize.CellTypeUnset, "1.5", "1.50", "0.00"},
		"A3": {excelize.CellTypeInlineString, `'=HYPERLINK("http://x","y")`, `'=HYPERLINK("http://x","y")`, ""},
		"E3": {excelize.CellTypeUnset, "-12.5", "€ -12.50", `"€ "#,##0.00;"€ -"#,##0.00`},
		"B3": {excelize.CellTypeUnset, "", "", ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cells (-want +got)\n%s", diff)
	}
	if fs, _ := f.GetCellFormula("Test", "A3"); fs != "" {
		t.Errorf("A3 has formula %q", fs)
	}
	panes, err := f.GetPanes("Test")
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("panes = %+v, %v; want the header row frozen", panes, err)
	}
	names := f.GetDefinedName()
	var filter string
	for _, n := range names {
		if n.Name == "_xlnm._FilterDatabase" {
			filter = n.RefersTo
		}
	}
	if filter != "'Test'!$A$1:$F$3" {
		t.Errorf("autofilter = %q (defined names %+v)", filter, names)
	}
	if w, _ := f.GetColWidth("Test", "A"); w < 10 {
		t.Errorf("column A width %v", w)
	}
}

func TestDefuse(t *testing.T) {
	for _, s := range []string{"=1+1", "+31", "-2+3", "@SUM(A1)", "\tx", "\rx", "\nx", "＝1"} {
		if d := sheet.Defuse(s); !strings.HasPrefix(d, "'") || sheet.Dangerous(d) || sheet.Undefuse(d) != s {
			t.Errorf("Defuse(%q) = %q", s, d)
		}
		if !sheet.Dangerous(s) {
			t.Errorf("Dangerous(%q) = false", s)
		}
	}
	for _, s := range []string{"Zoë", "", "'quoted", "-12", "-12,50", "-0.5", "a=b"} {
		if sheet.Dangerous(s) {
			t.Errorf("Dangerous(%q) = true", s)
		}
	}
	for _, s := range []string{"-1+2", "-SUM(A1)", "-inf", "-1e5"} {
		if !sheet.Dangerous(s) {
			t.Errorf("Dangerous(%q) = false", s)
		}
	}
}

// Every cell of a CSV in either flavour, for the export tests.
func TestCellsOfCSV(t *testing.T) {
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(write(t, sheet.CSVExcel)), "\ufeff")))
	r.Comma = ';'
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		for _, c := range rec {
			if sheet.Dangerous(c) {
				t.Errorf("dangerous cell %q", c)
			}
		}
	}
}
