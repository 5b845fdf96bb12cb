// Package retention decides when personal data must go: a policy per data
// category with the seeds' terms as defaults (per country profile), legal
// holds, deletion or anonymisation when a term ends, a dry-run Plan kept
// apart from Apply, and erasure requests that delete what no law requires
// now and schedule the rest. Stores (the kiosk's SQLite, central's
// database) take part through the small Store interface.
package retention

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
)

// Category is a kind of personal data with one retention term.
type Category string

const (
	// Administration: names, BSN, contract data, financial transactions.
	Administration Category = "administration"
	// Attendance: hours per child per day at central (benefit and invoice evidence).
	Attendance Category = "attendance"
	// Contact: address, birth date, bank account, e-mail, phone.
	Contact Category = "contact"
	// Sensitive: photos of the child and diary data.
	Sensitive Category = "sensitive"
	// Health: health data (allergies, medication, medical alerts), a special
	// category of its own (AVG art. 9): at most 1 year after care ends.
	Health Category = "health"
	// Staff: employee records; term runs from the end of employment.
	Staff Category = "staff"
	// Applicant: job applicants.
	Applicant Category = "applicant"
	// KioskEvents: events on a kiosk; term runs from when central acknowledged them.
	KioskEvents Category = "kiosk_events"
	// ChildFamily: Flanders, Kind en Gezin: child and family data.
	ChildFamily Category = "child_family"
	// Complaint: Flanders: complaints and crisis situations.
	Complaint Category = "complaint"
)

// Disposal is what happens to a record whose term has ended.
type Disposal string

const (
	Delete    Disposal = "delete"
	Anonymise Disposal = "anonymise"
)

// Bound says whether a term is what the law requires at least (a record
// cannot be erased before it ends) or the most the organisation promises to
// keep (a record may go earlier, e.g. on an erasure request).
type Bound string

const (
	Minimum Bound = "minimum"
	Maximum Bound = "maximum"
)

// Policy is the retention rule of one category.
type Policy struct {
	Term Period `json:"term"`
	// ExtendedTerm applies to records flagged Extended (applicant consent,
	// staff labour dispute). Zero: the same as Term.
	ExtendedTerm Period   `json:"extended_term"`
	Disposal     Disposal `json:"disposal"`
	Bound        Bound    `json:"bound"`
	// Floor and Ceiling limit what a config may set: a legal minimum and a
	// promised maximum. Zero: no limit.
	Floor   Period `json:"floor"`
	Ceiling Period `json:"ceiling"`
	// ExtendedCeiling limits ExtendedTerm likewise (staff with a labour
	// dispute: 10 years; applicants with consent: 1 year).
	ExtendedCeiling Period `json:"extended_ceiling"`
	// Anchor says when the term starts running, for people.
	Anchor string `json:"anchor"`
	Basis  string `json:"basis"`
	// Unconfirmed marks a default not confirmed by the seeds or the law:
	// a configurable default (DOMAIN.md).
	Unconfirmed bool `json:"unconfirmed,omitempty"`
}

// term returns the term that applies to a record.
func (p Policy) term(extended bool) Period {
	if extended && !p.ExtendedTerm.IsZero() {
		return p.ExtendedTerm
	}
	return p.Term
}

// extendedCeiling is the most an extended term may be: its own maximum,
// else the term's (a category that promises a maximum and has no extended
// one, such as contact or health data, is not kept longer through
// extended_term).
func (p Policy) extendedCeiling() Period {
	if !p.ExtendedCeiling.IsZero() {
		return p.ExtendedCeiling
	}
	return p.Ceiling
}

// shortest is the shortest term of the policy.
func (p Policy) shortest() Period {
	if !p.ExtendedTerm.IsZero() && !p.ExtendedTerm.AtLeast(p.Term) {
		return p.ExtendedTerm
	}
	return p.Term
}

// Hold stops deletion: of one subject's data, of a category, or of one
// subject's data in one category, until Until (zero: until released).
type Hold struct {
	Subject  string          `json:"subject,omitempty"`
	Category Category        `json:"category,omitempty"`
	Reason   string          `json:"reason"`
	Until    attendance.Date `json:"until,omitzero"`
}

// active reports whether h holds rec at now.
func (h Hold) active(rec Record, now time.Time) bool {
	if h.Subject != "" && h.Subject != rec.Subject {
		return false
	}
	if h.Category != "" && h.Category != rec.Category {
		return false
	}
	return h.Until.IsZero() || now.Before(h.Until.In(now.Location()))
}

// Config is a whole retention setup.
type Config struct {
	Profile  string              `json:"profile"`
	Policies map[Category]Policy `json:"categories"`
	Holds    []Hold              `json:"holds"`
}

// Profiles names the built-in country profiles.
var Profiles = []string{"nl", "be-vl"}

const kioskBasis = "inspection window: attendance lists kept at least 6 weeks (DOMAIN.md); term runs from central's acknowledgement"

// kioskPolicy is the same in every profile: 6 weeks after sync is both the
// default and the minimum.
var kioskPolicy = Policy{Term: P(0, 0, 6, 0), Disposal: Delete, Bound: Minimum, Floor: P(0, 0, 6, 0),
	Anchor: "synced to central", Basis: kioskBasis}

// healthPolicy: allergies, medication and medical alerts (seed 001 §2.3
// "Gezondheidsgegevens 1 jaar max"; seed 004: allergies and medication
// within 1 year after the contract ends).
var healthPolicy = Policy{Term: P(1, 0, 0, 0), Disposal: Delete, Bound: Maximum, Ceiling: P(1, 0, 0, 0),
	Anchor: "end of care (the child's last contract day or last attendance, whichever is later)",
	Basis:  "seed 001 §2.3: health data at most 1 year; seed 004: allergies and medication within 1 year after the contract ends"}

// staffPolicy: the staff record (name, PIN hash, badges, groups, contact
// details, clock-in/out identity) goes 2 years after employment ends, 10
// with a labour dispute; a config may not keep it longer (seed 001 §3.1).
var staffPolicy = Policy{Term: P(2, 0, 0, 0), ExtendedTerm: P(10, 0, 0, 0), Disposal: Delete, Bound: Maximum,
	Ceiling: P(2, 0, 0, 0), ExtendedCeiling: P(10, 0, 0, 0),
	Anchor: "end of employment (extended: labour dispute)",
	Basis:  "seed 001 §3.1: deleted at the latest 2 years after employment ends, 10 years with a labour dispute"}

// applicantPolicy: 4 weeks, 1 year with the applicant's consent, never
// longer (seed 001 §3.2).
var applicantPolicy = Policy{Term: P(0, 0, 4, 0), ExtendedTerm: P(1, 0, 0, 0), Disposal: Delete, Bound: Maximum,
	Ceiling: P(0, 0, 4, 0), ExtendedCeiling: P(1, 0, 0, 0),
	Anchor: "end of the application procedure (extended: with consent)",
	Basis:  "seed 001 §3.2: 4 weeks, at most 1 year with the applicant's consent"}

func unconfirmed(p Policy, basis string) Policy {
	p.Unconfirmed = true
	p.Basis = basis
	return p
}

// Profile returns the default policies of a country profile.
func Profile(name string) (map[Category]Policy, error) {
	switch name {
	case "nl":
		return map[Category]Policy{
			Administration: {Term: P(7, 0, 0, 0), Disposal: Delete, Bound: Minimum, Floor: P(7, 0, 0, 0),
				Anchor: "end of the care contract (transactions: their date)",
				Basis:  "seed 001 §2.3: names, BSN, contract data, financial transactions 7 years (fiscal retention duty)"},
			Attendance: {Term: P(7, 0, 0, 0), Disposal: Anonymise, Bound: Minimum, Floor: P(7, 0, 0, 0),
				Anchor: "end of the year of care", Unconfirmed: true,
				Basis: "hours per child are benefit and invoice evidence (Regeling Wet kinderopvang art. 11); kept as administration, anonymised after (unconfirmed)"},
			Contact: {Term: P(2, 0, 0, 0), Disposal: Delete, Bound: Maximum, Ceiling: P(2, 0, 0, 0),
				Anchor: "end of care", Basis: "seed 001 §2.3: address, birth date, bank account, e-mail, phone at most 2 years; seed 000: 2 years after care ends"},
			Sensitive: {Term: P(1, 0, 0, 0), Disposal: Delete, Bound: Maximum, Ceiling: P(1, 0, 0, 0),
				Anchor: "end of care", Basis: "seed 001 §2.3: photos of the child and diary data at most 1 year; seed 004: within 1 year after the contract ends"},
			Health:      healthPolicy,
			Staff:       staffPolicy,
			Applicant:   applicantPolicy,
			KioskEvents: kioskPolicy,
		}, nil
	case "be-vl":
		return map[Category]Policy{
			ChildFamily: {Term: P(5, 0, 0, 0), Disposal: Delete, Bound: Minimum, Floor: P(5, 0, 0, 0),
				Anchor: "end of care", Basis: "Kind en Gezin decree art. 24: 5 years for child and family data"},
			Complaint: {Term: P(10, 0, 0, 0), Disposal: Delete, Bound: Minimum, Floor: P(10, 0, 0, 0),
				Anchor: "closing of the complaint or crisis file", Basis: "Kind en Gezin decree art. 24: 10 years for complaints and crisis situations"},
			Attendance: {Term: P(5, 0, 0, 0), Disposal: Anonymise, Bound: Minimum, Floor: P(5, 0, 0, 0),
				Anchor: "end of the year of care", Basis: "child data under decree art. 24 (5 years); anonymised after"},
			Administration: {Term: P(7, 0, 0, 0), Disposal: Delete, Bound: Minimum, Unconfirmed: true,
				Anchor: "end of the financial year", Basis: "invoices and fiscal certificates (281.86): 7 years (unconfirmed)"},
			Health:      unconfirmed(healthPolicy, "as the NL default: health data at most 1 year after care ends (unconfirmed for Flanders)"),
			Staff:       unconfirmed(staffPolicy, "as the NL default (unconfirmed for Flanders)"),
			Applicant:   unconfirmed(applicantPolicy, "as the NL default (unconfirmed for Flanders)"),
			KioskEvents: kioskPolicy,
		}, nil
	}
	return nil, fmt.Errorf("retention: unknown profile %q (want one of %s)", name, strings.Join(Profiles, ", "))
}

// DefaultConfig is the NL profile with no holds.
func DefaultConfig() Config {
	p, _ := Profile("nl")
	return Config{Profile: "nl", Policies: p}
}

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("retention: bad config")

// ParseConfig reads a JSON config: a profile (default "nl"), overrides of
// term, extended_term and disposal per category, and holds:
//
//	{"profile": "nl",
//	 "categories": {"kiosk_events": {"term": "8w"}},
//	 "holds": [{"subject": "child:C7", "reason": "GGD inquiry", "until": "2027-01-01"}]}
//
// Errors name the bad key.
func ParseConfig(r io.Reader) (Config, error) {
	var raw struct {
		Profile    *string                    `json:"profile"`
		Categories map[string]json.RawMessage `json:"categories"`
		Holds      []json.RawMessage          `json:"holds"`
	}
	if err := strictDecode(r, &raw); err != nil {
		return Config{}, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	cfg := DefaultConfig()
	if raw.Profile != nil {
		p, err := Profile(*raw.Profile)
		if err != nil {
			return Config{}, fmt.Errorf("%w: profile: %q is not one of %s", ErrConfig, *raw.Profile, strings.Join(Profiles, ", "))
		}
		cfg = Config{Profile: *raw.Profile, Policies: p}
	}
	for _, name := range slices.Sorted(maps.Keys(raw.Categories)) {
		key := "categories." + name
		pol, ok := cfg.Policies[Category(name)]
		if !ok {
			return Config{}, fmt.Errorf("%w: %s: no such category in profile %s (have %s)", ErrConfig, key, cfg.Profile, categoryList(cfg.Policies))
		}
		var o struct {
			Term         *Period   `json:"term"`
			ExtendedTerm *Period   `json:"extended_term"`
			Disposal     *Disposal `json:"disposal"`
		}
		if err := strictDecode(bytes.NewReader(raw.Categories[name]), &o); err != nil {
			return Config{}, fmt.Errorf("%w: %s: %v", ErrConfig, key, err)
		}
		if o.Term != nil {
			pol.Term = *o.Term
		}
		if o.ExtendedTerm != nil {
			pol.ExtendedTerm = *o.ExtendedTerm
		}
		if o.Disposal != nil {
			pol.Disposal = *o.Disposal
		}
		cfg.Policies[Category(name)] = pol
	}
	for i, h := range raw.Holds {
		var hold Hold
		if err := strictDecode(bytes.NewReader(h), &hold); err != nil {
			return Config{}, fmt.Errorf("%w: holds[%d]: %v", ErrConfig, i, err)
		}
		cfg.Holds = append(cfg.Holds, hold)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func strictDecode(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after JSON value")
	}
	return nil
}

func categoryList(m map[Category]Policy) string {
	var s []string
	for c := range m {
		s = append(s, string(c))
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}

// Validate checks terms against floors and ceilings, disposals and holds.
func (c Config) Validate() error {
	for _, cat := range slices.Sorted(maps.Keys(c.Policies)) {
		p := c.Policies[cat]
		key := "categories." + string(cat)
		switch {
		case p.Term.IsZero():
			return fmt.Errorf("%w: %s.term: must not be zero", ErrConfig, key)
		case p.Disposal != Delete && p.Disposal != Anonymise:
			return fmt.Errorf("%w: %s.disposal: %q (want delete or anonymise)", ErrConfig, key, p.Disposal)
		case !p.Floor.IsZero() && !p.Term.AtLeast(p.Floor):
			return fmt.Errorf("%w: %s.term: %s is below the minimum %s (%s)", ErrConfig, key, p.Term, p.Floor, p.Basis)
		case !p.Ceiling.IsZero() && !p.Ceiling.AtLeast(p.Term):
			return fmt.Errorf("%w: %s.term: %s is above the maximum %s (%s)", ErrConfig, key, p.Term, p.Ceiling, p.Basis)
		case !p.ExtendedTerm.IsZero() && !p.ExtendedTerm.AtLeast(p.Term):
			return fmt.Errorf("%w: %s.extended_term: %s is shorter than term %s", ErrConfig, key, p.ExtendedTerm, p.Term)
		case !p.ExtendedTerm.IsZero() && !p.extendedCeiling().IsZero() && !p.extendedCeiling().AtLeast(p.ExtendedTerm):
			return fmt.Errorf("%w: %s.extended_term: %s is above the maximum %s (%s)", ErrConfig, key, p.ExtendedTerm, p.extendedCeiling(), p.Basis)
		}
	}
	for i, h := range c.Holds {
		key := fmt.Sprintf("holds[%d]", i)
		switch {
		case h.Subject == "" && h.Category == "":
			return fmt.Errorf("%w: %s: needs a subject, a category or both", ErrConfig, key)
		case h.Category != "" && !c.has(h.Category):
			return fmt.Errorf("%w: %s.category: no such category %q", ErrConfig, key, h.Category)
		case strings.TrimSpace(h.Reason) == "":
			return fmt.Errorf("%w: %s.reason: a legal hold needs a reason", ErrConfig, key)
		}
	}
	return nil
}

func (c Config) has(cat Category) bool {
	_, ok := c.Policies[cat]
	return ok
}
