package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/attendance/billing"
	"github.com/kinderdeur/kiosk/attendance/invoice"
	"github.com/kinderdeur/kiosk/attendance/sheet"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/auth"
)

// billingDesk is what the billing-run pages use of central.Billing.
type billingDesk interface {
	Provider(ctx context.Context, loc string) (invoice.Provider, error)
	SetProvider(ctx context.Context, loc string, p invoice.Provider, actor string) error
	Mandates(ctx context.Context, loc string) (map[string]central.Mandate, error)
	SetMandate(ctx context.Context, loc string, m central.Mandate) error
	MandateFamily(ctx context.Context, loc, person string) (string, error)
	DeleteMandate(ctx context.Context, loc, family string) error
	Issue(ctx context.Context, req central.RunRequest) (central.Run, error)
	Runs(ctx context.Context, loc string) ([]central.Run, error)
	GetRun(ctx context.Context, loc, id string) (central.Run, error)
	InvoicePDF(ctx context.Context, loc, runID, number string) ([]byte, error)
	WriteRunZip(r *http.Request, w http.ResponseWriter, loc, runID string) error
	SEPA(ctx context.Context, loc, runID string) ([]byte, int, error)
	MarkCollected(ctx context.Context, loc, runID string) (int, error)
	Diff(ctx context.Context, loc, period string) (central.RunDiff, error)
	Correct(ctx context.Context, loc, period, fingerprint, actor string) (central.Run, error)
}

func (s *Server) billingRunRoutes() []Route {
	return []Route{
		{"GET", "/locations/{loc}/billing/runs", auth.ReadBilling, s.runsPage},
		{"POST", "/locations/{loc}/billing/runs", auth.ManageBilling, s.issueRun},
		{"GET", "/locations/{loc}/billing/runs/{run}", auth.ReadBilling, s.runPage},
		{"GET", "/locations/{loc}/billing/runs/{run}/invoices/{file}", auth.ReadBilling, s.runInvoicePDF},
		{"GET", "/locations/{loc}/billing/runs/{run}/invoices.zip", auth.ReadBilling, s.runZip},
		{"GET", "/locations/{loc}/billing/runs/{run}/sepa.xml", auth.ReadBilling, s.runSEPA},
		{"GET", "/locations/{loc}/billing/runs/{run}/lines", auth.ReadBilling, s.runLines},
		{"POST", "/locations/{loc}/billing/runs/{run}/collected", auth.ManageBilling, s.runCollected},
		{"GET", "/locations/{loc}/billing/diff", auth.ReadBilling, s.diffPage},
		{"POST", "/locations/{loc}/billing/corrections", auth.ManageBilling, s.issueCorrections},
		{"GET", "/locations/{loc}/billing/settings", auth.ReadBilling, s.billingSettingsPage},
		{"POST", "/locations/{loc}/billing/provider", auth.ManageProvider, s.saveProvider},
		{"POST", "/locations/{loc}/billing/mandates", auth.ManageBilling, s.saveMandate},
		{"POST", "/locations/{loc}/billing/mandates/{family}/delete", auth.ManageBilling, s.deleteMandate},
	}
}

// billingError is a domain error of a run shown on the page (and its
// status), or false for anything else.
// renderBilling renders a billing page; pageErr (a failed action posted
// to it, or nil) is shown on the page when billingError words it, and is
// a plain failure otherwise.
func (s *Server) renderBilling(w http.ResponseWriter, r *http.Request, status int, page string, v view, pageErr error) {
	if pageErr != nil {
		st, ok := billingError(&v, pageErr)
		if !ok {
			s.fail(w, r, pageErr)
			return
		}
		status = st
	}
	s.render(w, status, page, v)
}

func billingError(v *view, err error) (int, bool) {
	key := ""
	switch {
	case errors.Is(err, central.ErrNoProvider):
		key = "err_no_provider"
	case errors.Is(err, central.ErrAlreadyBilled):
		key = "err_already_billed"
	case errors.Is(err, central.ErrNothingToBill):
		key = "err_nothing_to_bill"
	case errors.As(err, new(*central.UnpricedError)):
		var u *central.UnpricedError
		errors.As(err, &u)
		v.Error = Count(v.Lang, "err_unpriced", u.Stays)
		return http.StatusConflict, true
	case errors.As(err, new(*central.MonthNotOverError)):
		var m *central.MonthNotOverError
		errors.As(err, &m)
		v.Error = fmt.Sprintf(T(v.Lang, "err_month_not_over"), m.Month, v.Day(m.From))
		return http.StatusConflict, true
	case errors.Is(err, central.ErrDiffMoved):
		key = "err_diff_moved"
	case errors.Is(err, central.ErrConflict):
		key = "err_conflict"
	case errors.Is(err, central.ErrMalformed):
		v.Error = strings.TrimPrefix(err.Error(), central.ErrMalformed.Error()+": ")
		return http.StatusBadRequest, true
	default:
		return 0, false
	}
	v.Error = T(v.Lang, key)
	return http.StatusConflict, true
}

type runListRow struct {
	central.Run
	By, When string
}

type runsData struct {
	Loc         central.Location
	Runs        []runListRow
	HasProvider bool
	Provider    invoice.Provider
	Month       string // the month the form proposes: last month
	Profile     string
	Profiles    []string
	Invoiced    map[string]bool // periods with a run
}

func (s *Server) runsPage(w http.ResponseWriter, r *http.Request) {
	s.renderRuns(w, r, http.StatusOK, nil)
}

func (s *Server) renderRuns(w http.ResponseWriter, r *http.Request, status int, pageErr error) {
	loc := r.PathValue("loc")
	l, err := s.sites.Location(r.Context(), loc)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	runs, err := s.billing.Runs(r.Context(), loc)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := runsData{Loc: l, Invoiced: map[string]bool{}}
	for _, run := range runs {
		d.Invoiced[run.Period] = true
		d.Runs = append(d.Runs, runListRow{Run: run, By: s.userName(r.Context(), run.CreatedBy), When: localTime(run.Created)})
	}
	if p, err := s.billing.Provider(r.Context(), loc); err == nil {
		d.Provider, d.HasProvider = p, true
	} else if !errors.Is(err, central.ErrNoProvider) {
		s.fail(w, r, err)
		return
	}
	now := s.now()
	d.Month = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0).Format("2006-01")
	if rs, _, err := s.loadRoster(r.Context(), loc); err == nil {
		d.Profile = central.DefaultProfile(rs)
	}
	for _, p := range billing.Presets() {
		d.Profiles = append(d.Profiles, p.Name)
	}
	v := s.newView(r, "billing_runs", d)
	s.renderBilling(w, r, status, "billruns", v, pageErr)
}

func (s *Server) issueRun(w http.ResponseWriter, r *http.Request) {
	loc := r.PathValue("loc")
	run, err := s.billing.Issue(r.Context(), central.RunRequest{LocationID: loc, Month: r.PostFormValue("month"),
		Profile: r.PostFormValue("profile"), Actor: actor(r), AllowUnpriced: r.PostFormValue("allow_unpriced") != ""})
	if err != nil {
		s.renderRuns(w, r, 0, err)
		return
	}
	if err := s.appendAudit(r.Context(), r, audit.BillingRun, "location:"+loc, central.RunAudit(run)); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/locations/%s/billing/runs/%s?issued=1", loc, run.ID), http.StatusSeeOther)
}

type runRow struct {
	central.IssuedInvoice
	Family string
}

type runData struct {
	Loc      central.Location
	Run      central.Run
	By, When string
	Issued   bool // just issued (after the redirect)
	Rows     []runRow
	Debits   int
	DebitSum int64
	Credits  int
}

func (s *Server) runPage(w http.ResponseWriter, r *http.Request) {
	loc := r.PathValue("loc")
	l, err := s.sites.Location(r.Context(), loc)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	run, err := s.billing.GetRun(r.Context(), loc, r.PathValue("run"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := runData{Loc: l, Run: run, By: s.userName(r.Context(), run.CreatedBy), When: localTime(run.Created), Issued: r.URL.Query().Get("issued") != ""}
	v := s.newView(r, "billing_run", nil)
	for _, i := range run.Invoices {
		d.Rows = append(d.Rows, runRow{IssuedInvoice: i, Family: joinAnd(i.Invoice.Family.Guardians, v.Lang)})
		if i.DirectDebit() {
			d.Debits++
			d.DebitSum += i.TotalCents
		}
		if i.TotalCents < 0 {
			d.Credits++
		}
	}
	slices.SortStableFunc(d.Rows, func(a, b runRow) int { return compareNames(a.Family, b.Family) })
	v.Data = d
	s.render(w, http.StatusOK, "billrun", v)
}

// compareNames orders names as a person looks them up: from their first
// letter, case-insensitively, so a name typed with leading symbols or
// digits ("=1+1 Zwart", "'t Hart", "@home") sorts among the others instead
// of before every one of them; ties by the name as written.
func compareNames(a, b string) int {
	return cmp.Or(cmp.Compare(nameKey(a), nameKey(b)), cmp.Compare(a, b))
}

func nameKey(s string) string {
	var b strings.Builder
	for _, r := range strings.TrimLeftFunc(s, func(r rune) bool { return !unicode.IsLetter(r) }) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == ' ' {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return strings.TrimSpace(b.String())
}

func joinAnd(names []string, l Lang) string {
	and := " en "
	if l == EN {
		and = " and "
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + and + names[len(names)-1]
}

func (s *Server) runInvoicePDF(w http.ResponseWriter, r *http.Request) {
	number, ok := strings.CutSuffix(r.PathValue("file"), ".pdf")
	if !ok {
		http.NotFound(w, r)
		return
	}
	pdf, err := s.billing.InvoicePDF(r.Context(), r.PathValue("loc"), r.PathValue("run"), number)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s.pdf"`, safeFile(number)))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(pdf)
}

func (s *Server) runZip(w http.ResponseWriter, r *http.Request) {
	if err := s.billing.WriteRunZip(r, w, r.PathValue("loc"), r.PathValue("run")); err != nil {
		s.fail(w, r, err)
	}
}

func (s *Server) runSEPA(w http.ResponseWriter, r *http.Request) {
	loc, id := r.PathValue("loc"), r.PathValue("run")
	xml, _, err := s.billing.SEPA(r.Context(), loc, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="incasso-%s-%s.xml"`, safeFile(loc), safeFile(id)))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(xml)
}

func (s *Server) runLines(w http.ResponseWriter, r *http.Request) {
	f, err := sheet.ParseFormat(cmp.Or(r.URL.Query().Get("format"), "xlsx"))
	if err != nil {
		s.fail(w, r, badInput("%v", err))
		return
	}
	run, err := s.billing.GetRun(r.Context(), r.PathValue("loc"), r.PathValue("run"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	central.SetDownload(w.Header(), f, fmt.Sprintf("factuurregels-%s-%s-%s", safeFile(run.LocationID), run.Period, run.ID))
	if err := central.WriteRunLines(w, f, run); err != nil {
		s.log.Warn("web: run lines", "err", err)
	}
}

func (s *Server) runCollected(w http.ResponseWriter, r *http.Request) {
	loc, id := r.PathValue("loc"), r.PathValue("run")
	n, err := s.billing.MarkCollected(r.Context(), loc, id)
	if errors.Is(err, central.ErrConflict) {
		http.Error(w, T(langOf(r), "err_conflict"), http.StatusConflict)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.appendAudit(r.Context(), r, audit.BillingSettings, "location:"+loc, map[string]any{"change": "sepa_collected", "run": id, "mandates_now_rcur": n}); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/locations/%s/billing/runs/%s", loc, id), http.StatusSeeOther)
}

type diffData struct {
	Loc  central.Location
	Diff central.RunDiff
	Rows []diffFamily
}

type diffFamily struct {
	central.FamilyDiff
	Family string
}

func (s *Server) diffPage(w http.ResponseWriter, r *http.Request) {
	s.renderDiff(w, r, http.StatusOK, nil)
}

func (s *Server) renderDiff(w http.ResponseWriter, r *http.Request, status int, pageErr error) {
	loc := r.PathValue("loc")
	l, err := s.sites.Location(r.Context(), loc)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	month := cmp.Or(r.URL.Query().Get("month"), r.PostFormValue("month"))
	d, err := s.billing.Diff(r.Context(), loc, month)
	if errors.Is(err, central.ErrNotYetInvoiced) {
		s.fail(w, r, central.ErrNotFound)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(r, "billing_diff", nil)
	dd := diffData{Loc: l, Diff: d}
	for _, f := range d.Families {
		dd.Rows = append(dd.Rows, diffFamily{FamilyDiff: f, Family: joinAnd(f.Guardians, v.Lang)})
	}
	v.Data = dd
	s.renderBilling(w, r, status, "billdiff", v, pageErr)
}

func (s *Server) issueCorrections(w http.ResponseWriter, r *http.Request) {
	loc, month := r.PathValue("loc"), r.PostFormValue("month")
	run, err := s.billing.Correct(r.Context(), loc, month, r.PostFormValue("fingerprint"), actor(r))
	if err != nil {
		if r.URL.RawQuery == "" {
			r.URL.RawQuery = "month=" + month
		}
		s.renderDiff(w, r, 0, err)
		return
	}
	if err := s.appendAudit(r.Context(), r, audit.BillingRun, "location:"+loc, central.RunAudit(run)); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/locations/%s/billing/runs/%s?issued=1", loc, run.ID), http.StatusSeeOther)
}

type familyMandate struct {
	FamilyID string
	Family   string
	Mandate  *central.Mandate
}

type settingsData struct {
	Loc         central.Location
	Provider    invoice.Provider
	HasProvider bool
	Address     string // the address lines, one per line
	Families    []familyMandate
}

func (s *Server) billingSettingsPage(w http.ResponseWriter, r *http.Request) {
	s.renderSettings(w, r, http.StatusOK, "")
}

func (s *Server) renderSettings(w http.ResponseWriter, r *http.Request, status int, msg string) {
	loc := r.PathValue("loc")
	l, err := s.sites.Location(r.Context(), loc)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := settingsData{Loc: l}
	if p, err := s.billing.Provider(r.Context(), loc); err == nil {
		d.Provider, d.HasProvider = p, true
		d.Address = strings.Join(p.Address, "\n")
	} else if !errors.Is(err, central.ErrNoProvider) {
		s.fail(w, r, err)
		return
	} else {
		d.Provider.Country = "NL"
		d.Provider.DueDayOfNextMonth = 20
	}
	ms, err := s.billing.Mandates(r.Context(), loc)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(r, "billing_settings", nil)
	rs, _, err := s.loadRoster(r.Context(), loc)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names := central.FamilyGuardians(rs)
	seen := map[string]bool{}
	for _, c := range central.BillingContracts(rs) {
		if c.GuardianID == "" || seen[c.GuardianID] {
			continue
		}
		seen[c.GuardianID] = true
		fm := familyMandate{FamilyID: c.GuardianID, Family: joinAnd(names(c.GuardianID), v.Lang)}
		if m, ok := ms[c.GuardianID]; ok {
			fm.Mandate = &m
		}
		d.Families = append(d.Families, fm)
	}
	slices.SortFunc(d.Families, func(a, b familyMandate) int { return compareNames(a.Family, b.Family) })
	v.Data = d
	v.Error = msg
	s.render(w, status, "billsettings", v)
}

func (s *Server) saveProvider(w http.ResponseWriter, r *http.Request) {
	loc := r.PathValue("loc")
	f := r.PostFormValue
	atoi := func(k string) int {
		var n int
		fmt.Sscan(f(k), &n)
		return n
	}
	p := invoice.Provider{Name: strings.TrimSpace(f("name")), Country: f("country"), KvK: strings.TrimSpace(f("kvk")), LRK: strings.TrimSpace(f("lrk")),
		EnterpriseNumber: strings.TrimSpace(f("enterprise_number")), IBAN: f("iban"), BIC: strings.TrimSpace(f("bic")),
		Email: strings.TrimSpace(f("email")), Phone: strings.TrimSpace(f("phone")), NumberPrefix: strings.TrimSpace(f("number_prefix")),
		CreditorID: strings.TrimSpace(f("creditor_id")), VATExemption: strings.TrimSpace(f("vat_exemption"))}
	for _, line := range strings.Split(f("address"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			p.Address = append(p.Address, line)
		}
	}
	if f("term") == "days" {
		p.PaymentTermDays = atoi("term_value")
	} else {
		p.DueDayOfNextMonth = atoi("term_value")
	}
	if err := s.billing.SetProvider(r.Context(), loc, p, actor(r)); err != nil {
		if errors.Is(err, central.ErrMalformed) {
			s.renderSettings(w, r, http.StatusBadRequest, strings.TrimPrefix(err.Error(), central.ErrMalformed.Error()+": "))
			return
		}
		s.fail(w, r, err)
		return
	}
	if err := s.appendAudit(r.Context(), r, audit.BillingSettings, "location:"+loc, map[string]any{"change": "provider", "creditor_id": p.CreditorID}); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/locations/"+loc+"/billing/settings", http.StatusSeeOther)
}

func (s *Server) saveMandate(w http.ResponseWriter, r *http.Request) {
	loc := r.PathValue("loc")
	f := r.PostFormValue
	m, err := central.ParseMandate(f("family"), f("mandate_id"), f("iban"), f("bic"), f("holder"), f("signed"), f("sequence"))
	if err == nil {
		// Any guardian of the family names it; the mandate is the family's.
		m.FamilyID, err = s.billing.MandateFamily(r.Context(), loc, m.FamilyID)
	}
	if err == nil {
		err = s.billing.SetMandate(r.Context(), loc, m)
	}
	if errors.Is(err, central.ErrMalformed) {
		s.renderSettings(w, r, http.StatusBadRequest, strings.TrimPrefix(err.Error(), central.ErrMalformed.Error()+": "))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.appendAudit(r.Context(), r, audit.BillingSettings, "location:"+loc, map[string]any{"change": "mandate", "family": m.FamilyID, "mandate": m.ID}); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/locations/"+loc+"/billing/settings#mandates", http.StatusSeeOther)
}

func (s *Server) deleteMandate(w http.ResponseWriter, r *http.Request) {
	loc, fam := r.PathValue("loc"), r.PathValue("family")
	if err := s.billing.DeleteMandate(r.Context(), loc, fam); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.appendAudit(r.Context(), r, audit.BillingSettings, "location:"+loc, map[string]any{"change": "mandate_removed", "family": fam}); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/locations/"+loc+"/billing/settings#mandates", http.StatusSeeOther)
}

// userName names the audit actor "user:ID" by the user's name.
func (s *Server) userName(ctx context.Context, actor string) string {
	id, ok := strings.CutPrefix(actor, "user:")
	if !ok {
		return actor
	}
	us, err := s.users.Users(ctx)
	if err != nil {
		return actor
	}
	for _, u := range us {
		if u.ID == id {
			return u.Name
		}
	}
	return actor
}

// localTime shows a stored time as the office reads it (Dutch and Flemish
// locations share the time zone).
func localTime(t time.Time) string {
	if tz, err := time.LoadLocation("Europe/Amsterdam"); err == nil {
		t = t.In(tz)
	}
	return t.Format("02-01-2006 15:04")
}
