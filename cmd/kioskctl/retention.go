package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/kinderdeur/kiosk/attendance/retention"
)

func init() {
	commands["retention"] = command{summary: "show retention policies or dry-run a retention plan over records", run: runRetention}
}

const retentionUsage = `usage:
  kioskctl retention -policies [-config FILE]
      print the effective retention policy per data category
  kioskctl retention -records FILE -now YYYY-MM-DD [-config FILE] [-json]
      dry run: which records would be deleted, anonymised or held at that date

-config is a JSON retention config (default: the nl profile), e.g.
  {"profile":"nl","categories":{"kiosk_events":{"term":"8w"}},
   "holds":[{"subject":"child:C7","reason":"GGD inquiry","until":"2027-01-01"}]}
-records is a JSON array of records, e.g.
  [{"id":"ev1","category":"kiosk_events","subject":"child:C1","anchor":"2026-05-04"}]
  (anchor: when the term starts, YYYY-MM-DD or RFC 3339; omit when not started;
   "extended": true selects the extended term: consent or labour dispute)`

func runRetention(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("retention", stderr)
	cfgPath := fs.String("config", "", "retention config JSON (default: nl profile)")
	policies := fs.Bool("policies", false, "print the effective policies")
	recPath := fs.String("records", "", "JSON array of records to plan over")
	nowFlag := fs.String("now", "", "plan date YYYY-MM-DD")
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	fs.Usage = func() { fmt.Fprintln(stderr, retentionUsage) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	cfg := retention.DefaultConfig()
	if *cfgPath != "" {
		f, err := os.Open(*cfgPath)
		if err != nil {
			return err
		}
		cfg, err = retention.ParseConfig(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", *cfgPath, err)
		}
	}
	if *policies {
		return printPolicies(stdout, cfg)
	}
	if *recPath == "" || *nowFlag == "" {
		return usageError{"need -policies, or -records and -now\n" + retentionUsage}
	}
	now, err := time.Parse(time.DateOnly, *nowFlag)
	if err != nil {
		return usageError{fmt.Sprintf("-now %q: want YYYY-MM-DD", *nowFlag)}
	}
	b, err := os.ReadFile(*recPath)
	if err != nil {
		return err
	}
	recs, err := parseRecords(b)
	if err != nil {
		return fmt.Errorf("%s: %w", *recPath, err)
	}
	e, err := retention.NewEngine(cfg)
	if err != nil {
		return err
	}
	rep, err := e.Plan(now, recs)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "retention plan at %s (profile %s, dry run): %d due, %d held, %d kept\n",
		now.Format(time.DateOnly), cfg.Profile, len(rep.Due), len(rep.Held), rep.Kept)
	tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ACTION\tCATEGORY\tID\tSUBJECT\tTERM ENDED\tHOLD")
	for _, it := range rep.Due {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", it.Disposal, it.Category, it.ID, it.Subject, it.Due.Format(time.DateOnly))
	}
	for _, it := range rep.Held {
		fmt.Fprintf(tw, "held\t%s\t%s\t%s\t%s\t%s\n", it.Category, it.ID, it.Subject, it.Due.Format(time.DateOnly), it.Hold)
	}
	return tw.Flush()
}

// parseRecords reads a JSON array of records whose anchor may be a date
// or an RFC 3339 time. Unknown keys are errors.
func parseRecords(b []byte) ([]retention.Record, error) {
	var raw []struct {
		ID       string `json:"id"`
		Category string `json:"category"`
		Subject  string `json:"subject"`
		Anchor   string `json:"anchor"`
		Extended bool   `json:"extended"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("records: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("records: trailing data after the array")
	}
	out := make([]retention.Record, 0, len(raw))
	for i, r := range raw {
		if r.ID == "" {
			return nil, fmt.Errorf("records[%d].id: missing", i)
		}
		rec := retention.Record{ID: r.ID, Category: retention.Category(r.Category), Subject: r.Subject, Extended: r.Extended}
		if r.Anchor != "" {
			t, err := time.Parse(time.DateOnly, r.Anchor)
			if err != nil {
				t, err = time.Parse(time.RFC3339, r.Anchor)
			}
			if err != nil {
				return nil, fmt.Errorf("records[%d].anchor: %q: want YYYY-MM-DD or RFC 3339", i, r.Anchor)
			}
			rec.Anchor = t
		}
		out = append(out, rec)
	}
	return out, nil
}

func printPolicies(w io.Writer, cfg retention.Config) error {
	fmt.Fprintf(w, "retention profile %s\n", cfg.Profile)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "CATEGORY\tTERM\tEXTENDED\tBOUND\tTHEN\tFROM\tBASIS")
	for _, c := range slices.Sorted(maps.Keys(cfg.Policies)) {
		p := cfg.Policies[c]
		ext := "-"
		if !p.ExtendedTerm.IsZero() {
			ext = p.ExtendedTerm.String()
		}
		basis := p.Basis
		if p.Unconfirmed {
			basis = "[configurable default, unconfirmed] " + basis
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c, p.Term, ext, p.Bound, p.Disposal, p.Anchor, basis)
	}
	for _, h := range cfg.Holds {
		until := "released by hand"
		if !h.Until.IsZero() {
			until = "until " + h.Until.String()
		}
		fmt.Fprintf(tw, "HOLD\tsubject=%s\tcategory=%s\t%s\t%s\t\t\n", h.Subject, h.Category, until, h.Reason)
	}
	return tw.Flush()
}
