package central

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/retention"
	"github.com/kinderdeur/kiosk/attendance/roster"
)

// subjectJob is which part of a subject's data a subjectStore disposes of.
type subjectJob int

const (
	jobAdministration subjectJob = iota // care period of a child or person
	jobContact                          // contact details and roster entry of a child or person
	jobHealth                           // staff alert of a child
	jobStaff                            // everything about a staff member
	jobApplicant                        // care period and contact details of an applicant
)

// subjectStore is one retention category over central's per-subject data.
// Record id: "location/subject"; anchor: the end of care (see anchors).
type subjectStore struct {
	s   *Subjects
	c   retention.Category
	job subjectJob
}

// retentionState is what one look at the database says about every
// subject: where their care ended and which data they still have.
type retentionState struct {
	periods  map[string]periodRow      // loc/subject
	history  map[string]rosterHistory  // loc
	contacts map[string]bool           // loc/subject
	lastSeen map[string]int64          // loc/subject: last event naming them as child or staff
	keys     map[string]retentionEntry // every loc/subject known
}

type periodRow struct {
	ended    sql.NullInt64
	source   string
	extended bool
}

type retentionEntry struct{ loc, subject, kind string }

// state brings the roster-derived care periods up to date (a subject that
// left the roster ended care when the first version without it was
// published; one that is back has no end) and reads everything the
// stores decide on. Contract ends set by PutCarePeriod are never moved.
func (s *Subjects) state(ctx context.Context) (*retentionState, error) {
	st := &retentionState{periods: map[string]periodRow{}, history: map[string]rosterHistory{},
		contacts: map[string]bool{}, lastSeen: map[string]int64{}, keys: map[string]retentionEntry{}}
	add := func(loc, subject string) string {
		k := loc + "/" + subject
		if _, ok := st.keys[k]; !ok {
			kind, _, _ := strings.Cut(subject, ":")
			st.keys[k] = retentionEntry{loc: loc, subject: subject, kind: kind}
		}
		return k
	}
	if err := s.readPeriods(ctx, st, add); err != nil {
		return nil, err
	}
	locs, err := s.sites.Locations(ctx)
	if err != nil {
		return nil, err
	}
	for _, l := range locs {
		h, err := s.rosterHistory(ctx, l.ID)
		if err != nil {
			return nil, err
		}
		st.history[l.ID] = h
		for _, sub := range slices.Sorted(maps.Keys(h.anywhere)) {
			k := add(l.ID, sub)
			p, have := st.periods[k]
			left, gone := h.leftAt[sub]
			switch {
			case !have:
				var ended sql.NullInt64
				if gone {
					ended = sql.NullInt64{Int64: left, Valid: true}
				}
				if _, err := s.db.Exec(ctx, nil, `INSERT INTO care_periods (subject, location_id, started_ns, ended_ns, end_source) VALUES (?, ?, ?, ?, ?)
					ON CONFLICT (subject, location_id) DO NOTHING`, sub, l.ID, h.first[sub], ended, endRoster); err != nil {
					return nil, fmt.Errorf("central: care periods: %w", err)
				}
				st.periods[k] = periodRow{ended: ended, source: endRoster}
			case p.source == endContract || p.source == endErasure:
			case gone && (!p.ended.Valid || p.ended.Int64 != left):
				if _, err := s.db.Exec(ctx, nil, "UPDATE care_periods SET ended_ns = ?, end_source = ? WHERE subject = ? AND location_id = ?",
					left, endRoster, sub, l.ID); err != nil {
					return nil, fmt.Errorf("central: care periods: %w", err)
				}
				p.ended, p.source = sql.NullInt64{Int64: left, Valid: true}, endRoster
				st.periods[k] = p
			case !gone && p.ended.Valid:
				if _, err := s.db.Exec(ctx, nil, "UPDATE care_periods SET ended_ns = NULL, end_source = ? WHERE subject = ? AND location_id = ?",
					endRoster, sub, l.ID); err != nil {
					return nil, fmt.Errorf("central: care periods: %w", err)
				}
				p.ended, p.source = sql.NullInt64{}, endRoster
				st.periods[k] = p
			}
		}
	}
	rows, err := s.db.Query(ctx, nil, "SELECT subject, location_id FROM contact_details")
	if err != nil {
		return nil, fmt.Errorf("central: contact details: %w", err)
	}
	for rows.Next() {
		var sub, loc string
		if err := rows.Scan(&sub, &loc); err != nil {
			rows.Close()
			return nil, fmt.Errorf("central: contact details: %w", err)
		}
		st.contacts[add(loc, sub)] = true
	}
	rows.Close()
	for _, q := range []struct{ col, kind string }{{"child_id", SubjectChild}, {"staff_id", SubjectStaff}} {
		rows, err := s.db.Query(ctx, nil, "SELECT location_id, "+q.col+", max(time_ns) FROM events WHERE "+q.col+" IS NOT NULL AND "+q.col+" <> '' GROUP BY location_id, "+q.col)
		if err != nil {
			return nil, fmt.Errorf("central: last attendance: %w", err)
		}
		for rows.Next() {
			var loc, id string
			var ns int64
			if err := rows.Scan(&loc, &id, &ns); err != nil {
				rows.Close()
				return nil, fmt.Errorf("central: last attendance: %w", err)
			}
			st.lastSeen[add(loc, q.kind+":"+id)] = ns
		}
		rows.Close()
	}
	return st, nil
}

func (s *Subjects) readPeriods(ctx context.Context, st *retentionState, add func(loc, subject string) string) error {
	rows, err := s.db.Query(ctx, nil, "SELECT subject, location_id, ended_ns, end_source, extended FROM care_periods")
	if err != nil {
		return fmt.Errorf("central: care periods: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sub, loc string
		var p periodRow
		var ext int
		if err := rows.Scan(&sub, &loc, &p.ended, &p.source, &ext); err != nil {
			return fmt.Errorf("central: care periods: %w", err)
		}
		p.extended = ext != 0
		st.periods[add(loc, sub)] = p
	}
	return rows.Err()
}

// anchor is the end of care of k: zero while care runs (or no period is
// known); else the later of the period's end and the last attendance.
func (st *retentionState) anchor(k string) time.Time {
	p, ok := st.periods[k]
	if !ok || !p.ended.Valid {
		return time.Time{}
	}
	return time.Unix(0, max(p.ended.Int64, st.lastSeen[k])).UTC()
}

// has reports whether k still has data of the store's job.
func (st *retentionState) has(job subjectJob, k string) bool {
	e := st.keys[k]
	h := st.history[e.loc]
	_, period := st.periods[k]
	switch job {
	case jobAdministration:
		return period && (e.kind == SubjectChild || e.kind == SubjectPerson)
	case jobContact:
		return (e.kind == SubjectChild || e.kind == SubjectPerson) && (st.contacts[k] || h.anywhere[e.subject])
	case jobHealth:
		return e.kind == SubjectChild && h.alerts[e.subject]
	case jobStaff:
		return e.kind == SubjectStaff && (period || st.contacts[k] || h.anywhere[e.subject] || st.lastSeen[k] != 0)
	case jobApplicant:
		return e.kind == SubjectApplicant && (period || st.contacts[k])
	}
	return false
}

func (st *retentionState) records(c retention.Category, job subjectJob, keep func(retentionEntry, time.Time) bool) []retention.Record {
	var out []retention.Record
	for _, k := range slices.Sorted(maps.Keys(st.keys)) {
		if !st.has(job, k) {
			continue
		}
		e, a := st.keys[k], st.anchor(k)
		if !keep(e, a) {
			continue
		}
		out = append(out, retention.Record{ID: k, Category: c, Subject: e.subject, Anchor: a, Extended: st.periods[k].extended})
	}
	return out
}

func (s subjectStore) Candidates(ctx context.Context, _ retention.Category, before time.Time) ([]retention.Record, error) {
	st, err := s.s.state(ctx)
	if err != nil {
		return nil, err
	}
	return st.records(s.c, s.job, func(_ retentionEntry, a time.Time) bool { return !a.IsZero() && a.Before(before) }), nil
}

func (s subjectStore) BySubject(ctx context.Context, _ retention.Category, subject string) ([]retention.Record, error) {
	st, err := s.s.state(ctx)
	if err != nil {
		return nil, err
	}
	return st.records(s.c, s.job, func(e retentionEntry, _ time.Time) bool { return e.subject == subject }), nil
}

// SetAnchor ends the care periods that had no end (an erasure request
// ends the relationship), so the regular run disposes of what a law keeps.
func (s subjectStore) SetAnchor(ctx context.Context, _ retention.Category, ids []string, anchor time.Time) error {
	for _, id := range ids {
		loc, sub, ok := strings.Cut(id, "/")
		if !ok {
			return fmt.Errorf("%w: retention record %q", ErrMalformed, id)
		}
		if _, err := s.s.db.Exec(ctx, nil, "UPDATE care_periods SET ended_ns = ?, end_source = ? WHERE subject = ? AND location_id = ? AND ended_ns IS NULL",
			anchor.UnixNano(), endErasure, sub, loc); err != nil {
			return fmt.Errorf("central: retention schedule %s: %w", id, err)
		}
	}
	return nil
}

// Anonymise: the administration record keeps its dates without name and
// BSN; every other job has nothing worth keeping without the person, so
// it deletes.
func (s subjectStore) Anonymise(ctx context.Context, c retention.Category, ids []string) (int64, error) {
	if s.job != jobAdministration {
		return s.Delete(ctx, c, ids)
	}
	var n int64
	for _, id := range ids {
		loc, sub, _ := strings.Cut(id, "/")
		res, err := s.s.db.Exec(ctx, nil, "UPDATE care_periods SET legal_name = '', bsn = '' WHERE subject = ? AND location_id = ?", sub, loc)
		if err != nil {
			return n, fmt.Errorf("central: anonymise %s: %w", id, err)
		}
		k, _ := res.RowsAffected()
		n += k
	}
	return n, nil
}

func (s subjectStore) Delete(ctx context.Context, _ retention.Category, ids []string) (int64, error) {
	var n int64
	for _, id := range ids {
		loc, sub, ok := strings.Cut(id, "/")
		kind, sid, _ := strings.Cut(sub, ":")
		if !ok {
			return n, fmt.Errorf("%w: retention record %q", ErrMalformed, id)
		}
		var err error
		switch s.job {
		case jobAdministration, jobApplicant:
			err = s.deleteRows(ctx, loc, sub, s.job == jobApplicant)
		case jobContact:
			if err = s.deleteRows(ctx, loc, sub, false, "contact_details"); err == nil {
				err = s.s.editRosters(ctx, loc, func(r roster.Roster) roster.Roster { return withoutSubject(r, kind, sid) })
			}
			if err == nil && kind == string(SubjectChild) {
				// Webhook payloads may carry the child's first name.
				_, err = s.s.db.Exec(ctx, nil, `DELETE FROM webhook_deliveries WHERE location_id = ? AND event_id IN
					(SELECT event_id FROM events WHERE location_id = ? AND child_id = ?)`, loc, loc, sid)
			}
		case jobHealth:
			err = s.s.editRosters(ctx, loc, func(r roster.Roster) roster.Roster { return withoutAlert(r, sid) })
		case jobStaff:
			if err = s.deleteRows(ctx, loc, sub, true); err == nil {
				if err = s.s.editRosters(ctx, loc, func(r roster.Roster) roster.Roster { return withoutStaff(r, sid) }); err == nil {
					err = anonymiseEvents(ctx, s.s, "location_id = ? AND staff_id = ?", []any{loc, sid}, "staff_id", sid)
				}
			}
		}
		if err != nil {
			return n, fmt.Errorf("central: retention %s %s: %w", s.c, id, err)
		}
		n++
	}
	return n, nil
}

// deleteRows removes the subject's care period (with contact details when
// withContact) or only the named tables.
func (s subjectStore) deleteRows(ctx context.Context, loc, sub string, withContact bool, only ...string) error {
	tables := only
	if len(tables) == 0 {
		tables = []string{"care_periods"}
		if withContact {
			tables = append(tables, "contact_details")
		}
	}
	for _, t := range tables {
		if _, err := s.s.db.Exec(ctx, nil, "DELETE FROM "+t+" WHERE subject = ? AND location_id = ?", sub, loc); err != nil {
			return err
		}
	}
	return nil
}

// editRosters publishes a new roster version when edit changes the newest
// one (so kiosks drop the data with their next pull) and rewrites every
// stored version edit changes.
func (s *Subjects) editRosters(ctx context.Context, loc string, edit func(roster.Roster) roster.Roster) error {
	same := func(a, b roster.Roster) bool {
		x, _ := json.Marshal(a)
		y, _ := json.Marshal(b)
		return string(x) == string(y)
	}
	cur, _, err := s.sites.Roster(ctx, loc)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	if next := edit(cur); !same(cur, next) {
		next.Version = 0
		if _, err := s.sites.PutRoster(ctx, next); err != nil {
			return err
		}
	}
	return s.sites.rewriteRosterVersions(ctx, loc, func(r roster.Roster) (roster.Roster, bool) {
		next := edit(r)
		return next, !same(r, next)
	})
}

// withoutAlert returns r without the child's staff alert.
func withoutAlert(r roster.Roster, childID string) roster.Roster {
	r.Children = slices.Clone(r.Children)
	for i := range r.Children {
		if r.Children[i].ID == childID {
			r.Children[i].StaffAlert = ""
		}
	}
	return r
}

// withoutStaff returns r without the staff member and their badges.
func withoutStaff(r roster.Roster, staffID string) roster.Roster {
	r.Staff = slices.DeleteFunc(slices.Clone(r.Staff), func(st roster.Staff) bool { return st.ID == staffID })
	r.Badges = slices.DeleteFunc(slices.Clone(r.Badges), func(b roster.Badge) bool {
		return b.HolderID == staffID && b.Role == attendance.RoleStaff
	})
	return r
}

// anonymiseEvents clears column col of the matching events and removes
// col and actor_id (when it is id) from their stored bodies.
func anonymiseEvents(ctx context.Context, s *Subjects, where string, args []any, col, id string) error {
	tx, err := s.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	rows, err := s.db.Query(ctx, tx, "SELECT device_id, seq, body FROM events WHERE "+where, args...)
	if err != nil {
		return err
	}
	type ev struct {
		dev  string
		seq  int64
		body string
	}
	var evs []ev
	for rows.Next() {
		var e ev
		if err := rows.Scan(&e.dev, &e.seq, &e.body); err != nil {
			rows.Close()
			return err
		}
		evs = append(evs, e)
	}
	rows.Close()
	for _, e := range evs {
		var m map[string]any
		if err := json.Unmarshal([]byte(e.body), &m); err != nil {
			return fmt.Errorf("event %s/%d: %w", e.dev, e.seq, err)
		}
		delete(m, col)
		if a, _ := m["actor_id"].(string); a == id {
			delete(m, "actor_id")
		}
		nb, _ := json.Marshal(m)
		if _, err := s.db.Exec(ctx, tx, "UPDATE events SET "+col+" = NULL, body = ? WHERE device_id = ? AND seq = ?", string(nb), e.dev, e.seq); err != nil {
			return err
		}
	}
	return tx.Commit()
}
