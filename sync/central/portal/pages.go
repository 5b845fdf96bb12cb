package portal

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/billing"
	"github.com/kinderdeur/kiosk/attendance/codes"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/auth"
)

// Lang is nl (default) or en.
type Lang string

func langOf(r *http.Request) Lang {
	if c, err := r.Cookie("lang"); err == nil && c.Value == "en" {
		return "en"
	}
	return "nl"
}

// T translates a key.
func T(l Lang, key string) string {
	if t, ok := texts[key]; ok {
		if l == "en" {
			return t[1]
		}
		return t[0]
	}
	return key
}

type view struct {
	Lang   Lang
	Title  string
	Nav    string
	CSRF   string
	Flash  string
	Error  string
	Family *Family
	Data   any
}

func (v view) T(k string) string { return T(v.Lang, k) }

// Rule says in words which tariff rule priced a line.
func (v view) Rule(rule string) string { return codes.Rule(string(v.Lang), rule) }

// Code says a day type, flag or absence kind in words.
func (v view) Code(c string) string { return codes.Text(string(v.Lang), c) }

// AbsenceKind says in words what an absence line is.
func (v view) AbsenceKind(l billing.Line) string {
	k, _ := billing.IsAbsence(&l)
	return codes.Text(string(v.Lang), string(k))
}

// Day shows a date as a phone reads it: "vr 4 dec" (NL), "Fri 4 Dec" (EN).
// It takes an attendance.Date, a time.Time or a YYYY-MM-DD string.
func (v view) Day(d any) string { return shortDay(v.Lang, d) }

// LongDate is "2 december 2026"; Period "november 2026".
func (v view) LongDate(d attendance.Date) string { return longDate(v.Lang, d) }
func (v view) Period(m string) string            { return period(v.Lang, m) }

var monthsNL = [...]string{"jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"}

func shortDay(l Lang, d any) string {
	var t time.Time
	switch x := d.(type) {
	case attendance.Date:
		if x.IsZero() {
			return ""
		}
		t = x.In(time.UTC)
	case time.Time:
		t = x
	case string:
		p, err := time.Parse("2006-01-02", x)
		if err != nil {
			return x
		}
		t = p
	default:
		return fmt.Sprint(d)
	}
	if l == "en" {
		return t.Format("Mon 2 Jan")
	}
	return fmt.Sprintf("%s %d %s", T(l, fmt.Sprintf("wd%d", t.Weekday())), t.Day(), monthsNL[t.Month()-1])
}

// euro is "€ 143,09", "€ -12,50" for a credit.
func euro(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("€ %s%d,%02d", sign, c/100, c%100)
}

func (s *Server) parse() error {
	fm := template.FuncMap{
		"euro":     euro,
		"join":     strings.Join,
		"has":      func(xs []string, x string) bool { return slices.Contains(xs, x) },
		"weekdays": func() []string { return []string{"1", "2", "3", "4", "5"} },
		// seg puts an id into a form's path as one segment: ids come from
		// rosters that staff edit, and "../" in one must not move a
		// parent's button to another route.
		"seg": central.PathSegment,
	}
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return err
	}
	s.pages = map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New(base).Funcs(fm).ParseFS(assets, "templates/layout.html", n)
		if err != nil {
			return fmt.Errorf("portal: template %s: %w", base, err)
		}
		s.pages[base] = t
	}
	return nil
}

func (s *Server) newView(r *http.Request, title, nav string, data any) view {
	v := view{Lang: langOf(r), Nav: nav, Data: data, Family: familyOf(r)}
	v.Title = T(v.Lang, title)
	if ss, ok := auth.SessionFrom(r.Context()); ok {
		v.CSRF = ss.CSRFToken
	}
	if k := r.URL.Query().Get("ok"); k != "" {
		v.Flash = T(v.Lang, "ok_"+k)
	}
	return v
}

func (s *Server) render(w http.ResponseWriter, status int, page string, v view) {
	t, ok := s.pages[page]
	if !ok {
		http.Error(w, "no such page", http.StatusInternalServerError)
		return
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		s.log.Error("portal: render", "page", page, "err", err)
		http.Error(w, "render failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprint(w, b.String())
}

// inputMessage says a validation error in the page's language: every
// input error has a key (inputError); the roster's name check and central's
// malformed input have their own; nothing of the English API message shows.
func inputMessage(l Lang, err error) string {
	var ie *inputError
	switch {
	case errors.As(err, &ie):
		if t, ok := texts["v_"+ie.key]; ok {
			return fmt.Sprintf(t[langIndex(l)], ie.args...)
		}
	case errors.Is(err, roster.ErrBadName):
		return T(l, "v_name")
	}
	return T(l, "err_input") + "."
}

func langIndex(l Lang) int {
	if l == "en" {
		return 1
	}
	return 0
}

// pageFail renders an error on a page (ids outside the family: 404).
func (s *Server) pageFail(w http.ResponseWriter, r *http.Request, page, nav string, data any, err error) {
	v := s.newView(r, "title_"+page, nav, data)
	status := http.StatusBadRequest
	switch {
	case errors.Is(err, errNotYours), errors.Is(err, central.ErrNotFound):
		status, v.Error = http.StatusNotFound, v.T("err_not_found")
	case errors.Is(err, errBanned):
		status, v.Error = http.StatusForbidden, v.T("err_banned")
	case errors.Is(err, errStarted):
		status, v.Error = http.StatusConflict, v.T("v_started")
	case errors.Is(err, errBadInput), errors.Is(err, central.ErrMalformed), errors.Is(err, roster.ErrBadName):
		v.Error = inputMessage(v.Lang, err)
	default:
		s.fail(w, r, err)
		return
	}
	s.render(w, status, page, v)
}

// ---- sign-in pages ----

const loginCSRFCookie = "kd_parent_login"

type loginData struct {
	Email    string
	CodeSent bool
}

func randomToken() string {
	b := make([]byte, 24)
	if _, err := randRead(b); err != nil {
		panic(err)
	}
	return encode(b)
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, v view) {
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: tok, Path: "/ouders/login", HttpOnly: true,
		Secure: s.cfg.Secure, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	v.CSRF = tok
	s.render(w, status, "login", v)
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.renderLogin(w, r, http.StatusOK, s.newView(r, "title_login", "", loginData{}))
}

// loginCSRF checks the double-submit token of the sign-in forms.
func (s *Server) loginCSRF(w http.ResponseWriter, r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return false
	}
	c, err := r.Cookie(loginCSRFCookie)
	sub := r.PostFormValue(auth.CSRFField)
	if err != nil || sub == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(sub)) != 1 {
		auth.WriteError(w, http.StatusForbidden, "csrf", "missing or wrong CSRF token")
		return false
	}
	return true
}

func (s *Server) requestCodeForm(w http.ResponseWriter, r *http.Request) {
	if !s.loginCSRF(w, r) {
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	v := s.newView(r, "title_login", "", loginData{Email: email, CodeSent: true})
	if err := s.requestCode(r.Context(), r, email); err != nil {
		d := loginData{Email: email}
		v.Data = d
		status := http.StatusBadRequest
		switch {
		case errors.Is(err, errRateLimited):
			status, v.Error = http.StatusTooManyRequests, v.T("err_too_many")
		case errors.Is(err, errBadInput):
			v.Error = v.T("err_email")
		default:
			s.log.Error("portal: request code", "err", err)
			status, v.Error = http.StatusServiceUnavailable, v.T("err_mail")
		}
		s.renderLogin(w, r, status, v)
		return
	}
	v.Flash = v.T("code_sent")
	s.renderLogin(w, r, http.StatusOK, v)
}

func (s *Server) verifyCodeForm(w http.ResponseWriter, r *http.Request) {
	if !s.loginCSRF(w, r) {
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	id, err := s.verifyCode(r.Context(), r, email, r.PostFormValue("code"))
	if err != nil {
		v := s.newView(r, "title_login", "", loginData{Email: email, CodeSent: true})
		status := http.StatusUnauthorized
		v.Error = v.T("err_code")
		if errors.Is(err, errRateLimited) {
			status, v.Error = http.StatusTooManyRequests, v.T("err_too_many")
		} else if !errors.Is(err, errBadCode) {
			s.fail(w, r, err)
			return
		}
		s.renderLogin(w, r, status, v)
		return
	}
	s.a.SetSessionCookie(w, id)
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: "", Path: "/ouders/login", MaxAge: -1, HttpOnly: true, Secure: s.cfg.Secure, SameSite: http.SameSiteStrictMode})
	// First time here: offer a passkey.
	acc, err := s.parents.Account(r.Context(), email)
	if err == nil {
		if pks, err := s.parents.Passkeys(r.Context(), acc.ID); err == nil && len(pks) == 0 {
			http.Redirect(w, r, "/ouders/passkeys", http.StatusSeeOther)
			return
		}
	}
	http.Redirect(w, r, "/ouders/", http.StatusSeeOther)
}

func (s *Server) setLang(w http.ResponseWriter, r *http.Request) {
	l := "nl"
	if r.PathValue("l") == "en" {
		l = "en"
	}
	http.SetCookie(w, &http.Cookie{Name: "lang", Value: l, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode, Secure: s.cfg.Secure})
	next := r.URL.Query().Get("next")
	if p, ok := auth.LocalPath(next); ok && strings.HasPrefix(p, "/ouders") {
		next = p
	} else {
		next = "/ouders/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logoutForm(w http.ResponseWriter, r *http.Request) {
	s.endSession(w, r)
	http.Redirect(w, r, "/ouders/login", http.StatusSeeOther)
}

// ---- pages ----

func (s *Server) todayPage(w http.ResponseWriter, r *http.Request) {
	f := familyOf(r)
	t, err := s.today(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, http.StatusOK, "today", s.newView(r, "title_today", "today", t))
}

type pickupsData struct {
	Me      meAnswer
	Pickups []Pickup
	Today   string
	Form    PickupRequest
}

func (s *Server) pickupsData(ctx context.Context, f *Family) (pickupsData, error) {
	m, err := s.me(ctx, f)
	return pickupsData{Me: m, Pickups: s.pickups(f), Today: s.now().Format("2006-01-02")}, err
}

func (s *Server) pickupsPage(w http.ResponseWriter, r *http.Request) {
	d, err := s.pickupsData(r.Context(), familyOf(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, http.StatusOK, "pickups", s.newView(r, "title_pickups", "pickups", d))
}

func (s *Server) pickupForm(w http.ResponseWriter, r *http.Request) {
	f := familyOf(r)
	req := PickupRequest{Children: r.PostForm["children"], Date: r.PostFormValue("date"), From: r.PostFormValue("from"), Until: r.PostFormValue("until"),
		Relation: r.PostFormValue("relation"), IDDocument: r.PostFormValue("id_document")}
	if p := r.PostFormValue("person"); p != "" && p != "new" {
		req.PersonID = p
	} else {
		req.PersonName = r.PostFormValue("person_name")
	}
	if _, err := s.announce(r.Context(), f, req); err != nil {
		d, _ := s.pickupsData(r.Context(), f)
		d.Form = req
		s.pageFail(w, r, "pickups", "pickups", d, err)
		return
	}
	http.Redirect(w, r, "/ouders/pickups?ok=pickup", http.StatusSeeOther)
}

func (s *Server) withdrawPickupForm(w http.ResponseWriter, r *http.Request) {
	f := familyOf(r)
	if err := s.withdrawPickup(r.Context(), f, r.PathValue("id")); err != nil {
		d, _ := s.pickupsData(r.Context(), f)
		s.pageFail(w, r, "pickups", "pickups", d, err)
		return
	}
	http.Redirect(w, r, "/ouders/pickups?ok=withdrawn", http.StatusSeeOther)
}

type permissionsData struct {
	Me          meAnswer
	Permissions []PermissionView
	Wording     string
	From, Until string
	HasBSO      bool // a child in out-of-school care: only then the form
}

func (s *Server) permissionsData(r *http.Request) (permissionsData, error) {
	f := familyOf(r)
	m, err := s.me(r.Context(), f)
	w := PermissionWording
	if langOf(r) == "en" {
		w = PermissionWordingEN
	}
	now := s.now()
	// The default period is the rest of the school year (to 31 July).
	end := time.Date(now.Year(), time.July, 31, 0, 0, 0, 0, time.UTC)
	if now.Month() > time.July {
		end = end.AddDate(1, 0, 0)
	}
	d := permissionsData{Me: m, Permissions: s.permissions(f), Wording: w, From: now.Format("2006-01-02"), Until: end.Format("2006-01-02")}
	for _, c := range m.Children {
		d.HasBSO = d.HasBSO || c.OutOfSchool
	}
	return d, err
}

func (s *Server) permissionsPage(w http.ResponseWriter, r *http.Request) {
	d, err := s.permissionsData(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, http.StatusOK, "permissions", s.newView(r, "title_permissions", "permissions", d))
}

func (s *Server) permissionForm(w http.ResponseWriter, r *http.Request) {
	req := PermissionRequest{Child: r.PostFormValue("child"), Scope: r.PostFormValue("scope"), From: r.PostFormValue("from"),
		Until: r.PostFormValue("until"), After: r.PostFormValue("after"), Before: r.PostFormValue("before"), Confirm: r.PostFormValue("confirm") == "yes"}
	for _, wd := range r.PostForm["weekday"] {
		n, err := strconv.Atoi(wd)
		if err != nil {
			n = -1
		}
		req.Weekdays = append(req.Weekdays, n)
	}
	if _, err := s.grantPermission(r.Context(), familyOf(r), req); err != nil {
		d, _ := s.permissionsData(r)
		s.pageFail(w, r, "permissions", "permissions", d, err)
		return
	}
	http.Redirect(w, r, "/ouders/permissions?ok=granted", http.StatusSeeOther)
}

func (s *Server) revokePermissionForm(w http.ResponseWriter, r *http.Request) {
	if err := s.revokePermission(r.Context(), familyOf(r), r.PathValue("id")); err != nil {
		d, _ := s.permissionsData(r)
		s.pageFail(w, r, "permissions", "permissions", d, err)
		return
	}
	http.Redirect(w, r, "/ouders/permissions?ok=revoked", http.StatusSeeOther)
}

type absencesData struct {
	Me       meAnswer
	Absences []central.ParentAbsence
	Today    string
	Deadline int             // hours
	Open     map[string]bool // absences that can still be withdrawn (their day has not started)
}

func (s *Server) absencesData(r *http.Request) (absencesData, error) {
	f := familyOf(r)
	m, err := s.me(r.Context(), f)
	if err != nil {
		return absencesData{}, err
	}
	as, err := s.absences(r.Context(), f)
	open := map[string]bool{}
	for _, a := range as {
		if pl := f.place(a.LocationID); pl != nil && s.now().Before(dayStart(pl, a.Date)) {
			open[a.ID] = true
		}
	}
	return absencesData{Me: m, Absences: as, Today: s.now().Format("2006-01-02"), Deadline: int(s.cancelDeadline.Hours()), Open: open}, err
}

func (s *Server) absencesPage(w http.ResponseWriter, r *http.Request) {
	d, err := s.absencesData(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, http.StatusOK, "absences", s.newView(r, "title_absences", "absences", d))
}

func (s *Server) absenceForm(w http.ResponseWriter, r *http.Request) {
	req := AbsenceRequest{Child: r.PostFormValue("child"), Date: r.PostFormValue("date"), Kind: r.PostFormValue("kind"), Note: r.PostFormValue("note")}
	as, existed, err := s.reportAbsence(r.Context(), familyOf(r), req)
	if err != nil {
		d, _ := s.absencesData(r)
		s.pageFail(w, r, "absences", "absences", d, err)
		return
	}
	ok := "absence"
	switch {
	case existed:
		ok = "absence_exists"
	case req.Kind == "sick" && len(as) > 0 && as[0].Kind != "sick":
		ok = "absence_as_cancel" // sick for a later day: a cancellation
	}
	http.Redirect(w, r, "/ouders/absences?ok="+ok, http.StatusSeeOther)
}

func (s *Server) withdrawAbsenceForm(w http.ResponseWriter, r *http.Request) {
	if err := s.withdrawAbsence(r.Context(), familyOf(r), r.PathValue("id")); err != nil {
		d, _ := s.absencesData(r)
		s.pageFail(w, r, "absences", "absences", d, err)
		return
	}
	http.Redirect(w, r, "/ouders/absences?ok=withdrawn", http.StatusSeeOther)
}

type historyData struct {
	Month      Month
	Prev, Next string
	// Absences are the priced lines of the absences reported here, as the
	// invoice will carry them (the rule that priced each).
	Absences []billing.Line
	// Invoices are the family's issued invoices, every month and place.
	Invoices []Invoice
}

func (s *Server) historyPage(w http.ResponseWriter, r *http.Request) {
	month := s.monthParam(r)
	m, err := s.month(r.Context(), familyOf(r), month)
	if err != nil {
		s.pageFail(w, r, "history", "history", historyData{}, err)
		return
	}
	t, _ := time.Parse("2006-01", month)
	d := historyData{Month: m, Prev: t.AddDate(0, -1, 0).Format("2006-01"), Next: t.AddDate(0, 1, 0).Format("2006-01")}
	for _, l := range m.Lines {
		if _, ok := billing.IsAbsence(&l); ok {
			d.Absences = append(d.Absences, l)
		}
	}
	if d.Invoices, err = s.invoices(r.Context(), familyOf(r)); err != nil {
		s.pageFail(w, r, "history", "history", historyData{}, err)
		return
	}
	slices.Reverse(d.Invoices) // newest first
	s.render(w, http.StatusOK, "history", s.newView(r, "title_history", "history", d))
}

type dataPageData struct {
	Me     meAnswer
	Export DataExport
}

func (s *Server) dataPage(w http.ResponseWriter, r *http.Request) {
	f := familyOf(r)
	m, err := s.me(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	x, err := s.export(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, http.StatusOK, "data", s.newView(r, "title_data", "data", dataPageData{Me: m, Export: x}))
}

func (s *Server) requestForm(w http.ResponseWriter, r *http.Request) {
	b := SubjectRequestBody{Kind: r.PostFormValue("kind"), Subject: r.PostFormValue("subject"), Message: r.PostFormValue("message")}
	if _, err := s.subjectRequest(r.Context(), familyOf(r), b); err != nil {
		m, _ := s.me(r.Context(), familyOf(r))
		s.pageFail(w, r, "data", "data", dataPageData{Me: m}, err)
		return
	}
	http.Redirect(w, r, "/ouders/data?ok=request", http.StatusSeeOther)
}

func (s *Server) photoForm(w http.ResponseWriter, r *http.Request) {
	if err := s.setPhotoConsent(r.Context(), familyOf(r), r.PathValue("id"), r.PostFormValue("consent") == "yes"); err != nil {
		m, _ := s.me(r.Context(), familyOf(r))
		s.pageFail(w, r, "data", "data", dataPageData{Me: m}, err)
		return
	}
	http.Redirect(w, r, "/ouders/data?ok=consent", http.StatusSeeOther)
}

func (s *Server) notifyForm(w http.ResponseWriter, r *http.Request) {
	if err := s.setNotify(r.Context(), familyOf(r), r.PostFormValue("checkout") == "yes"); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/ouders/?ok=notify", http.StatusSeeOther)
}

func (s *Server) passkeysPage(w http.ResponseWriter, r *http.Request) {
	pks, err := s.parents.Passkeys(r.Context(), familyOf(r).Account.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, http.StatusOK, "passkeys", s.newView(r, "title_passkeys", "passkeys", pks))
}
