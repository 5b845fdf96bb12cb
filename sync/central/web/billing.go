package web

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/benefit"
	"github.com/kinderdeur/kiosk/attendance/billing"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/sheet"
	"github.com/kinderdeur/kiosk/sync/central"
)

type billingData struct {
	Loc       central.Location
	From, To  string
	ThisMonth [2]string // from, to of this month (a quick link)
	LastMonth [2]string
	Profile   string
	Profiles  []string
	Lines     []billing.Line
	Rows      []billingRow
	Total     billingRow
	Year      int
	Query     string // from, to and profile, for the download links
	HasLines  bool
	Unpriced  int
	Flagged   int
	// The lines table shows LinesPerPage lines at a time: Page of Pages,
	// lines First-Last of LineCount; PrevURL and NextURL ("" at the ends).
	Page, Pages, First, Last, LineCount int
	PrevURL, NextURL                    string
}

// LinesPerPage is how many billing lines the preview page shows at a time
// (a year of a large location has tens of thousands; the downloads have
// them all).
const LinesPerPage = 250

// bill prices the attendance of [from, to] with the named preset.
func (s *Server) bill(r *http.Request, locID, profile string, from, to attendance.Date) ([]billing.Line, roster.Roster, error) {
	p, err := billing.Lookup(profile, nil)
	if err != nil {
		return nil, roster.Roster{}, badInput("profile: %v", err)
	}
	rs, _, err := s.loadRoster(r.Context(), locID)
	if err != nil {
		return nil, rs, err
	}
	st, err := s.reports.Attendance(r.Context(), central.AttendanceQuery{From: from, To: to, LocationID: locID})
	if err != nil {
		return nil, rs, err
	}
	eng, err := billing.New(p, central.BillingContracts(rs))
	if err != nil {
		return nil, rs, fmt.Errorf("web: billing: %w", err)
	}
	return eng.Bill(st), rs, nil
}

// billingRow is one row of the preview table: a child's month, or the
// total of a family with more than one child.
type billingRow struct {
	billing.MonthSummary
	Family string // the guardians' names
	Total  bool   // a family total
}

// familyNames names each family (the first guardian's id, as billing
// groups them) by its guardians: "Fatima B. en Kees B.".
func familyNames(rs roster.Roster, l Lang) func(id string) string {
	guardians := central.FamilyGuardians(rs)
	return func(id string) string { return joinAnd(guardians(id), l) }
}

// billingPeriod reads from and to (or a month, YYYY-MM) from the query;
// the default is the current month. At most 400 days.
func (s *Server) billingPeriod(r *http.Request) (from, to attendance.Date, err error) {
	q := r.URL.Query()
	if m := q.Get("month"); m != "" && q.Get("from") == "" {
		mt, err := time.Parse("2006-01", m)
		if err != nil {
			return from, to, badInput("month: want YYYY-MM")
		}
		return attendance.DateOf(mt), attendance.DateOf(mt.AddDate(0, 1, -1)), nil
	}
	now := s.now()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	from, to = attendance.DateOf(first), attendance.DateOf(first.AddDate(0, 1, -1))
	if v := q.Get("from"); v != "" {
		if from, err = attendance.ParseDate(v); err != nil {
			return from, to, badInput("from: want YYYY-MM-DD")
		}
	}
	if v := q.Get("to"); v != "" {
		if to, err = attendance.ParseDate(v); err != nil {
			return from, to, badInput("to: want YYYY-MM-DD")
		}
	}
	if to.Before(from) || to.In(time.UTC).Sub(from.In(time.UTC)) > 400*24*time.Hour {
		return from, to, badInput("to must not be before from, and the period at most 400 days")
	}
	return from, to, nil
}

// billingPreview prices the period of the request with its profile (or the
// location's default).
func (s *Server) billingPreview(r *http.Request, loc string) (lines []billing.Line, rs roster.Roster, profile string, from, to attendance.Date, err error) {
	if from, to, err = s.billingPeriod(r); err != nil {
		return
	}
	profile = r.URL.Query().Get("profile")
	if profile == "" {
		if rs, _, err = s.loadRoster(r.Context(), loc); err != nil {
			return
		}
		profile = central.DefaultProfile(rs)
	}
	lines, rs, err = s.bill(r, loc, profile, from, to)
	return
}

func (s *Server) billingPage(w http.ResponseWriter, r *http.Request) {
	loc := r.PathValue("loc")
	l, err := s.sites.Location(r.Context(), loc)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := 1
	if p := r.URL.Query().Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(p, "-") {
			n, err = math.MaxInt, nil // past the end
		}
		if err != nil || n < 1 {
			s.fail(w, r, badInput("page: want a number from 1"))
			return
		}
		page = n
	}
	lines, rs, profile, from, to, err := s.billingPreview(r, loc)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(r, "billing", nil)
	names := familyNames(rs, v.Lang)
	d := billingData{Loc: l, From: from.String(), To: to.String(), Profile: profile, Lines: lines, Year: from.Year, HasLines: len(lines) > 0}
	now := s.now()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	d.ThisMonth = [2]string{first.Format(time.DateOnly), first.AddDate(0, 1, -1).Format(time.DateOnly)}
	d.LastMonth = [2]string{first.AddDate(0, -1, 0).Format(time.DateOnly), first.AddDate(0, 0, -1).Format(time.DateOnly)}
	d.Query = url.Values{"from": {d.From}, "to": {d.To}, "profile": {profile}}.Encode()
	d.LineCount = len(lines)
	d.Pages = max(1, (len(lines)+LinesPerPage-1)/LinesPerPage)
	d.Page = min(page, d.Pages) // past the end: the last page
	d.First, d.Last = (d.Page-1)*LinesPerPage, min(d.Page*LinesPerPage, len(lines))
	d.Lines = lines[d.First:d.Last]
	d.First++
	pageURL := func(n int) string {
		return "/locations/" + central.PathSegment(loc) + "/billing?" + d.Query + "&page=" + strconv.Itoa(n) + "#lines"
	}
	if d.Page > 1 {
		d.PrevURL = pageURL(d.Page - 1)
	}
	if d.Page < d.Pages {
		d.NextURL = pageURL(d.Page + 1)
	}
	sum := billing.Preview(lines, central.BillingContracts(rs))
	children := map[string]int{} // month|family -> children
	for _, m := range sum {
		if m.Level == "child" {
			children[m.Month+"|"+m.FamilyID]++
		}
	}
	for _, m := range sum {
		if m.Level == "family" && children[m.Month+"|"+m.FamilyID] < 2 {
			continue // a family of one child: its child row says it all
		}
		row := billingRow{MonthSummary: m, Family: names(m.FamilyID), Total: m.Level == "family"}
		d.Rows = append(d.Rows, row)
		if m.Level == "child" {
			t := &d.Total
			t.Days += m.Days
			t.Minutes += m.Minutes
			t.BilledMinutes += m.BilledMinutes
			t.AmountCents += m.AmountCents
			t.Unpriced += m.Unpriced
			t.FlaggedLines += m.FlaggedLines
		}
	}
	d.Unpriced, d.Flagged = d.Total.Unpriced, d.Total.FlaggedLines
	for _, p := range billing.Presets() {
		d.Profiles = append(d.Profiles, p.Name)
	}
	v.Data = d
	s.render(w, http.StatusOK, "billing", v)
}

// billingExport serves the preview (kind summary, the default) or its
// invoice lines (kind lines) as xlsx, csv-excel or csv.
func (s *Server) billingExport(w http.ResponseWriter, r *http.Request) {
	loc := r.PathValue("loc")
	f, err := sheet.ParseFormat(cmp.Or(r.URL.Query().Get("format"), "xlsx"))
	if err != nil {
		s.fail(w, r, badInput("%v", err))
		return
	}
	kind := cmp.Or(r.URL.Query().Get("kind"), "summary")
	if kind != "summary" && kind != "lines" {
		s.fail(w, r, badInput("kind: want summary or lines"))
		return
	}
	lines, rs, profile, from, to, err := s.billingPreview(r, loc)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	name := "facturatie"
	if kind == "lines" {
		name = "factuurregels"
	}
	central.SetDownload(w.Header(), f, fmt.Sprintf("%s-%s-%s-%s-%s", name, safeFile(loc), safeFile(profile), from, to))
	if kind == "lines" {
		err = billing.Write(w, f, lines)
	} else {
		err = billing.WriteSummary(w, f, billing.Preview(lines, central.BillingContracts(rs)), familyNames(rs, langOf(r)))
	}
	if err != nil {
		s.log.Warn("web: billing export", "err", err)
	}
}

// statementDownload serves the Dutch benefit statement (kind nl) or the
// Flemish 281.86 data (kind be) of a year as CSV.
func (s *Server) statementDownload(w http.ResponseWriter, r *http.Request) {
	loc, kind := r.PathValue("loc"), r.PathValue("kind")
	year, err := strconv.Atoi(r.URL.Query().Get("year"))
	if err != nil || year < 2000 || year > 2200 {
		s.fail(w, r, badInput("year"))
		return
	}
	if kind != "nl" && kind != "be" {
		http.NotFound(w, r)
		return
	}
	profile := r.URL.Query().Get("profile")
	from := attendance.Date{Year: year, Month: time.January, Day: 1}
	to := attendance.Date{Year: year, Month: time.December, Day: 31}
	if profile == "" {
		rs, _, err := s.loadRoster(r.Context(), loc)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		profile = central.DefaultProfile(rs)
	}
	lines, rs, err := s.bill(r, loc, profile, from, to)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := sheet.ParseFormat(cmp.Or(r.URL.Query().Get("format"), "csv"))
	if err != nil {
		s.fail(w, r, badInput("%v", err))
		return
	}
	if kind == "nl" {
		central.SetDownload(w.Header(), f, fmt.Sprintf("%s-%s-%d", kind, safeFile(loc), year))
		if err := benefit.WriteNL(w, f, benefit.NL(lines, central.BillingContracts(rs), benefit.NLOptions{Year: year, LRK: r.URL.Query().Get("lrk")})); err != nil {
			s.log.Warn("web: statement", "err", err)
		}
		return
	}
	rows, err := benefit.BE(lines, central.BillingContracts(rs), year)
	if err != nil {
		s.fail(w, r, badInput("%v", err))
		return
	}
	central.SetDownload(w.Header(), f, fmt.Sprintf("%s-%s-%d", kind, safeFile(loc), year))
	if err := benefit.WriteBE(w, f, rows); err != nil {
		s.log.Warn("web: statement", "err", err)
	}
}
