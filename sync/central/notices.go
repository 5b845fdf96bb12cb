package central

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/central/sqldb"
)

// Check-out notices: a guardian may opt in (in the parents' portal) to an
// e-mail when their child is checked out by someone other than themselves.
//
// The outbox has two steps, so a mail goes out at least once and to each
// address once per check-out:
//  1. Ingest writes a checkout_notices row per stored child check-out, in
//     the ingest transaction (committed with the event or not at all), and
//     only at a location where some guardian opted in.
//  2. The notice worker (portal.NoticeWorker, on any replica) expands a
//     notice into parent_mails rows, one per opted-in guardian address of
//     the child other than the person who checked out (UNIQUE (event,
//     address): a second expansion adds nothing), then claims due mails
//     with a lease, sends them and marks them sent (a crash before that
//     sends again: at least once).
//
// A mail says no more than the child's first name, the pickup person's
// name and the time.

// SetNotifyCheckout switches the check-out e-mail for every guardian
// record kept for an e-mail address (one parent account).
func (s *Parents) SetNotifyCheckout(ctx context.Context, email string, on bool) error {
	v := 0
	if on {
		v = 1
	}
	if _, err := s.db.Exec(ctx, nil, "UPDATE guardian_emails SET notify_checkout = ?, updated_ns = ? WHERE email = ?", v, s.db.Now().UnixNano(), email); err != nil {
		return fmt.Errorf("central: notify checkout: %w", err)
	}
	return nil
}

// NotifyCheckout reports whether an address opted in to check-out e-mails.
func (s *Parents) NotifyCheckout(ctx context.Context, email string) (bool, error) {
	var n int
	err := s.db.QueryRow(ctx, nil, "SELECT COUNT(*) FROM guardian_emails WHERE email = ? AND notify_checkout = 1", email).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("central: notify checkout: %w", err)
	}
	return n > 0, nil
}

// OnNotice sets a function called after an ingest queued check-out
// notices (the worker's wake-up).
func (s *Parents) OnNotice(f func()) { s.kick.Store(&f) }

func (s *Parents) noticed() {
	if f := s.kick.Load(); f != nil {
		(*f)()
	}
}

// queueCheckouts writes the notices of a batch's stored child check-outs,
// in the ingest transaction tx. times are the graded event times.
func (s *Parents) queueCheckouts(ctx context.Context, tx *sql.Tx, loc string, evs []attendance.Event, times []int64) (int, error) {
	var idx []int
	for i := range evs {
		if evs[i].Type == attendance.ChildCheckOut && evs[i].ChildID != "" {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return 0, nil
	}
	var any int
	err := s.db.QueryRow(ctx, tx, "SELECT COUNT(*) FROM guardian_emails WHERE location_id = ? AND notify_checkout = 1 AND withdrawn = 0", loc).Scan(&any)
	if err != nil || any == 0 {
		return 0, err
	}
	now := s.db.Now().UnixNano()
	n := 0
	for _, i := range idx {
		e := &evs[i]
		res, err := s.db.Exec(ctx, tx, `INSERT INTO checkout_notices (event_id, location_id, child_id, actor_id, time_ns, created_ns)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING`, e.ID, loc, e.ChildID, e.ActorID, times[i], now)
		if err != nil {
			return n, fmt.Errorf("central: checkout notice: %w", err)
		}
		if k, _ := res.RowsAffected(); k > 0 {
			n++
		}
	}
	return n, nil
}

// CheckoutNotice is what a check-out e-mail may say.
type CheckoutNotice struct {
	EventID    string
	ChildName  string    // first name only
	PickupName string    // the person who checked the child out, as on the roster
	At         time.Time // in the location's time zone
}

// ExpandNotices turns up to max open notices into mails (render writes
// the subject and body) and returns how many mails it added.
func (s *Parents) ExpandNotices(ctx context.Context, max int, render func(n CheckoutNotice) (subject, body string)) (int, error) {
	type notice struct {
		event, loc, child, actor string
		at                       int64
	}
	rows, err := s.db.Query(ctx, nil, "SELECT event_id, location_id, child_id, actor_id, time_ns FROM checkout_notices WHERE expanded_ns IS NULL ORDER BY created_ns, event_id LIMIT ?", max)
	if err != nil {
		return 0, fmt.Errorf("central: notices: %w", err)
	}
	var open []notice
	for rows.Next() {
		var n notice
		if err := rows.Scan(&n.event, &n.loc, &n.child, &n.actor, &n.at); err != nil {
			rows.Close()
			return 0, err
		}
		open = append(open, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	rosters := map[string]roster.Roster{}
	added := 0
	for _, n := range open {
		rs, ok := rosters[n.loc]
		if !ok {
			if rs, _, err = s.sites.Roster(ctx, n.loc); err != nil && !errors.Is(err, ErrNotFound) {
				return added, err
			}
			rosters[n.loc] = rs
		}
		recipients, notice, err := s.checkoutRecipients(ctx, rs, n.loc, n.child, n.actor, time.Unix(0, n.at))
		if err != nil {
			return added, err
		}
		notice.EventID = n.event
		k, err := s.addMails(ctx, n.event, recipients, notice, render)
		if err != nil {
			return added, err
		}
		added += k
	}
	return added, nil
}

// checkoutRecipients lists the addresses to tell of a check-out: the
// child's guardians (authority not withdrawn) who opted in, except the
// person who checked out.
func (s *Parents) checkoutRecipients(ctx context.Context, rs roster.Roster, loc, child, actor string, at time.Time) ([]string, CheckoutNotice, error) {
	n := CheckoutNotice{At: at}
	if tz, err := time.LoadLocation(rs.Location.TimeZone); err == nil && rs.Location.TimeZone != "" {
		n.At = at.In(tz)
	}
	for _, c := range rs.Children {
		if c.ID == child {
			n.ChildName = c.FirstName
		}
	}
	for _, p := range rs.People {
		if p.ID == actor {
			n.PickupName = p.Name
		}
	}
	for _, st := range rs.Staff {
		if n.PickupName == "" && st.ID == actor {
			n.PickupName = st.Name
		}
	}
	if n.ChildName == "" {
		return nil, n, nil // gone from the roster: tell nobody
	}
	day := attendance.DateOf(n.At)
	guardians := map[string]bool{}
	for _, g := range rs.Guardianships {
		if g.ChildID == child && g.PersonID != actor && !g.Withdrawn && (g.Until.IsZero() || !g.Until.Before(day)) {
			guardians[g.PersonID] = true
		}
	}
	links, err := s.links(ctx, "WHERE location_id = ?", loc)
	if err != nil {
		return nil, n, err
	}
	var actorEmail string
	for _, l := range links {
		if l.PersonID == actor {
			actorEmail = l.Email
		}
	}
	var out []string
	for _, l := range links {
		if guardians[l.PersonID] && l.NotifyCheckout && !l.Withdrawn && l.Email != actorEmail {
			out = append(out, l.Email)
		}
	}
	return out, n, nil
}

func (s *Parents) addMails(ctx context.Context, event string, to []string, n CheckoutNotice, render func(CheckoutNotice) (string, string)) (int, error) {
	tx, err := s.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	now := s.db.Now().UnixNano()
	added := 0
	for _, e := range to {
		subject, body := render(n)
		res, err := s.db.Exec(ctx, tx, `INSERT INTO parent_mails (id, event_id, email, subject, body, status, next_ns, created_ns)
			VALUES (?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (event_id, email) DO NOTHING`,
			"mail-"+uuid.NewString(), event, e, subject, body, now, now)
		if err != nil {
			return 0, fmt.Errorf("central: parent mail: %w", err)
		}
		if k, _ := res.RowsAffected(); k > 0 {
			added++
		}
	}
	if _, err := s.db.Exec(ctx, tx, "UPDATE checkout_notices SET expanded_ns = ? WHERE event_id = ?", now, event); err != nil {
		return 0, err
	}
	return added, tx.Commit()
}

// ParentMail is one queued e-mail to a parent.
type ParentMail struct {
	ID, EventID, To, Subject, Body string
	Attempt                        int
}

// ClaimMails leases up to max due mails (each counted as an attempt).
func (s *Parents) ClaimMails(ctx context.Context, lease time.Duration, max int) ([]ParentMail, error) {
	now := s.db.Now()
	tx, err := s.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	q := `SELECT id, event_id, email, subject, body, attempts FROM parent_mails
		WHERE status = 'pending' AND next_ns <= ? AND lease_ns <= ? ORDER BY next_ns, id LIMIT ?`
	if s.db.Dialect() == sqldb.Postgres {
		q += " FOR UPDATE SKIP LOCKED"
	}
	rows, err := s.db.Query(ctx, tx, q, now.UnixNano(), now.UnixNano(), max)
	if err != nil {
		return nil, err
	}
	var out []ParentMail
	for rows.Next() {
		var m ParentMail
		if err := rows.Scan(&m.ID, &m.EventID, &m.To, &m.Subject, &m.Body, &m.Attempt); err != nil {
			rows.Close()
			return nil, err
		}
		m.Attempt++
		out = append(out, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, m := range out {
		if _, err := s.db.Exec(ctx, tx, "UPDATE parent_mails SET attempts = ?, lease_ns = ? WHERE id = ?", m.Attempt, now.Add(lease).UnixNano(), m.ID); err != nil {
			return nil, err
		}
	}
	return out, tx.Commit()
}

// MaxMailAttempts: a mail that failed this often is given up (dead).
const MaxMailAttempts = 8

// FinishMail records a send: sent, or (sendErr) retried later with
// backoff until MaxMailAttempts. A superseded attempt changes nothing.
func (s *Parents) FinishMail(ctx context.Context, m ParentMail, sendErr error) error {
	now := s.db.Now()
	var err error
	switch {
	case sendErr == nil:
		_, err = s.db.Exec(ctx, nil, "UPDATE parent_mails SET status = 'sent', lease_ns = 0, last_error = '', finished_ns = ? WHERE id = ? AND attempts = ? AND status = 'pending'",
			now.UnixNano(), m.ID, m.Attempt)
	case m.Attempt >= MaxMailAttempts:
		_, err = s.db.Exec(ctx, nil, "UPDATE parent_mails SET status = 'dead', lease_ns = 0, last_error = ?, finished_ns = ? WHERE id = ? AND attempts = ? AND status = 'pending'",
			trimErr(sendErr), now.UnixNano(), m.ID, m.Attempt)
	default:
		next := now.Add(time.Duration(1<<min(m.Attempt, 10)) * 30 * time.Second)
		_, err = s.db.Exec(ctx, nil, "UPDATE parent_mails SET next_ns = ?, lease_ns = 0, last_error = ? WHERE id = ? AND attempts = ? AND status = 'pending'",
			next.UnixNano(), trimErr(sendErr), m.ID, m.Attempt)
	}
	return err
}

func trimErr(err error) string {
	s := err.Error()
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

// PruneMails deletes sent and dead mails and expanded notices older than
// before (they name a child and an address).
func (s *Parents) PruneMails(ctx context.Context, before time.Time) error {
	if _, err := s.db.Exec(ctx, nil, "DELETE FROM parent_mails WHERE status IN ('sent', 'dead') AND finished_ns < ?", before.UnixNano()); err != nil {
		return err
	}
	_, err := s.db.Exec(ctx, nil, "DELETE FROM checkout_notices WHERE expanded_ns IS NOT NULL AND expanded_ns < ?", before.UnixNano())
	return err
}

// MailStatus counts the mails of an event by status (tests, admins).
func (s *Parents) MailStatus(ctx context.Context, eventID string) (map[string]int, error) {
	rows, err := s.db.Query(ctx, nil, "SELECT status, COUNT(*) FROM parent_mails WHERE event_id = ? GROUP BY status", eventID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}

// HasPasskey reports whether the parent account of an e-mail address has
// a passkey (the admins' portal page).
func (s *Parents) HasPasskey(ctx context.Context, email string) (bool, error) {
	var n int
	err := s.db.QueryRow(ctx, nil, `SELECT COUNT(*) FROM parent_passkeys p JOIN parent_accounts a ON a.id = p.account_id WHERE a.email = ?`, email).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("central: passkeys: %w", err)
	}
	return n > 0, nil
}
