package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
)

// MetaCorrectionsCursor is the meta key of the last central correction
// cursor the kiosk holds.
const MetaCorrectionsCursor = "sync.corrections_cursor"

// RemoteCorrection is a correction pulled from central: its cursor there
// and the event as central lists it.
type RemoteCorrection struct {
	Cursor int64
	Body   []byte
}

// CorrectionsCursor is the cursor to ask central after (0 at first).
func (s *Store) CorrectionsCursor(ctx context.Context) (int64, error) {
	v, err := s.Meta(ctx, MetaCorrectionsCursor)
	if errors.Is(err, attendance.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("store: corrections cursor %q: %w", v, err)
	}
	return n, nil
}

// ApplyRemoteCorrections stores corrections pulled from central and moves
// the cursor to next, in one durable transaction, and returns the ones that
// are new here. A correction this device made itself (an event with its seq and
// event id is in events) or already holds is skipped, so a page fetched twice (an answer
// lost, a crash before the commit) applies each correction exactly once.
// A body that is not a correction event is refused whole.
func (s *Store) ApplyRemoteCorrections(ctx context.Context, items []RemoteCorrection, next int64) ([]attendance.Event, error) {
	evs := make([]attendance.Event, len(items))
	for i, it := range items {
		if err := json.Unmarshal(it.Body, &evs[i]); err != nil {
			return nil, fmt.Errorf("store: remote correction %d: %w", it.Cursor, err)
		}
		if err := attendance.ValidCorrectionEvent(evs[i], time.Time{}); err != nil || evs[i].ID == "" {
			return nil, fmt.Errorf("store: remote correction %d: %v", it.Cursor, err)
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: remote corrections: %w", mapErr(err))
	}
	defer tx.Rollback()
	var fresh []attendance.Event
	for i, e := range evs {
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM events WHERE seq = ? AND event_id = ?", e.Seq, e.ID).Scan(&one)
		if err == nil {
			continue // our own, pushed and listed back
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("store: remote corrections: %w", mapErr(err))
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO remote_corrections (event_id, cursor_no, wall_ns, body) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
			e.ID, items[i].Cursor, e.Wall.UnixNano(), string(items[i].Body))
		if err != nil {
			return nil, fmt.Errorf("store: remote corrections: %w", mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 1 {
			fresh = append(fresh, e)
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
		MetaCorrectionsCursor, strconv.FormatInt(next, 10)); err != nil {
		return nil, fmt.Errorf("store: remote corrections: cursor: %w", mapErr(err))
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: remote corrections: %w", mapErr(err))
	}
	return fresh, nil
}

// RemoteCorrections returns the corrections pulled from central that were
// made at or after since, in the order they were made.
func (s *Store) RemoteCorrections(ctx context.Context, since time.Time) ([]attendance.Event, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT body FROM remote_corrections WHERE wall_ns >= ? ORDER BY wall_ns, event_id", since.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("store: remote corrections: %w", mapErr(err))
	}
	defer rows.Close()
	var out []attendance.Event
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("store: remote corrections: %w", err)
		}
		var e attendance.Event
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			return nil, fmt.Errorf("store: remote corrections: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
