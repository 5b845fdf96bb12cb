package central

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/sync/central/sqldb"
)

// EventStore holds the events of every kiosk: Ingest takes batches in
// exactly once, and the stored events, alerts and rejected events are read
// back from it.
type EventStore struct {
	db *sqldb.DB
	// doorAudit, when set, audits accountable door actions at ingest.
	doorAudit *audit.Log
	// corrections takes the correction events of a batch in.
	corrections *CorrectionStore
	// webhooks queues the deliveries of stored events at ingest.
	webhooks *Webhooks
	// parents queues check-out notices (opted-in guardians) at ingest.
	parents *Parents
}

// StoredEvent is an event as central holds it, with its best time.
type StoredEvent struct {
	attendance.Event
	Time        time.Time `json:"time"`         // best known time (corrected where possible)
	TimeQuality string    `json:"time_quality"` // ok, corrected, unverified
	ReceivedAt  time.Time `json:"received_at"`
}

// EventFilter selects events.
type EventFilter struct {
	LocationID string    // "" all
	DeviceID   string    // "" all
	AfterSeq   int64     // with DeviceID
	From, To   time.Time // by best time; zero: unbounded
	Limit      int       // 0: no limit
}

// Events lists stored events by best time (then device and seq), or by seq
// when a device is given.
func (s *EventStore) Events(ctx context.Context, f EventFilter) ([]StoredEvent, error) {
	q := "SELECT body, time_ns, time_quality, received_ns FROM events WHERE 1=1"
	var args []any
	if f.LocationID != "" {
		q += " AND location_id = ?"
		args = append(args, f.LocationID)
	}
	if f.DeviceID != "" {
		q += " AND device_id = ? AND seq > ?"
		args = append(args, f.DeviceID, f.AfterSeq)
	}
	if !f.From.IsZero() {
		q += " AND time_ns >= ?"
		args = append(args, f.From.UnixNano())
	}
	if !f.To.IsZero() {
		q += " AND time_ns < ?"
		args = append(args, f.To.UnixNano())
	}
	if f.DeviceID != "" {
		q += " ORDER BY seq"
	} else {
		q += " ORDER BY time_ns, device_id, seq"
	}
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := s.db.Query(ctx, nil, q, args...)
	if err != nil {
		return nil, fmt.Errorf("central: events: %w", err)
	}
	defer rows.Close()
	var out []StoredEvent
	for rows.Next() {
		var body string
		var tns, rns int64
		var se StoredEvent
		if err := rows.Scan(&body, &tns, &se.TimeQuality, &rns); err != nil {
			return nil, fmt.Errorf("central: events: %w", err)
		}
		if err := jsonUnmarshal(body, &se.Event); err != nil {
			return nil, fmt.Errorf("central: events: decode: %w", err)
		}
		se.Time = time.Unix(0, tns).UTC()
		se.ReceivedAt = time.Unix(0, rns).UTC()
		out = append(out, se)
	}
	return out, rows.Err()
}

// Alert is something an admin must look at: a seq reused with another
// event (a kiosk restored from a backup), an event id under two seqs, a
// resent event whose bytes changed.
type Alert struct {
	ID        int64     `json:"id"`
	DeviceID  string    `json:"device_id"`
	Kind      string    `json:"kind"`
	Seq       int64     `json:"seq"`
	EventID   string    `json:"event_id"`
	Detail    string    `json:"detail"`
	CreatedAt time.Time `json:"created_at"`
}

// Alerts lists the alerts, oldest first.
func (s *EventStore) Alerts(ctx context.Context) ([]Alert, error) {
	rows, err := s.db.Query(ctx, nil, "SELECT id, device_id, kind, seq, event_id, detail, created_ns FROM alerts ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("central: alerts: %w", err)
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		var a Alert
		var ns int64
		if err := rows.Scan(&a.ID, &a.DeviceID, &a.Kind, &a.Seq, &a.EventID, &a.Detail, &ns); err != nil {
			return nil, fmt.Errorf("central: alerts: %w", err)
		}
		a.CreatedAt = time.Unix(0, ns).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// RejectedEvent is an event central refused, kept for admins.
type RejectedEvent struct {
	DeviceID   string          `json:"device_id"`
	Seq        int64           `json:"seq"`
	EventID    string          `json:"event_id"`
	Reason     string          `json:"reason"`
	Body       json.RawMessage `json:"event"`
	ReceivedAt time.Time       `json:"received_at"`
}

// Rejected lists the rejected events.
func (s *EventStore) Rejected(ctx context.Context) ([]RejectedEvent, error) {
	rows, err := s.db.Query(ctx, nil, "SELECT device_id, seq, event_id, reason, body, received_ns FROM rejected_events ORDER BY device_id, seq")
	if err != nil {
		return nil, fmt.Errorf("central: rejected: %w", err)
	}
	defer rows.Close()
	var out []RejectedEvent
	for rows.Next() {
		var r RejectedEvent
		var body string
		var ns int64
		if err := rows.Scan(&r.DeviceID, &r.Seq, &r.EventID, &r.Reason, &body, &ns); err != nil {
			return nil, fmt.Errorf("central: rejected: %w", err)
		}
		r.Body = json.RawMessage(body)
		r.ReceivedAt = time.Unix(0, ns).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}
