package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"time"
)

// Record is one piece of personal data as the engine sees it.
type Record struct {
	ID       string   `json:"id"`
	Category Category `json:"category"`
	// Subject is whose data it is ("child:C7", "guardian:G3", "staff:S2"):
	// holds and erasure requests match on it.
	Subject string `json:"subject,omitempty"`
	// Anchor is when the term starts running (care ended, synced to
	// central, employment ended). Zero: not started, the record is kept.
	Anchor time.Time `json:"anchor,omitzero"`
	// Extended selects the policy's extended term (consent, labour dispute).
	Extended bool `json:"extended,omitempty"`
}

// Store is what the engine needs of a store holding one or more
// categories. ids are Record.IDs; a Store may be asked for a category it
// was registered for only.
type Store interface {
	// Candidates returns the records of the category whose anchor is
	// before anchorBefore (a superset of what is due is fine).
	Candidates(ctx context.Context, c Category, anchorBefore time.Time) ([]Record, error)
	// BySubject returns all records of the category about subject.
	BySubject(ctx context.Context, c Category, subject string) ([]Record, error)
	// SetAnchor starts the term of records whose anchor is unset (used by
	// erasure: the relationship ends with the request).
	SetAnchor(ctx context.Context, c Category, ids []string, anchor time.Time) error
	// Delete removes the records; Anonymise strips what identifies a person
	// and keeps the rest. Both return the number of records changed.
	Delete(ctx context.Context, c Category, ids []string) (int64, error)
	Anonymise(ctx context.Context, c Category, ids []string) (int64, error)
}

// AuditFunc records what the engine did; (*audit.Log).Hook fits.
type AuditFunc func(ctx context.Context, action, actor, subject string, details map[string]any) error

// Engine plans and applies retention over registered stores.
type Engine struct {
	cfg    Config
	stores map[Category]Store
	Audit  AuditFunc    // nil: not audited
	Log    *slog.Logger // nil: slog.Default()
	Actor  string       // audit actor, default "system:retention"
}

// NewEngine returns an engine for cfg (validated).
func NewEngine(cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Engine{cfg: cfg, stores: map[Category]Store{}}, nil
}

// Config returns the engine's configuration.
func (e *Engine) Config() Config { return e.cfg }

// Register makes s responsible for category c.
func (e *Engine) Register(c Category, s Store) error {
	if !e.cfg.has(c) {
		return fmt.Errorf("retention: register: category %q is not in profile %s", c, e.cfg.Profile)
	}
	e.stores[c] = s
	return nil
}

// Item is one record in a plan.
type Item struct {
	Record
	Due      time.Time `json:"due,omitzero"`
	Disposal Disposal  `json:"disposal"`
	Hold     string    `json:"hold,omitempty"` // reason, when held
}

// Report is a dry run: what would go now, and what a hold keeps.
type Report struct {
	Now  time.Time `json:"now"`
	Due  []Item    `json:"due"`  // term ended: to be deleted or anonymised
	Held []Item    `json:"held"` // term ended but under a legal hold
	Kept int       `json:"kept"` // looked at, term still running
}

// ErrUnknownCategory marks a record of a category not in the profile.
var ErrUnknownCategory = errors.New("retention: unknown category")

// due returns when rec's term ends (zero: not started).
func (e *Engine) due(rec Record) (time.Time, Policy, error) {
	p, ok := e.cfg.Policies[rec.Category]
	if !ok {
		return time.Time{}, Policy{}, fmt.Errorf("%w %q (record %s)", ErrUnknownCategory, rec.Category, rec.ID)
	}
	if rec.Anchor.IsZero() {
		return time.Time{}, p, nil
	}
	return p.term(rec.Extended).AddTo(rec.Anchor), p, nil
}

func (e *Engine) hold(rec Record, now time.Time) (string, bool) {
	for _, h := range e.cfg.Holds {
		if h.active(rec, now) {
			return h.Reason, true
		}
	}
	return "", false
}

// Plan decides, for the given records, what must go at now. It changes
// nothing.
func (e *Engine) Plan(now time.Time, recs []Record) (Report, error) {
	rep := Report{Now: now}
	for _, r := range recs {
		due, p, err := e.due(r)
		if err != nil {
			return Report{}, err
		}
		if due.IsZero() || now.Before(due) {
			rep.Kept++
			continue
		}
		it := Item{Record: r, Due: due, Disposal: p.Disposal}
		if reason, held := e.hold(r, now); held {
			it.Hold = reason
			rep.Held = append(rep.Held, it)
			continue
		}
		rep.Due = append(rep.Due, it)
	}
	sortItems(rep.Due)
	sortItems(rep.Held)
	return rep, nil
}

func sortItems(items []Item) {
	sort.Slice(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if a.Category != b.Category {
			return a.Category < b.Category
		}
		if !a.Due.Equal(b.Due) {
			return a.Due.Before(b.Due)
		}
		return a.ID < b.ID
	})
}

// PlanStores asks every registered store for candidates and plans them.
func (e *Engine) PlanStores(ctx context.Context, now time.Time) (Report, error) {
	var all []Record
	for _, c := range slices.Sorted(maps.Keys(e.stores)) {
		// One day of slack: the engine filters exactly, the store may
		// compare coarsely.
		cutoff := e.cfg.Policies[c].shortest().SubFrom(now).AddDate(0, 0, 1)
		recs, err := e.stores[c].Candidates(ctx, c, cutoff)
		if err != nil {
			return Report{}, fmt.Errorf("retention: candidates %s: %w", c, err)
		}
		for _, r := range recs {
			if r.Category != c {
				return Report{}, fmt.Errorf("retention: store for %s returned a %q record", c, r.Category)
			}
		}
		all = append(all, recs...)
	}
	return e.Plan(now, all)
}

// Result counts what Apply changed per category.
type Result struct {
	Deleted    map[Category]int64 `json:"deleted"`
	Anonymised map[Category]int64 `json:"anonymised"`
	Held       int                `json:"held"`
}

// Apply carries out a plan: the Due items are deleted or anonymised by
// their category's store. Held items are left alone. One audit entry
// (retention_run) records the counts.
func (e *Engine) Apply(ctx context.Context, rep Report) (Result, error) {
	res := Result{Deleted: map[Category]int64{}, Anonymised: map[Category]int64{}, Held: len(rep.Held)}
	groups := map[Category]map[Disposal][]string{}
	for _, it := range rep.Due {
		if it.Hold != "" {
			continue
		}
		if groups[it.Category] == nil {
			groups[it.Category] = map[Disposal][]string{}
		}
		groups[it.Category][it.Disposal] = append(groups[it.Category][it.Disposal], it.ID)
	}
	var firstErr error
	for _, c := range slices.Sorted(maps.Keys(groups)) {
		s, ok := e.stores[c]
		if !ok {
			firstErr = errors.Join(firstErr, fmt.Errorf("retention: no store registered for %s", c))
			continue
		}
		if ids := groups[c][Delete]; len(ids) > 0 {
			n, err := s.Delete(ctx, c, ids)
			res.Deleted[c] += n
			if err != nil {
				firstErr = errors.Join(firstErr, fmt.Errorf("retention: delete %s: %w", c, err))
			}
		}
		if ids := groups[c][Anonymise]; len(ids) > 0 {
			n, err := s.Anonymise(ctx, c, ids)
			res.Anonymised[c] += n
			if err != nil {
				firstErr = errors.Join(firstErr, fmt.Errorf("retention: anonymise %s: %w", c, err))
			}
		}
	}
	details := map[string]any{"deleted": res.Deleted, "anonymised": res.Anonymised, "held": res.Held,
		"now": rep.Now.UTC().Format(time.RFC3339), "profile": e.cfg.Profile}
	if firstErr != nil {
		details["error"] = firstErr.Error()
	}
	e.audit(ctx, "retention_run", "", details)
	return res, firstErr
}

// Run plans over the stores and applies the plan.
func (e *Engine) Run(ctx context.Context, now time.Time) (Result, error) {
	rep, err := e.PlanStores(ctx, now)
	if err != nil {
		return Result{}, err
	}
	return e.Apply(ctx, rep)
}

// RunEvery runs retention at once and then every interval until ctx ends;
// the caller owns the goroutine it runs in. Failed runs are logged and
// retried at the next tick. It returns nil when ctx is cancelled.
func (e *Engine) RunEvery(ctx context.Context, interval time.Duration, now func() time.Time) error {
	if now == nil {
		now = time.Now
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if res, err := e.Run(ctx, now()); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			e.log().Error("retention run failed", "err", err)
		} else {
			e.log().Info("retention run", "deleted", res.Deleted, "anonymised", res.Anonymised, "held", res.Held)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (e *Engine) log() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.Default()
}

func (e *Engine) audit(ctx context.Context, action, subject string, details map[string]any) {
	if e.Audit == nil {
		return
	}
	actor := e.Actor
	if actor == "" {
		actor = "system:retention"
	}
	if err := e.Audit(ctx, action, actor, subject, details); err != nil {
		e.log().Error("retention audit failed", "action", action, "err", err)
	}
}
