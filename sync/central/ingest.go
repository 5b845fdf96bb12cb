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
	"github.com/kinderdeur/kiosk/sync/central/sqldb"
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
//
// The steps, all in the one transaction: lock the device row (its location
// and high-water mark), refuse a batch that leaves a gap, learn the boots'
// clock anchors, verify each event and grade its time, insert the
// candidates, settle those not inserted (duplicates and conflicts), keep
// the rejected ones, save new anchors (correcting older events), advance
// the high-water mark, audit the door's accountable actions and queue the
// webhook deliveries of the stored events (the outbox of package webhook:
// committed with the events or not at all).
func (s *EventStore) Ingest(ctx context.Context, deviceID string, b protocol.Batch, evs []attendance.Event) (protocol.BatchResponse, error) {
	in := &batch{db: s.db, deviceID: deviceID, b: b, evs: evs,
		resp: protocol.BatchResponse{Protocol: protocol.Version, Results: make([]protocol.EventResult, len(evs))}}
	tx, err := s.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return in.resp, fmt.Errorf("central: ingest: %w", err)
	}
	defer tx.Rollback()
	in.tx = tx
	if err := in.lockDevice(ctx); err != nil {
		return in.resp, err
	}
	if gap := in.seqGap(); gap != nil {
		// The alert outlives the refused batch: release the write lock and
		// record it outside the transaction.
		tx.Rollback()
		if err := s.alertOnce(ctx, deviceID, "seq_gap", evs[0], gap.Error()); err != nil {
			return in.resp, errors.Join(gap, err)
		}
		return in.resp, gap
	}
	in.now = s.db.Now()
	anchors, err := in.anchors(ctx)
	if err != nil {
		return in.resp, err
	}
	in.grade(anchors)
	if err := in.insertEvents(ctx); err != nil {
		return in.resp, err
	}
	if err := in.settleNotInserted(ctx); err != nil {
		return in.resp, err
	}
	if err := in.keepRejected(ctx); err != nil {
		return in.resp, err
	}
	if err := in.saveAnchors(ctx, anchors); err != nil {
		return in.resp, err
	}
	if err := in.advanceAck(ctx); err != nil {
		return in.resp, err
	}
	stored := in.stored()
	if s.corrections != nil {
		if err := s.corrections.recordIngested(ctx, tx, in.loc, stored, in.bodies()); err != nil {
			return in.resp, err
		}
	}
	if err := s.auditDoorEvents(ctx, tx, deviceID, stored); err != nil {
		return in.resp, err
	}
	hooks, err := in.queueWebhooks(ctx, s.webhooks)
	if err != nil {
		return in.resp, err
	}
	notices, err := in.queueNotices(ctx, s.parents)
	if err != nil {
		return in.resp, err
	}
	if err := tx.Commit(); err != nil {
		return in.resp, fmt.Errorf("central: ingest: commit: %w", err)
	}
	if hooks > 0 {
		s.webhooks.notify()
	}
	if notices > 0 {
		s.parents.noticed()
	}
	in.resp.AckedThroughSeq = in.acked
	in.resp.ServerTime = in.now.UTC()
	return in.resp, nil
}

// batch is one Ingest in progress: its input, its transaction and what
// the steps learn on the way.
type batch struct {
	db       *sqldb.DB
	tx       *sql.Tx
	deviceID string
	b        protocol.Batch
	evs      []attendance.Event
	now      time.Time

	loc   string // the device's location
	acked int64  // the device's high-water mark (advanced by advanceAck)

	verdicts []verdict // per event
	insert   []int     // indexes of the events to insert
	inserted map[int64]bool
	resp     protocol.BatchResponse
}

// verdict is what central decided about one event of the batch.
type verdict struct {
	time    int64  // best time, Unix ns
	quality string // QualityOK, QualityCorrected, QualityUnverified
	reject  string // a protocol.Reason*, "" when not rejected
}

// lockDevice reads (and in PostgreSQL locks) the device row: its
// location and high-water mark. A revoked device sends nothing.
func (in *batch) lockDevice(ctx context.Context) error {
	var revoked sql.NullInt64
	err := in.db.QueryRow(ctx, in.tx, "SELECT acked_through, location_id, revoked_ns FROM devices WHERE id = ?"+in.db.ForUpdate(), in.deviceID).
		Scan(&in.acked, &in.loc, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("central: ingest: %w", ErrUnknownDevice)
	}
	if err != nil {
		return fmt.Errorf("central: ingest: %w", err)
	}
	if revoked.Valid {
		return ErrRevoked
	}
	return nil
}

// seqGap refuses a batch starting after the high-water mark + 1: events
// in between would be acknowledged without ever being stored.
func (in *batch) seqGap() error {
	if len(in.evs) > 0 && in.evs[0].Seq > in.acked+1 {
		return fmt.Errorf("%w: first seq %d, expected at most %d", ErrSeqGap, in.evs[0].Seq, in.acked+1)
	}
	return nil
}

// grade verifies each event (well-formed, a known type, this device's
// location) and grades the time of those to insert.
func (in *batch) grade(anchors map[string]anchor) {
	in.verdicts = make([]verdict, len(in.evs))
	for i, e := range in.evs {
		v := &in.verdicts[i]
		in.resp.Results[i] = protocol.EventResult{Seq: e.Seq, EventID: e.ID}
		switch detail := protocol.Invalid(e, in.b.Events[i]); {
		case detail != "":
			v.reject = protocol.ReasonInvalid
			in.resp.Results[i].Detail = detail
		case !protocol.KnownTypes[e.Type]:
			v.reject = protocol.ReasonUnknownType
		case e.LocationID != "" && e.LocationID != in.loc:
			v.reject = protocol.ReasonWrongLocation
		}
		if v.reject == "" {
			v.time, v.quality = eventTime(e, anchors, in.now)
			in.insert = append(in.insert, i)
		}
	}
}

// insertEvents inserts every candidate in one statement; a (device, seq)
// or event id already held is skipped and settled afterwards.
func (in *batch) insertEvents(ctx context.Context) error {
	in.inserted = map[int64]bool{}
	if len(in.insert) == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO events (device_id, seq, event_id, type, location_id, child_id, staff_id, boot_id, mono_ns,
			wall_ns, clock_synced, time_ns, time_quality, received_ns, body) VALUES `)
	args := make([]any, 0, len(in.insert)*15)
	for k, i := range in.insert {
		if k > 0 {
			q.WriteString(",")
		}
		q.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
		e, v := in.evs[i], in.verdicts[i]
		args = append(args, in.deviceID, e.Seq, e.ID, string(e.Type), in.loc, nullable(e.ChildID), nullable(e.StaffID), e.BootID, e.MonoNS,
			e.Wall.UnixNano(), boolInt(e.ClockSynced), v.time, v.quality, in.now.UnixNano(), string(in.b.Events[i]))
	}
	q.WriteString(" ON CONFLICT DO NOTHING RETURNING seq")
	rows, err := in.db.Query(ctx, in.tx, q.String(), args...)
	if err != nil {
		return fmt.Errorf("central: ingest: insert: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			return fmt.Errorf("central: ingest: insert: %w", err)
		}
		in.inserted[seq] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("central: ingest: insert: %w", err)
	}
	return nil
}

// settleNotInserted looks at what central holds for the candidates not
// inserted: the same event again is a duplicate (an alert when its bytes
// changed); another event under the seq, or this event id under another
// seq, is a conflict and rejected.
func (in *batch) settleNotInserted(ctx context.Context) error {
	held, err := in.held(ctx)
	if err != nil {
		return err
	}
	for _, i := range in.insert {
		e := in.evs[i]
		res := &in.resp.Results[i]
		if in.inserted[e.Seq] {
			res.Status = protocol.StatusStored
			continue
		}
		h, ok := held[e.Seq]
		switch {
		case ok && h.id == e.ID:
			res.Status = protocol.StatusDuplicate
			if !bytes.Equal([]byte(h.body), in.b.Events[i]) {
				if err := in.alert(ctx, "body_changed", e, "a resent event's bytes differ from the stored ones; the stored ones stand"); err != nil {
					return err
				}
			}
		case ok:
			in.verdicts[i].reject = protocol.ReasonSeqConflict
		default:
			in.verdicts[i].reject = protocol.ReasonEventIDConflict
		}
	}
	return nil
}

type heldEvent struct{ id, body string }

// held returns the stored events in the batch's seq range, when some
// candidates were not inserted.
func (in *batch) held(ctx context.Context) (map[int64]heldEvent, error) {
	out := map[int64]heldEvent{}
	if len(in.inserted) == len(in.insert) {
		return out, nil
	}
	rows, err := in.db.Query(ctx, in.tx, "SELECT seq, event_id, body FROM events WHERE device_id = ? AND seq BETWEEN ? AND ?",
		in.deviceID, in.evs[0].Seq, in.evs[len(in.evs)-1].Seq)
	if err != nil {
		return nil, fmt.Errorf("central: ingest: duplicates: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var h heldEvent
		if err := rows.Scan(&seq, &h.id, &h.body); err != nil {
			return nil, fmt.Errorf("central: ingest: duplicates: %w", err)
		}
		out[seq] = h
	}
	return out, nil
}

// keepRejected answers the rejected events and keeps them for admins; a
// conflict raises an alert the first time it is seen.
func (in *batch) keepRejected(ctx context.Context) error {
	for i, v := range in.verdicts {
		if v.reject == "" {
			continue
		}
		e := in.evs[i]
		in.resp.Results[i].Status, in.resp.Results[i].Reason = protocol.StatusRejected, v.reject
		res, err := in.db.Exec(ctx, in.tx, `INSERT INTO rejected_events (device_id, seq, event_id, reason, body, received_ns)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, in.deviceID, e.Seq, e.ID, v.reject, string(in.b.Events[i]), in.now.UnixNano())
		if err != nil {
			return fmt.Errorf("central: ingest: reject: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 && (v.reject == protocol.ReasonSeqConflict || v.reject == protocol.ReasonEventIDConflict) {
			detail := "central holds another event under this seq: was the kiosk restored from a backup?"
			if v.reject == protocol.ReasonEventIDConflict {
				detail = "central holds this event id under another seq"
			}
			if err := in.alert(ctx, v.reject, e, detail); err != nil {
				return err
			}
		}
	}
	return nil
}

// saveAnchors remembers the anchors this batch taught and corrects this
// boot's older, unverified events with them.
func (in *batch) saveAnchors(ctx context.Context, anchors map[string]anchor) error {
	for boot, a := range anchors {
		if !a.fresh {
			continue
		}
		if _, err := in.db.Exec(ctx, in.tx, `INSERT INTO boot_anchors (device_id, boot_id, wall_ns, mono_ns) VALUES (?, ?, ?, ?)
			ON CONFLICT (device_id, boot_id) DO UPDATE SET wall_ns = excluded.wall_ns, mono_ns = excluded.mono_ns`,
			in.deviceID, boot, a.wall, a.mono); err != nil {
			return fmt.Errorf("central: ingest: anchor: %w", err)
		}
		if _, err := in.db.Exec(ctx, in.tx, `UPDATE events SET time_ns = ? - (? - mono_ns), time_quality = ?
			WHERE device_id = ? AND boot_id = ? AND time_quality = ? AND ? - (? - mono_ns) <= ?`,
			a.wall, a.mono, QualityCorrected, in.deviceID, boot, QualityUnverified, a.wall, a.mono, in.now.Add(futureSlack).UnixNano()); err != nil {
			return fmt.Errorf("central: ingest: correct times: %w", err)
		}
	}
	return nil
}

// advanceAck moves the high-water mark to the batch's last seq: every seq
// of the batch is settled (stored, duplicate or kept as rejected) and the
// batch starts at or before acked+1.
func (in *batch) advanceAck(ctx context.Context) error {
	if len(in.evs) > 0 && in.evs[len(in.evs)-1].Seq > in.acked {
		in.acked = in.evs[len(in.evs)-1].Seq
	}
	if _, err := in.db.Exec(ctx, in.tx, "UPDATE devices SET acked_through = ?, last_seen_ns = ? WHERE id = ?", in.acked, in.now.UnixNano(), in.deviceID); err != nil {
		return fmt.Errorf("central: ingest: ack: %w", err)
	}
	return nil
}

// queueWebhooks writes the webhook deliveries of the stored events (with
// their graded times) in the batch's transaction.
func (in *batch) queueWebhooks(ctx context.Context, w *Webhooks) (int, error) {
	if w == nil {
		return 0, nil
	}
	var srcs []hookSource
	for i, res := range in.resp.Results {
		if res.Status == protocol.StatusStored {
			srcs = append(srcs, hookSource{e: in.evs[i], timeNS: in.verdicts[i].time, quality: in.verdicts[i].quality})
		}
	}
	return w.enqueue(ctx, in.tx, in.loc, in.deviceID, srcs)
}

// queueNotices writes the check-out notices of the stored events (the
// outbox of the guardians' check-out e-mails, notices.go) in the ingest
// transaction.
func (in *batch) queueNotices(ctx context.Context, p *Parents) (int, error) {
	if p == nil {
		return 0, nil
	}
	var evs []attendance.Event
	var times []int64
	for i, res := range in.resp.Results {
		if res.Status == protocol.StatusStored && in.evs[i].Type == attendance.ChildCheckOut {
			evs = append(evs, in.evs[i])
			times = append(times, in.verdicts[i].time)
		}
	}
	return p.queueCheckouts(ctx, in.tx, in.loc, evs, times)
}

// stored returns the events this batch stored (not duplicates).
func (in *batch) stored() []attendance.Event {
	var out []attendance.Event
	for i, res := range in.resp.Results {
		if res.Status == protocol.StatusStored {
			out = append(out, in.evs[i])
		}
	}
	return out
}

// bodies maps the batch's stored correction events to their bytes.
func (in *batch) bodies() map[string][]byte {
	out := map[string][]byte{}
	for i, res := range in.resp.Results {
		if res.Status == protocol.StatusStored && in.evs[i].Type == attendance.CorrectionEvent {
			out[in.evs[i].ID] = in.b.Events[i]
		}
	}
	return out
}

func (in *batch) alert(ctx context.Context, kind string, e attendance.Event, detail string) error {
	if _, err := in.db.Exec(ctx, in.tx, "INSERT INTO alerts (device_id, kind, seq, event_id, detail, created_ns) VALUES (?, ?, ?, ?, ?, ?)",
		in.deviceID, kind, e.Seq, e.ID, detail, in.now.UnixNano()); err != nil {
		return fmt.Errorf("central: alert: %w", err)
	}
	return nil
}

// anchors returns the clock anchor per boot of the batch's events: the
// stored one, replaced by a synchronised event or the synchronised probe of
// this batch (the newest wins).
func (in *batch) anchors(ctx context.Context) (map[string]anchor, error) {
	evs, b := in.evs, in.b
	out := map[string]anchor{}
	for _, e := range evs {
		if _, ok := out[e.BootID]; ok || e.BootID == "" {
			continue
		}
		var a anchor
		err := in.db.QueryRow(ctx, in.tx, "SELECT wall_ns, mono_ns FROM boot_anchors WHERE device_id = ? AND boot_id = ?", in.deviceID, e.BootID).
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

// alertOnce raises an alert outside a batch transaction, once per device,
// kind and seq (a kiosk retrying the same refused batch raises one alert).
func (s *EventStore) alertOnce(ctx context.Context, deviceID, kind string, e attendance.Event, detail string) error {
	var n int
	if err := s.db.QueryRow(ctx, nil, "SELECT count(*) FROM alerts WHERE device_id = ? AND kind = ? AND seq = ?", deviceID, kind, e.Seq).Scan(&n); err != nil {
		return fmt.Errorf("central: alert: %w", err)
	}
	if n > 0 {
		return nil
	}
	if _, err := s.db.Exec(ctx, nil, "INSERT INTO alerts (device_id, kind, seq, event_id, detail, created_ns) VALUES (?, ?, ?, ?, ?, ?)",
		deviceID, kind, e.Seq, e.ID, detail, s.db.Now().UnixNano()); err != nil {
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
