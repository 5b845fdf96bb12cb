package web

import (
	"cmp"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/auth"
)

// The care page feeds the retention terms: per child, guardian, pickup
// person, staff member or applicant the care period (contract start and
// end; for staff the employment, for applicants the procedure; legal
// name, BSN) and the contact details. Admin and manager edit; billing sees
// the care periods, not the contact details; every change is audited by
// field (personal_data_change), never with its values.
func (s *Server) careRoutes() []Route {
	return []Route{
		{"GET", "/locations/{loc}/care", auth.ReadBilling, s.carePage},
		{"GET", "/locations/{loc}/care/{subject}", auth.ReadBilling, s.careSubjectPage},
		{"POST", "/locations/{loc}/care/{subject}", auth.EditPersonalData, s.saveCare},
		{"POST", "/locations/{loc}/care/{subject}/contact", auth.EditPersonalData, s.saveContact},
	}
}

type careRow struct {
	Subject, Kind, Name string
	Period              *central.CarePeriod
	Contact             *central.ContactDetails
}

type careData struct {
	Loc  central.Location
	Rows []careRow
}

func (s *Server) carePage(w http.ResponseWriter, r *http.Request) {
	loc := r.PathValue("loc")
	rs, l, err := s.loadRoster(r.Context(), loc)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(r, "care", nil)
	ps, err := s.subjects.CarePeriodsAt(r.Context(), loc)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var cs []central.ContactDetails
	if v.Can(string(auth.ReadPersonalData)) {
		if cs, err = s.subjects.ContactsAt(r.Context(), loc); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	d := careData{Loc: l}
	idx := map[string]int{}
	add := func(sub, kind, name string) int {
		if i, ok := idx[sub]; ok {
			return i
		}
		idx[sub] = len(d.Rows)
		d.Rows = append(d.Rows, careRow{Subject: sub, Kind: kind, Name: name})
		return idx[sub]
	}
	for _, c := range rs.Children {
		add(central.SubjectChild+":"+c.ID, "child", c.FirstName)
	}
	for _, p := range rs.People {
		add(central.SubjectPerson+":"+p.ID, "person", p.Name)
	}
	for _, st := range rs.Staff {
		add(central.SubjectStaff+":"+st.ID, "staff_member", st.Name)
	}
	kindOf := func(sub string) string {
		k, _, _ := strings.Cut(sub, ":")
		return map[string]string{"child": "child", "person": "person", "staff": "staff_member", "applicant": "applicant"}[k]
	}
	for _, p := range ps {
		i := add(p.Subject, kindOf(p.Subject), "")
		d.Rows[i].Period = &p
	}
	for _, c := range cs {
		i := add(c.Subject, kindOf(c.Subject), "")
		d.Rows[i].Contact = &c
	}
	order := map[string]int{"child": 0, "person": 1, "staff_member": 2, "applicant": 3}
	slices.SortStableFunc(d.Rows, func(a, b careRow) int {
		return cmp.Or(cmp.Compare(order[a.Kind], order[b.Kind]), compareNames(a.Name, b.Name), cmp.Compare(a.Subject, b.Subject))
	})
	v.Data = d
	s.render(w, http.StatusOK, "care", v)
}

type careSubjectData struct {
	Loc     central.Location
	Subject string
	Name    string
	Period  central.CarePeriod
	Has     bool
	Contact central.ContactDetails
	Start   string
	End     string
	Stored  bool
}

func (s *Server) careSubjectPage(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("subject") == "new" { // the applicant form
		sub, err := central.ParseSubject(central.SubjectApplicant, strings.TrimSpace(r.URL.Query().Get("id")))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/locations/"+url.PathEscape(r.PathValue("loc"))+"/care/"+url.PathEscape(sub), http.StatusSeeOther)
		return
	}
	s.renderCareSubject(w, r, http.StatusOK, "")
}

func (s *Server) renderCareSubject(w http.ResponseWriter, r *http.Request, status int, msg string) {
	loc, sub := r.PathValue("loc"), r.PathValue("subject")
	kind, id, _ := strings.Cut(sub, ":")
	if _, err := central.ParseSubject(kind, id); err != nil {
		s.fail(w, r, err)
		return
	}
	rs, l, err := s.loadRoster(r.Context(), loc)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(r, "care", nil)
	d := careSubjectData{Loc: l, Subject: sub, Stored: r.URL.Query().Get("stored") != ""}
	for _, c := range rs.Children {
		if kind == central.SubjectChild && c.ID == id {
			d.Name = c.FirstName
		}
	}
	for _, p := range rs.People {
		if kind == central.SubjectPerson && p.ID == id {
			d.Name = p.Name
		}
	}
	for _, st := range rs.Staff {
		if kind == central.SubjectStaff && st.ID == id {
			d.Name = st.Name
		}
	}
	d.Period, err = s.subjects.CarePeriodOf(r.Context(), sub, loc)
	switch {
	case err == nil:
		d.Has = true
		d.Start = d.Period.Started.Format("2006-01-02")
		if !d.Period.Ended.IsZero() {
			d.End = d.Period.Ended.Format("2006-01-02")
		}
	case !errors.Is(err, central.ErrNotFound):
		s.fail(w, r, err)
		return
	}
	if v.Can(string(auth.ReadPersonalData)) {
		if d.Contact, err = s.subjects.ContactOf(r.Context(), sub, loc); err != nil && !errors.Is(err, central.ErrNotFound) {
			s.fail(w, r, err)
			return
		}
	}
	v.Data, v.Error = d, msg
	s.render(w, status, "caresubject", v)
}

func (s *Server) saveCare(w http.ResponseWriter, r *http.Request) {
	loc, sub := r.PathValue("loc"), r.PathValue("subject")
	if _, err := s.sites.Location(r.Context(), loc); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostFormValue
	p, err := central.CarePeriodFrom(sub, loc, central.CareInput{Start: f("start"), End: f("end"), Extended: f("extended") != "",
		LegalName: f("legal_name"), BSN: f("bsn")})
	if err == nil {
		err = s.subjects.PutCarePeriod(r.Context(), p)
	}
	if errors.Is(err, central.ErrMalformed) {
		s.renderCareSubject(w, r, http.StatusBadRequest, strings.TrimPrefix(err.Error(), central.ErrMalformed.Error()+": "))
		return
	}
	if err == nil {
		err = s.appendAudit(r.Context(), r, audit.PersonalDataChange, sub, map[string]any{"change": "care_period", "location": loc,
			"ended": !p.Ended.IsZero(), "extended": p.Extended})
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/locations/"+loc+"/care/"+url.PathEscape(sub)+"?stored=1", http.StatusSeeOther)
}

func (s *Server) saveContact(w http.ResponseWriter, r *http.Request) {
	loc, sub := r.PathValue("loc"), r.PathValue("subject")
	if _, err := s.sites.Location(r.Context(), loc); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostFormValue
	c := central.ContactDetails{Subject: sub, LocationID: loc, Address: f("address"), Postcode: f("postcode"), City: f("city"),
		Email: f("email"), Phone: f("phone"), BankAccount: f("bank_account")}
	err := central.CheckContact(&c)
	if err == nil {
		err = s.subjects.PutContact(r.Context(), c)
	}
	if errors.Is(err, central.ErrMalformed) {
		s.renderCareSubject(w, r, http.StatusBadRequest, strings.TrimPrefix(err.Error(), central.ErrMalformed.Error()+": "))
		return
	}
	if err == nil {
		err = s.appendAudit(r.Context(), r, audit.PersonalDataChange, sub, map[string]any{"change": "contact_details", "location": loc})
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/locations/"+loc+"/care/"+url.PathEscape(sub)+"?stored=1", http.StatusSeeOther)
}
