package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kinderdeur/kiosk/attendance/ratio"
)

func init() {
	commands["ratio"] = command{summary: "staff required for a group under a ratio policy (offline planning)", run: runRatio}
}

// maxAgesListed bounds -ages and -own: no group is this large.
const maxAgesListed = 1000

func runRatio(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ratio", stderr)
	policyName := fs.String("policy", "nl-kdv", "ratio `policy`: a name, a versioned name or a custom 1:N (listed above)")
	agesFlag := fs.String("ages", "", "comma-separated `ages` in whole years on the day of the children in the group, e.g. 0,0,2,3,3 (required; \"\" for none)")
	ownFlag := fs.String("own", "", "nl-gastouder only: comma-separated `ages` of the childminder's own children present, in addition to -ages\n(own children under 10 count towards the limits; from 10 they do not)")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, `usage: kioskctl ratio [-policy NAME] -ages AGES [-own AGES]

Prints the staff required for a group of children, one number on the last
line of stdout, with the reasoning on the lines before it. For nl-gastouder
it also prints whether an achterwacht (a backup adult reachable within 15
minutes) must be designated. A group the policy does not permit exits 1 with
the reason; a bad invocation exits 2.

policies: %s
versions: %s
("1:N" is a custom ratio, N from 1 to 100: one staff member per N children.)

examples:
  kioskctl ratio -policy nl-kdv -ages 0,0,2,3,3
  kioskctl ratio -policy nl-gastouder -ages 1,4,7 -own 3,11

flags:
`, strings.Join(ratio.Names(), ", "), strings.Join(ratio.Versions(), ", "))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()} // a bad flag is a bad invocation: exit 2
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q (ages go in -ages, comma-separated)", fs.Arg(0))}
	}
	agesSet := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "ages" {
			agesSet = true
		}
	})
	if !agesSet {
		return usageError{"missing -ages (e.g. -ages 0,0,2,3,3)"}
	}
	policy, err := ratio.Lookup(*policyName)
	if err != nil {
		return usageError{"-policy: " + strings.TrimPrefix(err.Error(), "ratio: ")}
	}
	ages, err := parseAges(*agesFlag)
	if err != nil {
		return usageError{"-ages: " + err.Error()}
	}
	ownAges, err := parseAges(*ownFlag)
	if err != nil {
		return usageError{"-own: " + err.Error()}
	}
	if len(ownAges) > 0 && policy.Name() != "nl-gastouder" {
		return usageError{fmt.Sprintf("-own applies only to nl-gastouder, not %s", policy.Name())}
	}

	group := make([]ratio.Child, 0, len(ages)+len(ownAges))
	for _, a := range ages {
		group = append(group, ratio.Child{Age: a})
	}
	for _, a := range ownAges {
		group = append(group, ratio.Child{Age: a, Own: true})
	}
	summary := fmt.Sprintf("policy %s: %d children", policy.Version(), len(ages))
	if len(ages) > 0 {
		summary += " aged " + joinInts(ages)
	}
	if len(ownAges) > 0 {
		summary += fmt.Sprintf(" and %d own children aged %s", len(ownAges), joinInts(ownAges))
	}
	fmt.Fprintln(stdout, summary)

	req, err := policy.Required(group)
	if npe, ok := errors.AsType[*ratio.NotPermittedError](err); ok {
		return fmt.Errorf("%s: group not permitted: %s", npe.Policy, npe.Reason)
	}
	if err != nil {
		return err
	}
	for _, n := range req.Notes {
		fmt.Fprintln(stdout, n)
	}
	if policy.Name() == "nl-gastouder" {
		if req.Backup {
			fmt.Fprintln(stdout, "achterwacht: required (a backup adult reachable within 15 minutes)")
		} else {
			fmt.Fprintln(stdout, "achterwacht: not required")
		}
	}
	fmt.Fprintln(stdout, req.Staff)
	return nil
}

// parseAges parses a comma-separated list of ages in whole years, e.g.
// "0,0,2,3,3" or "0, 2"; the empty string is an empty list. Each age is a
// plain decimal number from 0 to 99.
func parseAges(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) > maxAgesListed {
		return nil, fmt.Errorf("%d ages: at most %d", len(parts), maxAgesListed)
	}
	ages := make([]int, 0, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, fmt.Errorf("age %d is empty (want comma-separated whole years, e.g. 0,0,2,3,3)", i+1)
		}
		if len(p) > 2 || strings.TrimLeft(p, "0123456789") != "" {
			return nil, fmt.Errorf("age %d %q: want a whole number of years from 0 to 99", i+1, p)
		}
		a, _ := strconv.Atoi(p)
		ages = append(ages, a)
	}
	return ages, nil
}

func joinInts(xs []int) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.Itoa(x)
	}
	return strings.Join(parts, ",")
}
