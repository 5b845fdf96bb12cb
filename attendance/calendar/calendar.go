// Package calendar classifies the days of a childcare location for billing
// and exports: regular weekdays, free school afternoons, school-free days,
// school vacations per region (NL noord/midden/zuid, Flanders), weekends and
// NL/BE public holidays (from github.com/rickar/cal/v2).
//
// Precedence when a day is more than one thing: public_holiday, weekend,
// vacation, school_free, wednesday (free afternoon), weekday. So a public
// holiday on a Saturday is public_holiday, a Wednesday in a vacation is
// vacation. DayTypeVacationActivity is never returned by Calendar: it is a
// billing-side classification of one stay (care before/after an activity
// during a vacation); see WithActivity.
//
// Holiday choices (documented because the library and the law differ):
//   - NL: Nieuwjaarsdag, Eerste and Tweede Paasdag, Koningsdag (27 April, or
//     the Saturday before when 27 April is a Sunday, as the library's observed
//     date), Hemelvaartsdag, Eerste and Tweede Pinksterdag, Eerste and Tweede
//     Kerstdag. Bevrijdingsdag (5 May) is a national holiday every year but a
//     paid day off under most collective agreements only every fifth year
//     (2025, 2030, ...): config key "liberation_day" = "lustrum" (default),
//     "yearly" or "never". Goede Vrijdag is in rickar's nl list but is not in
//     the Algemene termijnenwet: excluded unless "good_friday": true.
//   - BE: the ten legal holidays of rickar's be list (Nieuwjaar, Paasmaandag,
//     Dag van de Arbeid, O.L.H. Hemelvaart, Pinkstermaandag, 21 juli, O.L.V.
//     Hemelvaart, Allerheiligen, Wapenstilstand, Kerstmis) plus Pasen and
//     Pinksteren (always Sundays; listed so a Sunday stay says why it is
//     special).
//   - "extra_holidays" adds local closing days that must be priced as holidays.
package calendar

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/aa"
	"github.com/rickar/cal/v2/be"
	"github.com/rickar/cal/v2/nl"

	"github.com/kinderdeur/kiosk/attendance"
)

// DayType is the billing class of a day (contract 8). The strings are part of
// the CSV contracts: never rename one.
type DayType string

const (
	Weekday          DayType = "weekday"           // regular school day: before/after school care
	Wednesday        DayType = "wednesday"         // a free school afternoon (configurable weekdays)
	SchoolFree       DayType = "school_free"       // a configured school-free day
	Vacation         DayType = "vacation"          // a school vacation of the location's region
	VacationActivity DayType = "vacation_activity" // care before/after an activity in a vacation (per stay)
	Weekend          DayType = "weekend"
	PublicHoliday    DayType = "public_holiday"
)

// DayTypes lists every day type in a stable order.
var DayTypes = []DayType{Weekday, Wednesday, SchoolFree, Vacation, VacationActivity, Weekend, PublicHoliday}

// ErrDayType is returned for a string that is no DayType.
var ErrDayType = errors.New("unknown day type")

// ParseDayType checks s against the known day types.
func ParseDayType(s string) (DayType, error) {
	for _, t := range DayTypes {
		if string(t) == s {
			return t, nil
		}
	}
	return "", fmt.Errorf("%w %q (want one of %s)", ErrDayType, s, dayTypeList())
}

func dayTypeList() string {
	s := make([]string, len(DayTypes))
	for i, t := range DayTypes {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// WithActivity turns a vacation day into vacation_activity for a stay that is
// flagged as care before or after an activity. Other day types are returned
// unchanged: an activity on a school day is priced as that school day.
func WithActivity(t DayType, activity bool) DayType {
	if activity && t == Vacation {
		return VacationActivity
	}
	return t
}

// Period is an inclusive range of dates, e.g. one school vacation.
type Period struct {
	Name string          `json:"name"`
	From attendance.Date `json:"from"`
	To   attendance.Date `json:"to"`
}

// Config configures a location's calendar. The zero value is not valid; start
// from DefaultConfig.
type Config struct {
	// Country is "nl" or "be"; it selects the public holidays and the default
	// time zone.
	Country string
	// Region selects the built-in school vacations: noord, midden, zuid (nl)
	// or vlaanderen (be). "" means no built-in vacations.
	Region string
	// TimeZone is an IANA name; default Europe/Amsterdam (nl) or
	// Europe/Brussels (be).
	TimeZone string
	// FreeAfternoons are the weekdays with a free school afternoon.
	FreeAfternoons []time.Weekday
	// SchoolFreeDays are extra days without school (study days).
	SchoolFreeDays []attendance.Date
	// Vacations, when non-nil, replace the built-in vacations of Region.
	Vacations []Period
	// ExtraHolidays are priced as public holidays.
	ExtraHolidays []attendance.Date
	// LiberationDay: "lustrum" (default), "yearly" or "never" (nl only).
	LiberationDay string
	// GoodFriday counts Goede Vrijdag as a public holiday (nl only).
	GoodFriday bool
}

// DefaultConfig is a Dutch location in region midden with free Wednesday
// afternoons.
func DefaultConfig() Config {
	return Config{
		Country:        "nl",
		Region:         "midden",
		FreeAfternoons: []time.Weekday{time.Wednesday},
		LiberationDay:  "lustrum",
	}
}

// ConfigError names the configuration key that is wrong.
type ConfigError struct {
	Key string
	Err error
}

func (e *ConfigError) Error() string { return fmt.Sprintf("calendar: config key %q: %v", e.Key, e.Err) }
func (e *ConfigError) Unwrap() error { return e.Err }

// fileConfig is the JSON form; dates and weekdays are strings so an error can
// name its key.
type fileConfig struct {
	Country        *string          `json:"country"`
	Region         *string          `json:"region"`
	TimeZone       *string          `json:"time_zone"`
	FreeAfternoons []string         `json:"free_afternoons"`
	SchoolFreeDays []string         `json:"school_free_days"`
	Vacations      []filePeriod     `json:"vacations"`
	ExtraHolidays  []string         `json:"extra_holidays"`
	LiberationDay  *string          `json:"liberation_day"`
	GoodFriday     *bool            `json:"good_friday"`
	Comment        *json.RawMessage `json:"_comment"`
}

type filePeriod struct {
	Name string `json:"name"`
	From string `json:"from"`
	To   string `json:"to"`
}

// ParseConfig reads a JSON calendar configuration over DefaultConfig. Keys:
// country, region, time_zone, free_afternoons (weekday names),
// school_free_days and extra_holidays (YYYY-MM-DD lists), vacations (list of
// {name, from, to}; replaces the built-in ones), liberation_day, good_friday,
// _comment (ignored). Unknown keys are errors.
func ParseConfig(r io.Reader) (Config, error) {
	cfg := DefaultConfig()
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var f fileConfig
	if err := dec.Decode(&f); err != nil {
		return Config{}, jsonError(err)
	}
	if f.Country != nil {
		cfg.Country = *f.Country
		if f.Region == nil && cfg.Country == "be" {
			cfg.Region = "vlaanderen"
		}
	}
	if f.Region != nil {
		cfg.Region = *f.Region
	}
	if f.TimeZone != nil {
		cfg.TimeZone = *f.TimeZone
	}
	if f.FreeAfternoons != nil {
		cfg.FreeAfternoons = nil
		for i, s := range f.FreeAfternoons {
			wd, err := parseWeekday(s)
			if err != nil {
				return Config{}, &ConfigError{fmt.Sprintf("free_afternoons[%d]", i), err}
			}
			cfg.FreeAfternoons = append(cfg.FreeAfternoons, wd)
		}
	}
	var err error
	if cfg.SchoolFreeDays, err = parseDates("school_free_days", f.SchoolFreeDays); err != nil {
		return Config{}, err
	}
	if cfg.ExtraHolidays, err = parseDates("extra_holidays", f.ExtraHolidays); err != nil {
		return Config{}, err
	}
	if f.Vacations != nil {
		cfg.Vacations = []Period{}
		for i, p := range f.Vacations {
			from, err := attendance.ParseDate(p.From)
			if err != nil {
				return Config{}, &ConfigError{fmt.Sprintf("vacations[%d].from", i), err}
			}
			to, err := attendance.ParseDate(p.To)
			if err != nil {
				return Config{}, &ConfigError{fmt.Sprintf("vacations[%d].to", i), err}
			}
			cfg.Vacations = append(cfg.Vacations, Period{Name: p.Name, From: from, To: to})
		}
	}
	if f.LiberationDay != nil {
		cfg.LiberationDay = *f.LiberationDay
	}
	if f.GoodFriday != nil {
		cfg.GoodFriday = *f.GoodFriday
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &ConfigError{te.Field, fmt.Errorf("want a JSON %s, got %s", te.Type, te.Value)}
	}
	if msg := err.Error(); strings.Contains(msg, "unknown field") {
		key := msg[strings.Index(msg, "unknown field")+len("unknown field "):]
		return &ConfigError{strings.Trim(key, `"`), errors.New("unknown key")}
	}
	return fmt.Errorf("calendar: config: %w", err)
}

func parseDates(key string, ss []string) ([]attendance.Date, error) {
	var out []attendance.Date
	for i, s := range ss {
		d, err := attendance.ParseDate(s)
		if err != nil {
			return nil, &ConfigError{fmt.Sprintf("%s[%d]", key, i), err}
		}
		out = append(out, d)
	}
	return out, nil
}

func parseWeekday(s string) (time.Weekday, error) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.EqualFold(s, d.String()) {
			return d, nil
		}
	}
	return 0, fmt.Errorf("weekday %q: want monday ... sunday", s)
}

// Validate checks the values of cfg; errors name the key.
func (cfg Config) Validate() error {
	if cfg.Country != "nl" && cfg.Country != "be" {
		return &ConfigError{"country", fmt.Errorf("%q: want nl or be", cfg.Country)}
	}
	if cfg.Region != "" {
		if _, ok := builtinVacations()[cfg.Region]; !ok {
			return &ConfigError{"region", fmt.Errorf("%q: want noord, midden, zuid, vlaanderen or empty", cfg.Region)}
		}
		if (cfg.Country == "be") != (cfg.Region == "vlaanderen") {
			return &ConfigError{"region", fmt.Errorf("%q does not belong to country %q", cfg.Region, cfg.Country)}
		}
	}
	if cfg.TimeZone != "" {
		if _, err := time.LoadLocation(cfg.TimeZone); err != nil {
			return &ConfigError{"time_zone", err}
		}
	}
	switch cfg.LiberationDay {
	case "", "lustrum", "yearly", "never":
	default:
		return &ConfigError{"liberation_day", fmt.Errorf("%q: want lustrum, yearly or never", cfg.LiberationDay)}
	}
	for i, p := range cfg.Vacations {
		if p.To.Before(p.From) {
			return &ConfigError{fmt.Sprintf("vacations[%d]", i), fmt.Errorf("to %s is before from %s", p.To, p.From)}
		}
		if p.From.In(time.UTC).AddDate(0, 0, maxVacationDays).Before(p.To.In(time.UTC)) {
			return &ConfigError{fmt.Sprintf("vacations[%d]", i), fmt.Errorf("%s to %s is longer than %d days", p.From, p.To, maxVacationDays)}
		}
	}
	return nil
}

// maxVacationDays bounds one vacation period (a typo in a year must not
// make a year-long vacation).
const maxVacationDays = 100

//go:embed vacations.json
var vacationsJSON []byte

type vacationFile struct {
	Source  map[string]string   `json:"_source"`
	Regions map[string][]Period `json:"regions"`
}

// builtinVacations decodes the embedded table (tested, so it cannot fail).
func builtinVacations() map[string][]Period {
	var f vacationFile
	if err := json.NewDecoder(bytes.NewReader(vacationsJSON)).Decode(&f); err != nil {
		panic("calendar: embedded vacations.json: " + err.Error())
	}
	return f.Regions
}

// BuiltinVacations returns the shipped school vacations of a region
// (2025-2026 and 2026-2027 school years; sources in vacations.json).
func BuiltinVacations(region string) []Period { return builtinVacations()[region] }

// Calendar answers DayType for one location. It is immutable after New and
// safe for concurrent use.
type Calendar struct {
	cfg       Config
	loc       *time.Location
	free      [7]bool
	schoolOff map[attendance.Date]bool
	vacation  map[attendance.Date]string
	extra     map[attendance.Date]bool
	holidays  []*cal.Holiday
	// cache of holidays for the years 1970-2199, computed in New.
	byYear map[int]map[attendance.Date]string
}

// New builds a calendar from cfg.
func New(cfg Config) (*Calendar, error) {
	if cfg.LiberationDay == "" {
		cfg.LiberationDay = "lustrum"
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tz := cfg.TimeZone
	if tz == "" {
		tz = map[string]string{"nl": "Europe/Amsterdam", "be": "Europe/Brussels"}[cfg.Country]
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, &ConfigError{"time_zone", err}
	}
	c := &Calendar{
		cfg:       cfg,
		loc:       loc,
		schoolOff: map[attendance.Date]bool{},
		vacation:  map[attendance.Date]string{},
		extra:     map[attendance.Date]bool{},
		byYear:    map[int]map[attendance.Date]string{},
	}
	for _, wd := range cfg.FreeAfternoons {
		c.free[wd] = true
	}
	for _, d := range cfg.SchoolFreeDays {
		c.schoolOff[d] = true
	}
	for _, d := range cfg.ExtraHolidays {
		c.extra[d] = true
	}
	vac := cfg.Vacations
	if vac == nil && cfg.Region != "" {
		vac = BuiltinVacations(cfg.Region)
	}
	for _, p := range vac {
		for t := p.From.In(time.UTC); !attendance.DateOf(t).Before(p.From) && !p.To.Before(attendance.DateOf(t)); t = t.AddDate(0, 0, 1) {
			c.vacation[attendance.DateOf(t)] = p.Name
		}
	}
	switch cfg.Country {
	case "nl":
		c.holidays = []*cal.Holiday{nl.Nieuwjaar, aa.Easter.Clone(&cal.Holiday{Name: "Eerste Paasdag"}), nl.TweedePaasdag,
			nl.Koningsdag, nl.Hemelvaart, aa.Pentecost.Clone(&cal.Holiday{Name: "Eerste Pinksterdag"}), nl.TweedePinksterDag,
			nl.EersteKerstdag, nl.TweedeKerstdag}
		if cfg.GoodFriday {
			c.holidays = append(c.holidays, nl.GoedeVrijdag)
		}
	case "be":
		c.holidays = append([]*cal.Holiday{aa.Easter.Clone(&cal.Holiday{Name: "Pasen"}),
			aa.Pentecost.Clone(&cal.Holiday{Name: "Pinksteren"})}, be.Holidays...)
	}
	for y := 1970; y < 2200; y++ {
		c.byYear[y] = c.computeYear(y)
	}
	return c, nil
}

// MustNew is New for tests and built-in presets.
func MustNew(cfg Config) *Calendar {
	c, err := New(cfg)
	if err != nil {
		panic(err)
	}
	return c
}

func (c *Calendar) computeYear(y int) map[attendance.Date]string {
	m := map[attendance.Date]string{}
	for _, h := range c.holidays {
		_, obs := h.Calc(y)
		if obs.IsZero() {
			continue
		}
		m[attendance.DateOf(obs)] = h.Name
	}
	if c.cfg.Country == "nl" {
		if c.cfg.LiberationDay == "yearly" || (c.cfg.LiberationDay == "lustrum" && y%5 == 0) {
			m[attendance.Date{Year: y, Month: time.May, Day: 5}] = nl.BevrijdingsDag.Name
		}
	}
	return m
}

// Location is the location's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// Config returns the configuration the calendar was built from.
func (c *Calendar) Config() Config { return c.cfg }

// Holiday reports whether d is a public holiday (or an extra holiday) and its name.
func (c *Calendar) Holiday(d attendance.Date) (string, bool) {
	if c.extra[d] {
		return "extra holiday", true
	}
	m, ok := c.byYear[d.Year]
	if !ok {
		m = c.computeYear(d.Year)
	}
	name, ok := m[d]
	return name, ok
}

// DayType classifies d (see the package doc for the precedence).
func (c *Calendar) DayType(d attendance.Date) DayType {
	if _, ok := c.Holiday(d); ok {
		return PublicHoliday
	}
	wd := d.Weekday()
	if wd == time.Saturday || wd == time.Sunday {
		return Weekend
	}
	if _, ok := c.vacation[d]; ok {
		return Vacation
	}
	if c.schoolOff[d] {
		return SchoolFree
	}
	if c.free[wd] {
		return Wednesday
	}
	return Weekday
}

// Holidays lists the public holidays of a year, sorted, for documentation
// and for `kioskctl` output.
func (c *Calendar) Holidays(year int) []Period {
	var out []Period
	m := c.computeYear(year)
	for d, n := range m {
		out = append(out, Period{Name: n, From: d, To: d})
	}
	for d := range c.extra {
		if d.Year == year {
			out = append(out, Period{Name: "extra holiday", From: d, To: d})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].From.Before(out[j].From) })
	return out
}
