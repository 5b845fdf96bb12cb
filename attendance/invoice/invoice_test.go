package invoice

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "github.com/mattn/go-sqlite3"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/billing"
	"github.com/kinderdeur/kiosk/attendance/calendar"
	"github.com/kinderdeur/kiosk/attendance/stays"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func sampleProvider() Provider {
	return Provider{Name: "Kinderopvang Bernefertier", Address: []string{"Dorpsstraat 12", "1234 AB  Bernefertier"}, Country: "NL",
		KvK: "12345678", LRK: "123456789", IBAN: "NL91ABNA0417164300", BIC: "ABNANL2A", Email: "info@bernefertier.example",
		Phone: "06 12345678", DueDayOfNextMonth: 20, CreditorID: "NL69ZZZ123456780000"}
}

func st(child, name, date, span string, dt calendar.DayType) stays.Stay {
	a, b, _ := strings.Cut(span, "-")
	in, _ := stays.ParseClock(a)
	out, _ := stays.ParseClock(b)
	return stays.Stay{ChildID: child, ChildName: name, GuardianID: "g1", Date: attendance.MustDate(date), CheckIn: in, CheckOut: out,
		Minutes: int(out - in), DayType: dt, Quality: stays.QualityOK}
}

// sampleLines is a Bernefertier November for a family of two: care, a
// weekend day, a sick week, a sent-home day, an unverified time, a month
// minimum.
func sampleLines(t testing.TB) []billing.Line {
	wd, we := calendar.Weekday, calendar.Weekend
	in := []stays.Stay{
		st("c1", "Zoë", "2026-11-03", "07:30-17:45", wd), st("c1", "Zoë", "2026-11-04", "07:30-17:40", calendar.Wednesday),
		st("c1", "Zoë", "2026-11-05", "08:00-12:00", wd), st("c1", "Zoë", "2026-11-14", "09:00-12:30", we),
		st("c1", "Zoë", "2026-11-24", "07:30-10:15", wd),
		st("c2", "Milan", "2026-11-10", "14:00-17:30", wd), st("c2", "Milan", "2026-11-12", "14:00-15:00", wd),
	}
	in[4].Quality = stays.QualityUnverified
	abs := []billing.Absence{
		{ChildID: "c1", Date: attendance.MustDate("2026-11-17"), Kind: billing.AbsenceSick, AgreedMinutes: 600},
		{ChildID: "c1", Date: attendance.MustDate("2026-11-18"), Kind: billing.AbsenceSick, AgreedMinutes: 600},
		{ChildID: "c1", Date: attendance.MustDate("2026-11-24"), Kind: billing.AbsenceSick, AgreedMinutes: 600},
		{ChildID: "c2", Date: attendance.MustDate("2026-11-19"), Kind: billing.AbsenceProviderAway, AgreedMinutes: 180},
	}
	p, err := billing.Lookup("bernefertier", nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := billing.New(p, map[string]billing.Contract{"c2": {ChildID: "c2", CareKind: "bso", GuardianID: "g1"}})
	if err != nil {
		t.Fatal(err)
	}
	return e.BillWithAbsences(in, abs, nil)
}

func sampleInvoice(t testing.TB, lang Lang, mandate bool) Invoice {
	f := Family{ID: "g1", Guardians: []string{"Sanne de Vries", "Mark de Vries"}, Address: []string{"Kerkweg 3", "1234 CD  Bernefertier"}, Lang: lang}
	if mandate {
		f.Mandate = &Mandate{ID: "BF-M-0001", Signed: attendance.MustDate("2025-08-30"), IBAN: "NL20INGB0001234567"}
	}
	ids, by := MonthLines(sampleLines(t), 2026, time.November)
	if diff := cmp.Diff([]string{"g1"}, ids); diff != "" {
		t.Fatalf("families (-want +got):\n%s", diff)
	}
	return New(sampleProvider(), f, 2026, time.November, by["g1"], FormatNumber("", "2026", 17), attendance.MustDate("2026-12-01"))
}

func TestFormatMoney(t *testing.T) {
	for _, tt := range []struct {
		cents int64
		lang  Lang
		want  string
	}{{14309, Dutch, "€ 143,09"}, {5, Dutch, "€ 0,05"}, {123456789, Dutch, "€ 1.234.567,89"}, {-250, Dutch, "-€ 2,50"},
		{100000, English, "€ 1,000.00"}, {0, Dutch, "€ 0,00"}} {
		if got := FormatMoney(tt.cents, tt.lang); got != tt.want {
			t.Errorf("FormatMoney(%d, %s) = %q, want %q", tt.cents, tt.lang, got, tt.want)
		}
	}
}

func TestNewTotalsAndDates(t *testing.T) {
	inv := sampleInvoice(t, Dutch, true)
	var sum int64
	for _, c := range inv.Children {
		for _, l := range c.Lines {
			sum += l.AmountCents
		}
	}
	if sum != inv.TotalCents || inv.TotalCents == 0 {
		t.Errorf("total %d, lines add up to %d", inv.TotalCents, sum)
	}
	if got := []string{inv.Children[0].Name, inv.Children[1].Name}; got[0] != "Milan" || got[1] != "Zoë" {
		t.Errorf("children %v, want sorted by name", got)
	}
	if inv.Due != attendance.MustDate("2026-12-20") || inv.Collection != inv.Due {
		t.Errorf("due %s collection %s, want 2026-12-20 (vóór de 21e)", inv.Due, inv.Collection)
	}
	if inv.Number != "2026-00017" {
		t.Errorf("number %q", inv.Number)
	}
}

// TestPDFReproducible: the same invoice gives the same bytes, byte for
// byte, now and in the golden file.
func TestPDFReproducible(t *testing.T) {
	render := func() []byte {
		var b bytes.Buffer
		if err := WritePDF(&b, sampleInvoice(t, Dutch, true)); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a := render()
	time.Sleep(1100 * time.Millisecond) // a clock-dependent date would differ now
	if b := render(); !bytes.Equal(a, b) {
		t.Fatal("two renders of one invoice differ")
	}
	golden := filepath.Join("testdata", "invoice-nl.golden.pdf")
	if *update {
		if err := os.WriteFile(golden, a, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, a) {
		t.Errorf("PDF differs from %s (-update to accept after checking it)", golden)
	}
	if !bytes.HasPrefix(a, []byte("%PDF-")) || !bytes.Contains(a, []byte("/CreationDate (D:20261201000000")) {
		t.Errorf("not a PDF dated the invoice date")
	}
}

// TestPDFText reads the text back with pdftotext (poppler-utils) when it
// is installed: what an admin and a parent read.
func TestPDFText(t *testing.T) {
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pdftotext not found: install poppler-utils")
		}
		t.Skip("pdftotext not found: install poppler-utils to read the invoice text back")
	}
	for _, tt := range []struct {
		name    string
		lang    Lang
		mandate bool
		want    []string
	}{
		{"nl debit", Dutch, true, []string{"FACTUUR", "Factuurnummer", "2026-00017", "november 2026", "KvK 12345678", "LRK 123456789",
			"IBAN NL91 ABNA 0417 1643 00", "Sanne de Vries en Mark de Vries", "Zoë", "Milan", "afwezig: ziek", "ziek (eerste week)",
			"maandminimum bso", "per uur + weekend 150%", "werkdag", "€ 5,50/u", "Subtotaal Zoë", "Totaal",
			"automatische incasso", "4567 (machtiging BF-M-0001", "NL20", "NL69ZZZ123456780000",
			"artikel 11, lid 1, onderdeel f, Wet op de omzetbelasting", "* tijd niet geverifieerd", "Pagina 1 van 1"}},
		{"en transfer", English, false, []string{"INVOICE", "Invoice number", "November 2026", "Tue 10 Nov 2026", "absent: sick", "sick (first week)", "hourly + weekend 150%", "Please transfer", "20 December 2026",
			"article 11(1)(f)", "Page 1 of 1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			inv := sampleInvoice(t, tt.lang, tt.mandate)
			f := filepath.Join(t.TempDir(), "inv.pdf")
			var b bytes.Buffer
			if err := WritePDF(&b, inv); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(f, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(pdftotext, "-layout", f, "-").CombinedOutput()
			if err != nil {
				t.Fatalf("pdftotext: %v\n%s", err, out)
			}
			text := string(out)
			for _, s := range tt.want {
				if !strings.Contains(text, s) {
					t.Errorf("text lacks %q", s)
				}
			}
			// Rule and day-type codes are in words (package codes), never raw.
			for _, raw := range []string{"sick-week", "month-minimum", "weekend-150%", "weekday", "bernefertier/"} {
				if strings.Contains(text, raw) && (tt.lang == Dutch || raw != "weekday") {
					t.Errorf("text shows the raw code %q", raw)
				}
			}
			if !strings.Contains(text, FormatMoney(inv.TotalCents, tt.lang)) {
				t.Errorf("text lacks the total %s:\n%s", FormatMoney(inv.TotalCents, tt.lang), text)
			}
		})
	}
}

func TestVATTextBelgium(t *testing.T) {
	if s := VATExemptionText("BE", Dutch); !strings.Contains(s, "artikel 44, § 2, 2°") {
		t.Errorf("BE: %q", s)
	}
}

func testSequence(t *testing.T, s Sequence) {
	ctx := context.Background()
	n, err := s.Next(ctx, "2026")
	if err != nil || n != 1 {
		t.Fatalf("Next on a new series = %d, %v; want 1", n, err)
	}
	if err := s.Commit(ctx, "2026", 2, 1); !errors.Is(err, ErrSequenceMoved) {
		t.Errorf("Commit from 2 on a new series: %v, want ErrSequenceMoved", err)
	}
	if err := s.Commit(ctx, "2026", 1, 3); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, "2026", 1, 1); !errors.Is(err, ErrSequenceMoved) {
		t.Errorf("second Commit from 1: %v, want ErrSequenceMoved", err)
	}
	if n, _ := s.Next(ctx, "2026"); n != 4 {
		t.Errorf("Next = %d, want 4", n)
	}
	if n, _ := s.Next(ctx, "2027"); n != 1 {
		t.Errorf("another series: Next = %d, want 1", n)
	}
	// Concurrent issuers: every number once, no gaps.
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Go(func() {
			for {
				first, err := s.Next(ctx, "2026")
				if err != nil {
					t.Error(err)
					return
				}
				if err := s.Commit(ctx, "2026", first, 2); err == nil {
					return
				} else if !errors.Is(err, ErrSequenceMoved) {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n, _ := s.Next(ctx, "2026"); n != 4+16 {
		t.Errorf("after 8 issuers of 2: Next = %d, want 20", n)
	}
}

func TestMemorySequence(t *testing.T) { testSequence(t, &MemorySequence{}) }

func TestSQLiteSequence(t *testing.T) {
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "numbers.db")+"?_journal_mode=WAL&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := NewSQLiteSequence(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	testSequence(t, s)
}

func TestReadFamilies(t *testing.T) {
	in := "family_id,guardians,street,postcode,city,lang,iban,mandate_id,mandate_date,sequence\n" +
		"g1,Sanne de Vries; Mark de Vries,Kerkweg 3,1234 CD,Bernefertier,,NL20 INGB 0001 2345 67,BF-M-0001,2025-08-30,\n" +
		"g2,Jan Peeters,,,,en,,,,\n"
	got, err := ReadFamilies(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Family{
		"g1": {ID: "g1", Guardians: []string{"Sanne de Vries", "Mark de Vries"}, Address: []string{"Kerkweg 3", "1234 CD  Bernefertier"}, Lang: Dutch,
			Mandate: &Mandate{ID: "BF-M-0001", Signed: attendance.MustDate("2025-08-30"), IBAN: "NL20INGB0001234567"}},
		"g2": {ID: "g2", Guardians: []string{"Jan Peeters"}, Lang: English},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	bad := "family_id,guardians,iban,mandate_id,mandate_date,sequence,colour\n"
	if _, err := ReadFamilies(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "line 1, column colour: families: unknown column") {
		t.Errorf("unknown column: %v", err)
	}
	bad = "family_id,guardians,iban,mandate_id,mandate_date,sequence\n" +
		"g1,A,NL21INGB0001234567,M1,2025-08-30,\n" +
		"g1,,,,,\n" +
		"g3,C,NL20INGB0001234567,,2025-13-01,LAST\n"
	_, err = ReadFamilies(strings.NewReader(bad))
	for _, s := range []string{"line 2, column iban: families: bad IBAN", "line 3, column family_id: families: g1 already on line 2",
		"line 3, column guardians", "line 4, column mandate_id", "line 4, column mandate_date", "line 4, column sequence"} {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q: %v", s, err)
		}
	}
}

func TestParseProviderNamesTheKey(t *testing.T) {
	for in, want := range map[string]string{
		`{"name":"X","address":["a"],"country":"NL","kvk":"1","iban":"NL91ABNA0417164300","payment_term_days":30,"colour":1}`: `unknown field "colour"`,
		`{"name":"X","address":["a"],"country":"DE","iban":"NL91ABNA0417164300","payment_term_days":30}`:                      `key "country"`,
		`{"name":"X","address":["a"],"country":"BE","iban":"NL91ABNA0417164300","payment_term_days":30}`:                      `key "enterprise_number"`,
		`{"name":"X","address":["a"],"country":"NL","kvk":"1","iban":"NL92ABNA0417164300","payment_term_days":30}`:            `key "iban"`,
		`{"name":"X","address":["a"],"country":"NL","kvk":"1","iban":"NL91ABNA0417164300"}`:                                   `key "payment_term_days"`,
	} {
		_, err := ParseProvider(strings.NewReader(in))
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %s", in, err, want)
		}
	}
}

// TestNumberPrefixIsSEPAAndURLSafe: the prefix becomes part of every
// invoice number, which is the SEPA EndToEndId (EPC character set), a file
// name and a URL path segment; an issued number can never change, so a
// prefix that breaks any of them is refused when it is set.
func TestNumberPrefixIsSEPAAndURLSafe(t *testing.T) {
	for _, bad := range []string{"R&B", "RÉ", "R#", "R?", "R%", "R'", "-RB", ".RB", "R+B", "R:B", "R(B)", "R_B"} {
		p := sampleProvider()
		p.NumberPrefix = bad
		if err := p.Validate(); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), `key "number_prefix"`) {
			t.Errorf("prefix %q: %v, want a number_prefix error", bad, err)
		}
	}
	for _, good := range []string{"", "RB", "BF-", "KDV.1", "rb2"} {
		p := sampleProvider()
		p.NumberPrefix = good
		if err := p.Validate(); err != nil {
			t.Errorf("prefix %q: %v", good, err)
		}
	}
}

// TestPDFNamesOutsideWinAnsi: the core font Helvetica in WinAnsi (cp1252)
// has é, ë, ü, ß, Š and œ but not the ğ, ı, ş of Turkish, the ł, ś, ć of
// Polish, the ș, ț of Romanian or the Dutch ligature Ĳ: such names lost
// their accents ("Agaoglu"). Such an invoice is now rendered with the
// embedded Go fonts and they print as written; only what no font here has
// (an emoji) becomes "?". The rendering stays reproducible, and an invoice
// in Windows-1252 embeds nothing.
func TestPDFNamesOutsideWinAnsi(t *testing.T) {
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pdftotext not found: install poppler-utils")
		}
		t.Skip("pdftotext not found: install poppler-utils to read the invoice text back")
	}
	inv := sampleInvoice(t, Dutch, true)
	inv.Family.Guardians = []string{"Ayşe Ağaoğlu", "Łukasz Wiśniewski", "Ĳsbrand Çelik 😀", "Ștefan Țurcanu"}
	inv.Provider.Name = "Kinderopvang Şirin & Zoë"
	f := filepath.Join(t.TempDir(), "inv.pdf")
	var b, again bytes.Buffer
	if err := WritePDF(&b, inv); err != nil {
		t.Fatal(err)
	}
	if err := WritePDF(&again, inv); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), again.Bytes()) {
		t.Error("the same invoice with embedded fonts rendered twice differs")
	}
	if !bytes.Contains(b.Bytes(), []byte("/FontFile2")) {
		t.Error("no embedded font in an invoice that needs one")
	}
	var plain bytes.Buffer
	if err := WritePDF(&plain, sampleInvoice(t, Dutch, true)); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(plain.Bytes(), []byte("/FontFile2")) {
		t.Error("an invoice in Windows-1252 embeds a font")
	}
	if err := os.WriteFile(f, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, "-layout", f, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	text := string(out)
	for _, s := range []string{"Ayşe Ağaoğlu", "Łukasz Wiśniewski", "Ĳsbrand Çelik ?", "Ștefan Țurcanu", "Kinderopvang Şirin & Zoë"} {
		if !strings.Contains(text, s) {
			t.Errorf("text lacks %q:\n%.600s", s, text)
		}
	}
	if strings.Contains(text, "Agaoglu") || strings.Contains(text, ".ukasz") {
		t.Errorf("letters outside WinAnsi lost their accents or printed as dots:\n%.600s", text)
	}
}

func TestPrintable(t *testing.T) {
	if got := oneLine(" Anna\r\nde Berg\t en  Kees "); got != "Anna de Berg en Kees" {
		t.Errorf("oneLine = %q", got)
	}
	for in, want := range map[string]string{
		"Zoë de Vries":  "Zoë de Vries",
		"Ayşe Ağaoğlu":  "Ayşe Ağaoğlu",
		"Ĳsbrand":       "Ĳsbrand",
		"Mila 😀":        "Mila ?",
		"a\x00b\x07c":   "a?b?c",
		"line\nbreak\t": "line\nbreak\t",
		"€ 5,50":        "€ 5,50",
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPDFDecomposedNames: a name typed or pasted decomposed (a letter and a
// combining mark, as macOS and some exports write it) prints as the letter
// it spells: "Zoe\u0308" is "Zoë", in Windows-1252, no embedded font and no
// "?"; "Ays\u0327e" is "Ayşe" with the Go fonts. Control characters print
// as "?" in both fonts.
func TestPDFDecomposedNames(t *testing.T) {
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pdftotext not found: install poppler-utils")
		}
		t.Skip("pdftotext not found: install poppler-utils to read the invoice text back")
	}
	text := func(inv Invoice) (string, bool) {
		var b bytes.Buffer
		if err := WritePDF(&b, inv); err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), "inv.pdf")
		if err := os.WriteFile(f, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(pdftotext, "-layout", f, "-").CombinedOutput()
		if err != nil {
			t.Fatalf("pdftotext: %v\n%s", err, out)
		}
		return string(out), bytes.Contains(b.Bytes(), []byte("/FontFile2"))
	}
	inv := sampleInvoice(t, Dutch, true)
	inv.Family.Guardians = []string{"Zoe\u0308 de Vries", "Rene\u0301e Bakker\x1b[31m"}
	got, embedded := text(inv)
	if !strings.Contains(got, "Zoë de Vries en Renée Bakker?[31m") || strings.Contains(got, "Zoe?") {
		t.Errorf("decomposed names in Windows-1252:\n%.500s", got)
	}
	if embedded {
		t.Error("a decomposed name that Windows-1252 spells embeds a font")
	}
	inv.Family.Guardians = []string{"Ays\u0327e Ag\u0306aog\u0306lu"}
	if got, _ := text(inv); !strings.Contains(got, "Ayşe Ağaoğlu") {
		t.Errorf("decomposed name with the Go fonts:\n%.500s", got)
	}
}

// TestPDFLongNamesStayOnThePage: very long names (a provider, the
// guardians, a child) wrap or are shortened with "…"; no word leaves the
// page (they ran past the right edge, and the subtotal line past the left
// margin), in Helvetica and with the embedded fonts.
func TestPDFLongNamesStayOnThePage(t *testing.T) {
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pdftotext not found: install poppler-utils")
		}
		t.Skip("pdftotext not found: install poppler-utils to read the invoice back")
	}
	word := regexp.MustCompile(`<word xMin="([0-9.]+)" yMin="([0-9.]+)" xMax="([0-9.]+)" yMax="([0-9.]+)">([^<]*)</word>`)
	for _, tt := range []struct{ name, extra string }{{"helvetica", "Wilhelmina"}, {"embedded fonts", "Ağaoğlu"}} {
		t.Run(tt.name, func(t *testing.T) {
			inv := sampleInvoice(t, Dutch, true)
			inv.Provider.Name = "Stichting Kinderopvang De Regenboog en De Zonnebloem Samenwerkende Kindcentra Midden-Nederland"
			inv.Family.Guardians = []string{"Anna-Maria Theodora " + tt.extra + " van den Berghe-Oudshoorn tot Rechteren", "Maximiliaan Alexander Johannes Cornelis van Ravensteijn-Hooghwinkel"}
			inv.Children[0].Name = "Johanna Wilhelmina Alexandra Theodora Maximiliana Henriëtta van den Berghe-Oudshoorn"
			var b bytes.Buffer
			if err := WritePDF(&b, inv); err != nil {
				t.Fatal(err)
			}
			f := filepath.Join(t.TempDir(), "inv.pdf")
			if err := os.WriteFile(f, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(pdftotext, "-bbox", f, "-").CombinedOutput()
			if err != nil {
				t.Fatalf("pdftotext: %v\n%s", err, out)
			}
			words := word.FindAllStringSubmatch(string(out), -1)
			if len(words) < 100 {
				t.Fatalf("only %d words read back", len(words))
			}
			text := map[string]bool{}
			type box struct {
				x0, y0, x1, y1 float64
				s              string
			}
			var boxes []box
			for _, w := range words {
				var b box
				b.x0, _ = strconv.ParseFloat(w[1], 64)
				b.y0, _ = strconv.ParseFloat(w[2], 64)
				b.x1, _ = strconv.ParseFloat(w[3], 64)
				b.y1, _ = strconv.ParseFloat(w[4], 64)
				b.s = html.UnescapeString(w[5])
				if b.x0 < 20 || b.x1 > 595.28-20 {
					t.Errorf("%q at x %.1f-%.1f: off the page's margins (0-595 pt)", b.s, b.x0, b.x1)
				}
				for _, o := range boxes {
					if b.x0 < o.x1-0.5 && o.x0 < b.x1-0.5 && b.y0 < o.y1-0.5 && o.y0 < b.y1-0.5 {
						t.Errorf("%q and %q overlap", o.s, b.s)
					}
				}
				boxes = append(boxes, b)
				text[b.s] = true
			}
			for _, w := range []string{"Rechteren", "Ravensteijn-Hooghwinkel", tt.extra, "Midden-Nederland", "2026-00017"} {
				if !text[w] {
					t.Errorf("%q not on the page (a wrapped name must be whole)", w)
				}
			}
		})
	}
}

// TestPDFEmbeddedFontsConcurrently: central renders invoices on several
// goroutines; the embedded-font path (which looks up glyphs) is safe for
// that (run with -race) and each render is the same bytes.
func TestPDFEmbeddedFontsConcurrently(t *testing.T) {
	inv := sampleInvoice(t, Dutch, true)
	inv.Family.Guardians = []string{"Ayşe Ağaoğlu", "Ștefan Țurcanu 😀"}
	var want bytes.Buffer
	if err := WritePDF(&want, inv); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			var b bytes.Buffer
			if err := WritePDF(&b, inv); err != nil {
				t.Error(err)
				return
			}
			if !bytes.Equal(b.Bytes(), want.Bytes()) {
				t.Error("a concurrent render differs")
			}
		})
	}
	wg.Wait()
}
