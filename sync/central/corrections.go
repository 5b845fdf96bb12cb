package central

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/rules"
	"github.com/kinderdeur/kiosk/sync/central/sqldb"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// CorrectionStore keeps the corrections of stays of every location: those a
// manager makes here (Make) and those staff made at a kiosk (copied in at
// ingest). Each gets a gap-free cursor per location, which the kiosks follow
// (After) to learn the corrections made elsewhere. The door's own events are
// never changed: reports fold corrections in (stays.Build).
type CorrectionStore struct {
	db    *sqldb.DB
	sites *Sites
	audit *audit.Log
}

// SetAudit makes Make append each correction to the audit trail in its
// transaction (ingest audits kiosk-made ones through SetDoorAudit).
func (s *CorrectionStore) SetAudit(l *audit.Log) { s.audit = l }

// CorrectionRequest is a manager's correction of a child's stay at a
// location; Correction.By names the manager ("user:<id>").
type CorrectionRequest struct {
	LocationID string
	ChildID    string
	Correction attendance.Correction
}

// StoredCorrection is a correction as central holds it.
type StoredCorrection struct {
	Cursor   int64            `json:"cursor"`
	DeviceID string           `json:"device_id"` // "central" or the kiosk that made it
	Event    attendance.Event `json:"event"`
	At       time.Time        `json:"at"` // the earliest time it touches
}

// ErrBadCorrection is wrapped when a correction is refused: unknown child,
// unknown stay, a time that does not fit the stay, no reason.
var ErrBadCorrection = fmt.Errorf("%w: correction", ErrMalformed)

// Make validates a manager's correction against the roster and the stored
// events, and stores it with its audit entry in one transaction. It returns
// the correction event (device "central", seq = its cursor).
func (s *CorrectionStore) Make(ctx context.Context, req CorrectionRequest) (StoredCorrection, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrBadCorrection, fmt.Sprintf(format, a...))
	}
	r, _, err := s.sites.Roster(ctx, req.LocationID)
	if err != nil {
		return StoredCorrection{}, err
	}
	ix, err := roster.NewIndex(&r)
	if err != nil {
		return StoredCorrection{}, fmt.Errorf("central: correction: %w", err)
	}
	if _, ok := ix.Child(req.ChildID); !ok {
		return StoredCorrection{}, bad("child %q is not in the roster of %s", req.ChildID, req.LocationID)
	}
	now := s.db.Now()
	c := req.Correction
	if err := c.Validate(now); err != nil {
		return StoredCorrection{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return StoredCorrection{}, fmt.Errorf("central: correction: %w", err)
	}
	e := rules.CorrectionEvent(req.ChildID, c, attendance.Event{ID: id.String(), DeviceID: protocol.CentralDeviceID,
		Wall: now.UTC(), ClockSynced: true}, ix)
	tx, err := s.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return StoredCorrection{}, fmt.Errorf("central: correction: %w", err)
	}
	defer tx.Rollback()
	if c.Target != "" {
		t, err := s.target(ctx, tx, req.LocationID, c.Target)
		if err != nil {
			return StoredCorrection{}, err
		}
		switch {
		case !t.found:
			return StoredCorrection{}, bad("no stay with event %q at %s", c.Target, req.LocationID)
		case t.childID != req.ChildID:
			return StoredCorrection{}, bad("event %q is another child's", c.Target)
		case c.Kind == attendance.SetCheckOut && t.typ == attendance.ChildCheckIn && !c.CheckOut.After(t.at):
			return StoredCorrection{}, bad("the check-out must be after the check-in (%s)", t.at.Format(time.RFC3339))
		case c.Kind == attendance.SetCheckIn && t.typ == attendance.ChildCheckOut && !c.CheckIn.Before(t.at):
			return StoredCorrection{}, bad("the check-in must be before the check-out (%s)", t.at.Format(time.RFC3339))
		}
	}
	cursor, err := s.record(ctx, tx, req.LocationID, &e, nil)
	if err != nil {
		return StoredCorrection{}, err
	}
	if s.audit != nil {
		if _, err := s.audit.AppendTx(ctx, tx, correctionAudit(e, "")); err != nil {
			return StoredCorrection{}, fmt.Errorf("central: correction: audit: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return StoredCorrection{}, fmt.Errorf("central: correction: commit: %w", err)
	}
	return StoredCorrection{Cursor: cursor, DeviceID: e.DeviceID, Event: e, At: e.Wall}, nil
}

// correctionAudit is the audit entry of a correction: who, when, why, what.
func correctionAudit(e attendance.Event, deviceID string) audit.Record {
	c := e.Correction
	d := map[string]any{"event_id": e.ID, "kind": string(c.Kind), "reason": c.Reason, "location": e.LocationID}
	if c.Target != "" {
		d["target"] = c.Target
	}
	if !c.CheckIn.IsZero() {
		d["check_in"] = c.CheckIn.UTC().Format(time.RFC3339)
	}
	if !c.CheckOut.IsZero() {
		d["check_out"] = c.CheckOut.UTC().Format(time.RFC3339)
	}
	if deviceID != "" {
		d["device"], d["seq"] = deviceID, e.Seq
	}
	return audit.Record{Actor: c.By, Action: audit.StayCorrected, Subject: "child:" + e.ChildID, Details: d, Time: e.Wall}
}

type targetInfo struct {
	found   bool
	typ     attendance.EventType
	childID string
	at      time.Time
}

// target looks up the event a correction names: a check-in or check-out
// stored from a kiosk, or an add_stay correction.
func (s *CorrectionStore) target(ctx context.Context, q sqldb.Querier, locationID, eventID string) (targetInfo, error) {
	var t targetInfo
	var typ, child sql.NullString
	var ns int64
	err := s.db.QueryRow(ctx, q, "SELECT type, child_id, time_ns FROM events WHERE event_id = ? AND location_id = ?", eventID, locationID).Scan(&typ, &child, &ns)
	if err == nil {
		t.typ = attendance.EventType(typ.String)
		if t.typ != attendance.ChildCheckIn && t.typ != attendance.ChildCheckOut {
			return t, nil // not a stay's event
		}
		t.found, t.childID, t.at = true, child.String, time.Unix(0, ns).UTC()
		return t, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("central: correction target: %w", err)
	}
	var kind string
	err = s.db.QueryRow(ctx, q, "SELECT kind, child_id, at_ns FROM corrections WHERE event_id = ? AND location_id = ?", eventID, locationID).Scan(&kind, &child, &ns)
	if errors.Is(err, sql.ErrNoRows) {
		return t, nil
	}
	if err != nil {
		return t, fmt.Errorf("central: correction target: %w", err)
	}
	if attendance.CorrectionKind(kind) == attendance.AddStay {
		t.found, t.typ, t.childID, t.at = true, attendance.CorrectionEvent, child.String, time.Unix(0, ns).UTC()
	}
	return t, nil
}

// record stores correction e of locationID in tx under the location's next
// cursor and returns it. body is the event as the kiosk sent it; nil (made
// here) sets e.Seq to the cursor and marshals e. A correction already held
// (the same event id) keeps its cursor.
func (s *CorrectionStore) record(ctx context.Context, tx *sql.Tx, locationID string, e *attendance.Event, body []byte) (int64, error) {
	var held int64
	err := s.db.QueryRow(ctx, tx, "SELECT cursor_no FROM corrections WHERE event_id = ?", e.ID).Scan(&held)
	if err == nil {
		return held, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("central: correction: %w", err)
	}
	// The location row's lock orders every writer of this location's
	// cursors (SQLite: the immediate transaction already does).
	var loc string
	if err := s.db.QueryRow(ctx, tx, "SELECT id FROM locations WHERE id = ?"+s.db.ForUpdate(), locationID).Scan(&loc); err != nil {
		return 0, fmt.Errorf("central: correction: location %s: %w", locationID, err)
	}
	var cursor int64
	if err := s.db.QueryRow(ctx, tx, "SELECT COALESCE(MAX(cursor_no), 0) + 1 FROM corrections WHERE location_id = ?", locationID).Scan(&cursor); err != nil {
		return 0, fmt.Errorf("central: correction: cursor: %w", err)
	}
	if body == nil {
		e.Seq = cursor
		b, err := json.Marshal(e)
		if err != nil {
			return 0, fmt.Errorf("central: correction: %w", err)
		}
		body = b
	}
	c := e.Correction
	at := time.Time{}
	earliest := func(t time.Time) {
		if !t.IsZero() && (at.IsZero() || t.Before(at)) {
			at = t
		}
	}
	earliest(c.CheckIn)
	earliest(c.CheckOut)
	if c.Target != "" {
		t, err := s.target(ctx, tx, locationID, c.Target)
		if err != nil {
			return 0, err
		}
		if t.found {
			earliest(t.at)
		}
	}
	if at.IsZero() {
		at = e.Wall
	}
	if _, err := s.db.Exec(ctx, tx, `INSERT INTO corrections (location_id, cursor_no, event_id, device_id, child_id, kind, target, at_ns, made_ns, by_whom, reason, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, locationID, cursor, e.ID, e.DeviceID, e.ChildID, string(c.Kind), c.Target,
		at.UnixNano(), e.Wall.UnixNano(), c.By, c.Reason, string(body)); err != nil {
		return 0, fmt.Errorf("central: correction: insert: %w", err)
	}
	return cursor, nil
}

// recordIngested copies the correction events a kiosk's batch stored into
// the corrections, in the ingest transaction.
func (s *CorrectionStore) recordIngested(ctx context.Context, tx *sql.Tx, locationID string, stored []attendance.Event, bodies map[string][]byte) error {
	for i := range stored {
		e := stored[i]
		if e.Type != attendance.CorrectionEvent || e.Correction == nil {
			continue
		}
		if _, err := s.record(ctx, tx, locationID, &e, bodies[e.ID]); err != nil {
			return err
		}
	}
	return nil
}

// After lists up to limit corrections of a location with a cursor above
// after, in cursor order (the device route).
func (s *CorrectionStore) After(ctx context.Context, locationID string, after int64, limit int) (protocol.Corrections, error) {
	out := protocol.Corrections{Corrections: []protocol.CorrectionItem{}, Next: after}
	if limit <= 0 || limit > protocol.MaxCorrectionsPage {
		limit = protocol.MaxCorrectionsPage
	}
	rows, err := s.db.Query(ctx, nil, fmt.Sprintf("SELECT cursor_no, body FROM corrections WHERE location_id = ? AND cursor_no > ? ORDER BY cursor_no LIMIT %d", limit+1),
		locationID, after)
	if err != nil {
		return out, fmt.Errorf("central: corrections: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var it protocol.CorrectionItem
		var body string
		if err := rows.Scan(&it.Cursor, &body); err != nil {
			return out, fmt.Errorf("central: corrections: %w", err)
		}
		if len(out.Corrections) == limit {
			out.More = true
			break
		}
		it.Event = json.RawMessage(body)
		out.Corrections = append(out.Corrections, it)
		out.Next = it.Cursor
	}
	return out, rows.Err()
}

// List returns the corrections of a location that touch times in
// [from, to) (zero: unbounded), oldest made first.
func (s *CorrectionStore) List(ctx context.Context, locationID string, from, to time.Time) ([]StoredCorrection, error) {
	q := "SELECT cursor_no, device_id, at_ns, body FROM corrections WHERE location_id = ?"
	args := []any{locationID}
	if !from.IsZero() {
		q += " AND at_ns >= ?"
		args = append(args, from.UnixNano())
	}
	if !to.IsZero() {
		q += " AND at_ns < ?"
		args = append(args, to.UnixNano())
	}
	rows, err := s.db.Query(ctx, nil, q+" ORDER BY cursor_no", args...)
	if err != nil {
		return nil, fmt.Errorf("central: corrections: %w", err)
	}
	defer rows.Close()
	var out []StoredCorrection
	for rows.Next() {
		var sc StoredCorrection
		var body string
		var ns int64
		if err := rows.Scan(&sc.Cursor, &sc.DeviceID, &ns, &body); err != nil {
			return nil, fmt.Errorf("central: corrections: %w", err)
		}
		if err := jsonUnmarshal(body, &sc.Event); err != nil {
			return nil, fmt.Errorf("central: corrections: decode: %w", err)
		}
		sc.At = time.Unix(0, ns).UTC()
		out = append(out, sc)
	}
	return out, rows.Err()
}

// events returns the correction events of List, for stays.Build.
func (s *CorrectionStore) events(ctx context.Context, locationID string, from, to time.Time) ([]attendance.Event, error) {
	list, err := s.List(ctx, locationID, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]attendance.Event, len(list))
	for i, c := range list {
		out[i] = c.Event
	}
	return out, nil
}

// foldPresence applies corrections to presence folded at central: a stay
// ended or removed drops the child, a check-in set moves since. present
// maps child id to the check-in event id of the stay in force.
func foldPresence(children map[string]*protocol.PresentPerson, present map[string]string, cs []attendance.Event) {
	sort.SliceStable(cs, func(i, j int) bool {
		if c := cs[i].Wall.Compare(cs[j].Wall); c != 0 {
			return c < 0
		}
		return cs[i].ID < cs[j].ID
	})
	for _, e := range cs {
		c := e.Correction
		if c == nil || present[e.ChildID] == "" || present[e.ChildID] != c.Target {
			continue
		}
		switch c.Kind {
		case attendance.SetCheckOut, attendance.RemoveStay:
			delete(children, e.ChildID)
			delete(present, e.ChildID)
		case attendance.SetCheckIn:
			if p := children[e.ChildID]; p != nil && !c.CheckIn.IsZero() {
				p.Since = c.CheckIn
			}
		}
	}
}
