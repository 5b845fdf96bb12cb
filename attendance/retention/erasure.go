package retention

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// ErasureRequest is a data subject's (or their parent's) request to erase
// their data (AVG art. 17).
type ErasureRequest struct {
	ID       string    `json:"id"`
	Subject  string    `json:"subject"`
	Received time.Time `json:"received"`
}

// Deadline is when the request must be answered: one month after receipt
// (AVG art. 12(3)).
func (r ErasureRequest) Deadline() time.Time { return r.Received.AddDate(0, 1, 0) }

// ErasurePlan says what an erasure request does to each record.
type ErasurePlan struct {
	Request  ErasureRequest `json:"request"`
	Deadline time.Time      `json:"deadline"`
	// Now: no law requires these (a maximum term, or a minimum term already
	// over): deleted at once.
	Now []Item `json:"now"`
	// Scheduled: a law requires keeping these; Due is when their term ends
	// (counted from the request when the term had not started) and the
	// regular retention run then disposes of them.
	Scheduled []Item `json:"scheduled"`
	// Held: under a legal hold; nothing happens while it lasts.
	Held []Item `json:"held"`
}

// ErrNoSubject is returned for a request without a subject or id.
var ErrNoSubject = errors.New("retention: erasure request needs an id and a subject")

// LogErasureRequest records that a request arrived, with its deadline, in
// the audit trail. Call it when the request is registered.
func (e *Engine) LogErasureRequest(ctx context.Context, req ErasureRequest) {
	e.audit(ctx, "erasure_requested", req.Subject, map[string]any{
		"request_id": req.ID, "received": req.Received.UTC().Format(time.RFC3339),
		"deadline": req.Deadline().UTC().Format(time.RFC3339)})
}

// PlanErasure finds the subject's records in every registered store and
// decides what goes now and what is scheduled. It changes nothing.
func (e *Engine) PlanErasure(ctx context.Context, req ErasureRequest, now time.Time) (ErasurePlan, error) {
	if req.ID == "" || req.Subject == "" {
		return ErasurePlan{}, ErrNoSubject
	}
	plan := ErasurePlan{Request: req, Deadline: req.Deadline()}
	for _, c := range slices.Sorted(maps.Keys(e.stores)) {
		recs, err := e.stores[c].BySubject(ctx, c, req.Subject)
		if err != nil {
			return ErasurePlan{}, fmt.Errorf("retention: erasure: %s records of %s: %w", c, req.Subject, err)
		}
		p := e.cfg.Policies[c]
		for _, r := range recs {
			if r.Category != c || r.Subject != req.Subject {
				return ErasurePlan{}, fmt.Errorf("retention: erasure: store for %s returned record %s of %q/%q", c, r.ID, r.Category, r.Subject)
			}
			anchor := r.Anchor
			if anchor.IsZero() {
				anchor = req.Received
			}
			it := Item{Record: r, Due: p.term(r.Extended).AddTo(anchor), Disposal: Delete}
			if reason, held := e.hold(r, now); held {
				it.Hold = reason
				plan.Held = append(plan.Held, it)
				continue
			}
			if p.Bound == Maximum || !now.Before(it.Due) {
				it.Due = now
				plan.Now = append(plan.Now, it)
				continue
			}
			// Kept by law, then disposed of as the category says.
			it.Disposal = p.Disposal
			plan.Scheduled = append(plan.Scheduled, it)
		}
	}
	sortItems(plan.Now)
	sortItems(plan.Scheduled)
	sortItems(plan.Held)
	return plan, nil
}

// ErasureResult counts what ApplyErasure did.
type ErasureResult struct {
	Deleted   int64 `json:"deleted"`
	Scheduled int   `json:"scheduled"`
	Held      int   `json:"held"`
}

// ApplyErasure deletes the plan's Now items, starts the term of scheduled
// records that had none (so the regular run disposes of them on time),
// and records an "erasure" audit entry with the request, its deadline and
// the scheduled dates.
func (e *Engine) ApplyErasure(ctx context.Context, plan ErasurePlan) (ErasureResult, error) {
	res := ErasureResult{Scheduled: len(plan.Scheduled), Held: len(plan.Held)}
	var errs error
	now := map[Category][]string{}
	for _, it := range plan.Now {
		now[it.Category] = append(now[it.Category], it.ID)
	}
	for _, c := range slices.Sorted(maps.Keys(now)) {
		if e.stores[c] == nil {
			errs = errors.Join(errs, fmt.Errorf("retention: erasure: no store for %s", c))
			continue
		}
		n, err := e.stores[c].Delete(ctx, c, now[c])
		res.Deleted += n
		if err != nil {
			errs = errors.Join(errs, fmt.Errorf("retention: erasure: delete %s: %w", c, err))
		}
	}
	unanchored := map[Category][]string{}
	schedule := map[string]string{}
	for _, it := range plan.Scheduled {
		if it.Anchor.IsZero() {
			unanchored[it.Category] = append(unanchored[it.Category], it.ID)
		}
		if d := it.Due.UTC().Format(time.DateOnly); schedule[string(it.Category)] < d {
			schedule[string(it.Category)] = d // the last date per category
		}
	}
	for _, c := range slices.Sorted(maps.Keys(unanchored)) {
		if e.stores[c] == nil {
			errs = errors.Join(errs, fmt.Errorf("retention: erasure: no store for %s", c))
			continue
		}
		if err := e.stores[c].SetAnchor(ctx, c, unanchored[c], plan.Request.Received); err != nil {
			errs = errors.Join(errs, fmt.Errorf("retention: erasure: schedule %s: %w", c, err))
		}
	}
	details := map[string]any{
		"request_id": plan.Request.ID, "deadline": plan.Deadline.UTC().Format(time.RFC3339),
		"deleted": res.Deleted, "scheduled": schedule, "held": res.Held,
	}
	if errs != nil {
		details["error"] = errs.Error()
	}
	e.audit(ctx, "erasure", plan.Request.Subject, details)
	return res, errs
}
