package central

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/audit"
)

// SetDoorAudit makes Ingest append the door's accountable actions to the
// audit trail, in the ingest transaction: a staff-confirmed pickup, a
// refused pickup (by staff or a contact ban), a ratio override, a manual
// check-in or check-out, a correction of a stay. A resent (duplicate) event is not audited again.
func (s *EventStore) SetDoorAudit(l *audit.Log) { s.doorAudit = l }

// doorAuditRecord says whether an event is an accountable door action, and
// how it is recorded.
func doorAuditRecord(deviceID string, e attendance.Event) (audit.Record, bool) {
	if e.Type == attendance.CorrectionEvent && e.Correction != nil {
		return correctionAudit(e, deviceID), true
	}
	r := audit.Record{Actor: "device:" + deviceID, Time: e.Wall}
	if e.ConfirmedBy != "" {
		r.Actor = "staff:" + e.ConfirmedBy
	}
	switch {
	case e.Type == attendance.RatioOverride:
		r.Action = audit.RatioOverride
		r.Subject = "location:" + e.LocationID
	case e.Type == attendance.PickupRefused || e.Type == attendance.DeniedTap:
		r.Action = audit.PickupRefused
	case e.Manual && e.Type == attendance.ChildCheckIn:
		r.Action = audit.ManualCheckIn
	case e.Manual && e.Type == attendance.ChildCheckOut:
		r.Action = audit.ManualCheckOut
	case e.Type == attendance.ChildCheckOut && e.ConfirmedBy != "":
		r.Action = audit.PickupConfirmed
	default:
		return r, false
	}
	if r.Subject == "" {
		r.Subject = "child:" + e.ChildID
		if e.ChildID == "" {
			r.Subject = "person:" + e.ActorID
		}
	}
	r.Details = map[string]any{
		"device": deviceID, "seq": e.Seq, "event_id": e.ID, "reason": e.Reason,
		"by": string(e.ActorRole) + ":" + e.ActorID, "id_checked": e.IDChecked, "note": e.Note,
	}
	return r, true
}

// auditDoorEvents appends the audit entries of the events this batch
// stored; tx is the ingest transaction.
func (s *EventStore) auditDoorEvents(ctx context.Context, tx *sql.Tx, deviceID string, stored []attendance.Event) error {
	if s.doorAudit == nil {
		return nil
	}
	for _, e := range stored {
		r, ok := doorAuditRecord(deviceID, e)
		if !ok {
			continue
		}
		if _, err := s.doorAudit.AppendTx(ctx, tx, r); err != nil {
			return fmt.Errorf("central: ingest: audit %s: %w", e.Type, err)
		}
	}
	return nil
}
