package central

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance/roster"
)

// More subject kinds, for retention: staff members and job applicants.
const (
	SubjectStaff     = "staff"
	SubjectApplicant = "applicant"
)

// CarePeriod is central's administration record of a subject: for a child,
// guardian or pickup person the contract data (start and end of care,
// legal name, BSN); for staff the employment, for an applicant the
// procedure. Its end is where every retention term of the subject starts.
type CarePeriod struct {
	Subject    string    `json:"subject"` // child:ID, person:ID, staff:ID, applicant:ID
	LocationID string    `json:"location_id"`
	Started    time.Time `json:"started"`
	// Ended is the last contract day, the end of employment or of the
	// application procedure; zero while it runs. A child's care ends at
	// the later of Ended and its last attendance.
	Ended time.Time `json:"ended,omitzero"`
	// Extended: a labour dispute (staff: 10 years) or the applicant's
	// consent (1 year).
	Extended  bool   `json:"extended,omitempty"`
	LegalName string `json:"legal_name,omitempty"`
	BSN       string `json:"bsn,omitempty"`
}

// ContactDetails are a subject's address, e-mail, phone and bank account
// (retention category contact). They never leave central for a kiosk.
type ContactDetails struct {
	Subject     string `json:"subject"`
	LocationID  string `json:"location_id"`
	Address     string `json:"address,omitempty"`
	Postcode    string `json:"postcode,omitempty"`
	City        string `json:"city,omitempty"`
	Email       string `json:"email,omitempty"`
	Phone       string `json:"phone,omitempty"`
	BankAccount string `json:"bank_account,omitempty"`
}

// End sources of a care period.
const (
	endContract = "contract" // set by an admin or import: the last contract day
	endRoster   = "roster"   // the subject left the location's roster
	endErasure  = "erasure"  // an erasure request ended the relationship
)

func checkRetentionSubject(subject string) (kind, id string, err error) {
	kind, id, _ = strings.Cut(subject, ":")
	switch kind {
	case SubjectChild, SubjectPerson, SubjectStaff, SubjectApplicant:
		if id != "" && len(id) <= 200 && !strings.ContainsAny(id, "\x00\n") {
			return kind, id, nil
		}
	}
	return "", "", fmt.Errorf("%w: subject %q", ErrMalformed, subject)
}

func nsOrNull(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

// PutCarePeriod stores a subject's care period as given (an explicit end
// is a contract end: the retention run never moves it).
func (s *Subjects) PutCarePeriod(ctx context.Context, p CarePeriod) error {
	if _, _, err := checkRetentionSubject(p.Subject); err != nil {
		return err
	}
	if p.LocationID == "" {
		return fmt.Errorf("%w: care period without location", ErrMalformed)
	}
	if p.Started.IsZero() {
		p.Started = s.db.Now()
	}
	src := ""
	if !p.Ended.IsZero() {
		src = endContract
	}
	_, err := s.db.Exec(ctx, nil, `INSERT INTO care_periods (subject, location_id, started_ns, ended_ns, end_source, extended, legal_name, bsn)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (subject, location_id) DO UPDATE SET started_ns = excluded.started_ns, ended_ns = excluded.ended_ns,
			end_source = excluded.end_source, extended = excluded.extended, legal_name = excluded.legal_name, bsn = excluded.bsn`,
		p.Subject, p.LocationID, p.Started.UnixNano(), nsOrNull(p.Ended), src, boolInt(p.Extended), p.LegalName, p.BSN)
	if err != nil {
		return fmt.Errorf("central: care period: %w", err)
	}
	return nil
}

// CarePeriodOf returns a subject's care period at a location.
func (s *Subjects) CarePeriodOf(ctx context.Context, subject, loc string) (CarePeriod, error) {
	p := CarePeriod{Subject: subject, LocationID: loc}
	var started int64
	var ended sql.NullInt64
	var ext int
	err := s.db.QueryRow(ctx, nil, "SELECT started_ns, ended_ns, extended, legal_name, bsn FROM care_periods WHERE subject = ? AND location_id = ?",
		subject, loc).Scan(&started, &ended, &ext, &p.LegalName, &p.BSN)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("central: care period %s at %s: %w", subject, loc, ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("central: care period: %w", err)
	}
	p.Started = time.Unix(0, started).UTC()
	if ended.Valid {
		p.Ended = time.Unix(0, ended.Int64).UTC()
	}
	p.Extended = ext != 0
	return p, nil
}

// PutContact stores a subject's contact details.
func (s *Subjects) PutContact(ctx context.Context, c ContactDetails) error {
	if _, _, err := checkRetentionSubject(c.Subject); err != nil {
		return err
	}
	_, err := s.db.Exec(ctx, nil, `INSERT INTO contact_details (subject, location_id, address, postcode, city, email, phone, bank_account, updated_ns)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (subject, location_id) DO UPDATE SET address = excluded.address, postcode = excluded.postcode, city = excluded.city,
			email = excluded.email, phone = excluded.phone, bank_account = excluded.bank_account, updated_ns = excluded.updated_ns`,
		c.Subject, c.LocationID, c.Address, c.Postcode, c.City, c.Email, c.Phone, c.BankAccount, s.db.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("central: contact details: %w", err)
	}
	return nil
}

// ContactOf returns a subject's contact details at a location.
func (s *Subjects) ContactOf(ctx context.Context, subject, loc string) (ContactDetails, error) {
	c := ContactDetails{Subject: subject, LocationID: loc}
	err := s.db.QueryRow(ctx, nil, "SELECT address, postcode, city, email, phone, bank_account FROM contact_details WHERE subject = ? AND location_id = ?",
		subject, loc).Scan(&c.Address, &c.Postcode, &c.City, &c.Email, &c.Phone, &c.BankAccount)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("central: contact details %s at %s: %w", subject, loc, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("central: contact details: %w", err)
	}
	return c, nil
}

// rosterSubjects lists the subjects a roster names: children, guardians and
// pickup persons, staff.
func rosterSubjects(r roster.Roster) []string {
	var out []string
	for _, c := range r.Children {
		out = append(out, SubjectChild+":"+c.ID)
	}
	for _, p := range r.People {
		out = append(out, SubjectPerson+":"+p.ID)
	}
	for _, st := range r.Staff {
		out = append(out, SubjectStaff+":"+st.ID)
	}
	return out
}

// rosterHistory is what the stored roster versions of one location say
// about its subjects.
type rosterHistory struct {
	first    map[string]int64 // subject -> created_ns of the first version naming it
	leftAt   map[string]int64 // subject -> created_ns of the first version after the last one naming it; absent: in the newest
	alerts   map[string]bool  // child subject -> a staff alert in some version
	births   map[string]bool  // subject -> a birth date in some version
	anywhere map[string]bool  // subject named in some version
}

func (s *Subjects) rosterHistory(ctx context.Context, loc string) (rosterHistory, error) {
	h := rosterHistory{first: map[string]int64{}, leftAt: map[string]int64{}, alerts: map[string]bool{}, births: map[string]bool{}, anywhere: map[string]bool{}}
	rows, err := s.db.Query(ctx, nil, "SELECT body, created_ns FROM rosters WHERE location_id = ? ORDER BY version", loc)
	if err != nil {
		return h, fmt.Errorf("central: roster history: %w", err)
	}
	defer rows.Close()
	var prev map[string]bool
	for rows.Next() {
		var body string
		var created int64
		if err := rows.Scan(&body, &created); err != nil {
			return h, fmt.Errorf("central: roster history: %w", err)
		}
		var r roster.Roster
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			return h, fmt.Errorf("central: roster history: decode: %w", err)
		}
		cur := map[string]bool{}
		for _, sub := range rosterSubjects(r) {
			cur[sub] = true
			h.anywhere[sub] = true
			if _, ok := h.first[sub]; !ok {
				h.first[sub] = created
			}
			delete(h.leftAt, sub)
		}
		for sub := range prev {
			if !cur[sub] {
				h.leftAt[sub] = created
			}
		}
		for _, c := range r.Children {
			if c.StaffAlert != "" {
				h.alerts[SubjectChild+":"+c.ID] = true
			}
			if !c.BirthDate.IsZero() {
				h.births[SubjectChild+":"+c.ID] = true
			}
		}
		for _, p := range r.People {
			if !p.BirthDate.IsZero() {
				h.births[SubjectPerson+":"+p.ID] = true
			}
		}
		prev = cur
	}
	return h, rows.Err()
}
