package central

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// Time qualities stored with every event and carried by exports.
const (
	QualityOK         = "ok"         // the kiosk's clock was synchronised
	QualityCorrected  = "corrected"  // computed from a synchronised anchor of the same boot
	QualityUnverified = "unverified" // neither: the wall time as the kiosk had it
)

// futureSlack is how far in the future a synchronised event time may lie
// before central stops trusting it.
const futureSlack = 5 * time.Minute

type anchor struct {
	wall, mono int64
	fresh      bool // learned from this batch: retro-correct older events
}

// Ingest stores a validated batch from the device dev in one transaction
// and answers per event. The device id comes from the credential (dev), and
// the batch must name it (the caller checked protocol.Batch.Validate and
// the device). It returns ErrRevoked, ErrSeqGap (wrapped) or a storage
// error; on any error nothing was stored.
func (d *DB) Ingest(ctx context.Context, deviceID string, b protocol.Batch, evs []attendance.Event) (protocol.BatchResponse, error) {
	resp := protocol.BatchResponse{Protocol: protocol.Version, Results: make([]protocol.EventResult, len(evs))}
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return resp, fmt.Errorf("central: ingest: %w", err)
	}
	defer tx.Rollback()

	var acked int64
	var loc string
	var revoked sql.NullInt64
	err = d.queryRow(ctx, tx, "SELECT acked_through, location_id, revoked_ns FROM devices WHERE id = ?"+d.forUpdate(), deviceID).
		Scan(&acked, &loc, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return resp, fmt.Errorf("central: ingest: %w", ErrUnknownDevice)
	}
	if err != nil {
		return resp, fmt.Errorf("central: ingest: %w", err)
	}
	if revoked.Valid {
		return resp, ErrRevoked
	}
	if len(evs) > 0 && evs[0].Seq > acked+1 {
		tx.Rollback()
		gap := fmt.Errorf("%w: first seq %d, expected at most %d", ErrSeqGap, evs[0].Seq, acked+1)
		if err := d.alertOnce(ctx, deviceID, "seq_gap", evs[0], gap.Error()); err != nil {
			return resp, errors.Join(gap, err)
		}
		return resp, gap
	}
	now := d.now()

	anchors, err := d.anchors(ctx, tx, deviceID, b, evs)
	if err != nil {
		return resp, err
	}

	// Classify, then insert every candidate in one statement.
	type row struct {
		i            int
		time         int64
		quality      string
		rejectReason string
	}
	rows := make([]row, len(evs))
	var insert []int
	for i, e := range evs {
		r := row{i: i}
		resp.Results[i] = protocol.EventResult{Seq: e.Seq, EventID: e.ID}
		switch detail := protocol.Invalid(e, b.Events[i]); {
		case detail != "":
			r.rejectReason = protocol.ReasonInvalid
			resp.Results[i].Detail = detail
		case !protocol.KnownTypes[e.Type]:
			r.rejectReason = protocol.ReasonUnknownType
		case e.LocationID != "" && e.LocationID != loc:
			r.rejectReason = protocol.ReasonWrongLocation
		}
		if r.rejectReason == "" {
			r.time, r.quality = eventTime(e, anchors, now)
			insert = append(insert, i)
		}
		rows[i] = r
	}
	inserted := map[int64]bool{}
	if len(insert) > 0 {
		var q strings.Builder
		q.WriteString(`INSERT INTO events (device_id, seq, event_id, type, location_id, child_id, staff_id, boot_id, mono_ns,
			wall_ns, clock_synced, time_ns, time_quality, received_ns, body) VALUES `)
		args := make([]any, 0, len(insert)*15)
		for k, i := range insert {
			if k > 0 {
				q.WriteString(",")
			}
			q.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
			e := evs[i]
			args = append(args, deviceID, e.Seq, e.ID, string(e.Type), loc, nullable(e.ChildID), nullable(e.StaffID), e.BootID, e.MonoNS,
				e.Wall.UnixNano(), boolInt(e.ClockSynced), rows[i].time, rows[i].quality, now.UnixNano(), string(b.Events[i]))
		}
		q.WriteString(" ON CONFLICT DO NOTHING RETURNING seq")
		res, err := d.query(ctx, tx, q.String(), args...)
		if err != nil {
			return resp, fmt.Errorf("central: ingest: insert: %w", err)
		}
		for res.Next() {
			var s int64
			if err := res.Scan(&s); err != nil {
				res.Close()
				return resp, fmt.Errorf("central: ingest: insert: %w", err)
			}
			inserted[s] = true
		}
		if err := res.Err(); err != nil {
			res.Close()
			return resp, fmt.Errorf("central: ingest: insert: %w", err)
		}
		res.Close()
	}

	// Events not inserted are duplicates or conflicts: look at what is there.
	type held struct {
		id   string
		body string
	}
	existing := map[int64]held{}
	if len(inserted) < len(insert) {
		res, err := d.query(ctx, tx, "SELECT seq, event_id, body FROM events WHERE device_id = ? AND seq BETWEEN ? AND ?",
			deviceID, evs[0].Seq, evs[len(evs)-1].Seq)
		if err != nil {
			return resp, fmt.Errorf("central: ingest: duplicates: %w", err)
		}
		for res.Next() {
			var s int64
			var h held
			if err := res.Scan(&s, &h.id, &h.body); err != nil {
				res.Close()
				return resp, fmt.Errorf("central: ingest: duplicates: %w", err)
			}
			existing[s] = h
		}
		res.Close()
	}
	for _, i := range insert {
		e := evs[i]
		res := &resp.Results[i]
		if inserted[e.Seq] {
			res.Status = protocol.StatusStored
			continue
		}
		h, ok := existing[e.Seq]
		switch {
		case ok && h.id == e.ID:
			res.Status = protocol.StatusDuplicate
			if !bytes.Equal([]byte(h.body), b.Events[i]) {
				if err := d.alert(ctx, tx, deviceID, "body_changed", e, "a resent event's bytes differ from the stored ones; the stored ones stand", now); err != nil {
					return resp, err
				}
			}
		case ok:
			rows[i].rejectReason = protocol.ReasonSeqConflict
		default:
			rows[i].rejectReason = protocol.ReasonEventIDConflict
		}
	}
	for i, r := range rows {
		if r.rejectReason == "" {
			continue
		}
		e := evs[i]
		resp.Results[i].Status, resp.Results[i].Reason = protocol.StatusRejected, r.rejectReason
		res, err := d.exec(ctx, tx, `INSERT INTO rejected_events (device_id, seq, event_id, reason, body, received_ns)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, deviceID, e.Seq, e.ID, r.rejectReason, string(b.Events[i]), now.UnixNano())
		if err != nil {
			return resp, fmt.Errorf("central: ingest: reject: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 && (r.rejectReason == protocol.ReasonSeqConflict || r.rejectReason == protocol.ReasonEventIDConflict) {
			detail := "central holds another event under this seq: was the kiosk restored from a backup?"
			if r.rejectReason == protocol.ReasonEventIDConflict {
				detail = "central holds this event id under another seq"
			}
			if err := d.alert(ctx, tx, deviceID, r.rejectReason, e, detail, now); err != nil {
				return resp, err
			}
		}
	}

	// New anchors: remember them and correct this boot's older events.
	for boot, a := range anchors {
		if !a.fresh {
			continue
		}
		if _, err := d.exec(ctx, tx, `INSERT INTO boot_anchors (device_id, boot_id, wall_ns, mono_ns) VALUES (?, ?, ?, ?)
			ON CONFLICT (device_id, boot_id) DO UPDATE SET wall_ns = excluded.wall_ns, mono_ns = excluded.mono_ns`,
			deviceID, boot, a.wall, a.mono); err != nil {
			return resp, fmt.Errorf("central: ingest: anchor: %w", err)
		}
		if _, err := d.exec(ctx, tx, `UPDATE events SET time_ns = ? - (? - mono_ns), time_quality = ?
			WHERE device_id = ? AND boot_id = ? AND time_quality = ? AND ? - (? - mono_ns) <= ?`,
			a.wall, a.mono, QualityCorrected, deviceID, boot, QualityUnverified, a.wall, a.mono, now.Add(futureSlack).UnixNano()); err != nil {
			return resp, fmt.Errorf("central: ingest: correct times: %w", err)
		}
	}

	if len(evs) > 0 && evs[len(evs)-1].Seq > acked {
		// Every seq of the batch is settled (stored, duplicate or kept as
		// rejected) and the batch starts at or before acked+1.
		acked = evs[len(evs)-1].Seq
	}
	if _, err := d.exec(ctx, tx, "UPDATE devices SET acked_through = ?, last_seen_ns = ? WHERE id = ?", acked, now.UnixNano(), deviceID); err != nil {
		return resp, fmt.Errorf("central: ingest: ack: %w", err)
	}
	var stored []attendance.Event
	for i, res := range resp.Results {
		if res.Status == protocol.StatusStored {
			stored = append(stored, evs[i])
		}
	}
	if err := d.auditDoorEvents(ctx, tx, deviceID, stored); err != nil {
		return resp, err
	}
	if err := tx.Commit(); err != nil {
		return resp, fmt.Errorf("central: ingest: commit: %w", err)
	}
	resp.AckedThroughSeq = acked
	resp.ServerTime = now.UTC()
	return resp, nil
}

// anchors returns the clock anchor per boot of the batch's events: the
// stored one, replaced by a synchronised event or the synchronised probe of
// this batch (the newest wins).
func (d *DB) anchors(ctx context.Context, tx *sql.Tx, deviceID string, b protocol.Batch, evs []attendance.Event) (map[string]anchor, error) {
	out := map[string]anchor{}
	for _, e := range evs {
		if _, ok := out[e.BootID]; ok || e.BootID == "" {
			continue
		}
		var a anchor
		err := d.queryRow(ctx, tx, "SELECT wall_ns, mono_ns FROM boot_anchors WHERE device_id = ? AND boot_id = ?", deviceID, e.BootID).
			Scan(&a.wall, &a.mono)
		if errors.Is(err, sql.ErrNoRows) {
			out[e.BootID] = anchor{mono: -1}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("central: ingest: anchors: %w", err)
		}
		out[e.BootID] = a
	}
	for i, e := range evs {
		if protocol.Invalid(e, b.Events[i]) != "" {
			continue
		}
		if e.ClockSynced && e.BootID != "" && e.MonoNS >= out[e.BootID].mono {
			out[e.BootID] = anchor{wall: e.Wall.UnixNano(), mono: e.MonoNS, fresh: true}
		}
	}
	if p := b.Clock; p.Synced && p.BootID != "" && p.MonoNS >= out[p.BootID].mono {
		out[p.BootID] = anchor{wall: p.Wall.UnixNano(), mono: p.MonoNS, fresh: true}
	}
	for k, a := range out {
		if a.mono < 0 {
			delete(out, k)
		}
	}
	return out, nil
}

// eventTime grades an event's time: synchronised and not in the future is
// ok; otherwise corrected from its boot's anchor where there is one;
// otherwise the kiosk's wall time, unverified.
func eventTime(e attendance.Event, anchors map[string]anchor, now time.Time) (int64, string) {
	limit := now.Add(futureSlack).UnixNano()
	wall := e.Wall.UnixNano()
	if e.ClockSynced && wall <= limit {
		return wall, QualityOK
	}
	if a, ok := anchors[e.BootID]; ok && e.BootID != "" {
		if t := a.wall - (a.mono - e.MonoNS); t <= limit {
			return t, QualityCorrected
		}
	}
	return wall, QualityUnverified
}

func (d *DB) alert(ctx context.Context, tx *sql.Tx, deviceID, kind string, e attendance.Event, detail string, now time.Time) error {
	if _, err := d.exec(ctx, tx, "INSERT INTO alerts (device_id, kind, seq, event_id, detail, created_ns) VALUES (?, ?, ?, ?, ?, ?)",
		deviceID, kind, e.Seq, e.ID, detail, now.UnixNano()); err != nil {
		return fmt.Errorf("central: alert: %w", err)
	}
	return nil
}

// alertOnce raises an alert outside a batch transaction, once per device,
// kind and seq (a kiosk retrying the same refused batch raises one alert).
func (d *DB) alertOnce(ctx context.Context, deviceID, kind string, e attendance.Event, detail string) error {
	var n int
	if err := d.queryRow(ctx, d.sql, "SELECT count(*) FROM alerts WHERE device_id = ? AND kind = ? AND seq = ?", deviceID, kind, e.Seq).Scan(&n); err != nil {
		return fmt.Errorf("central: alert: %w", err)
	}
	if n > 0 {
		return nil
	}
	if _, err := d.exec(ctx, d.sql, "INSERT INTO alerts (device_id, kind, seq, event_id, detail, created_ns) VALUES (?, ?, ?, ?, ?, ?)",
		deviceID, kind, e.Seq, e.ID, detail, d.now().UnixNano()); err != nil {
		return fmt.Errorf("central: alert: %w", err)
	}
	return nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
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
func (d *DB) Events(ctx context.Context, f EventFilter) ([]StoredEvent, error) {
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
	rows, err := d.query(ctx, d.sql, q, args...)
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
