package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/sheet"
	"github.com/kinderdeur/kiosk/attendance/stays"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/auth"
	"github.com/kinderdeur/kiosk/sync/central/fleet"
)

func (s *Server) routes() []Route {
	return append([]Route{
		{"GET", "/{$}", auth.ReadAttendance, s.home},
		{"POST", "/logout", auth.ReadAttendance, s.logout},
		{"GET", "/users", auth.ManageUsers, s.usersPage},
		{"POST", "/users", auth.ManageUsers, s.createUser},
		{"POST", "/users/{id}/disable", auth.ManageUsers, s.disableUser},
		{"POST", "/users/{id}/unlock", auth.ManageUsers, s.unlockUser},
		{"GET", "/devices", auth.ManageDevices, s.devicesPage},
		{"POST", "/devices/tokens", auth.ManageDevices, s.createEnrolToken},
		{"POST", "/devices/{id}/revoke", auth.ManageDevices, s.revokeDevice},
		{"GET", "/locations/{loc}/roster", auth.ReadPersonalData, s.rosterPage},
		{"POST", "/locations/{loc}/roster/{kind}", auth.EditRoster, s.editRoster},
		{"GET", "/locations/{loc}/attendance", auth.ReadAttendance, s.attendancePage},
		{"GET", "/locations/{loc}/chart", auth.ReadInspection, s.chartPage},
		{"GET", "/locations/{loc}/inspection", auth.ReadInspection, s.inspectionPage},
		{"GET", "/locations/{loc}/inspection.csv", auth.ReadInspection, s.inspectionCSV},
		{"GET", "/locations/{loc}/inspection.xlsx", auth.ReadInspection, s.inspectionCSV},
		{"GET", "/subjects/{kind}/{id}", auth.ExportPersonalData, s.subjectPage},
		{"GET", "/subjects/{kind}/{id}/export.json", auth.ExportPersonalData, s.subjectJSON},
		{"GET", "/requests", auth.EraseData, s.requestsPage},
		{"POST", "/requests", auth.EraseData, s.logRequest},
		{"POST", "/requests/{id}/erase", auth.EraseData, s.eraseRequest},
		{"GET", "/retention", auth.EraseData, s.retentionPage},
		{"POST", "/retention/apply", auth.EraseData, s.retentionApply},
		{"GET", "/audit", auth.ReadAudit, s.auditPage},
		{"GET", "/locations/{loc}/billing", auth.ReadBilling, s.billingPage},
		{"GET", "/locations/{loc}/billing/export", auth.ReadBilling, s.billingExport},
		{"GET", "/locations/{loc}/statements/{kind}", auth.ReadBilling, s.statementDownload},
	}, append(append(append(append(s.billingRunRoutes(), s.correctionRoutes()...), s.webhookRoutes()...), s.portalRoutes()...), s.careRoutes()...)...)
}

// ---- home ----

type homeData struct {
	Locations []central.Location
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	locs, err := s.sites.Locations(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, http.StatusOK, "home", s.newView(r, "home", homeData{Locations: locs}))
}

// ---- users ----

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request) {
	us, err := s.users.Users(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(r, "users", struct {
		Users []central.User
		Roles []auth.Role
	}{us, []auth.Role{auth.RoleAdmin, auth.RoleManager, auth.RoleBilling, auth.RoleInspector}})
	s.render(w, http.StatusOK, "users", v)
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	role, err := auth.ParseRole(r.PostFormValue("role"))
	if err != nil || role == auth.RoleDevice {
		s.fail(w, r, badInput("role"))
		return
	}
	hash, err := s.a.Hasher.Hash(r.PostFormValue("password"))
	if err != nil {
		s.fail(w, r, badInput("%v", err))
		return
	}
	u, err := s.users.CreateUser(r.Context(), r.PostFormValue("email"), r.PostFormValue("name"), role, hash)
	if errors.Is(err, central.ErrUserExists) {
		http.Error(w, err.Error(), http.StatusConflict)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.appendAudit(r.Context(), r, audit.UserChange, "user:"+u.ID, map[string]any{"change": "created", "role": string(role)}); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/users?ok=1", http.StatusSeeOther)
}

func (s *Server) disableUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	dis := r.PostFormValue("enable") == ""
	if p, _ := auth.PrincipalFrom(r.Context()); p.ID == id && dis {
		s.fail(w, r, badInput("you cannot disable yourself"))
		return
	}
	if err := s.users.SetUserDisabled(r.Context(), id, dis); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.appendAudit(r.Context(), r, audit.UserChange, "user:"+id, map[string]any{"change": map[bool]string{true: "disabled", false: "enabled"}[dis]}); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/users?ok=1", http.StatusSeeOther)
}

// ---- devices ----

func (s *Server) devicesPage(w http.ResponseWriter, r *http.Request) {
	s.renderDevices(w, r, "")
}

func (s *Server) renderDevices(w http.ResponseWriter, r *http.Request, token string) {
	doors, err := s.fleet.Doors(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	locs, err := s.sites.Locations(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, http.StatusOK, "devices", s.newView(r, "devices", struct {
		Doors     []fleet.Door
		Locations []central.Location
		Token     string
	}{doors, locs, token}))
}

func (s *Server) createEnrolToken(w http.ResponseWriter, r *http.Request) {
	loc := r.PostFormValue("location")
	if _, err := s.sites.Location(r.Context(), loc); err != nil {
		s.fail(w, r, badInput("location %q", loc))
		return
	}
	tok, err := s.devices.CreateEnrolmentToken(r.Context(), loc, 24*time.Hour, strings.TrimSpace(r.PostFormValue("note")))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.appendAudit(r.Context(), r, audit.TokenIssued, "location:"+loc, map[string]any{"kind": "enrolment", "ttl": "24h"}); err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderDevices(w, r, tok)
}

func (s *Server) revokeDevice(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.devices.Revoke(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.appendAudit(r.Context(), r, audit.DeviceRevoked, "device:"+id, nil); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/devices?ok=1", http.StatusSeeOther)
}

// ---- roster ----

type rosterData struct {
	R          roster.Roster
	Loc        central.Location
	Names      map[string]string // id -> display name (children, people, staff)
	Groups     map[string]string
	Badges     []badgeRow
	Expiring   []roster.IndependencePermission
	SchoolYear attendance.Date
	Today      attendance.Date
	ShowBans   bool
}

type badgeRow struct {
	Prefix string
	Role   attendance.Role
	Holder string
	Label  string
}

// nextSchoolYear is the start of the next school year after d: the first
// Monday of September (NL and Flanders both start around 1 September).
func nextSchoolYear(d attendance.Date) attendance.Date {
	y := d.Year
	if d.Month >= time.September {
		y++
	}
	t := time.Date(y, time.September, 1, 0, 0, 0, 0, time.UTC)
	for t.Weekday() != time.Monday {
		t = t.AddDate(0, 0, 1)
	}
	return attendance.DateOf(t)
}

func (s *Server) loadRoster(ctx context.Context, loc string) (roster.Roster, central.Location, error) {
	l, err := s.sites.Location(ctx, loc)
	if err != nil {
		return roster.Roster{}, l, err
	}
	r, _, err := s.sites.Roster(ctx, loc)
	if errors.Is(err, central.ErrNotFound) {
		return roster.Roster{Location: roster.Location{ID: l.ID, Name: l.Name}}, l, nil
	}
	return r, l, err
}

func (s *Server) rosterPage(w http.ResponseWriter, r *http.Request) {
	rs, l, err := s.loadRoster(r.Context(), r.PathValue("loc"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(r, "roster", nil)
	d := rosterData{R: rs, Loc: l, Names: names(&rs), Groups: map[string]string{}, Today: attendance.DateOf(s.now()),
		ShowBans: auth.Can(v.User.Role, auth.EditRoster)}
	for _, g := range rs.Groups {
		d.Groups[g.ID] = g.Name
	}
	for _, b := range rs.Badges {
		d.Badges = append(d.Badges, badgeRow{Prefix: b.Hash[:min(8, len(b.Hash))], Role: b.Role, Holder: d.Names[b.HolderID], Label: b.Label})
	}
	d.SchoolYear = nextSchoolYear(d.Today)
	for _, p := range rs.Permissions {
		if p.Until.Before(d.SchoolYear) && !p.Until.Before(d.Today) {
			d.Expiring = append(d.Expiring, p)
		}
	}
	v.Data = d
	s.render(w, http.StatusOK, "roster", v)
}

func names(r *roster.Roster) map[string]string {
	m := map[string]string{}
	for _, c := range r.Children {
		m[c.ID] = c.FirstName
	}
	for _, p := range r.People {
		m[p.ID] = p.Name
	}
	for _, st := range r.Staff {
		m[st.ID] = st.Name
	}
	return m
}

// editRoster applies one form to the current roster and stores the result
// as a new version (validated by PutRoster), audited as roster_change.
func (s *Server) editRoster(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	rs, l, err := s.loadRoster(ctx, r.PathValue("loc"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	kind := r.PathValue("kind")
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	date := func(k string) (attendance.Date, error) {
		if f(k) == "" {
			return attendance.Date{}, nil
		}
		d, err := attendance.ParseDate(f(k))
		if err != nil {
			return d, badInput("%s: %v", k, err)
		}
		return d, nil
	}
	subject := ""
	switch kind {
	case "group":
		rs.Groups = append(rs.Groups, roster.Group{ID: f("id"), Name: f("name"), Policy: f("policy")})
		subject = "group:" + f("id")
	case "child":
		bd, err := date("birth_date")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		c := roster.Child{ID: f("id"), FirstName: f("first_name"), GroupID: f("group_id"), BirthDate: bd}
		replaced := false
		for i := range rs.Children {
			if rs.Children[i].ID == c.ID { // correction of an existing child
				c.StaffAlert, c.PhotoConsent = rs.Children[i].StaffAlert, rs.Children[i].PhotoConsent
				rs.Children[i], replaced = c, true
			}
		}
		if !replaced {
			rs.Children = append(rs.Children, c)
		}
		subject = "child:" + c.ID
	case "person":
		bd, err := date("birth_date")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p := roster.Person{ID: f("id"), Name: f("name"), Relation: f("relation"), BirthDate: bd}
		replaced := false
		for i := range rs.People {
			if rs.People[i].ID == p.ID {
				rs.People[i], replaced = p, true
			}
		}
		if !replaced {
			rs.People = append(rs.People, p)
		}
		if c := f("guardian_of"); c != "" {
			rs.Guardianships = append(rs.Guardianships, roster.Guardianship{ChildID: c, PersonID: p.ID})
		}
		if c := f("pickup_for"); c != "" {
			rs.Authorisations = append(rs.Authorisations, roster.Authorisation{ChildID: c, PersonID: p.ID})
		}
		subject = "person:" + p.ID
	case "staff":
		st := roster.Staff{ID: f("id"), Name: f("name")}
		if g := f("group_id"); g != "" {
			st.Groups = []string{g}
		}
		rs.Staff = append(rs.Staff, st)
		subject = "staff:" + st.ID
	case "badge":
		uid, err := attendance.ParseUID(f("uid"))
		if err != nil {
			s.fail(w, r, badInput("uid: %v", err))
			return
		}
		key, err := attendance.ParseBadgeKey(l.BadgeKey)
		if err != nil {
			s.fail(w, r, fmt.Errorf("web: badge key of %s: %w", l.ID, err))
			return
		}
		rs.Badges = append(rs.Badges, roster.Badge{Hash: key.Hash(uid), Role: attendance.Role(f("role")), HolderID: f("holder_id"), Label: f("label")})
		subject = f("role") + ":" + f("holder_id")
	case "announced":
		d, err := date("date")
		if err != nil || d.IsZero() {
			s.fail(w, r, badInput("date"))
			return
		}
		a := roster.AnnouncedPickup{ID: "ann-" + strconv.FormatInt(s.now().UnixNano(), 36), ChildID: f("child_id"), PersonID: f("person_id"),
			Date: d, From: f("from"), Until: f("until"), CreatedBy: actor(r)}
		rs.Announced = append(rs.Announced, a)
		subject = "child:" + a.ChildID
	case "permission":
		from, err1 := date("from")
		until, err2 := date("until")
		if err := errors.Join(err1, err2); err != nil || from.IsZero() || until.IsZero() {
			s.fail(w, r, badInput("from and until are required dates"))
			return
		}
		p := roster.IndependencePermission{ChildID: f("child_id"), Scope: f("scope"), From: from, Until: until,
			After: f("after"), Before: f("before"), GrantedBy: f("granted_by"), GrantedAt: s.now().UTC()}
		rs.Permissions = append(rs.Permissions, p)
		subject = "child:" + p.ChildID
	case "ban":
		b := roster.ContactBan{ChildID: f("child_id"), PersonID: f("person_id"), Note: f("note")}
		rs.ContactBans = append(rs.ContactBans, b)
		subject = "child:" + b.ChildID
	default:
		http.NotFound(w, r)
		return
	}
	rs.Version = 0
	v, err := s.sites.PutRoster(ctx, rs)
	if err != nil {
		var msg = err.Error()
		if strings.Contains(msg, "roster:") {
			http.Error(w, msg, http.StatusBadRequest)
			return
		}
		s.fail(w, r, err)
		return
	}
	if err := s.appendAudit(ctx, r, audit.RosterChange, subject, map[string]any{"location": l.ID, "version": v, "change": kind}); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/locations/"+url.PathEscape(l.ID)+"/roster?ok="+strconv.FormatInt(v, 10), http.StatusSeeOther)
}

// ---- attendance ----

type attendanceData struct {
	Loc        central.Location
	From, To   attendance.Date
	Group      string
	Groups     []roster.Group
	Stays      []stays.Stay
	TotalMin   int
	FlagCounts map[string]int
	Corrected  bool // back from saving a correction
}

// period reads from/to (or date) query parameters, default today.
func (s *Server) period(r *http.Request) (attendance.Date, attendance.Date, error) {
	q := r.URL.Query()
	today := attendance.DateOf(s.now())
	parse := func(k string, def attendance.Date) (attendance.Date, error) {
		if q.Get(k) == "" {
			return def, nil
		}
		d, err := attendance.ParseDate(q.Get(k))
		if err != nil {
			return d, badInput("%s: %v", k, err)
		}
		return d, nil
	}
	day, err := parse("date", today)
	if err != nil {
		return day, day, err
	}
	from, err := parse("from", day)
	if err != nil {
		return from, from, err
	}
	to, err := parse("to", from)
	if err != nil {
		return from, to, err
	}
	if to.Before(from) || to.In(time.UTC).Sub(from.In(time.UTC)) > 400*24*time.Hour {
		return from, to, badInput("period: to before from or over 400 days")
	}
	return from, to, nil
}

func (s *Server) attendancePage(w http.ResponseWriter, r *http.Request) {
	from, to, err := s.period(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rs, l, err := s.loadRoster(r.Context(), r.PathValue("loc"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	g := r.URL.Query().Get("group")
	st, err := s.reports.Attendance(r.Context(), central.AttendanceQuery{From: from, To: to, LocationID: l.ID, Group: g})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := attendanceData{Loc: l, From: from, To: to, Group: g, Groups: rs.Groups, Stays: st, FlagCounts: map[string]int{}, Corrected: r.URL.Query().Get("corrected") != ""}
	for _, x := range st {
		d.TotalMin += x.Minutes
		for _, f := range x.Flags {
			d.FlagCounts[f]++
		}
		if x.Quality != stays.QualityOK && x.Quality != "" {
			d.FlagCounts["time_"+string(x.Quality)]++
		}
	}
	s.render(w, http.StatusOK, "attendance", s.newView(r, "attendance", d))
}

// ---- chart and inspection ----

func (s *Server) groupDay(r *http.Request) (central.GroupDay, []roster.Group, error) {
	from, _, err := s.period(r)
	if err != nil {
		return central.GroupDay{}, nil, err
	}
	rs, _, err := s.loadRoster(r.Context(), r.PathValue("loc"))
	if err != nil {
		return central.GroupDay{}, nil, err
	}
	g := r.URL.Query().Get("group")
	if g == "" && len(rs.Groups) > 0 {
		g = rs.Groups[0].ID
	}
	gd, err := s.reports.GroupDay(r.Context(), rs.Location.ID, g, from)
	return gd, rs.Groups, err
}

type chartData struct {
	GD     central.GroupDay
	Groups []roster.Group
	Chart  Chart
}

func (s *Server) chartPage(w http.ResponseWriter, r *http.Request) {
	gd, groups, err := s.groupDay(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(r, "chart", nil)
	v.Data = chartData{GD: gd, Groups: groups, Chart: BuildChart(gd, v.Lang)}
	s.render(w, http.StatusOK, "chart", v)
}

func (s *Server) inspectionPage(w http.ResponseWriter, r *http.Request) {
	gd, groups, err := s.groupDay(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(r, "inspection", nil)
	v.Data = chartData{GD: gd, Groups: groups, Chart: BuildChart(gd, v.Lang)}
	s.render(w, http.StatusOK, "inspection", v)
}

// inspectionCSV serves the inspection list: inspection.csv as CSV (or
// ?format=csv-excel), inspection.xlsx as a workbook.
func (s *Server) inspectionCSV(w http.ResponseWriter, r *http.Request) {
	def := "csv"
	if strings.HasSuffix(r.URL.Path, ".xlsx") {
		def = "xlsx"
	}
	f, err := sheet.ParseFormat(cmp.Or(r.URL.Query().Get("format"), def))
	if err != nil {
		s.fail(w, r, badInput("%v", err))
		return
	}
	gd, _, err := s.groupDay(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	central.SetDownload(w.Header(), f, fmt.Sprintf("inspectie-%s-%s", safeFile(gd.Group.ID), gd.Date))
	if err := WriteInspection(w, f, gd); err != nil {
		s.log.Warn("web: inspection export", "err", err)
	}
}

func safeFile(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// ---- audit ----

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	n, verr := s.audit.Verify(r.Context())
	_, head, err := s.audit.Head(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	from := max(n-199, 1)
	es, err := s.audit.Entries(r.Context(), from, n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sort.Slice(es, func(i, j int) bool { return es[i].Seq > es[j].Seq })
	verrS := ""
	if verr != nil {
		verrS = verr.Error()
	}
	s.render(w, http.StatusOK, "audit", s.newView(r, "audit", struct {
		Entries []audit.Entry
		N       int64
		Head    string
		Broken  string
	}{es, n, head, verrS}))
}
