package invoice

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/text/unicode/norm"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/billing"
	"github.com/kinderdeur/kiosk/attendance/codes"
	"github.com/kinderdeur/kiosk/attendance/sepa"
)

// words are the invoice's labels.
type words struct {
	title, number, date, period, due, to, child, day, kind, present, billed, rule, amount,
	subtotal, total, page, of, payTransfer, payDebit, unverified, kvk, lrk, enterprise, monthMin, absent string
	correction, credit, corrects, refund string
	months                               [12]string
	weekdays                             [7]string
}

var labels = map[Lang]words{
	Dutch: {
		title: "Factuur", number: "Factuurnummer", date: "Factuurdatum", period: "Periode", due: "Te betalen vóór",
		to: "Aan", child: "Kind", day: "Datum", kind: "Soort", present: "Aanwezig", billed: "Gefactureerd", rule: "Tarief / regel",
		amount: "Bedrag", subtotal: "Subtotaal", total: "Totaal", page: "Pagina", of: "van",
		payTransfer: "Graag %s vóór %s overmaken op %s t.n.v. %s, onder vermelding van factuurnummer %s.",
		payDebit:    "Het bedrag van %s wordt op of rond %s via automatische incasso afgeschreven van rekening %s (machtiging %s, incassant-ID %s).",
		unverified:  "* tijd niet geverifieerd of gecorrigeerd (de klok van de kiosk was niet gesynchroniseerd)",
		kvk:         "KvK", lrk: "LRK", enterprise: "Ondernemingsnummer", monthMin: "maandminimum", absent: "afwezig",
		correction: "Correctiefactuur", credit: "Creditnota", corrects: "Correctie op factuur",
		refund:   "Wij betalen u %s terug; u hoeft niets te doen.",
		months:   [12]string{"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"},
		weekdays: [7]string{"zo", "ma", "di", "wo", "do", "vr", "za"},
	},
	English: {
		title: "Invoice", number: "Invoice number", date: "Invoice date", period: "Period", due: "Due by",
		to: "To", child: "Child", day: "Date", kind: "Kind", present: "Present", billed: "Billed", rule: "Tariff / rule",
		amount: "Amount", subtotal: "Subtotal", total: "Total", page: "Page", of: "of",
		payTransfer: "Please transfer %s by %s to %s, account holder %s, quoting invoice number %s.",
		payDebit:    "The amount of %s will be collected by direct debit on or about %s from account %s (mandate %s, creditor ID %s).",
		unverified:  "* time not verified or corrected (the kiosk clock was not synchronised)",
		kvk:         "Chamber of Commerce (KvK)", lrk: "LRK", enterprise: "Enterprise number", monthMin: "monthly minimum", absent: "absent",
		correction: "Correction invoice", credit: "Credit note", corrects: "Corrects invoice",
		refund:   "We will pay you back %s; no action is needed.",
		months:   [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
		weekdays: [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"},
	},
}

// Page geometry, millimetres (A4 portrait).
const (
	margin   = 18.0
	pageW    = 210.0
	contentW = pageW - 2*margin
	rowH     = 5.2
)

// column widths of the line table; they add up to contentW.
var cols = [...]float64{24, 37, 19, 23, 49, 22}

// WritePDF renders inv as a PDF. The bytes depend on inv only: the
// document's creation and modification dates are the invoice date, the
// catalogs are sorted, and fpdf writes no random document id.
//
// Text uses the PDF core font Helvetica in Windows-1252, which covers
// Dutch, French and German names and costs nothing to embed. An invoice
// with a letter outside it ("Ayşe Ağaoğlu", "Łukasz", "Ștefan") is
// rendered with the Go fonts instead, embedded and subset, which cover the
// Latin, Greek and Cyrillic of WGL4: the names print as written, for about
// 30 KiB more and four times the rendering time (BENCHMARKS.md). A
// character those fonts lack loses its accent as on a bank statement, or
// prints as '?' (Arabic, Hebrew and other scripts, emoji). Text is composed
// first (NFC), so a name written decomposed prints as the same letters.
func WritePDF(w io.Writer, inv Invoice) error {
	var b bytes.Buffer
	wider, err := writePDF(&b, inv, false)
	if err != nil {
		return err
	}
	if wider {
		b.Reset()
		if _, err := writePDF(&b, inv, true); err != nil {
			return err
		}
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("invoice %s: pdf: %w", inv.Number, err)
	}
	return nil
}

// writePDF renders inv with Helvetica (cp1252), or with the embedded Go
// fonts when unicode is set. wider reports that Helvetica lacked a letter
// of the text (the caller renders again with unicode).
func writePDF(w io.Writer, inv Invoice, unicode bool) (wider bool, err error) {
	lang := inv.Family.Lang
	if lang == "" {
		lang = Dutch
	}
	t := labels[lang]
	pdf := fpdf.New("P", "mm", "A4", "")
	stamp := inv.Date.In(time.UTC)
	pdf.SetCreationDate(stamp)
	pdf.SetModificationDate(stamp)
	pdf.SetCatalogSort(true)
	pdf.SetCompression(true)
	fontFamily := "Helvetica"
	cp1252 := pdf.UnicodeTranslatorFromDescriptor("cp1252")
	tr := func(s string) string {
		s = composed(s)
		a := winAnsi(s)
		wider = wider || a != s
		return cp1252(a)
	}
	if unicode {
		fontFamily, tr = goFonts, func(s string) string { return printable(composed(s)) }
		pdf.AddUTF8FontFromBytes(goFonts, "", goregular.TTF)
		pdf.AddUTF8FontFromBytes(goFonts, "B", gobold.TTF)
		if err := pdf.Error(); err != nil {
			return false, fmt.Errorf("invoice: font: %w", err)
		}
	}
	title := t.title
	if inv.Corrects != "" {
		title = t.correction
		if inv.TotalCents < 0 {
			title = t.credit
		}
	}
	pdf.SetTitle(title+" "+inv.Number, true)
	pdf.SetAuthor(inv.Provider.Name, true)
	pdf.SetCreator("Kinderdeur", true)
	pdf.SetProducer("Kinderdeur", true)
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(true, margin+8)
	pdf.AliasNbPages("{nb}")
	// clip shortens s (already through tr) to width w in the current
	// font, a character at a time (a byte in Windows-1252, a letter in
	// UTF-8), ending in ell.
	clip := func(s string, w float64, ell string) string {
		if pdf.GetStringWidth(s) <= w {
			return s
		}
		for len(s) > 0 && pdf.GetStringWidth(s+ell) > w {
			n := 1
			if unicode {
				_, n = utf8.DecodeLastRuneInString(s)
			}
			s = s[:len(s)-n]
		}
		return s + ell
	}
	pdf.SetFooterFunc(func() {
		pdf.SetY(-margin)
		pdf.SetFont(fontFamily, "", 8)
		pdf.SetTextColor(110, 110, 110)
		number := tr(" · " + title + " " + inv.Number) // the number stays whole
		pdf.CellFormat(contentW/2, 4, clip(tr(inv.Provider.Name), contentW/2-2-pdf.GetStringWidth(number), tr("…"))+number, "", 0, "L", false, 0, "")
		pdf.CellFormat(contentW/2, 4, tr(fmt.Sprintf("%s %d %s {nb}", t.page, pdf.PageNo(), t.of)), "", 0, "R", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
	})
	money := func(c int64) string { return tr(FormatMoney(c, lang)) }
	date := func(d attendance.Date) string { return fmt.Sprintf("%02d-%02d-%04d", d.Day, int(d.Month), d.Year) }
	if lang == English {
		date = func(d attendance.Date) string { return fmt.Sprintf("%d %s %d", d.Day, t.months[d.Month-1], d.Year) }
	}
	// The line table's date column is narrow: English months short there
	// ("Tue 10 Nov 2026"; "Tue 10 November" lost its year).
	lineDate := date
	if lang == English {
		lineDate = func(d attendance.Date) string { return fmt.Sprintf("%d %.3s %d", d.Day, t.months[d.Month-1], d.Year) }
	}
	pdf.AddPage()

	// Provider, top left.
	p := inv.Provider
	pdf.SetFont(fontFamily, "B", 14)
	pdf.MultiCell(110, 7, tr(oneLine(p.Name)), "", "L", false) // a long name wraps
	pdf.SetFont(fontFamily, "", 9)
	var ids []string
	for _, l := range p.Address {
		pdf.CellFormat(110, 4.2, tr(l), "", 1, "L", false, 0, "")
	}
	switch p.Country {
	case "NL":
		ids = append(ids, t.kvk+" "+p.KvK)
		if p.LRK != "" {
			ids = append(ids, t.lrk+" "+p.LRK)
		}
	case "BE":
		ids = append(ids, t.enterprise+" "+p.EnterpriseNumber)
	}
	pdf.CellFormat(110, 4.2, tr(strings.Join(ids, "  ·  ")), "", 1, "L", false, 0, "")
	bank := "IBAN " + formatIBAN(p.IBAN)
	if p.BIC != "" {
		bank += "  ·  BIC " + p.BIC
	}
	pdf.CellFormat(110, 4.2, tr(bank), "", 1, "L", false, 0, "")
	if contact := strings.Join(nonEmpty(p.Email, p.Phone), "  ·  "); contact != "" {
		pdf.CellFormat(110, 4.2, tr(contact), "", 1, "L", false, 0, "")
	}
	leftBottom := pdf.GetY()

	// Title and invoice facts, top right.
	x := margin + 112
	pdf.SetXY(x, margin)
	pdf.SetFont(fontFamily, "B", 20)
	pdf.CellFormat(contentW-112, 9, tr(strings.ToUpper(title)), "", 2, "R", false, 0, "")
	pdf.Ln(1)
	period := fmt.Sprintf("%s %d", t.months[inv.Month-1], inv.Year)
	facts := [][2]string{{t.number, inv.Number}, {t.date, date(inv.Date)}, {t.period, period}, {t.due, date(inv.Due)}}
	if inv.Corrects != "" {
		facts = append(facts, [2]string{t.corrects, inv.Corrects})
	}
	for _, f := range facts {
		pdf.SetX(x)
		pdf.SetFont(fontFamily, "", 9)
		pdf.CellFormat(32, 4.6, tr(f[0]), "", 0, "L", false, 0, "")
		pdf.SetFont(fontFamily, "B", 9)
		pdf.CellFormat(contentW-112-32, 4.6, tr(f[1]), "", 1, "R", false, 0, "")
	}

	// Recipient.
	pdf.SetY(max(leftBottom, pdf.GetY()) + 8)
	pdf.SetFont(fontFamily, "", 8)
	pdf.SetTextColor(110, 110, 110)
	pdf.CellFormat(100, 4, tr(t.to), "", 1, "L", false, 0, "")
	pdf.SetTextColor(0, 0, 0)
	pdf.SetFont(fontFamily, "B", 10)
	pdf.MultiCell(100, 5, tr(oneLine(joinNames(inv.Family.Guardians, lang))), "", "L", false) // long names wrap
	pdf.SetFont(fontFamily, "", 10)
	for _, l := range inv.Family.Address {
		pdf.CellFormat(100, 4.6, tr(l), "", 1, "L", false, 0, "")
	}
	pdf.Ln(6)

	header := func() {
		pdf.SetFont(fontFamily, "B", 8.5)
		pdf.SetFillColor(232, 236, 242)
		heads := []string{t.day, t.kind, t.present, t.billed, t.rule, t.amount}
		aligns := []string{"L", "L", "R", "R", "L", "R"}
		for i, h := range heads {
			pdf.CellFormat(cols[i], 6, tr(h), "", 0, aligns[i], true, 0, "")
		}
		pdf.Ln(-1)
		pdf.SetFont(fontFamily, "", 8)
	}
	flagged := false
	for _, c := range inv.Children {
		// Keep a child's heading with at least its table header and a row.
		if pdf.GetY()+rowH*4 > 297-margin-8 {
			pdf.AddPage()
		}
		pdf.SetFont(fontFamily, "B", 10.5)
		name := c.Name
		if name == "" {
			name = c.ChildID
		}
		pdf.MultiCell(contentW, 7, tr(oneLine(name)), "", "L", false)
		header()
		for i, l := range c.Lines {
			if pdf.GetY()+rowH > 297-margin-8 {
				pdf.AddPage()
				header()
			}
			fill := i%2 == 1
			pdf.SetFillColor(247, 248, 250)
			day, kind := lineDate(l.Date), codes.Text(string(lang), string(l.DayType))
			if l.DayType != "" {
				day = t.weekdays[l.Date.Weekday()] + " " + day
			}
			present := hm(l.Minutes)
			if k, ok := billing.IsAbsence(&l); ok {
				kind, present = t.absent+": "+codes.Text(string(lang), string(k)), ""
			} else if l.DayType == "" && l.Stays == 0 {
				day, kind, present = period, t.monthMin, ""
			}
			if l.TravelMinutes > 0 {
				present += "+" + hm(l.TravelMinutes)
			}
			if hasAny(l.Flags, FlagCredit) {
				kind = codes.Text(string(lang), FlagCredit) + ": " + kind
			}
			if hasAny(l.Flags, billing.FlagUnverifiedTime, billing.FlagCorrectedTime) {
				present += "*"
				flagged = true
			}
			cells := []string{day, kind, present, hm(l.BilledMinutes), ruleText(l, lang), FormatMoney(l.AmountCents, lang)}
			aligns := []string{"L", "L", "R", "R", "L", "R"}
			for j, s := range cells {
				pdf.CellFormat(cols[j], rowH, clip(tr(s), cols[j]-1.5, ""), "", 0, aligns[j], fill, 0, "")
			}
			pdf.Ln(-1)
		}
		pdf.SetFont(fontFamily, "B", 8.5)
		pdf.CellFormat(contentW-cols[5], 6, clip(tr(t.subtotal+" "+name), contentW-cols[5]-2, tr("…")), "T", 0, "R", false, 0, "")
		pdf.CellFormat(cols[5], 6, money(c.TotalCents), "T", 1, "R", false, 0, "")
		pdf.Ln(3)
	}

	// Total, payment, VAT.
	if pdf.GetY()+40 > 297-margin-8 {
		pdf.AddPage()
	}
	pdf.SetFont(fontFamily, "B", 11)
	pdf.SetFillColor(232, 236, 242)
	pdf.CellFormat(contentW-cols[5]-8, 8, tr(t.total), "", 0, "R", true, 0, "")
	pdf.CellFormat(cols[5]+8, 8, money(inv.TotalCents), "", 1, "R", true, 0, "")
	pdf.Ln(4)
	pdf.SetFont(fontFamily, "", 9)
	if m := inv.Family.Mandate; m != nil && inv.TotalCents > 0 {
		pdf.MultiCell(contentW, 4.6, tr(fmt.Sprintf(t.payDebit, FormatMoney(inv.TotalCents, lang), date(inv.Collection),
			maskIBAN(m.IBAN), m.ID, p.CreditorID)), "", "L", false)
	} else if inv.TotalCents > 0 {
		pdf.MultiCell(contentW, 4.6, tr(fmt.Sprintf(t.payTransfer, FormatMoney(inv.TotalCents, lang), date(inv.Due),
			formatIBAN(p.IBAN), p.Name, inv.Number)), "", "L", false)
	} else if inv.TotalCents < 0 {
		pdf.MultiCell(contentW, 4.6, tr(fmt.Sprintf(t.refund, FormatMoney(-inv.TotalCents, lang))), "", "L", false)
	}
	pdf.Ln(2)
	vat := p.VATExemption
	if vat == "" {
		vat = VATExemptionText(p.Country, lang)
	}
	pdf.MultiCell(contentW, 4.6, tr(vat), "", "L", false)
	if flagged {
		pdf.Ln(2)
		pdf.SetFont(fontFamily, "", 8)
		pdf.MultiCell(contentW, 4, tr(t.unverified), "", "L", false)
	}
	if wider && !unicode {
		return true, nil // rendered again, with the Go fonts
	}
	if err := pdf.Output(w); err != nil {
		return false, fmt.Errorf("invoice %s: pdf: %w", inv.Number, err)
	}
	return false, nil
}

// ruleText is the rule in words (package codes), with the hourly rate for
// time-priced lines: "per kwartier · € 8,00/u".
func ruleText(l billing.Line, lang Lang) string {
	r := codes.Rule(string(lang), l.Rule)
	if l.RateCentsPerHour > 0 && l.BilledMinutes != 0 {
		unit := "/u"
		if lang == English {
			unit = "/h"
		}
		r += " · " + FormatMoney(l.RateCentsPerHour, lang) + unit
	}
	return r
}

// hm formats minutes as hours and minutes: 100 -> "1:40".
func hm(m int) string {
	if m < 0 {
		return "-" + hm(-m)
	}
	return fmt.Sprintf("%d:%02d", m/60, m%60)
}

func hasAny(flags []string, want ...string) bool {
	for _, f := range flags {
		for _, w := range want {
			if f == w {
				return true
			}
		}
	}
	return false
}

func nonEmpty(s ...string) []string {
	var out []string
	for _, x := range s {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

func joinNames(names []string, lang Lang) string {
	and := " en "
	if lang == English {
		and = " and "
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + and + names[len(names)-1]
}

// formatIBAN groups an IBAN by four: NL91 ABNA 0417 1643 00.
func formatIBAN(s string) string {
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// maskIBAN shows a debtor's IBAN as the bank statement would: the country,
// check digits and the last four characters.
func maskIBAN(s string) string {
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	if len(s) < 8 {
		return s
	}
	return s[:4] + "\u00a0****\u00a0" + s[len(s)-4:] // no line break inside
}

// composed is s as the fonts spell it: composed (NFC: "Zoe" and a
// combining diaeresis is "Zoë", which Windows-1252 has; a combining mark
// alone is in neither font), and a control character other than a line
// break or tab as "?" (in either font).
func composed(s string) string {
	s = norm.NFC.String(s)
	return strings.Map(func(r rune) rune {
		if r != '\n' && r != '\t' && unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}

// oneLine is a name on one line: a line break or tab in it (an import
// from a spreadsheet) is a space, so that it cannot pass for an address
// line; MultiCell still wraps it where it is too long.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// goFonts is the embedded fonts' family name in the PDF.
const goFonts = "Go"

// winAnsiExtra are the letters and signs cp1252 has in 0x80-0x9F.
const winAnsiExtra = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"

// winAnsi spells s with the characters of the PDF's WinAnsi (cp1252)
// fonts: a letter they lack loses its accent ("Ağaoğlu" gives "Agaoglu"),
// anything else becomes "?". WritePDF renders such an invoice again with
// the Go fonts, so this spelling is never printed unless those lack it too.
func winAnsi(s string) string {
	return spell(s, func(r rune) bool {
		return r < 0x80 || (r >= 0xA0 && r <= 0xFF) || strings.ContainsRune(winAnsiExtra, r)
	})
}

// spell keeps the characters ok accepts; any other loses its accent as on
// the bank statement (sepa.Fold) or becomes "?".
func spell(s string, ok func(rune) bool) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return !ok(r) }) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case ok(r):
			b.WriteRune(r)
		case sepa.Fold(r) != "":
			b.WriteString(sepa.Fold(r))
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// fontCovers reports whether both embedded fonts have a glyph for r.
var fontCovers = func() func(rune) bool {
	var fonts []*sfnt.Font
	for _, ttf := range [][]byte{goregular.TTF, gobold.TTF} {
		f, err := sfnt.Parse(ttf)
		if err != nil {
			panic(err) // the fonts are part of the binary
		}
		fonts = append(fonts, f)
	}
	return func(r rune) bool {
		for _, f := range fonts {
			// A nil buffer: invoices may be rendered at the same time.
			if i, err := f.GlyphIndex(nil, r); err != nil || i == 0 {
				return false
			}
		}
		return true
	}
}()

// printable spells s with the characters the fonts have: one they lack
// loses its accent as on the bank statement ("ș" gives "s"), anything else
// becomes "?" (the fonts would print an empty box). Line breaks and tabs
// pass.
func printable(s string) string {
	return spell(s, func(r rune) bool { return r == '\n' || r == '\t' || (r >= 0x20 && fontCovers(r)) })
}
