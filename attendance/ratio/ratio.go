// Package ratio holds the staff-to-child ratio policies the door rules apply
// (Dutch dagopvang, BSO and gastouderopvang, Flemish group and family care, a custom
// 1:N) as versioned data, and the three-hour rule (3-uursregeling) that says
// when and for how long a group may be staffed below its ratio.
//
// A Policy turns the children present in a group (ages in whole years on the
// day) into the staff required. A group that a policy does not permit at all
// (too many children, too many babies, an age the policy does not cover) is a
// *NotPermittedError with a plain-English reason, never a number.
//
// Policies are named "name/version" (for example "nl-kdv/2019"); the bare
// name selects the current version, so a newer rule set (the 2024 BSO
// change, still unconfirmed) can sit beside an older one and events can
// record exactly which rules decided them (Policy.Version).
//
// The package is pure: no clock, no I/O. The three-hour rule takes its time
// from a timeline (EvaluateDay) or an injected clock (Tracker).
package ratio

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Child is one child present in a group, as a policy sees it.
type Child struct {
	// Age in whole years on the day (attendance.Date.AgeOn).
	Age int
	// Own marks the childminder's own child. Only nl-gastouder looks at it
	// (own children under 10 count towards its limits); other policies count
	// every child alike.
	Own bool
}

// Requirement is what a policy asks of a group.
type Requirement struct {
	// Staff is the number of qualified staff (pedagogisch medewerkers,
	// the gastouder) that must be present. Zero for an empty group.
	Staff int
	// Backup reports that an achterwacht (a backup adult reachable within
	// 15 minutes) must be designated (nl-gastouder from 4 children).
	Backup bool
	// Notes explain the figure step by step, in English, for the staff
	// screen and the planning tool.
	Notes []string
}

// Policy is one versioned ratio rule set.
type Policy interface {
	// Name is the name Lookup accepts for the current version, e.g. "nl-kdv".
	Name() string
	// Version names the exact rule set, e.g. "nl-kdv/2019". Record it with
	// every decision (attendance.Event.PolicyVersion).
	Version() string
	// Required returns the staff the group needs, or a *NotPermittedError.
	Required(children []Child) (Requirement, error)
}

// NotPermittedError reports a group the policy does not permit with any
// number of staff. Use errors.As to get the reason.
type NotPermittedError struct {
	Policy string // the policy version, e.g. "nl-kdv/2019"
	Reason string // plain English, e.g. "9 children aged 0: at most 8 with 4 staff"
	// Err is ErrAgeOutOfRange when a child's age is outside the policy,
	// ErrGroupTooLarge otherwise.
	Err error
}

func (e *NotPermittedError) Error() string {
	return fmt.Sprintf("ratio: %s: group not permitted: %s", e.Policy, e.Reason)
}

func (e *NotPermittedError) Unwrap() error { return e.Err }

var (
	// ErrGroupTooLarge: the group has too many children (of some age) for
	// any number of staff the policy's table has a column for.
	ErrGroupTooLarge = errors.New("group too large")
	// ErrAgeOutOfRange: a child's age is outside the ages the policy covers
	// (a 4-year-old under nl-kdv, a 3-year-old under nl-bso, a negative age).
	ErrAgeOutOfRange = errors.New("age outside the policy's range")
	// ErrUnknownPolicy is returned by Lookup for a name it does not know.
	ErrUnknownPolicy = errors.New("unknown ratio policy")
)

func notPermitted(version string, err error, format string, args ...any) error {
	return &NotPermittedError{Policy: version, Reason: fmt.Sprintf(format, args...), Err: err}
}

// registry maps every versioned name to its policy. The bare names map to
// the current versions in current.
var registry = map[string]Policy{
	"nl-kdv/2019":        nlKDV{},
	"nl-bso/2019":        nlBSO{},
	"nl-gastouder/2019":  nlGastouder{},
	"be-vl-kdv/2014":     flat{name: "be-vl-kdv", version: "be-vl-kdv/2014", per: 8, max: 18, maxAge: 3, what: "living group"},
	"be-vl-kdv-1:9/2014": flat{name: "be-vl-kdv-1:9", version: "be-vl-kdv-1:9/2014", per: 9, max: 18, maxAge: 3, what: "living group"},
	// Flemish family care (gezinsopvang): one childcarer, at most 8
	// children present at once (DOMAIN.md). The ages 0 to 12 (family care
	// also takes school children before and after school) are unconfirmed.
	"be-vl-gezinsopvang/2014": flat{name: "be-vl-gezinsopvang", version: "be-vl-gezinsopvang/2014", per: 8, max: 8, maxAge: 12,
		what: "family care home at once"},
}

// current selects the version a bare name means. To add a rule set (e.g. the
// 2024 BSO change once confirmed), add "nl-bso/2024" to registry and point
// current at it only when it takes effect; "nl-bso/2019" stays available.
var current = map[string]string{
	"nl-kdv":             "nl-kdv/2019",
	"nl-bso":             "nl-bso/2019",
	"nl-gastouder":       "nl-gastouder/2019",
	"be-vl-kdv":          "be-vl-kdv/2014",
	"be-vl-kdv-1:9":      "be-vl-kdv-1:9/2014",
	"be-vl-gezinsopvang": "be-vl-gezinsopvang/2014",
}

// maxCustomN bounds the custom 1:N policy to sane values.
const maxCustomN = 100

// Names returns the names Lookup accepts without a version, sorted, with
// "1:N" standing for the custom ratios "1:1" to "1:100".
func Names() []string {
	names := make([]string, 0, len(current)+1)
	for n := range current {
		names = append(names, n)
	}
	names = append(names, "1:N")
	slices.Sort(names)
	return names
}

// Versions returns every versioned name Lookup accepts, sorted.
func Versions() []string {
	vs := make([]string, 0, len(registry))
	for v := range registry {
		vs = append(vs, v)
	}
	slices.Sort(vs)
	return vs
}

// Lookup returns the policy for a bare name ("nl-kdv": the current
// version), a versioned name ("nl-kdv/2019") or a custom ratio "1:N" (one
// staff member per N children, any age, no group maximum; N from 1 to 100).
// An unknown name returns an error wrapping ErrUnknownPolicy that lists the
// valid names.
func Lookup(name string) (Policy, error) {
	if v, ok := current[name]; ok {
		name = v
	}
	if p, ok := registry[name]; ok {
		return p, nil
	}
	if rest, ok := strings.CutPrefix(name, "1:"); ok {
		n, err := strconv.Atoi(rest)
		if err == nil && n >= 1 && n <= maxCustomN && strconv.Itoa(n) == rest {
			return Custom(n)
		}
		return nil, fmt.Errorf("ratio: policy %q: custom ratio must be 1:N with N from 1 to %d: %w", name, maxCustomN, ErrUnknownPolicy)
	}
	return nil, fmt.Errorf("ratio: policy %q: %w (valid: %s; versions: %s)",
		name, ErrUnknownPolicy, strings.Join(Names(), ", "), strings.Join(Versions(), ", "))
}

// Custom returns the custom policy "1:n": ceil(children/n) staff, any age,
// no group maximum.
func Custom(n int) (Policy, error) {
	if n < 1 || n > maxCustomN {
		return nil, fmt.Errorf("ratio: custom ratio 1:%d: N must be from 1 to %d: %w", n, maxCustomN, ErrUnknownPolicy)
	}
	name := "1:" + strconv.Itoa(n)
	return flat{name: name, version: name, per: n, max: 0, maxAge: -1, what: "group"}, nil
}

// flat is a one-number ratio: ceil(children/per) staff, at most max children
// (0: no maximum), ages 0..maxAge (maxAge < 0: any age).
type flat struct {
	name, version string
	per, max      int
	maxAge        int
	what          string // "living group", "group": for reasons
}

func (f flat) Name() string    { return f.name }
func (f flat) Version() string { return f.version }

func (f flat) Required(children []Child) (Requirement, error) {
	for _, c := range children {
		if c.Age < 0 {
			return Requirement{}, notPermitted(f.version, ErrAgeOutOfRange, "negative age %d", c.Age)
		}
		if f.maxAge >= 0 && c.Age > f.maxAge {
			return Requirement{}, notPermitted(f.version, ErrAgeOutOfRange,
				"a child aged %d: %s covers ages 0 to %d", c.Age, f.name, f.maxAge)
		}
	}
	n := len(children)
	if f.max > 0 && n > f.max {
		return Requirement{}, notPermitted(f.version, ErrGroupTooLarge,
			"%d children: at most %d per %s", n, f.max, f.what)
	}
	staff := ceilDiv(n, f.per)
	return Requirement{
		Staff: staff,
		Notes: []string{fmt.Sprintf("%d children at 1:%d: %d staff", n, f.per, staff)},
	}, nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
