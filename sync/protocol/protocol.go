// Package protocol holds the wire types of the kiosk<->central sync protocol
// (version 1), their validation and the request-signing scheme both ends
// share. PROTOCOL.md beside this file documents the protocol with examples.
package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kinderdeur/kiosk/attendance"
)

// Version is the protocol version this package speaks. A batch names it.
const Version = 1

// Limits.
const (
	// MaxBatchEvents is the most events one batch may carry.
	MaxBatchEvents = 500
	// MaxEventBytes is the largest encoded event central accepts.
	MaxEventBytes = 16 << 10
	// MaxBatchBytes is the largest request body of a batch.
	MaxBatchBytes = MaxBatchEvents*(MaxEventBytes/4) + 64<<10
	// MaxRosterBytes is the largest roster body an admin may put.
	MaxRosterBytes = 8 << 20
	// MaxSmallBody is the limit for small JSON requests (enrolment, admin forms).
	MaxSmallBody = 64 << 10
)

// Paths of the API. Device paths are signed by the device key; admin paths
// take a bearer token; enrolment takes a one-time enrolment token.
const (
	PathEnrol          = "/api/v1/device/enrol"
	PathEvents         = "/api/v1/device/events"
	PathRoster         = "/api/v1/device/roster"
	PathDevicePresence = "/api/v1/device/presence"
	PathAttendance     = "/api/v1/attendance"
	// PathDeviceCorrections lists the corrections of the device's location
	// after a cursor (?after=N): central -> kiosk.
	PathDeviceCorrections = "/api/v1/device/corrections"
	// PathRosterWait is the roster long-poll: GET with ?version=V (the
	// kiosk's) and optionally &wait=S; central answers a RosterChange as
	// soon as the location's roster is above V, or when S seconds passed.
	PathRosterWait = "/api/v1/device/roster/wait"
)

// CentralDeviceID is the device id of the correction events a manager makes
// at central (central numbers them with their cursor as seq).
const CentralDeviceID = "central"

// MaxCorrectionsPage is the most corrections one answer of
// PathDeviceCorrections lists.
const MaxCorrectionsPage = 200

// Corrections is central's answer on PathDeviceCorrections: the corrections
// of the location (made at central or at any of its kiosks) with a cursor
// above the one asked for, in cursor order. Next is the cursor to ask after
// next time; More says another page is waiting.
type Corrections struct {
	Corrections []CorrectionItem `json:"corrections"`
	Next        int64            `json:"next"`
	More        bool             `json:"more,omitempty"`
}

// CorrectionItem is one correction: central's cursor and the event
// (attendance.Event with type correction) as stored.
type CorrectionItem struct {
	Cursor int64           `json:"cursor"`
	Event  json.RawMessage `json:"event"`
}

// Long-poll bounds of PathRosterWait, in seconds: the kiosk asks for
// RosterWaitDefault (under its request timeout and any load balancer's
// idle timeout); central never holds a request longer than RosterWaitMax.
const (
	RosterWaitDefault = 25
	RosterWaitMax     = 55
)

// RosterChange answers PathRosterWait. Changed is true when Version is
// above the version the kiosk sent: it then pulls PathRoster (with
// If-None-Match) and applies the new version at once. False means the time
// was up: the kiosk asks again.
type RosterChange struct {
	LocationID string    `json:"location_id"`
	Version    int64     `json:"version"`
	Changed    bool      `json:"changed"`
	ServerTime time.Time `json:"server_time"`
}

// ClockProbe is the kiosk's clock at the moment it sends a batch: central
// uses it to correct the times of events of the same boot.
type ClockProbe struct {
	BootID string    `json:"boot_id"`
	MonoNS int64     `json:"mono_ns"` // time since boot (CLOCK_BOOTTIME), the same clock as Event.MonoNS
	Wall   time.Time `json:"wall"`
	Synced bool      `json:"synced"`
}

// Batch is what a kiosk posts to PathEvents. Events are the stored wire
// form of attendance.Event, byte for byte as the kiosk stored them, in seq
// order with consecutive seqs. An empty batch is allowed: it asks for the
// acknowledgement state (a kiosk does that at start-up).
type Batch struct {
	Protocol int               `json:"protocol"`
	DeviceID string            `json:"device_id"`
	Clock    ClockProbe        `json:"clock"`
	Events   []json.RawMessage `json:"events"`
	// Health is the kiosk's health at the time of the batch (optional;
	// see HealthReport).
	Health *HealthReport `json:"health,omitempty"`
}

// Status is the fate of one event in a batch.
type Status string

const (
	StatusStored    Status = "stored"    // new, stored now
	StatusDuplicate Status = "duplicate" // stored before (a retry): nothing changed
	StatusRejected  Status = "rejected"  // not accepted; the kiosk quarantines it; central keeps it for admins
)

// Rejection reasons (EventResult.Reason when Status is rejected).
const (
	ReasonSeqConflict     = "seq_conflict"      // central holds another event under this seq (restored kiosk?)
	ReasonEventIDConflict = "event_id_conflict" // central holds this event id under another seq
	ReasonUnknownType     = "unknown_type"
	ReasonWrongLocation   = "wrong_location" // the event names a location the device does not belong to
	ReasonInvalid         = "invalid"        // see Invalid; EventResult.Detail says what
)

// EventResult is the per-event answer.
type EventResult struct {
	Seq     int64  `json:"seq"`
	EventID string `json:"event_id"`
	Status  Status `json:"status"`
	Reason  string `json:"reason,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// BatchResponse answers a batch. AckedThroughSeq is the highest seq such
// that every seq from 1 to it is settled at central (stored, or rejected and
// kept for admins): the kiosk moves its outbox's watermark up to it.
type BatchResponse struct {
	Protocol        int           `json:"protocol"`
	Results         []EventResult `json:"results"`
	AckedThroughSeq int64         `json:"acked_through_seq"`
	ServerTime      time.Time     `json:"server_time"`
}

// EnrolRequest asks central to register a device. PublicKey is the
// device's Ed25519 public key in base64 (std encoding); DeviceID the id the
// kiosk stamps on its events.
type EnrolRequest struct {
	Token     string `json:"token"`
	DeviceID  string `json:"device_id"`
	PublicKey string `json:"public_key"`
	Name      string `json:"name,omitempty"`
}

// EnrolResponse tells the device what it needs to work with this site.
type EnrolResponse struct {
	DeviceID   string `json:"device_id"`
	LocationID string `json:"location_id"`
	BadgeKey   string `json:"badge_key"` // hex; the kiosk hashes card UIDs with it
	// PINPepper (hex) is the site's staff PIN pepper: the kiosk keeps it
	// with its secrets and checks peppered PIN hashes with it. Empty when
	// central runs without one.
	PINPepper  string    `json:"pin_pepper,omitempty"`
	ServerTime time.Time `json:"server_time"`
}

// Presence is the children and staff present at a location according to
// central, aggregated from the events of all the location's devices.
type Presence struct {
	LocationID string          `json:"location_id"`
	Children   []PresentPerson `json:"children"`
	Staff      []PresentPerson `json:"staff"`
	AsOf       time.Time       `json:"as_of"`
}

// PresentPerson is one child or staff member present.
type PresentPerson struct {
	ID       string    `json:"id"`
	GroupID  string    `json:"group_id,omitempty"`
	Since    time.Time `json:"since"`
	DeviceID string    `json:"device_id"` // the door where the person came in
}

// Error is the body of every 4xx and 5xx answer.
type Error struct {
	Code       string    `json:"error"`
	Message    string    `json:"message"`
	ServerTime time.Time `json:"server_time,omitzero"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Error codes.
const (
	CodeMalformed     = "malformed"      // not valid JSON or a field is wrong
	CodeTooLarge      = "too_large"      // body or batch over the limits
	CodeOutOfOrder    = "out_of_order"   // seqs not consecutive and increasing
	CodeSeqGap        = "seq_gap"        // the batch starts after the acknowledged seq + 1
	CodeOtherDevice   = "other_device"   // the batch names a device other than the signer
	CodeUnauthorized  = "unauthorized"   // missing or bad credentials
	CodeClockSkew     = "clock_skew"     // the signed timestamp is outside the window; see server_time
	CodeReplay        = "replay"         // the nonce was seen before
	CodeRevoked       = "revoked"        // the device was revoked
	CodeForbidden     = "forbidden"      // authenticated but not allowed
	CodeNotFound      = "not_found"      // no such thing
	CodeConflict      = "conflict"       // e.g. a device id already enrolled, a stale roster version
	CodeBadToken      = "bad_token"      // the enrolment token is unknown, used or expired
	CodeUnsupported   = "unsupported"    // protocol version not spoken
	CodeInternal      = "internal"       // a server fault; retry later
	CodeUnavailable   = "unavailable"    // shutting down or overloaded; retry later
	CodeRateLimited   = "rate_limited"   // too many requests; retry later
	CodeInvalidRoster = "invalid_roster" // the roster fails Validate
)

// BatchError is a batch central refuses as a whole. Index is the event's
// position in the batch (-1 for the batch itself).
type BatchError struct {
	Code  string
	Index int
	Msg   string
}

func (e *BatchError) Error() string {
	if e.Index >= 0 {
		return fmt.Sprintf("protocol: batch: events[%d]: %s", e.Index, e.Msg)
	}
	return "protocol: batch: " + e.Msg
}

// ErrTooLarge is returned for a body over its limit.
var ErrTooLarge = errors.New("protocol: body too large")

// KnownTypes are the event types central accepts.
var KnownTypes = map[attendance.EventType]bool{
	attendance.ChildCheckIn: true, attendance.ChildCheckOut: true, attendance.StaffIn: true, attendance.StaffOut: true,
	attendance.PickupRefused: true, attendance.DeniedTap: true, attendance.RatioOverride: true, attendance.RollCallMark: true,
	attendance.CorrectionEvent: true,
	attendance.RequestClosed:   true,
}

// DecodeBatch reads and validates a batch of at most MaxBatchBytes from r.
// It returns the batch and its events decoded, or a *BatchError (or an
// error wrapping ErrTooLarge). It checks structure only: that each event is
// an object with a UUID event id and the batch's device id, that seqs are
// positive, increasing by exactly one, and that there are at most
// MaxBatchEvents. The content of each event is Invalid's business; whether
// central already holds them is central's.
func DecodeBatch(r io.Reader) (Batch, []attendance.Event, error) {
	body, err := io.ReadAll(io.LimitReader(r, MaxBatchBytes+1))
	if err != nil {
		return Batch{}, nil, &BatchError{Code: CodeMalformed, Index: -1, Msg: "read: " + err.Error()}
	}
	if len(body) > MaxBatchBytes {
		return Batch{}, nil, fmt.Errorf("%w: batch over %d bytes", ErrTooLarge, MaxBatchBytes)
	}
	var b Batch
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&b); err != nil {
		return Batch{}, nil, &BatchError{Code: CodeMalformed, Index: -1, Msg: "json: " + err.Error()}
	}
	if dec.More() {
		return Batch{}, nil, &BatchError{Code: CodeMalformed, Index: -1, Msg: "trailing data after the batch"}
	}
	evs, err := b.Validate()
	if err != nil {
		return Batch{}, nil, err
	}
	return b, evs, nil
}

// Validate checks a batch (see DecodeBatch) and decodes its events.
func (b *Batch) Validate() ([]attendance.Event, error) {
	bad := func(code string, i int, format string, a ...any) error {
		return &BatchError{Code: code, Index: i, Msg: fmt.Sprintf(format, a...)}
	}
	if b.Protocol != Version {
		return nil, bad(CodeUnsupported, -1, "protocol %d: this server speaks %d", b.Protocol, Version)
	}
	if b.DeviceID == "" || len(b.DeviceID) > 100 {
		return nil, bad(CodeMalformed, -1, "device_id missing or longer than 100")
	}
	if len(b.Events) > MaxBatchEvents {
		return nil, bad(CodeTooLarge, -1, "%d events: at most %d per batch", len(b.Events), MaxBatchEvents)
	}
	if b.Clock.MonoNS < 0 || len(b.Clock.BootID) > 100 || !plausibleWall(b.Clock.Wall) {
		return nil, bad(CodeMalformed, -1, "clock: mono_ns negative, boot_id too long or wall outside 1900..2200")
	}
	if b.Health != nil {
		if err := b.Health.Validate(); err != nil {
			return nil, bad(CodeMalformed, -1, "%v", err)
		}
	}
	evs := make([]attendance.Event, len(b.Events))
	for i, raw := range b.Events {
		if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
			return nil, bad(CodeMalformed, i, "not a JSON object")
		}
		e := &evs[i]
		if err := json.Unmarshal(raw, e); err != nil {
			return nil, bad(CodeMalformed, i, "json: %v", err)
		}
		if _, err := uuid.Parse(e.ID); err != nil || len(e.ID) != 36 {
			return nil, bad(CodeMalformed, i, "event_id %q is not a UUID", truncate(e.ID, 40))
		}
		if e.DeviceID != b.DeviceID {
			return nil, bad(CodeOtherDevice, i, "device_id %q differs from the batch's", truncate(e.DeviceID, 100))
		}
		if e.Seq < 1 {
			return nil, bad(CodeMalformed, i, "seq %d: must be at least 1", e.Seq)
		}
		if i > 0 && e.Seq != evs[i-1].Seq+1 {
			return nil, bad(CodeOutOfOrder, i, "seq %d after %d: seqs must be consecutive and increasing", e.Seq, evs[i-1].Seq)
		}
	}
	return evs, nil
}

// Invalid returns why central rejects an event whose identity (event id,
// device, seq) is sound but whose content is not ("" when it is fine).
// Such an event is rejected on its own (status rejected, reason invalid)
// instead of refusing the batch, so one bad event can never block a
// kiosk's outbox: its seq is settled and the kiosk quarantines it.
func Invalid(e attendance.Event, raw []byte) string {
	switch {
	case len(raw) > MaxEventBytes:
		return fmt.Sprintf("event over %d bytes", MaxEventBytes)
	case e.Type == "" || len(e.Type) > 64:
		return "type missing or longer than 64"
	case e.MonoNS < 0:
		return "mono_ns negative"
	case len(e.BootID) > 100:
		return "boot_id longer than 100"
	case !plausibleWall(e.Wall):
		return fmt.Sprintf("wall %s outside 1900..2200", e.Wall.Format(time.RFC3339))
	case e.Type == attendance.CorrectionEvent:
		// The kiosk's clock may be off: whether a time lies in the future
		// is not judged here.
		if err := attendance.ValidCorrectionEvent(e, time.Time{}); err != nil {
			return err.Error()
		}
		if c := e.Correction; (!c.CheckIn.IsZero() && !plausibleWall(c.CheckIn)) || (!c.CheckOut.IsZero() && !plausibleWall(c.CheckOut)) {
			return "correction: time outside 1900..2200"
		}
	}
	return ""
}

// plausibleWall bounds wall times to what fits unix nanoseconds: a kiosk
// clock at 1970 is honest (and flagged), year 1 or 9999 is garbage.
func plausibleWall(t time.Time) bool {
	return t.Year() >= 1900 && t.Year() <= 2200
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// DecodeError reads an Error body; a body that is not one gives a generic
// Error with the HTTP status text.
func DecodeError(status int, body []byte) *Error {
	var e Error
	if err := json.Unmarshal(body, &e); err != nil || e.Code == "" {
		msg := strings.TrimSpace(string(body))
		if len(msg) > 200 {
			msg = msg[:200]
		}
		return &Error{Code: fmt.Sprintf("http_%d", status), Message: msg}
	}
	return &e
}

// DemoEnrolToken is the public enrolment token `central -demo` accepts, so
// that `kioskd -demo -central URL` enrols with no steps. It is documented
// and not secret: never use -demo for a real site.
const DemoEnrolToken = "demo-enrolment-token-not-secret"
