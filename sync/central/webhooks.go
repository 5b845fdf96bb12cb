package central

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/central/sqldb"
	"github.com/kinderdeur/kiosk/sync/central/webhook"
)

// Webhook event types: what a centre's own system can subscribe to. The
// strings are part of the documented payload (version 1): never rename one.
const (
	HookCheckIn         = "attendance.check_in"
	HookCheckOut        = "attendance.check_out"        // every check-out, staff-confirmed or not
	HookPickupConfirmed = "attendance.pickup_confirmed" // a check-out that staff confirmed (besides its check_out)
	HookPing            = "ping"                        // "send test event" on the admin page; always delivered
)

// HookEventTypes lists the types an endpoint may subscribe to.
var HookEventTypes = []string{HookCheckIn, HookCheckOut, HookPickupConfirmed}

// HookPayloadVersion is the version of the payload below.
const HookPayloadVersion = 1

// HookPayload is the JSON body of every delivery (documented in README,
// "Webhooks"). Personal data is minimal: the child's id, and the first
// name only when the endpoint opted in.
type HookPayload struct {
	Version   int       `json:"version"`
	Type      string    `json:"type"`
	EventID   string    `json:"event_id"` // the door event (a ping: a fresh id)
	CreatedAt time.Time `json:"created_at"`
	Data      HookData  `json:"data"`
}

// HookData is what happened at the door.
type HookData struct {
	LocationID       string    `json:"location_id"`
	GroupID          string    `json:"group_id,omitempty"`
	ChildID          string    `json:"child_id,omitempty"`
	ChildFirstName   string    `json:"child_first_name,omitempty"`
	Time             time.Time `json:"time,omitzero"`          // UTC
	TimeQuality      string    `json:"time_quality,omitempty"` // ok, corrected, unverified
	DeviceID         string    `json:"device_id,omitempty"`
	Manual           bool      `json:"manual,omitempty"`             // entered on the staff screen
	ConfirmedByStaff bool      `json:"confirmed_by_staff,omitempty"` // a pickup staff confirmed
}

// hookTypes returns the webhook event types a stored door event raises.
func hookTypes(e attendance.Event) []string {
	switch {
	case e.ChildID == "":
		return nil
	case e.Type == attendance.ChildCheckIn:
		return []string{HookCheckIn}
	case e.Type == attendance.ChildCheckOut && e.ConfirmedBy != "" && !e.Manual:
		return []string{HookCheckOut, HookPickupConfirmed}
	case e.Type == attendance.ChildCheckOut:
		return []string{HookCheckOut}
	}
	return nil
}

// WebhookEndpoint is a receiver configured by an admin. The secret is
// never part of it: it is shown once, when made or rotated.
type WebhookEndpoint struct {
	ID               string    `json:"id"`
	LocationID       string    `json:"location_id"` // "" = every location
	URL              string    `json:"url"`
	Events           []string  `json:"events"`
	IncludeFirstName bool      `json:"include_first_name"`
	Active           bool      `json:"active"`
	Description      string    `json:"description"`
	SecretHint       string    `json:"secret_hint"` // the first characters, to tell secrets apart
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
	Pending          int       `json:"pending"`
	Dead             int       `json:"dead"`
}

// WebhookInput is what an admin sets on an endpoint.
type WebhookInput struct {
	LocationID       string   `json:"location_id"`
	URL              string   `json:"url"`
	Events           []string `json:"events"`
	IncludeFirstName bool     `json:"include_first_name"`
	Active           *bool    `json:"active,omitempty"` // default true
	Description      string   `json:"description"`
}

// WebhookDelivery is one row of an endpoint's delivery log.
type WebhookDelivery struct {
	ID          string          `json:"id"`
	EndpointID  string          `json:"endpoint_id"`
	EventID     string          `json:"event_id"`
	EventType   string          `json:"event_type"`
	Status      string          `json:"status"` // pending, delivered, dead
	Attempts    int             `json:"attempts"`
	NextAt      time.Time       `json:"next_attempt_at,omitzero"`
	LastAt      time.Time       `json:"last_attempt_at,omitzero"`
	LastCode    int             `json:"last_code,omitempty"`
	LastError   string          `json:"last_error,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	FinishedAt  time.Time       `json:"finished_at,omitzero"`
	Payload     json.RawMessage `json:"payload,omitempty"`
	ExpiresAt   time.Time       `json:"expires_at"`
	LeasedUntil time.Time       `json:"-"`
}

// Webhooks stores the endpoints and the outbox of their deliveries; it is
// the webhook.Queue of the delivery worker (on SQLite one process; on
// PostgreSQL any number of replicas, rows claimed with FOR UPDATE SKIP
// LOCKED and leased).
type Webhooks struct {
	db     *sqldb.DB
	box    atomic.Pointer[secretBox] // seals the secrets at rest (webhooksecrets.go)
	guard  atomic.Pointer[webhook.Guard]
	kick   atomic.Pointer[func()]
	maxAge time.Duration
	limit  atomic.Int32 // attempts in flight per endpoint (0: webhook.DefaultPerEndpoint)
}

var _ webhook.Queue = (*Webhooks)(nil)
var _ webhook.Pruner = (*Webhooks)(nil)

// ErrWebhookURL wraps a refused endpoint URL (webhook.ErrBadURL or
// webhook.ErrForbiddenAddress).
var ErrWebhookURL = errors.New("central: webhook URL refused")

// SetGuard sets which URLs endpoints may have (default: public https only).
func (w *Webhooks) SetGuard(g webhook.Guard) { w.guard.Store(&g) }

// Guard returns the URL guard (for the worker's dialer).
func (w *Webhooks) Guard() webhook.Guard {
	if g := w.guard.Load(); g != nil {
		return *g
	}
	return webhook.Guard{}
}

// SetEndpointLimit sets how many attempts to one endpoint may be in flight
// at once, over every replica's worker (default webhook.DefaultPerEndpoint):
// a slow receiver then holds at most that many worker slots. k < 1 is 1.
func (w *Webhooks) SetEndpointLimit(k int) { w.limit.Store(int32(max(1, min(k, 1000)))) }

func (w *Webhooks) endpointLimit() int {
	if k := w.limit.Load(); k > 0 {
		return int(k)
	}
	return webhook.DefaultPerEndpoint
}

// OnEnqueue registers f to run after an ingest queued deliveries (the
// local worker's Kick).
func (w *Webhooks) OnEnqueue(f func()) { w.kick.Store(&f) }

func (w *Webhooks) notify() {
	if f := w.kick.Load(); f != nil {
		(*f)()
	}
}

// NewWorker returns a delivery worker on this store with its guard; cfg's
// Queue and Guard are set here.
func (w *Webhooks) NewWorker(cfg webhook.WorkerConfig) *webhook.Worker {
	cfg.Queue, cfg.Guard = w, w.Guard()
	if cfg.Now == nil {
		cfg.Now = w.db.Clock()
	}
	wk := webhook.NewWorker(cfg)
	w.OnEnqueue(wk.Kick)
	return wk
}

func (w *Webhooks) age() time.Duration {
	if w.maxAge > 0 {
		return w.maxAge
	}
	return webhook.DefaultMaxAge
}

func (w *Webhooks) validate(ctx context.Context, in *WebhookInput) error {
	in.URL = strings.TrimSpace(in.URL)
	if err := w.Guard().CheckURL(ctx, in.URL); err != nil {
		return fmt.Errorf("%w: %w", ErrWebhookURL, err)
	}
	if len(in.Events) == 0 {
		return fmt.Errorf("%w: events: choose at least one of %s", ErrMalformed, strings.Join(HookEventTypes, ", "))
	}
	seen := map[string]bool{}
	var evs []string
	for _, e := range in.Events {
		if !slices.Contains(HookEventTypes, e) {
			return fmt.Errorf("%w: events: unknown type %q (known: %s)", ErrMalformed, e, strings.Join(HookEventTypes, ", "))
		}
		if !seen[e] {
			seen[e] = true
			evs = append(evs, e)
		}
	}
	in.Events = evs
	if len(in.Description) > 200 {
		return fmt.Errorf("%w: description: at most 200 characters", ErrMalformed)
	}
	if in.LocationID != "" {
		var n int
		if err := w.db.QueryRow(ctx, nil, "SELECT count(*) FROM locations WHERE id = ?", in.LocationID).Scan(&n); err != nil {
			return fmt.Errorf("central: webhook: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("%w: location %q", ErrNotFound, in.LocationID)
		}
	}
	return nil
}

// CreateEndpoint stores a new endpoint and returns it with its secret
// (shown to the admin this once).
func (w *Webhooks) CreateEndpoint(ctx context.Context, in WebhookInput) (WebhookEndpoint, string, error) {
	if err := w.validate(ctx, &in); err != nil {
		return WebhookEndpoint{}, "", err
	}
	secret, err := webhook.NewSecret()
	if err != nil {
		return WebhookEndpoint{}, "", err
	}
	id := "wh-" + uuid.NewString()
	now := w.db.Now().UnixNano()
	active := in.Active == nil || *in.Active
	stored, err := w.sealSecret(id, secret)
	if err != nil {
		return WebhookEndpoint{}, "", err
	}
	if _, err := w.db.Exec(ctx, nil, `INSERT INTO webhook_endpoints (id, location_id, url, secret, events, include_first_name, active, description, created_ns, updated_ns)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, in.LocationID, in.URL, stored, strings.Join(in.Events, ","), boolInt(in.IncludeFirstName),
		boolInt(active), in.Description, now, now); err != nil {
		return WebhookEndpoint{}, "", fmt.Errorf("central: create webhook: %w", err)
	}
	ep, err := w.Endpoint(ctx, id)
	return ep, secret, err
}

// UpdateEndpoint changes an endpoint (not its secret).
func (w *Webhooks) UpdateEndpoint(ctx context.Context, id string, in WebhookInput) (WebhookEndpoint, error) {
	if err := w.validate(ctx, &in); err != nil {
		return WebhookEndpoint{}, err
	}
	active := in.Active == nil || *in.Active
	res, err := w.db.Exec(ctx, nil, `UPDATE webhook_endpoints SET location_id = ?, url = ?, events = ?, include_first_name = ?, active = ?, description = ?, updated_ns = ?
		WHERE id = ?`, in.LocationID, in.URL, strings.Join(in.Events, ","), boolInt(in.IncludeFirstName), boolInt(active), in.Description, w.db.Now().UnixNano(), id)
	if err != nil {
		return WebhookEndpoint{}, fmt.Errorf("central: update webhook: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return WebhookEndpoint{}, fmt.Errorf("central: webhook %q: %w", id, ErrNotFound)
	}
	return w.Endpoint(ctx, id)
}

// RotateSecret gives an endpoint a new secret and returns it (shown once).
// Deliveries not yet made are signed with the new one.
func (w *Webhooks) RotateSecret(ctx context.Context, id string) (string, error) {
	secret, err := webhook.NewSecret()
	if err != nil {
		return "", err
	}
	stored, err := w.sealSecret(id, secret)
	if err != nil {
		return "", err
	}
	res, err := w.db.Exec(ctx, nil, "UPDATE webhook_endpoints SET secret = ?, updated_ns = ? WHERE id = ?", stored, w.db.Now().UnixNano(), id)
	if err != nil {
		return "", fmt.Errorf("central: rotate webhook secret: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", fmt.Errorf("central: webhook %q: %w", id, ErrNotFound)
	}
	return secret, nil
}

// DeleteEndpoint removes an endpoint and its delivery log.
func (w *Webhooks) DeleteEndpoint(ctx context.Context, id string) error {
	tx, err := w.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("central: delete webhook: %w", err)
	}
	defer tx.Rollback()
	res, err := w.db.Exec(ctx, tx, "DELETE FROM webhook_endpoints WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("central: delete webhook: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("central: webhook %q: %w", id, ErrNotFound)
	}
	if _, err := w.db.Exec(ctx, tx, "DELETE FROM webhook_deliveries WHERE endpoint_id = ?", id); err != nil {
		return fmt.Errorf("central: delete webhook: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("central: delete webhook: %w", err)
	}
	return nil
}

const endpointCols = `e.id, e.location_id, e.url, e.secret, e.events, e.include_first_name, e.active, e.description, e.created_ns, e.updated_ns,
	(SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending'),
	(SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'dead')`

func (w *Webhooks) scanEndpoint(sc interface{ Scan(...any) error }) (WebhookEndpoint, error) {
	var ep WebhookEndpoint
	var secret, events string
	var name, active int
	var created, updated int64
	if err := sc.Scan(&ep.ID, &ep.LocationID, &ep.URL, &secret, &events, &name, &active, &ep.Description, &created, &updated, &ep.Pending, &ep.Dead); err != nil {
		return ep, err
	}
	ep.Events = strings.Split(events, ",")
	ep.IncludeFirstName, ep.Active = name != 0, active != 0
	ep.CreatedAt, ep.UpdatedAt = time.Unix(0, created).UTC(), time.Unix(0, updated).UTC()
	if secret, err := w.openSecret(ep.ID, secret); err == nil {
		ep.SecretHint = secret[:min(len(secret), 10)] + "…"
	} else {
		ep.SecretHint = "…" // sealed with another key: the list still shows
	}
	return ep, nil
}

// Endpoint returns one endpoint.
func (w *Webhooks) Endpoint(ctx context.Context, id string) (WebhookEndpoint, error) {
	ep, err := w.scanEndpoint(w.db.QueryRow(ctx, nil, "SELECT "+endpointCols+" FROM webhook_endpoints e WHERE e.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return ep, fmt.Errorf("central: webhook %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return ep, fmt.Errorf("central: webhook: %w", err)
	}
	return ep, nil
}

// Endpoints lists every endpoint, oldest first.
func (w *Webhooks) Endpoints(ctx context.Context) ([]WebhookEndpoint, error) {
	rows, err := w.db.Query(ctx, nil, "SELECT "+endpointCols+" FROM webhook_endpoints e ORDER BY e.created_ns, e.id")
	if err != nil {
		return nil, fmt.Errorf("central: webhooks: %w", err)
	}
	defer rows.Close()
	var out []WebhookEndpoint
	for rows.Next() {
		ep, err := w.scanEndpoint(rows)
		if err != nil {
			return nil, fmt.Errorf("central: webhooks: %w", err)
		}
		out = append(out, ep)
	}
	return out, rows.Err()
}

// Deliveries returns an endpoint's delivery log, newest first: status
// filters ("" all), limit bounds (0: 100), payloads included when asked.
func (w *Webhooks) Deliveries(ctx context.Context, endpointID, status string, limit int, payloads bool) ([]WebhookDelivery, error) {
	if _, err := w.Endpoint(ctx, endpointID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	q := `SELECT id, endpoint_id, event_id, event_type, status, attempts, next_ns, last_attempt_ns, last_code, last_error, created_ns, finished_ns, body, expires_ns
		FROM webhook_deliveries WHERE endpoint_id = ?`
	args := []any{endpointID}
	if status != "" {
		q += " AND status = ?"
		args = append(args, status)
	}
	q += " ORDER BY created_ns DESC, id LIMIT ?"
	args = append(args, limit)
	rows, err := w.db.Query(ctx, nil, q, args...)
	if err != nil {
		return nil, fmt.Errorf("central: webhook deliveries: %w", err)
	}
	defer rows.Close()
	var out []WebhookDelivery
	for rows.Next() {
		var d WebhookDelivery
		var next, created, expires int64
		var last, finished sql.NullInt64
		var body string
		if err := rows.Scan(&d.ID, &d.EndpointID, &d.EventID, &d.EventType, &d.Status, &d.Attempts, &next, &last, &d.LastCode, &d.LastError,
			&created, &finished, &body, &expires); err != nil {
			return nil, fmt.Errorf("central: webhook deliveries: %w", err)
		}
		if d.Status == string(webhook.Pending) {
			d.NextAt = time.Unix(0, next).UTC()
		}
		if last.Valid {
			d.LastAt = time.Unix(0, last.Int64).UTC()
		}
		if finished.Valid {
			d.FinishedAt = time.Unix(0, finished.Int64).UTC()
		}
		d.CreatedAt, d.ExpiresAt = time.Unix(0, created).UTC(), time.Unix(0, expires).UTC()
		if payloads {
			d.Payload = json.RawMessage(body)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// RetryDelivery makes a pending or dead delivery due now ("retry now"). A
// dead one gets one more attempt; if that fails it is dead again. An
// attempt in flight is not doubled: the claim's lease still holds.
func (w *Webhooks) RetryDelivery(ctx context.Context, endpointID, id string) error {
	now := w.db.Now().UnixNano()
	res, err := w.db.Exec(ctx, nil, `UPDATE webhook_deliveries SET status = 'pending', next_ns = ?, expires_ns = CASE WHEN expires_ns < ? THEN ? ELSE expires_ns END, finished_ns = NULL
		WHERE id = ? AND endpoint_id = ? AND status IN ('pending', 'dead')`, now, now, now, id, endpointID)
	if err != nil {
		return fmt.Errorf("central: retry webhook delivery: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var status string
		err := w.db.QueryRow(ctx, nil, "SELECT status FROM webhook_deliveries WHERE id = ? AND endpoint_id = ?", id, endpointID).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("central: webhook delivery %q: %w", id, ErrNotFound)
		}
		return fmt.Errorf("central: webhook delivery %q is %s: %w", id, status, ErrConflict)
	}
	w.notify()
	return nil
}

// SendTest queues a ping to the endpoint (whatever its subscriptions) and
// returns the delivery id.
func (w *Webhooks) SendTest(ctx context.Context, endpointID string) (string, error) {
	ep, err := w.Endpoint(ctx, endpointID)
	if err != nil {
		return "", err
	}
	now := w.db.Now()
	p := HookPayload{Version: HookPayloadVersion, Type: HookPing, EventID: uuid.NewString(), CreatedAt: now.UTC(), Data: HookData{LocationID: ep.LocationID}}
	id, err := w.insert(ctx, nil, ep.ID, p, now)
	if err != nil {
		return "", err
	}
	w.notify()
	return id, nil
}

func (w *Webhooks) insert(ctx context.Context, q sqldb.Querier, endpointID string, p HookPayload, now time.Time) (string, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("central: webhook payload: %w", err)
	}
	id := uuid.NewString()
	_, err = w.db.Exec(ctx, q, `INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, location_id, body, status, next_ns, expires_ns, created_ns)
		VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT DO NOTHING`,
		id, endpointID, p.EventID, p.Type, p.Data.LocationID, string(body), now.UnixNano(), now.Add(w.age()).UnixNano(), now.UnixNano())
	if err != nil {
		return "", fmt.Errorf("central: queue webhook: %w", err)
	}
	return id, nil
}

// hookSource is a door event just stored by ingest, with its graded time.
type hookSource struct {
	e       attendance.Event
	timeNS  int64
	quality string
}

// enqueue writes the deliveries of the events a batch stored, in the
// ingest transaction tx: one per active endpoint of the location (or of
// every location) subscribed to the event's type. It returns how many.
func (w *Webhooks) enqueue(ctx context.Context, tx *sql.Tx, loc, deviceID string, srcs []hookSource) (int, error) {
	if !slices.ContainsFunc(srcs, func(s hookSource) bool { return len(hookTypes(s.e)) > 0 }) {
		return 0, nil
	}
	type sub struct {
		id     string
		events []string
		names  bool
	}
	rows, err := w.db.Query(ctx, tx, "SELECT id, events, include_first_name FROM webhook_endpoints WHERE active = 1 AND (location_id = '' OR location_id = ?)", loc)
	if err != nil {
		return 0, fmt.Errorf("central: ingest: webhooks: %w", err)
	}
	var subs []sub
	wantNames := false
	for rows.Next() {
		var s sub
		var evs string
		var names int
		if err := rows.Scan(&s.id, &evs, &names); err != nil {
			rows.Close()
			return 0, fmt.Errorf("central: ingest: webhooks: %w", err)
		}
		s.events, s.names = strings.Split(evs, ","), names != 0
		wantNames = wantNames || s.names
		subs = append(subs, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("central: ingest: webhooks: %w", err)
	}
	if len(subs) == 0 {
		return 0, nil
	}
	var names map[string]string
	if wantNames {
		if names, err = w.firstNames(ctx, tx, loc); err != nil {
			return 0, err
		}
	}
	now := w.db.Now()
	n := 0
	for _, src := range srcs {
		for _, typ := range hookTypes(src.e) {
			p := HookPayload{Version: HookPayloadVersion, Type: typ, EventID: src.e.ID, CreatedAt: now.UTC(), Data: HookData{
				LocationID: loc, GroupID: src.e.GroupID, ChildID: src.e.ChildID, Time: time.Unix(0, src.timeNS).UTC(), TimeQuality: src.quality,
				DeviceID: deviceID, Manual: src.e.Manual, ConfirmedByStaff: src.e.Type == attendance.ChildCheckOut && src.e.ConfirmedBy != ""}}
			for _, s := range subs {
				if !slices.Contains(s.events, typ) {
					continue
				}
				q := p
				if s.names {
					q.Data.ChildFirstName = names[src.e.ChildID]
				}
				if _, err := w.insert(ctx, tx, s.id, q, now); err != nil {
					return 0, err
				}
				n++
			}
		}
	}
	return n, nil
}

// firstNames maps the children of loc's current roster to first names.
func (w *Webhooks) firstNames(ctx context.Context, tx *sql.Tx, loc string) (map[string]string, error) {
	var body string
	err := w.db.QueryRow(ctx, tx, "SELECT body FROM rosters WHERE location_id = ? ORDER BY version DESC LIMIT 1", loc).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("central: ingest: webhooks: roster: %w", err)
	}
	var r roster.Roster
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return nil, fmt.Errorf("central: ingest: webhooks: roster: %w", err)
	}
	out := make(map[string]string, len(r.Children))
	for _, c := range r.Children {
		out[c.ID] = c.FirstName
	}
	return out, nil
}

// Claim implements webhook.Queue: the due deliveries of active endpoints,
// each counted as an attempt and leased, at most the endpoint limit per
// endpoint in flight (leased) at once, so that a slow receiver cannot hold
// every slot of the workers: each endpoint's oldest due deliveries, ranked
// (ROW_NUMBER per endpoint) up to the limit minus its leased ones, the
// first ranks of every endpoint before the second ones.
//
// On PostgreSQL the claim first locks the endpoints it serves (FOR NO KEY
// UPDATE SKIP LOCKED: another replica's claim serves the others meanwhile),
// so that an endpoint's leased count is read after the previous claim for
// it committed and the limit holds over all replicas; the rows are then
// locked FOR UPDATE SKIP LOCKED by id, outside the window function (which
// PostgreSQL does not allow in a locking select). SQLite's immediate
// transactions serialise the whole claim.
func (w *Webhooks) Claim(ctx context.Context, now time.Time, lease time.Duration, max int) ([]webhook.Job, error) {
	if max <= 0 {
		return nil, nil
	}
	tx, err := w.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	ns := now.UnixNano()
	pg := w.db.Dialect() == sqldb.Postgres
	scope, lock := "", ""
	args := []any{ns, ns}
	if pg {
		var ids []string
		rows, err := w.db.Query(ctx, tx, `SELECT e.id FROM webhook_endpoints e WHERE e.active = 1 AND EXISTS (
			SELECT 1 FROM webhook_deliveries q WHERE q.endpoint_id = e.id AND q.status = 'pending' AND q.next_ns <= ? AND q.lease_ns <= ?)
			FOR NO KEY UPDATE SKIP LOCKED`, ns, ns)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			return nil, nil
		}
		scope, lock = " AND q.endpoint_id = ANY(?)", " FOR UPDATE OF d SKIP LOCKED"
		args = append(args, ids)
	}
	args = append(args, ns, w.endpointLimit(), ns, ns, max)
	q := `SELECT d.id, d.attempts, d.event_type, d.body, d.expires_ns, e.url, e.id, e.secret
		FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
		JOIN (SELECT c.id, c.rn FROM (
				SELECT q.id, q.endpoint_id, ROW_NUMBER() OVER (PARTITION BY q.endpoint_id ORDER BY q.next_ns, q.id) AS rn
				FROM webhook_deliveries q JOIN webhook_endpoints qe ON qe.id = q.endpoint_id
				WHERE q.status = 'pending' AND q.next_ns <= ? AND q.lease_ns <= ? AND qe.active = 1` + scope + `
			) c LEFT JOIN (
				SELECT l.endpoint_id, count(*) AS n FROM webhook_deliveries l WHERE l.lease_ns > ? AND l.status = 'pending' GROUP BY l.endpoint_id
			) b ON b.endpoint_id = c.endpoint_id
			WHERE c.rn <= ? - COALESCE(b.n, 0)
		) r ON r.id = d.id
		WHERE d.status = 'pending' AND d.next_ns <= ? AND d.lease_ns <= ?
		ORDER BY r.rn, d.next_ns, d.id LIMIT ?` + lock
	rows, err := w.db.Query(ctx, tx, q, args...)
	if err != nil {
		return nil, err
	}
	var jobs []webhook.Job
	// held: deliveries whose endpoint's secret does not open (damaged, or
	// sealed for another endpoint or key). They wait, leased like an
	// attempt but not counted as one, with the reason on the delivery,
	// until an admin rotates the secret; the other endpoints' deliveries
	// go out meanwhile.
	type held struct{ id, reason string }
	var holds []held
	type opened struct {
		secret string
		err    error
	}
	secrets := map[string]opened{} // by endpoint: one decryption a claim
	for rows.Next() {
		var j webhook.Job
		var body, endpoint, stored string
		var expires int64
		if err := rows.Scan(&j.ID, &j.Attempt, &j.EventType, &body, &expires, &j.URL, &endpoint, &stored); err != nil {
			rows.Close()
			return nil, err
		}
		o, ok := secrets[endpoint]
		if !ok {
			o.secret, o.err = w.openSecret(endpoint, stored)
			secrets[endpoint] = o
		}
		if o.err != nil {
			holds = append(holds, held{j.ID, fmt.Sprintf("not sent: %v; rotate the endpoint's secret", o.err)})
			continue
		}
		secret := o.secret
		j.Attempt++
		j.Body, j.Secret, j.Expires = []byte(body), []byte(secret), time.Unix(0, expires)
		jobs = append(jobs, j)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, j := range jobs {
		if _, err := w.db.Exec(ctx, tx, "UPDATE webhook_deliveries SET attempts = ?, lease_ns = ?, last_attempt_ns = ? WHERE id = ?",
			j.Attempt, now.Add(lease).UnixNano(), ns, j.ID); err != nil {
			return nil, err
		}
	}
	for _, h := range holds {
		if _, err := w.db.Exec(ctx, tx, "UPDATE webhook_deliveries SET lease_ns = ?, last_error = ? WHERE id = ?",
			now.Add(lease).UnixNano(), h.reason, h.id); err != nil {
			return nil, err
		}
	}
	return jobs, tx.Commit()
}

// Finish implements webhook.Queue. An attempt superseded by a later claim
// (its lease ran out and another worker took the job) changes nothing.
func (w *Webhooks) Finish(ctx context.Context, j webhook.Job, r webhook.Result) error {
	var finished any
	next := r.Next.UnixNano()
	if r.State != webhook.Pending {
		finished, next = r.At.UnixNano(), r.At.UnixNano()
	}
	_, err := w.db.Exec(ctx, nil, `UPDATE webhook_deliveries SET status = ?, next_ns = ?, lease_ns = 0, last_code = ?, last_error = ?, finished_ns = ?
		WHERE id = ? AND attempts = ? AND status = 'pending'`, string(r.State), next, r.Code, r.Error, finished, j.ID, j.Attempt)
	return err
}

// Prune implements webhook.Pruner: delivered and dead deliveries finished
// before t are deleted (their payloads hold a child id).
func (w *Webhooks) Prune(ctx context.Context, before time.Time) (int64, error) {
	res, err := w.db.Exec(ctx, nil, "DELETE FROM webhook_deliveries WHERE status IN ('delivered', 'dead') AND finished_ns < ?", before.UnixNano())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
