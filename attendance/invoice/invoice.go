// Package invoice turns a month of priced invoice lines (billing.Line) into
// one invoice per family, as a PDF a Dutch or Flemish office can send as it
// is: the provider's details, the guardians, a line per child and day with
// the rule that priced it, absences, totals, the payment instruction and the
// VAT exemption. Dutch by default, English as an option.
//
// Invoices are numbered without gaps through a Sequence the caller supplies
// (MemorySequence, SQLiteSequence; central will bring its own), and they are
// reproducible: the same data gives the same PDF bytes (the document dates
// are the invoice date, the catalogs are sorted, there are no random ids).
package invoice

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/billing"
	"github.com/kinderdeur/kiosk/attendance/sepa"
)

// Lang is the invoice language.
type Lang string

// Languages.
const (
	Dutch   Lang = "nl"
	English Lang = "en"
)

// ParseLang accepts "nl", "en" or "" (Dutch).
func ParseLang(s string) (Lang, error) {
	switch Lang(s) {
	case "", Dutch:
		return Dutch, nil
	case English:
		return English, nil
	}
	return "", fmt.Errorf("invoice: language %q: want nl or en", s)
}

// Provider is the childcare organisation that sends the invoices: the
// config of kioskctl invoice -provider FILE (JSON, keys as tagged).
type Provider struct {
	Name    string   `json:"name"`
	Address []string `json:"address"` // lines: street, postcode and town
	// Country "NL" or "BE": which registration and VAT exemption apply.
	Country string `json:"country"`
	// KvK is the Dutch Chamber of Commerce number (NL).
	KvK string `json:"kvk,omitempty"`
	// LRK is the Dutch childcare register number (NL; the parents need it
	// for the childcare benefit).
	LRK string `json:"lrk,omitempty"`
	// EnterpriseNumber is the Belgian ondernemingsnummer (BE), e.g.
	// 0207.435.867.
	EnterpriseNumber string `json:"enterprise_number,omitempty"`
	IBAN             string `json:"iban"`
	BIC              string `json:"bic,omitempty"`
	Email            string `json:"email,omitempty"`
	Phone            string `json:"phone,omitempty"`
	// NumberPrefix goes before the invoice number: "BF" gives BF2026-00001.
	NumberPrefix string `json:"number_prefix,omitempty"`
	// Payment terms: DueDayOfNextMonth (seed 002: 'vóór de 21e van de
	// volgende maand' is 20) or PaymentTermDays after the invoice date
	// (seed 003: 30 days). One of the two.
	DueDayOfNextMonth int `json:"due_day_of_next_month,omitempty"`
	PaymentTermDays   int `json:"payment_term_days,omitempty"`
	// VATExemption replaces the default VAT exemption text (VATExemptionText).
	VATExemption string `json:"vat_exemption,omitempty"`
	// CreditorID is the SEPA creditor identifier (direct debits).
	CreditorID string `json:"creditor_id,omitempty"`
	// CollectionDay is the day of the month after the invoice date on which
	// direct debits are collected (default: the due date).
	CollectionDay int `json:"collection_day,omitempty"`
}

// Sentinel errors.
var (
	ErrConfig = errors.New("invoice: bad provider config")
)

// ParseProvider reads a provider config (JSON). Unknown keys and missing or
// bad values are errors that name the key.
func ParseProvider(r io.Reader) (Provider, error) {
	data, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return Provider{}, fmt.Errorf("invoice: read provider: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Provider
	if err := dec.Decode(&p); err != nil {
		return Provider{}, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return p, p.Validate()
}

// Validate checks p; an error names the key.
func (p *Provider) Validate() error {
	bad := func(key, f string, a ...any) error {
		return fmt.Errorf("%w: key %q: %s", ErrConfig, key, fmt.Sprintf(f, a...))
	}
	if strings.TrimSpace(p.Name) == "" {
		return bad("name", "empty")
	}
	if len(p.Address) == 0 {
		return bad("address", "empty (want lines: street, postcode and town)")
	}
	switch p.Country {
	case "NL":
		if p.KvK == "" {
			return bad("kvk", "a Dutch provider needs its KvK number")
		}
	case "BE":
		if p.EnterpriseNumber == "" {
			return bad("enterprise_number", "a Belgian provider needs its ondernemingsnummer")
		}
	default:
		return bad("country", "%q: want NL or BE", p.Country)
	}
	if err := sepa.CheckIBAN(p.IBAN); err != nil {
		return bad("iban", "%v", err)
	}
	if p.DueDayOfNextMonth != 0 && p.PaymentTermDays != 0 {
		return bad("payment_term_days", "set due_day_of_next_month or payment_term_days, not both")
	}
	if p.DueDayOfNextMonth < 0 || p.DueDayOfNextMonth > 28 {
		return bad("due_day_of_next_month", "%d: want 1-28", p.DueDayOfNextMonth)
	}
	if p.PaymentTermDays < 0 || p.PaymentTermDays > 90 {
		return bad("payment_term_days", "%d: want 1-90", p.PaymentTermDays)
	}
	if p.DueDayOfNextMonth == 0 && p.PaymentTermDays == 0 {
		return bad("payment_term_days", "no payment term (set due_day_of_next_month or payment_term_days)")
	}
	if p.CollectionDay < 0 || p.CollectionDay > 28 {
		return bad("collection_day", "%d: want 1-28", p.CollectionDay)
	}
	if !validPrefix(p.NumberPrefix) {
		return bad("number_prefix", "%q: at most 10 letters (A-Z), digits, '-' or '.', starting with a letter or digit", p.NumberPrefix)
	}
	return nil
}

// validPrefix: the prefix is part of every invoice number, which is the
// SEPA EndToEndId (the EPC character set), a file name and a URL path
// segment, and never changes once issued: only A-Z, a-z, 0-9, '-' and '.',
// not first.
func validPrefix(s string) bool {
	if len(s) > 10 {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case (r == '-' || r == '.') && i > 0:
		default:
			return false
		}
	}
	return true
}

// VATExemptionText is the invoice's VAT statement: childcare is exempt in
// both countries, and an exempt invoice says why.
//
//   - NL: kinderopvang and gastouderopvang under the Wet kinderopvang are
//     exempt, article 11, paragraph 1, under f of the Wet op de
//     omzetbelasting 1968 (the Belastingdienst's 'Vrijstelling voor
//     kinderopvang').
//   - BE: services closely linked to the protection of children, by
//     recognised bodies of a social nature, are exempt under article 44,
//     § 2, 2° of the Btw-wetboek (WBTW).
//
// A provider whose adviser prefers other words sets vat_exemption.
func VATExemptionText(country string, lang Lang) string {
	switch {
	case country == "BE" && lang == English:
		return "VAT exempt: article 44, § 2, 2° of the Belgian VAT Code (WBTW)."
	case country == "BE":
		return "Vrijgesteld van btw: artikel 44, § 2, 2° van het Btw-wetboek."
	case lang == English:
		return "VAT exempt: childcare under the Dutch Childcare Act (Wet kinderopvang), article 11(1)(f) of the Dutch VAT Act 1968 (Wet OB 1968)."
	default:
		return "Vrijgesteld van btw: kinderopvang volgens de Wet kinderopvang, artikel 11, lid 1, onderdeel f, Wet op de omzetbelasting 1968."
	}
}

// Family is who receives an invoice: the guardians sharing a family id
// (the guardian_id of the attendance and the invoice lines).
type Family struct {
	ID        string
	Guardians []string // names, as they go on the invoice
	Address   []string // lines
	Email     string
	Lang      Lang
	// Mandate is the family's SEPA direct-debit mandate (nil: they pay by
	// transfer).
	Mandate *Mandate
}

// Mandate is a SEPA Core direct-debit mandate the family signed.
type Mandate struct {
	ID     string          // the mandate reference (unique per creditor)
	Signed attendance.Date // date of signature
	IBAN   string
	BIC    string // optional (IBAN-only in SEPA)
	Holder string // account holder; "" = the first guardian
	// First marks a mandate not yet collected from (sequence type FRST).
	// Since the EPC rulebook of November 2016 a first collection may also
	// be RCUR, so false is always safe.
	First bool
}

// ChildPart is one child's lines on an invoice.
type ChildPart struct {
	ChildID, Name string
	Lines         []billing.Line
	TotalCents    int64
}

// Invoice is one family's invoice for one month.
type Invoice struct {
	Number     string
	Date       attendance.Date // invoice date
	Due        attendance.Date
	Year       int
	Month      time.Month
	Provider   Provider
	Family     Family
	Children   []ChildPart
	TotalCents int64
	// Collection is the direct-debit date when the family has a mandate.
	Collection attendance.Date
	// Corrects is the number of the invoice this one corrects ("": an
	// ordinary invoice). A correction holds the credited lines of the
	// original (flag FlagCredit, negative amounts) and the lines that
	// replace them; its total is the difference, a credit note when
	// negative. An issued invoice is never edited.
	Corrects string `json:",omitempty"`
}

// FlagCredit marks a line of a correction invoice that credits a line of
// the corrected invoice (its minutes and amount negated).
const FlagCredit = "credit"

// MonthLines returns the lines of one month per family id (a line's
// GuardianID; a line without one is its own child's family), each family's
// lines in their billing order. Families are returned sorted by id.
func MonthLines(lines []billing.Line, year int, month time.Month) (ids []string, byFamily map[string][]billing.Line) {
	byFamily = map[string][]billing.Line{}
	for _, l := range lines {
		if l.Date.Year != year || l.Date.Month != month {
			continue
		}
		fam := l.GuardianID
		if fam == "" {
			fam = l.ChildID
		}
		if _, ok := byFamily[fam]; !ok {
			ids = append(ids, fam)
		}
		byFamily[fam] = append(byFamily[fam], l)
	}
	sort.Strings(ids)
	return ids, byFamily
}

// New builds the invoice of family f for a month from its lines (as
// MonthLines returns them), dated date and numbered number.
func New(p Provider, f Family, year int, month time.Month, lines []billing.Line, number string, date attendance.Date) Invoice {
	inv := Invoice{Number: number, Date: date, Year: year, Month: month, Provider: p, Family: f}
	if f.Lang == "" {
		inv.Family.Lang = Dutch
	}
	idx := map[string]int{}
	for _, l := range lines {
		i, ok := idx[l.ChildID]
		if !ok {
			i = len(inv.Children)
			idx[l.ChildID] = i
			inv.Children = append(inv.Children, ChildPart{ChildID: l.ChildID, Name: l.ChildName})
		}
		c := &inv.Children[i]
		if c.Name == "" {
			c.Name = l.ChildName
		}
		c.Lines = append(c.Lines, l)
		c.TotalCents += l.AmountCents
		inv.TotalCents += l.AmountCents
	}
	sort.SliceStable(inv.Children, func(a, b int) bool {
		x, y := inv.Children[a], inv.Children[b]
		if x.Name != y.Name {
			return x.Name < y.Name
		}
		return x.ChildID < y.ChildID
	})
	d := date.In(time.UTC)
	if p.DueDayOfNextMonth > 0 {
		// 'before the 21st of the next month': the month after the
		// invoiced month.
		inv.Due = attendance.DateOf(time.Date(year, month+1, p.DueDayOfNextMonth, 0, 0, 0, 0, time.UTC))
		if inv.Due.Before(date) {
			inv.Due = attendance.DateOf(d.AddDate(0, 0, 14))
		}
	} else {
		inv.Due = attendance.DateOf(d.AddDate(0, 0, p.PaymentTermDays))
	}
	if f.Mandate != nil {
		inv.Collection = inv.Due
		if p.CollectionDay > 0 {
			c := attendance.DateOf(time.Date(d.Year(), d.Month(), p.CollectionDay, 0, 0, 0, 0, time.UTC))
			if c.Before(date) {
				c = attendance.DateOf(time.Date(d.Year(), d.Month()+1, p.CollectionDay, 0, 0, 0, 0, time.UTC))
			}
			inv.Collection = c
		}
	}
	return inv
}

// FormatMoney formats cents the way the invoice shows them: "€ 1.143,09"
// in Dutch, "€ 1,143.09" in English, "-€ 2,50" when negative.
func FormatMoney(cents int64, lang Lang) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	thousands, decimal := ".", ","
	if lang == English {
		thousands, decimal = ",", "."
	}
	whole := strconv.FormatInt(cents/100, 10)
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(thousands)
		}
		b.WriteRune(r)
	}
	return fmt.Sprintf("%s€ %s%s%02d", sign, b.String(), decimal, cents%100)
}

// FormatNumber formats invoice number n of series (a year) with the
// provider's prefix: "2026-00017", "BF2026-00017".
func FormatNumber(prefix, series string, n int64) string {
	return fmt.Sprintf("%s%s-%05d", prefix, series, n)
}
