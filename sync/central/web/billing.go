package web

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/benefit"
	"github.com/kinderdeur/kiosk/attendance/billing"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/central"
)

// contractsFrom derives the billing contracts central can know from the
// roster: the child's name, first guardian and birth date (central holds
// no contract rates or hours; `kioskctl bill -contracts` adds those).
func contractsFrom(r roster.Roster) map[string]billing.Contract {
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

type billingData struct {
	Loc      central.Location
	Month    string
	Profile  string
	Profiles []string
	Lines    []billing.Line
	Summary  []billing.MonthSummary
	Year     int
}

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
	eng, err := billing.New(p, contractsFrom(rs))
	if err != nil {
		return nil, rs, fmt.Errorf("web: billing: %w", err)
	}
	return eng.Bill(st), rs, nil
}

func defaultProfile(rs roster.Roster) string {
	if rs.Location.Country == "BE" || rs.Location.Country == "be" {
		return "anzegem-bko"
	}
	return "bernefertier"
}

func (s *Server) billingPage(w http.ResponseWriter, r *http.Request) {
	loc := r.PathValue("loc")
	l, err := s.sites.Location(r.Context(), loc)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	month := r.URL.Query().Get("month")
	if month == "" {
		month = s.now().Format("2006-01")
	}
	mt, err := time.Parse("2006-01", month)
	if err != nil {
		s.fail(w, r, badInput("month: want YYYY-MM"))
		return
	}
	from := attendance.DateOf(mt)
	to := attendance.DateOf(mt.AddDate(0, 1, -1))
	profile := r.URL.Query().Get("profile")
	if profile == "" {
		rs, _, err := s.loadRoster(r.Context(), loc)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		profile = defaultProfile(rs)
	}
	lines, rs, err := s.bill(r, loc, profile, from, to)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := billingData{Loc: l, Month: month, Profile: profile, Lines: lines, Summary: billing.Preview(lines, contractsFrom(rs)), Year: mt.Year()}
	for _, p := range billing.Presets() {
		d.Profiles = append(d.Profiles, p.Name)
	}
	s.render(w, http.StatusOK, "billing", s.newView(r, "billing", d))
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
		profile = defaultProfile(rs)
	}
	lines, rs, err := s.bill(r, loc, profile, from, to)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s-%d.csv"`, kind, safeFile(loc), year))
	if kind == "nl" {
		if err := benefit.WriteNLCSV(w, benefit.NL(lines, contractsFrom(rs), benefit.NLOptions{Year: year, LRK: r.URL.Query().Get("lrk")})); err != nil {
			s.log.Warn("web: statement", "err", err)
		}
		return
	}
	rows, err := benefit.BE(lines, contractsFrom(rs), year)
	if err != nil {
		w.Header().Del("Content-Disposition")
		s.fail(w, r, badInput("%v", err))
		return
	}
	if err := benefit.WriteBECSV(w, rows); err != nil {
		s.log.Warn("web: statement", "err", err)
	}
}
