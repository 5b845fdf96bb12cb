package central

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/billing"
	"github.com/kinderdeur/kiosk/attendance/invoice"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/sepa"
	"github.com/kinderdeur/kiosk/attendance/stays"
	"github.com/kinderdeur/kiosk/sync/central/sqldb"
)

// Billing is central's invoicing: the provider's details per location,
// SEPA mandates per family, gap-free invoice numbers per location and
// year, and billing runs (a month's invoices, then its corrections).
//
// An issued invoice is stored as it was sent: the PDF bytes, their
// SHA-256, and the recipe they were rendered from (invoice_json: the
// provider, the family, the priced lines, number and dates). The bytes
// are kept, not only the recipe, because the invoice is a legal record
// for seven years and its rendering (labels, translations, layout, the
// PDF library) will change in that time; the recipe still re-renders the
// same bytes today (a test checks it), and is what diffs and the SEPA
// batch read.
type Billing struct {
	db      *sqldb.DB
	sites   *Sites
	reports *Reports
	parents *Parents // absences reported in the parents' portal
}

// Errors of Billing callers branch on.
var (
	ErrNoProvider     = errors.New("central: billing: the location has no provider details yet")
	ErrAlreadyBilled  = errors.New("central: billing: the month is already invoiced; compare and issue corrections instead")
	ErrNothingToBill  = errors.New("central: billing: nothing to invoice")
	ErrDiffMoved      = errors.New("central: billing: the differences changed since they were shown; look again")
	ErrNotYetInvoiced = errors.New("central: billing: the month has not been invoiced yet")
	// ErrUnpriced: the month has stays without a check-in or check-out
	// time, priced at 0 (Issue without AllowUnpriced).
	ErrUnpriced = errors.New("central: billing: stays without a check-in or check-out time")
	// ErrMonthNotOver: the month's last day has not passed yet in the
	// location's time zone (MonthNotOverError says from when).
	ErrMonthNotOver = errors.New("central: billing: the month has not ended yet")
)

// MonthNotOverError is Issue's refusal of a month whose last day has not
// passed in the location's time zone; it matches ErrMonthNotOver.
type MonthNotOverError struct {
	Month string
	// From is the first day it can be issued: the day after its last.
	From attendance.Date
}

func (e *MonthNotOverError) Error() string {
	return fmt.Sprintf("%v: %s can be invoiced from %s (the location's time zone)", ErrMonthNotOver, e.Month, e.From)
}

func (e *MonthNotOverError) Unwrap() error { return ErrMonthNotOver }

// ---- pricing from central's data ----

// BillingContracts derives the billing contracts central can know from the
// roster: the child's name, first guardian (the family) and birth date.
// Central holds no contract rates or hours (`kioskctl bill -contracts`).
func BillingContracts(r roster.Roster) map[string]billing.Contract {
	m := map[string]billing.Contract{}
	for _, c := range r.Children {
		m[c.ID] = billing.Contract{ChildID: c.ID, ChildName: c.FirstName, BirthDate: c.BirthDate}
	}
	for _, g := range r.Guardianships {
		if c, ok := m[g.ChildID]; ok && c.GuardianID == "" {
			c.GuardianID = g.PersonID
			m[g.ChildID] = c
		}
	}
	return m
}

// DefaultProfile is the tariff preset that fits the location's kind: the
// Flemish BKO's in Flanders, the childminder's (De Burcht) for
// gastouderopvang, the day-care centre's (Bernefertier) otherwise.
func DefaultProfile(rs roster.Roster) string {
	switch {
	case strings.EqualFold(rs.Location.Country, "be"):
		return "anzegem-bko"
	case rs.Location.Kind == "gastouder":
		return "deburcht"
	}
	return "bernefertier"
}

// FamilyGuardians returns, per family id (the first guardian's id, as
// billing groups children), the names of every guardian of its children.
func FamilyGuardians(rs roster.Roster) func(id string) []string {
	person := map[string]string{}
	for _, p := range rs.People {
		person[p.ID] = p.Name
	}
	first := map[string]string{}
	all := map[string][]string{}
	for _, g := range rs.Guardianships {
		if _, ok := first[g.ChildID]; !ok {
			first[g.ChildID] = g.PersonID
		}
	}
	for _, g := range rs.Guardianships {
		f := first[g.ChildID]
		if !slices.Contains(all[f], g.PersonID) {
			all[f] = append(all[f], g.PersonID)
		}
	}
	return func(id string) []string {
		var names []string
		for _, p := range all[id] {
			if n := person[p]; n != "" {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			return []string{cmp.Or(person[id], id)}
		}
		return names
	}
}

// Priced is a period priced from central's attendance.
type Priced struct {
	Lines   []billing.Line
	Roster  roster.Roster
	Profile string
}

// Price prices the location's attendance of [from, to] with the named
// preset ("": the location's default), together with the absences parents
// reported in the portal for those days (sick, late_cancel, cancel), as
// `kioskctl bill -absences` prices an absences CSV: the profile's absence
// rules decide what each bills, and every absence is a line naming its
// rule.
func (b *Billing) Price(ctx context.Context, loc, profile string, from, to attendance.Date) (Priced, error) {
	rs, _, err := b.sites.Roster(ctx, loc)
	if err != nil {
		return Priced{}, err
	}
	if profile == "" {
		profile = DefaultProfile(rs)
	}
	p, err := billing.Lookup(profile, nil)
	if err != nil {
		return Priced{}, fmt.Errorf("%w: profile: %v", ErrMalformed, err)
	}
	var reported []ParentAbsence
	if b.parents != nil {
		if reported, err = b.parents.Absences(ctx, loc, from, to); err != nil {
			return Priced{}, err
		}
	}
	qfrom := from
	if len(reported) > 0 { // the usual care before the first absence gives its agreed minutes
		qfrom = attendance.DateOf(reported[0].Date.In(time.UTC).AddDate(0, 0, -AgreedLookbackDays))
		if from.Before(qfrom) {
			qfrom = from
		}
	}
	all, err := b.reports.Attendance(ctx, AttendanceQuery{From: qfrom, To: to, LocationID: loc})
	if err != nil {
		return Priced{}, err
	}
	st := all
	if qfrom != from {
		st = make([]stays.Stay, 0, len(all))
		for _, x := range all {
			if !x.Date.Before(from) {
				st = append(st, x)
			}
		}
	}
	eng, err := billing.New(p, BillingContracts(rs))
	if err != nil {
		return Priced{}, fmt.Errorf("central: billing: %w", err)
	}
	if len(reported) == 0 {
		return Priced{Lines: eng.Bill(st), Roster: rs, Profile: profile}, nil
	}
	cal, err := CalendarFor(rs.Location)
	if err != nil {
		return Priced{}, err
	}
	abs := BillingAbsences(reported, all, rs)
	return Priced{Lines: eng.BillWithAbsences(st, abs, cal.DayType), Roster: rs, Profile: profile}, nil
}

// AgreedLookbackDays is how far back the usual care of a child is looked
// for to price an absence (AgreedMinutes).
const AgreedLookbackDays = 56

// BillingAbsences turns the absences parents reported into billing's
// absences (one per child and day; a later report of the same day is
// ignored). Central holds no contract hours, so an absence's agreed
// minutes are the child's usual care that weekday (AgreedMinutes).
func BillingAbsences(reported []ParentAbsence, history []stays.Stay, rs roster.Roster) []billing.Absence {
	seen := map[string]bool{}
	var out []billing.Absence
	for _, a := range reported {
		k := a.ChildID + "|" + a.Date.String()
		kind, err := billing.ParseAbsenceKind(a.Kind)
		if seen[k] || err != nil {
			continue
		}
		seen[k] = true
		out = append(out, billing.Absence{ChildID: a.ChildID, Date: a.Date, Kind: kind,
			AgreedMinutes: AgreedMinutes(a.ChildID, a.Date, history, rs), Note: "portal"})
	}
	return out
}

// AgreedMinutes estimates the care agreed for a child on a day it was
// absent, since central keeps no contract hours: the median of the child's
// daily care minutes on the same weekday in the AgreedLookbackDays before
// the day (its usual day); without such days, the location's opening hours
// that weekday; without those, 0 (the line still names its rule).
func AgreedMinutes(childID string, d attendance.Date, history []stays.Stay, rs roster.Roster) int {
	start := attendance.DateOf(d.In(time.UTC).AddDate(0, 0, -AgreedLookbackDays))
	perDay := map[attendance.Date]int{}
	for _, x := range history {
		if x.ChildID == childID && x.Date.Weekday() == d.Weekday() && x.Date.Before(d) && !x.Date.Before(start) {
			perDay[x.Date] += x.Minutes
		}
	}
	if len(perDay) > 0 {
		ms := make([]int, 0, len(perDay))
		for _, m := range perDay {
			ms = append(ms, m)
		}
		slices.Sort(ms)
		if n := len(ms); n%2 == 1 {
			return ms[n/2]
		} else {
			return (ms[n/2-1] + ms[n/2]) / 2
		}
	}
	for _, h := range rs.Location.Hours {
		if h.Weekday == d.Weekday() {
			o, err1 := roster.ParseClock(h.Open)
			c, err2 := roster.ParseClock(h.Close)
			if err1 == nil && err2 == nil && c > o {
				return c - o
			}
		}
	}
	return 0
}

// ---- provider details and mandates ----

// Provider returns the location's provider details (ErrNoProvider when
// none are set).
func (b *Billing) Provider(ctx context.Context, loc string) (invoice.Provider, error) {
	var body string
	err := b.db.QueryRow(ctx, nil, "SELECT provider_json FROM billing_providers WHERE location_id = ?", loc).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return invoice.Provider{}, ErrNoProvider
	}
	if err != nil {
		return invoice.Provider{}, fmt.Errorf("central: provider %s: %w", loc, err)
	}
	var p invoice.Provider
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		return p, fmt.Errorf("central: provider %s: %w", loc, err)
	}
	return p, nil
}

// SetProvider validates and stores the location's provider details.
// Invoices already issued keep the details they were issued with.
func (b *Billing) SetProvider(ctx context.Context, loc string, p invoice.Provider, actor string) error {
	if _, err := b.sites.Location(ctx, loc); err != nil {
		return err
	}
	p.IBAN = sepa.NormalizeIBAN(p.IBAN)
	if err := p.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if p.CreditorID != "" {
		if err := sepa.CheckCreditorID(p.CreditorID); err != nil {
			return fmt.Errorf("%w: creditor_id: %v", ErrMalformed, err)
		}
	}
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = b.db.Exec(ctx, nil, `INSERT INTO billing_providers (location_id, provider_json, updated_ns, updated_by) VALUES (?, ?, ?, ?)
		ON CONFLICT (location_id) DO UPDATE SET provider_json = excluded.provider_json, updated_ns = excluded.updated_ns, updated_by = excluded.updated_by`,
		loc, string(body), b.db.Now().UnixNano(), actor)
	if err != nil {
		return fmt.Errorf("central: set provider %s: %w", loc, err)
	}
	return nil
}

// Mandate is a family's SEPA direct-debit mandate at a location.
type Mandate struct {
	FamilyID string `json:"family_id"`
	invoice.Mandate
}

// Mandates returns the location's mandates by family id.
func (b *Billing) Mandates(ctx context.Context, loc string) (map[string]Mandate, error) {
	rows, err := b.db.Query(ctx, nil, `SELECT family_id, mandate_id, iban, bic, holder, signed, sequence
		FROM billing_mandates WHERE location_id = ? ORDER BY family_id`, loc)
	if err != nil {
		return nil, fmt.Errorf("central: mandates %s: %w", loc, err)
	}
	defer rows.Close()
	out := map[string]Mandate{}
	for rows.Next() {
		var m Mandate
		var signed, seq string
		if err := rows.Scan(&m.FamilyID, &m.ID, &m.IBAN, &m.BIC, &m.Holder, &signed, &seq); err != nil {
			return nil, fmt.Errorf("central: mandates %s: %w", loc, err)
		}
		m.Signed, _ = attendance.ParseDate(signed)
		m.First = seq == string(sepa.First)
		out[m.FamilyID] = m
	}
	return out, rows.Err()
}

// FamilyOf returns the family (the id it is invoiced under: the first
// guardian of its children, as billing groups them) that a guardian of the
// location belongs to. A person who is the first guardian of a child is
// their own family; a guardian of children of several families is
// ambiguous; anyone else is not a guardian here. Both are ErrMalformed.
func FamilyOf(rs roster.Roster, person string) (string, error) {
	first := map[string]string{}
	for _, g := range rs.Guardianships {
		if _, ok := first[g.ChildID]; !ok {
			first[g.ChildID] = g.PersonID
		}
	}
	var fams []string
	for _, g := range rs.Guardianships {
		if g.PersonID != person {
			continue
		}
		if first[g.ChildID] == person {
			return person, nil
		}
		if !slices.Contains(fams, first[g.ChildID]) {
			fams = append(fams, first[g.ChildID])
		}
	}
	switch len(fams) {
	case 0:
		return "", fmt.Errorf("%w: family: %q is not a guardian of a child at %s", ErrMalformed, person, rs.Location.ID)
	case 1:
		return fams[0], nil
	}
	slices.Sort(fams)
	return "", fmt.Errorf("%w: family: %q is a guardian in several families (%s): give the family's id", ErrMalformed, person, strings.Join(fams, ", "))
}

// MandateFamily is FamilyOf at the location's current roster.
func (b *Billing) MandateFamily(ctx context.Context, loc, person string) (string, error) {
	rs, _, err := b.sites.Roster(ctx, loc)
	if err != nil {
		return "", err
	}
	return FamilyOf(rs, person)
}

// SetMandate validates and stores a family's mandate (replacing one it
// had). First is FRST: a mandate never collected from. m.FamilyID may name
// any guardian of the family: the mandate is stored under the family's id
// (FamilyOf), since invoices and the SEPA batch go per family.
func (b *Billing) SetMandate(ctx context.Context, loc string, m Mandate) error {
	m.IBAN = sepa.NormalizeIBAN(m.IBAN)
	var errs []string
	if strings.TrimSpace(m.FamilyID) == "" {
		errs = append(errs, "family: empty")
	} else {
		rs, _, err := b.sites.Roster(ctx, loc)
		if err != nil {
			return err
		}
		fam, err := FamilyOf(rs, m.FamilyID)
		if err != nil {
			errs = append(errs, strings.TrimPrefix(err.Error(), ErrMalformed.Error()+": "))
		}
		m.FamilyID = fam
	}
	if err := sepa.CheckIBAN(m.IBAN); err != nil {
		errs = append(errs, "iban: "+err.Error())
	}
	if m.BIC != "" {
		if err := sepa.CheckBIC(m.BIC); err != nil {
			errs = append(errs, "bic: "+err.Error())
		}
	}
	if m.ID == "" || len(m.ID) > 35 || sepa.Latin(m.ID) != m.ID {
		errs = append(errs, "mandate_id: 1-35 characters of the SEPA set")
	}
	if m.Signed.IsZero() {
		errs = append(errs, "signed: the date of signature")
	} else if attendance.DateOf(b.db.Now()).Before(m.Signed) {
		errs = append(errs, "signed: in the future")
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: mandate: %s", ErrMalformed, strings.Join(errs, "; "))
	}
	seq := sepa.Recurring
	if m.First {
		seq = sepa.First
	}
	_, err := b.db.Exec(ctx, nil, `INSERT INTO billing_mandates (location_id, family_id, mandate_id, iban, bic, holder, signed, sequence, updated_ns)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (location_id, family_id) DO UPDATE SET mandate_id = excluded.mandate_id, iban = excluded.iban, bic = excluded.bic,
			holder = excluded.holder, signed = excluded.signed, sequence = excluded.sequence, updated_ns = excluded.updated_ns`,
		loc, m.FamilyID, m.ID, m.IBAN, m.BIC, m.Holder, m.Signed.String(), string(seq), b.db.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("central: set mandate: %w", err)
	}
	return nil
}

// DeleteMandate removes a family's mandate (the family pays by transfer).
func (b *Billing) DeleteMandate(ctx context.Context, loc, family string) error {
	res, err := b.db.Exec(ctx, nil, "DELETE FROM billing_mandates WHERE location_id = ? AND family_id = ?", loc, family)
	if err != nil {
		return fmt.Errorf("central: delete mandate: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// ---- runs ----

// Run is one billing run: a month's invoices (kind "invoice") or the
// corrections issued for it later (kind "correction").
type Run struct {
	ID          string          `json:"id"`
	LocationID  string          `json:"location_id"`
	Kind        string          `json:"kind"`
	Period      string          `json:"period"` // YYYY-MM
	Profile     string          `json:"profile"`
	InvoiceDate attendance.Date `json:"invoice_date"`
	Created     time.Time       `json:"created"`
	CreatedBy   string          `json:"created_by"`
	Count       int             `json:"invoice_count"`
	TotalCents  int64           `json:"total_cents"`
	FirstNumber string          `json:"first_number"`
	LastNumber  string          `json:"last_number"`
	Collected   *time.Time      `json:"sepa_collected,omitempty"`
	Invoices    []IssuedInvoice `json:"invoices,omitempty"`
}

// IssuedInvoice is one stored invoice.
type IssuedInvoice struct {
	LocationID string `json:"location_id"`
	Number     string `json:"number"`
	RunID      string `json:"run_id"`
	FamilyID   string `json:"family_id"`
	Period     string `json:"period"`
	TotalCents int64  `json:"total_cents"`
	// Corrects is the number of the invoice this one corrects.
	Corrects string `json:"corrects,omitempty"`
	SHA256   string `json:"pdf_sha256"`
	// Invoice is the recipe the PDF was rendered from (guardians, lines,
	// dates, the provider's details of the day).
	Invoice invoice.Invoice `json:"invoice"`
}

// Guardians is the family as named on the invoice.
func (i IssuedInvoice) Guardians() string { return strings.Join(i.Invoice.Family.Guardians, ", ") }

// DirectDebit reports whether the invoice is collected by direct debit.
func (i IssuedInvoice) DirectDebit() bool {
	return i.Invoice.Family.Mandate != nil && i.TotalCents > 0
}

// RunRequest asks for a month's invoices.
type RunRequest struct {
	LocationID string
	Month      string // YYYY-MM
	Profile    string // "": the location's default
	Actor      string // "user:ID", for the record
	// AllowUnpriced issues the month even when stays lack a check-in or
	// check-out time (they are invoiced at EUR 0.00, which may bring in a
	// month minimum); without it Issue refuses with ErrUnpriced.
	AllowUnpriced bool
}

// ParseMonth reads YYYY-MM.
func ParseMonth(s string) (year int, month time.Month, err error) {
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: month %q: want YYYY-MM", ErrMalformed, s)
	}
	return t.Year(), t.Month(), nil
}

// monthRange is the first and last day of a month.
func monthRange(year int, month time.Month) (attendance.Date, attendance.Date) {
	first := time.Date(year, month, 1, 0, 0, 0, 0, time.UTC)
	return attendance.DateOf(first), attendance.DateOf(first.AddDate(0, 1, -1))
}

// today is the date at the location (its time zone; Europe/Amsterdam
// when unknown).
func (b *Billing) today(rs roster.Roster) attendance.Date {
	tz, err := time.LoadLocation(rs.Location.TimeZone)
	if err != nil || rs.Location.TimeZone == "" {
		tz, err = time.LoadLocation("Europe/Amsterdam")
		if err != nil {
			tz = time.UTC
		}
	}
	return attendance.DateOf(b.db.Now().In(tz))
}

func newRunID() string {
	var r [6]byte
	rand.Read(r[:])
	return "r" + hex.EncodeToString(r[:])
}

// draft is an invoice about to be numbered.
type draft struct {
	family   invoice.Family
	lines    []billing.Line
	corrects string
}

// families builds the invoice recipients of a run.
func (b *Billing) families(ctx context.Context, loc string, rs roster.Roster) (func(id string) invoice.Family, error) {
	mandates, err := b.Mandates(ctx, loc)
	if err != nil {
		return nil, err
	}
	names := FamilyGuardians(rs)
	return func(id string) invoice.Family {
		f := invoice.Family{ID: id, Guardians: names(id), Lang: invoice.Dutch}
		if m, ok := mandates[id]; ok {
			mm := m.Mandate
			f.Mandate = &mm
		}
		return f
	}, nil
}

// Issue runs a month: prices the location's attendance, numbers one
// invoice per family without gaps, renders each PDF and stores the run,
// all in one transaction. A month is issued once (ErrAlreadyBilled);
// later changes are corrections (Diff, Correct).
func (b *Billing) Issue(ctx context.Context, req RunRequest) (Run, error) {
	year, month, err := ParseMonth(req.Month)
	if err != nil {
		return Run{}, err
	}
	prov, err := b.Provider(ctx, req.LocationID)
	if err != nil {
		return Run{}, err
	}
	if _, err := b.runOf(ctx, req.LocationID, req.Month); err == nil {
		return Run{}, ErrAlreadyBilled
	} else if !errors.Is(err, ErrNotYetInvoiced) {
		return Run{}, err
	}
	from, to := monthRange(year, month)
	priced, err := b.Price(ctx, req.LocationID, req.Profile, from, to)
	if err != nil {
		return Run{}, err
	}
	if !to.Before(b.today(priced.Roster)) {
		// Stays of the rest of the month would be missing, and the month
		// minimum charged on a part of it.
		return Run{}, &MonthNotOverError{Month: req.Month, From: attendance.DateOf(time.Date(to.Year, to.Month, to.Day+1, 12, 0, 0, 0, time.UTC))}
	}
	ids, byFamily := invoice.MonthLines(priced.Lines, year, month)
	if len(ids) == 0 {
		return Run{}, ErrNothingToBill
	}
	if !req.AllowUnpriced {
		if n := unpricedStays(byFamily); n > 0 {
			return Run{}, &UnpricedError{Stays: n}
		}
	}
	fam, err := b.families(ctx, req.LocationID, priced.Roster)
	if err != nil {
		return Run{}, err
	}
	drafts := make([]draft, len(ids))
	for i, id := range ids {
		drafts[i] = draft{family: fam(id), lines: byFamily[id]}
	}
	return b.store(ctx, req, "invoice", priced.Profile, prov, b.today(priced.Roster), year, month, drafts, -1)
}

// UnpricedError is Issue's refusal of a month with stays priced at 0 for
// a missing time; it matches ErrUnpriced.
type UnpricedError struct{ Stays int }

func (e *UnpricedError) Error() string {
	if e.Stays == 1 {
		return fmt.Sprintf("%v: 1 stay would be invoiced at EUR 0.00 (correct it in the attendance first, or issue anyway: allow_unpriced)", ErrUnpriced)
	}
	return fmt.Sprintf("%v: %d stays would be invoiced at EUR 0.00 (correct them in the attendance first, or issue anyway: allow_unpriced)",
		ErrUnpriced, e.Stays)
}

func (e *UnpricedError) Unwrap() error { return ErrUnpriced }

// unpricedStays counts the stays of lines priced at 0 for a missing time.
func unpricedStays(byFamily map[string][]billing.Line) int {
	n := 0
	for _, ls := range byFamily {
		for _, l := range ls {
			if slices.Contains(l.Flags, billing.FlagMissingTime) {
				n += max(l.Stays, 1)
			}
		}
	}
	return n
}

// store numbers, renders and stores drafts as one run, in one
// transaction: the numbers are taken with the sequence row locked
// (UPDATE ... RETURNING), so two replicas issuing at once serialise on it,
// and a failure anywhere rolls the numbers back with the run: no gaps, no
// duplicates (the primary key on location and number would refuse one).
// seen >= 0 is how many invoices of the month the caller's diff was made
// against: another run since then refuses this one (ErrDiffMoved).
func (b *Billing) store(ctx context.Context, req RunRequest, kind, profile string, prov invoice.Provider, date attendance.Date,
	year int, month time.Month, drafts []draft, seen int) (Run, error) {
	run := Run{ID: newRunID(), LocationID: req.LocationID, Kind: kind, Period: req.Month, Profile: profile,
		InvoiceDate: date, Created: b.db.Now().UTC(), CreatedBy: req.Actor, Count: len(drafts)}
	series := fmt.Sprint(date.Year)
	tx, err := b.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return Run{}, fmt.Errorf("central: billing run: %w", err)
	}
	defer tx.Rollback()
	first, err := b.reserve(ctx, tx, req.LocationID, series, int64(len(drafts)))
	if err != nil {
		return Run{}, err
	}
	if seen >= 0 {
		// Under the sequence lock: another correction committed since the
		// caller looked would make this one a duplicate.
		var n int
		if err := b.db.QueryRow(ctx, tx, "SELECT COUNT(*) FROM invoices WHERE location_id = ? AND period = ?", req.LocationID, req.Month).Scan(&n); err != nil {
			return Run{}, fmt.Errorf("central: billing run: %w", err)
		}
		if n != seen {
			return Run{}, ErrDiffMoved
		}
	}
	invs := make([]IssuedInvoice, len(drafts))
	pdfs := make([][]byte, len(drafts))
	recipes := make([]string, len(drafts))
	seqs := make([]int64, len(drafts))
	for i, d := range drafts {
		seqs[i] = first + int64(i)
		number := invoice.FormatNumber(prov.NumberPrefix, series, seqs[i])
		inv := invoice.New(prov, d.family, year, month, d.lines, number, date)
		inv.Corrects = d.corrects
		pdf, sum, recipe, err := render(inv)
		if err != nil {
			return Run{}, err
		}
		pdfs[i], recipes[i] = pdf, recipe
		invs[i] = IssuedInvoice{LocationID: req.LocationID, Number: number, RunID: run.ID, FamilyID: d.family.ID, Period: req.Month,
			TotalCents: inv.TotalCents, Corrects: d.corrects, SHA256: sum, Invoice: inv}
		run.TotalCents += inv.TotalCents
	}
	run.FirstNumber, run.LastNumber = invs[0].Number, invs[len(invs)-1].Number
	if _, err := b.db.Exec(ctx, tx, `INSERT INTO billing_runs (id, location_id, kind, period, profile, invoice_date, created_ns, created_by,
		invoices, total_cents, first_number, last_number) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		run.ID, run.LocationID, kind, run.Period, profile, date.String(), run.Created.UnixNano(), run.CreatedBy, run.Count,
		run.TotalCents, run.FirstNumber, run.LastNumber); err != nil {
		if isUniqueViolation(err) {
			return Run{}, ErrAlreadyBilled
		}
		return Run{}, fmt.Errorf("central: billing run: %w", err)
	}
	for i, v := range invs {
		if _, err := b.db.Exec(ctx, tx, `INSERT INTO invoices (location_id, number, seq, run_id, family_id, period, total_cents, corrects, invoice_json, pdf, pdf_sha256)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, req.LocationID, v.Number, seqs[i], run.ID, v.FamilyID, req.Month, v.TotalCents,
			v.Corrects, recipes[i], pdfs[i], v.SHA256); err != nil {
			return Run{}, fmt.Errorf("central: invoice %s: %w", v.Number, err)
		}
	}
	if err := tx.Commit(); err != nil {
		if isUniqueViolation(err) {
			return Run{}, ErrAlreadyBilled
		}
		return Run{}, fmt.Errorf("central: billing run: %w", err)
	}
	run.Invoices = invs
	return run, nil
}

func isUniqueViolation(err error) bool {
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505")
}

// reserve takes n numbers of a series in tx and returns the first. The
// UPDATE locks the sequence row until tx ends (PostgreSQL; SQLite's
// immediate transaction holds the database's write lock already).
func (b *Billing) reserve(ctx context.Context, tx *sql.Tx, loc, series string, n int64) (int64, error) {
	if _, err := b.db.Exec(ctx, tx, `INSERT INTO invoice_sequences (location_id, series, last) VALUES (?, ?, 0)
		ON CONFLICT (location_id, series) DO NOTHING`, loc, series); err != nil {
		return 0, fmt.Errorf("central: invoice numbers: %w", err)
	}
	var last int64
	if err := b.db.QueryRow(ctx, tx, `UPDATE invoice_sequences SET last = last + ? WHERE location_id = ? AND series = ? RETURNING last`,
		n, loc, series).Scan(&last); err != nil {
		return 0, fmt.Errorf("central: invoice numbers: %w", err)
	}
	return last - n + 1, nil
}

// render makes an invoice's PDF, its SHA-256 and its recipe (JSON).
func render(inv invoice.Invoice) (pdf []byte, sum, recipe string, err error) {
	var buf bytes.Buffer
	if err := invoice.WritePDF(&buf, inv); err != nil {
		return nil, "", "", err
	}
	r, err := json.Marshal(inv)
	if err != nil {
		return nil, "", "", fmt.Errorf("central: invoice %s: %w", inv.Number, err)
	}
	h := sha256.Sum256(buf.Bytes())
	return buf.Bytes(), hex.EncodeToString(h[:]), string(r), nil
}

// Rerender renders an issued invoice again from its stored recipe.
func Rerender(i IssuedInvoice) ([]byte, error) {
	pdf, _, _, err := render(i.Invoice)
	return pdf, err
}

const runColumns = `id, location_id, kind, period, profile, invoice_date, created_ns, created_by, invoices, total_cents,
	first_number, last_number, collected_ns`

func scanRun(sc interface{ Scan(...any) error }) (Run, error) {
	var r Run
	var date string
	var created int64
	var collected sql.NullInt64
	if err := sc.Scan(&r.ID, &r.LocationID, &r.Kind, &r.Period, &r.Profile, &date, &created, &r.CreatedBy, &r.Count,
		&r.TotalCents, &r.FirstNumber, &r.LastNumber, &collected); err != nil {
		return r, err
	}
	r.InvoiceDate, _ = attendance.ParseDate(date)
	r.Created = time.Unix(0, created).UTC()
	if collected.Valid {
		t := time.Unix(0, collected.Int64).UTC()
		r.Collected = &t
	}
	return r, nil
}

// Runs lists a location's runs, newest first.
func (b *Billing) Runs(ctx context.Context, loc string) ([]Run, error) {
	rows, err := b.db.Query(ctx, nil, "SELECT "+runColumns+" FROM billing_runs WHERE location_id = ? ORDER BY period DESC, created_ns DESC", loc)
	if err != nil {
		return nil, fmt.Errorf("central: runs: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("central: runs: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// runOf is the original run of a month.
func (b *Billing) runOf(ctx context.Context, loc, period string) (Run, error) {
	r, err := scanRun(b.db.QueryRow(ctx, nil, "SELECT "+runColumns+" FROM billing_runs WHERE location_id = ? AND period = ? AND kind = 'invoice'", loc, period))
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotYetInvoiced
	}
	if err != nil {
		return r, fmt.Errorf("central: run: %w", err)
	}
	return r, nil
}

// GetRun returns a run with its invoices (recipes included, no PDFs).
func (b *Billing) GetRun(ctx context.Context, loc, id string) (Run, error) {
	r, err := scanRun(b.db.QueryRow(ctx, nil, "SELECT "+runColumns+" FROM billing_runs WHERE location_id = ? AND id = ?", loc, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("central: run %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("central: run %s: %w", id, err)
	}
	r.Invoices, err = b.invoices(ctx, "location_id = ? AND run_id = ?", loc, id)
	return r, err
}

func (b *Billing) invoices(ctx context.Context, where string, args ...any) ([]IssuedInvoice, error) {
	rows, err := b.db.Query(ctx, nil, `SELECT location_id, number, run_id, family_id, period, total_cents, corrects, invoice_json, pdf_sha256
		FROM invoices WHERE `+where+` ORDER BY location_id, seq`, args...)
	if err != nil {
		return nil, fmt.Errorf("central: invoices: %w", err)
	}
	defer rows.Close()
	var out []IssuedInvoice
	for rows.Next() {
		var i IssuedInvoice
		var recipe string
		if err := rows.Scan(&i.LocationID, &i.Number, &i.RunID, &i.FamilyID, &i.Period, &i.TotalCents, &i.Corrects, &recipe, &i.SHA256); err != nil {
			return nil, fmt.Errorf("central: invoices: %w", err)
		}
		if err := json.Unmarshal([]byte(recipe), &i.Invoice); err != nil {
			return nil, fmt.Errorf("central: invoice %s: %w", i.Number, err)
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// InvoicePDF returns the PDF of an issued invoice of a run, as sent.
func (b *Billing) InvoicePDF(ctx context.Context, loc, runID, number string) ([]byte, error) {
	var pdf []byte
	err := b.db.QueryRow(ctx, nil, "SELECT pdf FROM invoices WHERE location_id = ? AND run_id = ? AND number = ?", loc, runID, number).Scan(&pdf)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("central: invoice %s: %w", number, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("central: invoice %s: %w", number, err)
	}
	return pdf, nil
}

// FamilyInvoice is an invoice as a family's own page lists it.
type FamilyInvoice struct {
	LocationID  string          `json:"location_id"`
	Number      string          `json:"number"`
	Period      string          `json:"period"`
	Date        attendance.Date `json:"date"`
	Due         attendance.Date `json:"due"`
	TotalCents  int64           `json:"total_cents"`
	Corrects    string          `json:"corrects,omitempty"`
	DirectDebit bool            `json:"direct_debit"`
}

// FamilyInvoices lists the invoices issued to a family (its id: the first
// guardian's person id) at every location, oldest first: for the parents'
// portal. FamilyInvoicePDF serves one of them.
func (b *Billing) FamilyInvoices(ctx context.Context, familyID string) ([]FamilyInvoice, error) {
	invs, err := b.invoices(ctx, "family_id = ?", familyID)
	if err != nil {
		return nil, err
	}
	out := make([]FamilyInvoice, len(invs))
	for i, v := range invs {
		out[i] = FamilyInvoice{LocationID: v.LocationID, Number: v.Number, Period: v.Period, Date: v.Invoice.Date, Due: v.Invoice.Due,
			TotalCents: v.TotalCents, Corrects: v.Corrects, DirectDebit: v.DirectDebit()}
	}
	slices.SortStableFunc(out, func(a, b FamilyInvoice) int { return cmp.Compare(a.Date.String()+a.Number, b.Date.String()+b.Number) })
	return out, nil
}

// FamilyInvoicePDF returns one of a family's invoices; another family's
// number is ErrNotFound.
func (b *Billing) FamilyInvoicePDF(ctx context.Context, familyID, loc, number string) ([]byte, error) {
	var pdf []byte
	err := b.db.QueryRow(ctx, nil, "SELECT pdf FROM invoices WHERE family_id = ? AND location_id = ? AND number = ?", familyID, loc, number).Scan(&pdf)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("central: invoice %s: %w", number, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("central: invoice %s: %w", number, err)
	}
	return pdf, nil
}

// ---- SEPA ----

// SEPA is the pain.008.001.08 batch of a run: one debit per invoice with
// a positive total to a family with a mandate (credit notes are paid back
// by transfer). The mandate and its sequence type (FRST until a
// collection is marked done) are those of the day the run was issued.
func (b *Billing) SEPA(ctx context.Context, loc, runID string) ([]byte, int, error) {
	run, err := b.GetRun(ctx, loc, runID)
	if err != nil {
		return nil, 0, err
	}
	var batch sepa.Batch
	for _, i := range run.Invoices {
		inv := i.Invoice
		if batch.MessageID == "" {
			p := inv.Provider
			batch = sepa.Batch{MessageID: "SDD-" + run.ID, Created: run.Created,
				Creditor: sepa.Creditor{Name: p.Name, IBAN: p.IBAN, BIC: p.BIC, ID: p.CreditorID}}
		}
		m := inv.Family.Mandate
		if m == nil || inv.TotalCents <= 0 {
			continue
		}
		seq := sepa.Recurring
		if m.First {
			seq = sepa.First
		}
		holder := cmp.Or(m.Holder, strings.Join(inv.Family.Guardians[:1], ""))
		batch.Debits = append(batch.Debits, sepa.Debit{EndToEndID: inv.Number, AmountCents: inv.TotalCents, MandateID: m.ID,
			MandateDate: m.Signed, Sequence: seq, DebtorName: holder, DebtorIBAN: m.IBAN, DebtorBIC: m.BIC,
			Remittance:   fmt.Sprintf("%s %s %02d-%d", inv.Number, inv.Provider.Name, int(inv.Month), inv.Year),
			CollectionOn: inv.Collection})
	}
	if len(batch.Debits) == 0 {
		return nil, 0, fmt.Errorf("%w: no family of this run pays by direct debit", ErrNotFound)
	}
	var buf strings.Builder
	if err := sepa.Write(&buf, batch); err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return []byte(buf.String()), len(batch.Debits), nil
}

// MarkCollected records that the run's direct debits were collected: the
// mandates used FRST in it are RCUR from now on. It returns how many
// mandates moved to RCUR.
func (b *Billing) MarkCollected(ctx context.Context, loc, runID string) (int, error) {
	run, err := b.GetRun(ctx, loc, runID)
	if err != nil {
		return 0, err
	}
	tx, err := b.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	res, err := b.db.Exec(ctx, tx, "UPDATE billing_runs SET collected_ns = ? WHERE id = ? AND collected_ns IS NULL", b.db.Now().UnixNano(), runID)
	if err != nil {
		return 0, fmt.Errorf("central: collected: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, fmt.Errorf("%w: the run's collection is already recorded", ErrConflict)
	}
	moved := 0
	for _, i := range run.Invoices {
		if m := i.Invoice.Family.Mandate; m != nil && m.First && i.TotalCents > 0 {
			res, err := b.db.Exec(ctx, tx, `UPDATE billing_mandates SET sequence = 'RCUR', updated_ns = ?
				WHERE location_id = ? AND family_id = ? AND mandate_id = ? AND sequence = 'FRST'`, b.db.Now().UnixNano(), loc, i.FamilyID, m.ID)
			if err != nil {
				return 0, fmt.Errorf("central: collected: %w", err)
			}
			n, _ := res.RowsAffected()
			moved += int(n)
		}
	}
	return moved, tx.Commit()
}

// ParseMandate builds a mandate from form or JSON fields; sequence is
// FRST or RCUR ("" is RCUR).
func ParseMandate(family, id, iban, bic, holder, signed, sequence string) (Mandate, error) {
	m := Mandate{FamilyID: family}
	m.ID, m.IBAN, m.BIC, m.Holder = strings.TrimSpace(id), iban, strings.TrimSpace(bic), strings.TrimSpace(holder)
	d, err := attendance.ParseDate(strings.TrimSpace(signed))
	if err != nil {
		return m, fmt.Errorf("%w: signed: want YYYY-MM-DD", ErrMalformed)
	}
	m.Signed = d
	switch strings.ToUpper(strings.TrimSpace(sequence)) {
	case "", "RCUR":
	case "FRST":
		m.First = true
	default:
		return m, fmt.Errorf("%w: sequence: want FRST or RCUR", ErrMalformed)
	}
	return m, nil
}
