// Package billing prices attendance (contract-6 stays) with declarative
// tariff profiles and writes invoice lines (contract 8):
//
//	child_id,date,day_type,minutes,billed_minutes,amount_cents,rule,child_name,guardian_id,stays,rate_cents_per_hour,flags
//
// A profile is JSON (see Profile and the presets in presets.json). Lines are
// per child per day per day type: all stays of that day are priced together,
// so 'most favourable' compares whole days. Whether a time method rounds each
// stay or the day's total is the method's "per" setting: "stay" rounds every
// stay on its own (morning and afternoon care are separate blocks, each with
// its own started half/quarter hour), "day" rounds the day's total.
//
// Money is integer euro cents. A time-priced line is
// round_half_up(billed_minutes * rate_cents_per_hour * multiplier_bp / (60 * 10000)):
// one rounding per line, half a cent rounds up, no intermediate rounding.
//
// Stays without a check-in or check-out are never priced: they become lines
// with rule "<profile>/unpriced-missing-time", amount 0, for an admin to
// resolve. Stays whose time is unverified or corrected are priced and the
// line carries the flag unverified_time or corrected_time.
//
// Absences (agreed care that did not take place: sick, late_cancel, cancel,
// provider_away, short_day) come from a separate CSV (ReadAbsences) and are priced by
// the profile's "absences" rules (AbsenceRules) in BillWithAbsences: each
// becomes a line with minutes 0, the flag absence_<kind> and its rule's name,
// billing the agreed minutes or nothing (see absences.go for spells).
package billing

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/kinderdeur/kiosk/attendance/calendar"
	"github.com/kinderdeur/kiosk/attendance/stays"
)

// Rounding turns presence minutes into billed minutes.
type Rounding struct {
	// Mode: "none" (per minute), "up" (per started unit; also 'rounded up to
	// the unit', the same thing for whole minutes), "down" or "nearest"
	// (half a unit rounds up).
	Mode string `json:"mode"`
	// UnitMinutes: 15 for a quarter hour, 30 for a half hour.
	UnitMinutes int `json:"unit_minutes,omitempty"`
}

// Apply rounds m minutes.
func (r Rounding) Apply(m int) int {
	u := r.UnitMinutes
	if r.Mode == "none" || r.Mode == "" || u <= 1 || m <= 0 {
		return max(m, 0)
	}
	switch r.Mode {
	case "up":
		return (m + u - 1) / u * u
	case "down":
		return m / u * u
	default: // nearest
		return (m + u/2) / u * u
	}
}

// Band is one duration-band forfait: presence up to and including
// UpToMinutes (0 = no upper bound; must be the last band).
type Band struct {
	Name        string `json:"name"`
	UpToMinutes int    `json:"up_to_minutes,omitempty"`
	AmountCents int64  `json:"amount_cents"`
}

// Method is one way to price a day.
type Method struct {
	// Kind: "time" (minutes x hourly rate) or "forfait" (duration bands).
	Kind string `json:"kind"`
	// Per: "stay" or "day" (time methods: where rounding applies).
	Per      string   `json:"per,omitempty"`
	Rounding Rounding `json:"rounding,omitempty"`
	// RateCentsPerHour is the hourly rate in cents (time methods).
	RateCentsPerHour int64 `json:"rate_cents_per_hour,omitempty"`
	// ContractRate lets a child's contract rate replace RateCentsPerHour.
	ContractRate bool `json:"contract_rate,omitempty"`
	// MinDayMinutes is the least billed per day (time methods).
	MinDayMinutes int `json:"min_day_minutes,omitempty"`
	// Bands are the forfaits, shortest first (forfait methods).
	Bands []Band `json:"bands,omitempty"`
}

// MonthlyMinimum tops a child's month up to a minimum of billed minutes.
type MonthlyMinimum struct {
	// Method is the time method whose (contract) rate prices the top-up.
	Method string `json:"method"`
	// Minutes per care kind (a contract's care_kind), e.g. dagopvang: 1200.
	Minutes map[string]int `json:"minutes"`
	// DefaultCareKind applies to children without a contract care kind.
	DefaultCareKind string `json:"default_care_kind"`
}

// SettlingIn makes the first Sessions days of care in the WithinDays days
// before a contract's start free up to MinutesPerSession each; minutes
// beyond are billed with the day's method without its daily minimum.
type SettlingIn struct {
	Sessions          int `json:"sessions"`
	MinutesPerSession int `json:"minutes_per_session"`
	WithinDays        int `json:"within_days"`
}

// Profile is a tariff. Every day type must resolve to at least one method,
// through DayTypes or Default; with more than one method the cheapest for
// the parent prices the day (the first listed wins a tie).
type Profile struct {
	Name        string                        `json:"name"`
	Description string                        `json:"description,omitempty"`
	Source      string                        `json:"source,omitempty"`
	Methods     map[string]Method             `json:"methods"`
	DayTypes    map[calendar.DayType][]string `json:"day_types,omitempty"`
	Default     []string                      `json:"default,omitempty"`
	// MultipliersBP scale time methods per day type in basis points
	// (15000 = 150%).
	MultipliersBP  map[calendar.DayType]int64 `json:"multipliers_bp,omitempty"`
	MonthlyMinimum *MonthlyMinimum            `json:"monthly_minimum,omitempty"`
	SettlingIn     *SettlingIn                `json:"settling_in,omitempty"`
	// Absences prices agreed care that did not take place (absences CSV);
	// nil: every absence line bills nothing ("<profile>/absence-not-billed").
	Absences *AbsenceRules `json:"absences,omitempty"`
	// TravelIsCare bills a stay's travel minutes (the childminder away from
	// home to fetch or bring the child, seed 004) as care time.
	TravelIsCare bool `json:"travel_is_care,omitempty"`
	// SplitDay prices the stays before a time of day with other methods
	// than the rest of the day, per day type (seed 003: the Wednesday
	// morning is before-school care, the afternoon 'most favourable').
	SplitDay map[calendar.DayType]DayPart `json:"split_day,omitempty"`
}

// DayPart: stays (or the part of a stay) before At are priced with
// Methods (the cheapest of them), the rest of the day with the day type's
// methods; the line's rule is "<profile>/morning-<rule>+afternoon-<rule>"
// when the day has both parts. Each part applies its own method's day
// minimum.
type DayPart struct {
	At      string   `json:"at"` // HH:MM local
	Methods []string `json:"methods"`
}

// MethodsFor returns the method names pricing day type t.
func (p *Profile) MethodsFor(t calendar.DayType) []string {
	if m, ok := p.DayTypes[t]; ok && len(m) > 0 {
		return m
	}
	return p.Default
}

// ProfileError names the profile key that is wrong.
type ProfileError struct {
	Key string
	Err error
}

func (e *ProfileError) Error() string {
	return fmt.Sprintf("billing: profile key %q: %v", e.Key, e.Err)
}
func (e *ProfileError) Unwrap() error { return e.Err }

// ErrUnknownProfile is returned by Lookup for a name that is no profile.
var ErrUnknownProfile = errors.New("unknown tariff profile")

// Validate checks p; errors name the key (prefix is the path of p itself).
func (p *Profile) Validate(prefix string) error {
	bad := func(key string, f string, a ...any) error {
		return &ProfileError{prefix + key, fmt.Errorf(f, a...)}
	}
	if p.Name == "" || strings.ContainsAny(p.Name, "/ ,\n") {
		return bad("name", "%q: want a non-empty name without '/', ',' or spaces", p.Name)
	}
	if len(p.Methods) == 0 {
		return bad("methods", "no methods")
	}
	names := make([]string, 0, len(p.Methods))
	for n := range p.Methods {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		m := p.Methods[n]
		k := "methods." + n
		if n == "" || strings.ContainsAny(n, "/ ,\n+") {
			return bad(k, "method name %q: no '/', '+', ',' or spaces", n)
		}
		switch m.Kind {
		case "time":
			switch m.Per {
			case "stay", "day":
			default:
				return bad(k+".per", "%q: want stay or day", m.Per)
			}
			switch m.Rounding.Mode {
			case "none":
			case "up", "down", "nearest":
				if m.Rounding.UnitMinutes < 1 || m.Rounding.UnitMinutes > 1440 {
					return bad(k+".rounding.unit_minutes", "%d: want 1-1440", m.Rounding.UnitMinutes)
				}
			default:
				return bad(k+".rounding.mode", "%q: want none, up, down or nearest", m.Rounding.Mode)
			}
			if m.RateCentsPerHour < 0 || m.RateCentsPerHour > 1_000_000 {
				return bad(k+".rate_cents_per_hour", "%d: want 0-1000000", m.RateCentsPerHour)
			}
			if m.RateCentsPerHour == 0 && !m.ContractRate {
				return bad(k+".rate_cents_per_hour", "0 without contract_rate")
			}
			if m.MinDayMinutes < 0 || m.MinDayMinutes > 1440 {
				return bad(k+".min_day_minutes", "%d: want 0-1440", m.MinDayMinutes)
			}
			if len(m.Bands) > 0 {
				return bad(k+".bands", "bands belong to a forfait method")
			}
		case "forfait":
			if len(m.Bands) == 0 {
				return bad(k+".bands", "no bands")
			}
			prev := -1
			for i, b := range m.Bands {
				bk := fmt.Sprintf("%s.bands[%d]", k, i)
				if b.Name == "" || strings.ContainsAny(b.Name, "/ ,\n+") {
					return bad(bk+".name", "%q: want a name without '/', '+', ',' or spaces", b.Name)
				}
				if b.AmountCents < 0 || b.AmountCents > 10_000_000 {
					return bad(bk+".amount_cents", "%d: want 0-10000000", b.AmountCents)
				}
				last := i == len(m.Bands)-1
				if b.UpToMinutes == 0 && !last {
					return bad(bk+".up_to_minutes", "only the last band may be unbounded")
				}
				if b.UpToMinutes != 0 && (b.UpToMinutes <= prev || b.UpToMinutes < 0) {
					return bad(bk+".up_to_minutes", "%d: bands must grow", b.UpToMinutes)
				}
				prev = b.UpToMinutes
			}
			if m.Bands[len(m.Bands)-1].UpToMinutes != 0 {
				return bad(k+".bands", "the last band must be unbounded (up_to_minutes 0 or absent)")
			}
		default:
			return bad(k+".kind", "%q: want time or forfait", m.Kind)
		}
	}
	checkList := func(key string, list []string) error {
		for i, n := range list {
			if _, ok := p.Methods[n]; !ok {
				return bad(fmt.Sprintf("%s[%d]", key, i), "no method %q", n)
			}
		}
		return nil
	}
	if err := checkList("default", p.Default); err != nil {
		return err
	}
	for t, list := range p.DayTypes {
		if _, err := calendar.ParseDayType(string(t)); err != nil {
			return bad("day_types."+string(t), "%v", err)
		}
		if err := checkList("day_types."+string(t), list); err != nil {
			return err
		}
	}
	for _, t := range calendar.DayTypes {
		if len(p.MethodsFor(t)) == 0 {
			return bad("day_types."+string(t), "no method prices this day type (set it or default)")
		}
	}
	for t, bp := range p.MultipliersBP {
		if _, err := calendar.ParseDayType(string(t)); err != nil {
			return bad("multipliers_bp."+string(t), "%v", err)
		}
		if bp < 0 || bp > 100_000 {
			return bad("multipliers_bp."+string(t), "%d: want 0-100000 basis points", bp)
		}
	}
	if mm := p.MonthlyMinimum; mm != nil {
		m, ok := p.Methods[mm.Method]
		if !ok || m.Kind != "time" {
			return bad("monthly_minimum.method", "%q: want a time method", mm.Method)
		}
		if _, ok := mm.Minutes[mm.DefaultCareKind]; !ok {
			return bad("monthly_minimum.default_care_kind", "%q has no minutes", mm.DefaultCareKind)
		}
		for k, v := range mm.Minutes {
			if v < 0 || v > 44640 {
				return bad("monthly_minimum.minutes."+k, "%d: want 0-44640", v)
			}
		}
	}
	if s := p.SettlingIn; s != nil {
		if s.Sessions < 0 || s.Sessions > 100 {
			return bad("settling_in.sessions", "%d: want 0-100", s.Sessions)
		}
		if s.MinutesPerSession < 0 || s.MinutesPerSession > 1440 {
			return bad("settling_in.minutes_per_session", "%d: want 0-1440", s.MinutesPerSession)
		}
		if s.WithinDays < 1 || s.WithinDays > 366 {
			return bad("settling_in.within_days", "%d: want 1-366", s.WithinDays)
		}
	}
	if a := p.Absences; a != nil {
		if err := a.validate(p, bad); err != nil {
			return err
		}
	}
	for t, part := range p.SplitDay {
		k := "split_day." + string(t)
		if _, err := calendar.ParseDayType(string(t)); err != nil {
			return bad(k, "%v", err)
		}
		if c, err := stays.ParseClock(part.At); err != nil || c <= 0 || c >= 1440 {
			return bad(k+".at", "%q: want a time of day HH:MM after 00:00 and before 24:00", part.At)
		}
		if len(part.Methods) == 0 {
			return bad(k+".methods", "no methods")
		}
		if err := checkList(k+".methods", part.Methods); err != nil {
			return err
		}
	}
	return nil
}

// ParseProfiles reads profiles from JSON: one profile object, or
// {"profiles": [ ... ]}. Unknown keys are errors; every error names its key.
func ParseProfiles(r io.Reader) ([]Profile, error) {
	data, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("billing: read profiles: %w", err)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, profileJSONError("", err)
	}
	var list []Profile
	prefix := func(i int) string { return fmt.Sprintf("profiles[%d].", i) }
	if _, ok := probe["profiles"]; ok {
		var f struct {
			Comment  json.RawMessage   `json:"_comment"`
			Profiles []json.RawMessage `json:"profiles"`
		}
		if err := strictDecode(data, &f); err != nil {
			return nil, profileJSONError("", err)
		}
		for i, raw := range f.Profiles {
			p, err := decodeProfile(raw, prefix(i))
			if err != nil {
				return nil, err
			}
			list = append(list, p)
		}
	} else {
		p, err := decodeProfile(data, "")
		if err != nil {
			return nil, err
		}
		list = []Profile{p}
		prefix = func(int) string { return "" }
	}
	if len(list) == 0 {
		return nil, &ProfileError{"profiles", errors.New("no profiles")}
	}
	seen := map[string]bool{}
	for i := range list {
		if err := list[i].Validate(prefix(i)); err != nil {
			return nil, err
		}
		if seen[list[i].Name] {
			return nil, &ProfileError{prefix(i) + "name", fmt.Errorf("%q defined twice", list[i].Name)}
		}
		seen[list[i].Name] = true
	}
	return list, nil
}

// decodeProfile decodes one profile; methods are decoded one by one so an
// error can name the method (encoding/json drops map keys from its paths).
func decodeProfile(data []byte, prefix string) (Profile, error) {
	type alias Profile
	var aux struct {
		*alias
		Methods  map[string]json.RawMessage `json:"methods"`
		Absences json.RawMessage            `json:"absences"`
	}
	var p Profile
	aux.alias = (*alias)(&p)
	if err := strictDecode(data, &aux); err != nil {
		return Profile{}, profileJSONError(prefix, err)
	}
	if aux.Methods != nil {
		p.Methods = map[string]Method{}
	}
	for name, raw := range aux.Methods {
		var m Method
		if err := strictDecode(raw, &m); err != nil {
			return Profile{}, profileJSONError(prefix+"methods."+name+".", err)
		}
		p.Methods[name] = m
	}
	if len(aux.Absences) > 0 && string(aux.Absences) != "null" {
		// Kinds one by one, so an error names the kind.
		var a struct {
			Method string                     `json:"method"`
			Kinds  map[string]json.RawMessage `json:"kinds"`
		}
		if err := strictDecode(aux.Absences, &a); err != nil {
			return Profile{}, profileJSONError(prefix+"absences.", err)
		}
		p.Absences = &AbsenceRules{Method: a.Method, Kinds: map[AbsenceKind]AbsenceRule{}}
		for kind, raw := range a.Kinds {
			var r AbsenceRule
			if err := strictDecode(raw, &r); err != nil {
				return Profile{}, profileJSONError(prefix+"absences.kinds."+kind+".", err)
			}
			p.Absences.Kinds[AbsenceKind(kind)] = r
		}
	}
	return p, nil
}

func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

func profileJSONError(prefix string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &ProfileError{prefix + te.Field, fmt.Errorf("want a JSON %s, got %s", te.Type, te.Value)}
	}
	if msg := err.Error(); strings.Contains(msg, "unknown field ") {
		key := msg[strings.Index(msg, "unknown field ")+len("unknown field "):]
		return &ProfileError{prefix + strings.Trim(key, `"`), errors.New("unknown key")}
	}
	return fmt.Errorf("billing: profiles: %w", err)
}

//go:embed presets.json
var presetsJSON []byte

// Presets returns the built-in profiles (the seeds' tariffs), parsed fresh
// so a caller may change its copy.
func Presets() []Profile {
	p, err := ParseProfiles(bytes.NewReader(presetsJSON))
	if err != nil {
		panic("billing: embedded presets.json: " + err.Error())
	}
	return p
}

// Lookup finds a profile by name in extra first, then in the presets.
func Lookup(name string, extra []Profile) (Profile, error) {
	for _, p := range extra {
		if p.Name == name {
			return p, nil
		}
	}
	var names []string
	for _, p := range Presets() {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	for _, p := range extra {
		names = append(names, p.Name)
	}
	return Profile{}, fmt.Errorf("billing: %w %q (have %s)", ErrUnknownProfile, name, strings.Join(names, ", "))
}
