package central

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/attendance/sepa"
	"github.com/kinderdeur/kiosk/sync/central/auth"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// CareInput is a care period as an admin enters it: dates as YYYY-MM-DD
// (start required; end empty while care, employment or the application
// runs).
type CareInput struct {
	Start     string `json:"start"`
	End       string `json:"end"`
	Extended  bool   `json:"extended"`
	LegalName string `json:"legal_name"`
	BSN       string `json:"bsn"`
}

// CarePeriodFrom validates an entered care period of subject at loc.
// Dates are days: the retention terms count from the end of care in days.
func CarePeriodFrom(subject, loc string, in CareInput) (CarePeriod, error) {
	p := CarePeriod{Subject: subject, LocationID: loc, Extended: in.Extended, LegalName: strings.TrimSpace(in.LegalName), BSN: strings.TrimSpace(in.BSN)}
	var errs []string
	if _, _, err := checkRetentionSubject(subject); err != nil {
		errs = append(errs, "subject: want child:ID, person:ID, staff:ID or applicant:ID")
	}
	start, err := attendance.ParseDate(strings.TrimSpace(in.Start))
	if err != nil {
		errs = append(errs, "start: want YYYY-MM-DD")
	}
	p.Started = start.In(time.UTC)
	if e := strings.TrimSpace(in.End); e != "" {
		end, err := attendance.ParseDate(e)
		switch {
		case err != nil:
			errs = append(errs, "end: want YYYY-MM-DD or empty")
		case err == nil && !start.IsZero() && end.Before(start):
			errs = append(errs, "end: before the start")
		}
		p.Ended = end.In(time.UTC)
	}
	if p.BSN != "" && !ValidBSN(p.BSN) {
		errs = append(errs, "bsn: 9 digits passing the eleven test")
	}
	if len(p.LegalName) > 200 || strings.ContainsAny(p.LegalName, "\x00\n\r") {
		errs = append(errs, "legal_name: one line of at most 200 characters")
	}
	if len(errs) > 0 {
		return p, fmt.Errorf("%w: care period: %s", ErrMalformed, strings.Join(errs, "; "))
	}
	return p, nil
}

// ValidBSN checks a Dutch citizen service number: 9 digits and the
// eleven test (9a+8b+...+2h-1i divisible by 11).
func ValidBSN(s string) bool {
	if len(s) != 9 {
		return false
	}
	sum := 0
	for i, r := range s {
		if r < '0' || r > '9' {
			return false
		}
		w := 9 - i
		if i == 8 {
			w = -1
		}
		sum += w * int(r-'0')
	}
	return sum%11 == 0 && s != "000000000"
}

// CheckContact validates entered contact details.
func CheckContact(c *ContactDetails) error {
	var errs []string
	for _, f := range []*string{&c.Address, &c.Postcode, &c.City, &c.Email, &c.Phone, &c.BankAccount} {
		*f = strings.TrimSpace(*f)
		if len(*f) > 200 || strings.ContainsAny(*f, "\x00\n\r") {
			errs = append(errs, "every field: one line of at most 200 characters")
			break
		}
	}
	if _, _, err := checkRetentionSubject(c.Subject); err != nil {
		errs = append(errs, "subject: want child:ID, person:ID, staff:ID or applicant:ID")
	}
	if c.Email != "" {
		if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email {
			errs = append(errs, "email: not an e-mail address")
		}
	}
	if c.BankAccount != "" {
		c.BankAccount = sepa.NormalizeIBAN(c.BankAccount)
		if err := sepa.CheckIBAN(c.BankAccount); err != nil {
			errs = append(errs, "bank_account: "+err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: contact details: %s", ErrMalformed, strings.Join(errs, "; "))
	}
	return nil
}

// CarePeriodsAt lists the care periods at a location, by subject.
func (s *Subjects) CarePeriodsAt(ctx context.Context, loc string) ([]CarePeriod, error) {
	rows, err := s.db.Query(ctx, nil, "SELECT subject FROM care_periods WHERE location_id = ? ORDER BY subject", loc)
	if err != nil {
		return nil, fmt.Errorf("central: care periods: %w", err)
	}
	var subs []string
	for rows.Next() {
		var sub string
		if err := rows.Scan(&sub); err != nil {
			rows.Close()
			return nil, fmt.Errorf("central: care periods: %w", err)
		}
		subs = append(subs, sub)
	}
	rows.Close()
	out := []CarePeriod{}
	for _, sub := range subs {
		p, err := s.CarePeriodOf(ctx, sub, loc)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		if err == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// ContactsAt lists the contact details held at a location, by subject.
func (s *Subjects) ContactsAt(ctx context.Context, loc string) ([]ContactDetails, error) {
	rows, err := s.db.Query(ctx, nil, `SELECT subject, address, postcode, city, email, phone, bank_account FROM contact_details
		WHERE location_id = ? ORDER BY subject`, loc)
	if err != nil {
		return nil, fmt.Errorf("central: contact details: %w", err)
	}
	defer rows.Close()
	out := []ContactDetails{}
	for rows.Next() {
		c := ContactDetails{LocationID: loc}
		if err := rows.Scan(&c.Subject, &c.Address, &c.Postcode, &c.City, &c.Email, &c.Phone, &c.BankAccount); err != nil {
			return nil, fmt.Errorf("central: contact details: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ---- API ----

// careRoutes: the administration (care periods: contract start and end,
// legal name, BSN) and contact details of children, guardians, staff and
// applicants, which the retention terms count from. Admin and manager
// edit; billing reads care periods (not contact details); every change is
// audited (personal_data_change, by field name, never the values).
func (s *Server) careRoutes(m *routeMux, admin func(auth.Permission, http.HandlerFunc) http.Handler) {
	base := "/api/v1/admin/locations/{id}"
	m.Handle("GET "+base+"/care-periods", admin(auth.ReadBilling, s.listCarePeriods))
	m.Handle("GET "+base+"/care-periods/{subject}", admin(auth.ReadBilling, s.getCarePeriod))
	m.Handle("PUT "+base+"/care-periods/{subject}", admin(auth.EditPersonalData, s.putCarePeriod))
	m.Handle("GET "+base+"/contacts", admin(auth.ReadPersonalData, s.listContacts))
	m.Handle("GET "+base+"/contacts/{subject}", admin(auth.ReadPersonalData, s.getContact))
	m.Handle("PUT "+base+"/contacts/{subject}", admin(auth.EditPersonalData, s.putContact))
}

func (s *Server) careFail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrMalformed):
		s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, err.Error())
	case errors.Is(err, ErrNotFound):
		s.writeError(w, http.StatusNotFound, protocol.CodeNotFound, err.Error())
	default:
		s.internal(w, r, err)
	}
}

func (s *Server) careLocation(w http.ResponseWriter, r *http.Request) (string, bool) {
	loc := r.PathValue("id")
	if _, err := s.sites.Location(r.Context(), loc); err != nil {
		s.careFail(w, r, err)
		return "", false
	}
	return loc, true
}

func (s *Server) listCarePeriods(w http.ResponseWriter, r *http.Request) {
	loc, ok := s.careLocation(w, r)
	if !ok {
		return
	}
	ps, err := s.subjects.CarePeriodsAt(r.Context(), loc)
	if err != nil {
		s.careFail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, ps)
}

func (s *Server) getCarePeriod(w http.ResponseWriter, r *http.Request) {
	p, err := s.subjects.CarePeriodOf(r.Context(), r.PathValue("subject"), r.PathValue("id"))
	if err != nil {
		s.careFail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, p)
}

func (s *Server) putCarePeriod(w http.ResponseWriter, r *http.Request) {
	loc, ok := s.careLocation(w, r)
	if !ok {
		return
	}
	var in CareInput
	if !s.readJSON(w, r, &in) {
		return
	}
	sub := r.PathValue("subject")
	p, err := CarePeriodFrom(sub, loc, in)
	if err == nil {
		err = s.subjects.PutCarePeriod(r.Context(), p)
	}
	if err != nil {
		s.careFail(w, r, err)
		return
	}
	s.record(r, audit.PersonalDataChange, sub, map[string]any{"change": "care_period", "location": loc, "ended": !p.Ended.IsZero(), "extended": p.Extended})
	s.writeJSON(w, http.StatusOK, p)
}

func (s *Server) listContacts(w http.ResponseWriter, r *http.Request) {
	loc, ok := s.careLocation(w, r)
	if !ok {
		return
	}
	cs, err := s.subjects.ContactsAt(r.Context(), loc)
	if err != nil {
		s.careFail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, cs)
}

func (s *Server) getContact(w http.ResponseWriter, r *http.Request) {
	c, err := s.subjects.ContactOf(r.Context(), r.PathValue("subject"), r.PathValue("id"))
	if err != nil {
		s.careFail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, c)
}

func (s *Server) putContact(w http.ResponseWriter, r *http.Request) {
	loc, ok := s.careLocation(w, r)
	if !ok {
		return
	}
	var c ContactDetails
	if !s.readJSON(w, r, &c) {
		return
	}
	c.Subject, c.LocationID = r.PathValue("subject"), loc
	err := CheckContact(&c)
	if err == nil {
		err = s.subjects.PutContact(r.Context(), c)
	}
	if err != nil {
		s.careFail(w, r, err)
		return
	}
	s.record(r, audit.PersonalDataChange, c.Subject, map[string]any{"change": "contact_details", "location": loc})
	s.writeJSON(w, http.StatusOK, c)
}
