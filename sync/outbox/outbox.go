// Package outbox is the kiosk side of the sync protocol: it enrols the
// kiosk with central once, pushes the store's outbox in batches (the same
// bytes on every resend) until central acknowledges them, quarantines what
// central rejects, and pulls new roster versions. It owns one goroutine,
// started by Run and stopped by cancelling Run's context. The door never
// waits for it: taps commit to the store whether central is reachable or not.
package outbox

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/staffpin"
	"github.com/kinderdeur/kiosk/attendance/store"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// Store is what the outbox needs of the kiosk store (*store.Store).
type Store interface {
	Outbox(ctx context.Context, afterSeq int64, limit int) ([]store.OutboxItem, error)
	Ack(ctx context.Context, throughSeq int64, serverTime time.Time) error
	Quarantine(ctx context.Context, seq int64, reason string) error
	SyncStatus(ctx context.Context) (store.SyncStatus, error)
	Watermarks(ctx context.Context) (lastSeq, ackedThrough int64, err error)
	BumpSeq(ctx context.Context, atLeast int64) error
	Meta(ctx context.Context, key string) (string, error)
	SetMeta(ctx context.Context, key, value string) error
	ApplyRoster(ctx context.Context, r roster.Roster) error
	Roster(ctx context.Context) (roster.Roster, error)
	DeviceID() string
}

var _ Store = (*store.Store)(nil)

// CorrectionStore is what the outbox needs to follow central's corrections
// (*store.Store); a Store without it does not pull them.
type CorrectionStore interface {
	CorrectionsCursor(ctx context.Context) (int64, error)
	ApplyRemoteCorrections(ctx context.Context, items []store.RemoteCorrection, next int64) ([]attendance.Event, error)
}

var _ CorrectionStore = (*store.Store)(nil)

// Meta keys the outbox keeps in the store.
const (
	MetaDeviceKey  = "sync.device_key"  // Ed25519 seed (hex): the device's private key
	MetaEnrolled   = "sync.enrolled"    // central URL the device enrolled with
	MetaLocationID = "sync.location_id" // location central enrolled the device in
	MetaBadgeKey   = "badge_key"        // the site's badge key (hex) from enrolment
	MetaPINPepper  = "pin_pepper"       // the site's staff PIN pepper (hex) from enrolment or a roster pull
)

// Config configures a Client. Store, CentralURL and Probe are required.
type Config struct {
	Store      Store
	CentralURL string // e.g. http://127.0.0.1:8090
	EnrolToken string // one-time enrolment token (first start only)
	DeviceName string // shown to admins
	Logger     *slog.Logger
	// OnRoster is called (from Run's goroutine) after a newer roster was
	// applied to the store.
	OnRoster func(roster.Roster)
	// OnCorrections is called (from Run's goroutine) with corrections made
	// elsewhere (at central, at another door) once they are stored here,
	// each exactly once: the door folds them into presence.
	OnCorrections func([]attendance.Event)
	// OnEnrolled is called after a successful enrolment; the badge key is
	// also stored under MetaBadgeKey.
	OnEnrolled func(protocol.EnrolResponse)
	// Probe reads the clock for each batch. The caller passes the clock it
	// stamps events with (the daemon: its hw/sysclock), so there is one.
	Probe func() (protocol.ClockProbe, error)
	// Health, when set, is called for every batch and its report rides
	// along (protocol.HealthReport); the client fills in the sync part
	// (pending, oldest pending, quarantined, last error, roster version).
	Health func() protocol.HealthReport

	HTTPClient     *http.Client  // default: a client with RequestTimeout
	RequestTimeout time.Duration // default 30s
	BatchSize      int           // default and maximum protocol.MaxBatchEvents
	PollInterval   time.Duration // idle wait between pushes, default 10s (Notify cuts it short)
	RosterInterval time.Duration // between roster pulls, default 1 min (the fallback of RosterWait)
	// RosterWait is how long each roster long-poll asks central to hold
	// (protocol.PathRosterWait), default protocol.RosterWaitDefault seconds,
	// kept under RequestTimeout; negative turns the long-poll off (then
	// only RosterInterval pulls).
	RosterWait time.Duration
	// CorrectionInterval is the time between pulls of central's
	// corrections, default 5 s (a push cycle may make it longer).
	CorrectionInterval time.Duration
	BackoffBase        time.Duration // first retry delay cap, default 1s
	BackoffMax         time.Duration // retry delay cap, default 5 min

	// Injected for tests.
	Now   func() time.Time                     // default time.Now
	Rand  func() float64                       // [0,1) for jitter; default math/rand/v2
	After func(time.Duration) <-chan time.Time // default time.After
}

// Status is the sync state for /healthz and the staff screen.
type Status struct {
	Enrolled      bool      `json:"enrolled"`
	DeviceID      string    `json:"device_id"`
	Online        bool      `json:"online"` // the last exchange with central succeeded
	Pending       int64     `json:"pending"`
	Quarantined   int64     `json:"quarantined"`
	LastSeq       int64     `json:"last_seq"`
	AckedThrough  int64     `json:"acked_through"`
	LastSync      time.Time `json:"last_sync,omitzero"` // last successful exchange
	LastError     string    `json:"last_error,omitempty"`
	LastErrorAt   time.Time `json:"last_error_at,omitzero"`
	RosterVersion int64     `json:"roster_version"`
	RosterLive    bool      `json:"roster_live"` // the roster long-poll is connected: changes arrive in seconds
	Revoked       bool      `json:"revoked,omitempty"`
}

// Client pushes events to central and pulls rosters.
type Client struct {
	cfg    Config
	log    *slog.Logger
	base   string
	notify chan struct{}

	pullMu sync.Mutex // one roster pull at a time (Run's and the long-poll's)

	mu       sync.Mutex
	key      ed25519.PrivateKey
	status   Status
	offset   time.Duration // central's clock minus ours, learned from clock_skew answers
	enrolled bool
	errs     map[string]int64 // failed exchanges by kind (ErrorKind), for metrics
	counts   store.SyncStatus // the health report's last sync counts (syncCounts)
	countsAt time.Time
}

// New checks cfg and returns a Client; Run starts it.
func New(cfg Config) (*Client, error) {
	if cfg.Store == nil {
		return nil, errors.New("outbox: no store")
	}
	if !strings.HasPrefix(cfg.CentralURL, "http://") && !strings.HasPrefix(cfg.CentralURL, "https://") {
		return nil, fmt.Errorf("outbox: central URL %q: want http:// or https://", cfg.CentralURL)
	}
	if cfg.Probe == nil {
		return nil, errors.New("outbox: no clock probe")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: cfg.RequestTimeout}
	}
	if cfg.BatchSize <= 0 || cfg.BatchSize > protocol.MaxBatchEvents {
		cfg.BatchSize = protocol.MaxBatchEvents
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 10 * time.Second
	}
	if cfg.RosterInterval == 0 {
		cfg.RosterInterval = time.Minute
	}
	if cfg.CorrectionInterval == 0 {
		cfg.CorrectionInterval = 5 * time.Second
	}
	if cfg.RosterWait == 0 {
		cfg.RosterWait = protocol.RosterWaitDefault * time.Second
	}
	if cfg.RosterWait > 0 {
		cfg.RosterWait = max(min(cfg.RosterWait, cfg.RequestTimeout-5*time.Second), time.Second)
	}
	if cfg.BackoffBase == 0 {
		cfg.BackoffBase = time.Second
	}
	if cfg.BackoffMax == 0 {
		cfg.BackoffMax = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = mrand.Float64
	}
	if cfg.After == nil {
		cfg.After = time.After
	}
	c := &Client{cfg: cfg, log: cfg.Logger, base: strings.TrimRight(cfg.CentralURL, "/"), notify: make(chan struct{}, 1)}
	c.status.DeviceID = cfg.Store.DeviceID()
	return c, nil
}

// Notify asks Run to push now (the daemon calls it after a tap commits).
// It never blocks.
func (c *Client) Notify() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// Status returns the current sync state; the counts come from the store.
func (c *Client) Status() Status {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.cfg.Store.SyncStatus(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.status
	if err == nil {
		s.Pending, s.Quarantined, s.LastSeq, s.AckedThrough = st.Pending, st.Quarantined, st.LastSeq, st.AckedThrough
	}
	return s
}

// Backoff returns the delay before retry number attempt (0-based): full
// jitter over a capped exponential.
func Backoff(attempt int, base, max time.Duration, rnd func() float64) time.Duration {
	d := float64(base) * math.Pow(2, float64(attempt))
	if d > float64(max) || math.IsInf(d, 0) {
		d = float64(max)
	}
	return time.Duration(rnd() * d)
}

// Run enrols (first start), then pushes and pulls until ctx is cancelled.
// It returns nil on cancellation; it never gives up on central.
func (c *Client) Run(ctx context.Context) error {
	attempt := 0
	wait := func(d time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-c.cfg.After(d):
			return true
		}
	}
	for {
		err := c.ensureEnrolled(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		c.fail(err)
		if !wait(Backoff(attempt, c.cfg.BackoffBase, c.cfg.BackoffMax, c.cfg.Rand)) {
			return nil
		}
		attempt++
	}
	if c.cfg.RosterWait > 0 {
		wctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); c.watchRoster(wctx) }()
		defer func() { cancel(); wg.Wait() }()
	}
	attempt = 0
	var nextRoster, nextCorrections time.Time
	for {
		full, err := c.PushOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			c.fail(err)
			if !wait(Backoff(attempt, c.cfg.BackoffBase, c.cfg.BackoffMax, c.cfg.Rand)) {
				return nil
			}
			attempt++
			continue
		}
		attempt = 0
		if now := c.cfg.Now(); !now.Before(nextRoster) {
			if err := c.PullRoster(ctx); err != nil && ctx.Err() == nil {
				c.fail(err)
			}
			nextRoster = now.Add(c.cfg.RosterInterval)
		}
		if now := c.cfg.Now(); !now.Before(nextCorrections) {
			if err := c.PullCorrections(ctx); err != nil && ctx.Err() == nil {
				c.fail(err)
			}
			nextCorrections = now.Add(c.cfg.CorrectionInterval)
		}
		if full {
			continue // more waiting: no pause
		}
		select {
		case <-ctx.Done():
			return nil
		case <-c.notify:
		case <-c.cfg.After(c.cfg.PollInterval):
		}
	}
}

func (c *Client) fail(err error) {
	var pe *protocol.Error
	kind := ErrorKind(err)
	c.mu.Lock()
	if c.errs == nil {
		c.errs = map[string]int64{}
	}
	c.errs[kind]++
	c.status.Online = false
	c.status.LastError = err.Error()
	c.status.LastErrorAt = c.cfg.Now()
	if errors.As(err, &pe) && pe.Code == protocol.CodeRevoked {
		c.status.Revoked = true
	}
	c.mu.Unlock()
	c.log.Warn("outbox: sync failed", "err", err)
}

func (c *Client) ok() {
	c.mu.Lock()
	c.status.Online = true
	c.status.LastSync = c.cfg.Now()
	c.status.LastError = ""
	c.mu.Unlock()
}

// ensureEnrolled loads the device key, generating and enrolling it on the
// first start.
func (c *Client) ensureEnrolled(ctx context.Context) error {
	c.mu.Lock()
	done := c.enrolled
	c.mu.Unlock()
	if done {
		return nil
	}
	st := c.cfg.Store
	seedHex, err := st.Meta(ctx, MetaDeviceKey)
	if errors.Is(err, attendance.ErrNotFound) {
		seed := make([]byte, ed25519.SeedSize)
		if _, err := rand.Read(seed); err != nil {
			return fmt.Errorf("outbox: device key: %w", err)
		}
		seedHex = hex.EncodeToString(seed)
		if err := st.SetMeta(ctx, MetaDeviceKey, seedHex); err != nil {
			return fmt.Errorf("outbox: device key: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("outbox: device key: %w", err)
	}
	seed, err := hex.DecodeString(seedHex)
	if err != nil || len(seed) != ed25519.SeedSize {
		return fmt.Errorf("outbox: stored device key is corrupt")
	}
	key := ed25519.NewKeyFromSeed(seed)
	c.mu.Lock()
	c.key = key
	c.mu.Unlock()
	if _, err := st.Meta(ctx, MetaEnrolled); err == nil {
		c.setEnrolled()
		return nil
	} else if !errors.Is(err, attendance.ErrNotFound) {
		return fmt.Errorf("outbox: %w", err)
	}
	if c.cfg.EnrolToken == "" {
		return errors.New("outbox: not enrolled with central and no enrolment token configured")
	}
	req := protocol.EnrolRequest{Token: c.cfg.EnrolToken, DeviceID: st.DeviceID(), PublicKey: protocol.EncodePublicKey(key.Public().(ed25519.PublicKey)), Name: c.cfg.DeviceName}
	body, _ := json.Marshal(req)
	var resp protocol.EnrolResponse
	if err := c.do(ctx, http.MethodPost, protocol.PathEnrol, body, false, nil, &resp); err != nil {
		return fmt.Errorf("outbox: enrol: %w", err)
	}
	if _, err := attendance.ParseBadgeKey(resp.BadgeKey); err != nil {
		return fmt.Errorf("outbox: enrol: central sent a bad badge key: %w", err)
	}
	meta := map[string]string{MetaBadgeKey: resp.BadgeKey, MetaLocationID: resp.LocationID, MetaEnrolled: c.base}
	if resp.PINPepper != "" {
		if _, err := staffpin.ParsePepper(resp.PINPepper); err != nil {
			return fmt.Errorf("outbox: enrol: central sent a bad PIN pepper: %w", err)
		}
		meta[MetaPINPepper] = resp.PINPepper
	}
	for k, v := range meta {
		if err := st.SetMeta(ctx, k, v); err != nil {
			return fmt.Errorf("outbox: enrol: %w", err)
		}
	}
	c.log.Info("outbox: enrolled with central", "device", resp.DeviceID, "location", resp.LocationID)
	c.setEnrolled()
	if c.cfg.OnEnrolled != nil {
		c.cfg.OnEnrolled(resp)
	}
	return nil
}

// rememberPepper keeps the site's PIN pepper that central sends with a
// roster pull (kiosks enrolled before central had one learn it so).
func (c *Client) rememberPepper(ctx context.Context, hexPepper string) {
	if _, err := staffpin.ParsePepper(hexPepper); err != nil {
		c.log.Warn("outbox: central sent a bad PIN pepper")
		return
	}
	if have, err := c.cfg.Store.Meta(ctx, MetaPINPepper); err == nil && have == hexPepper {
		return
	}
	if err := c.cfg.Store.SetMeta(ctx, MetaPINPepper, hexPepper); err != nil {
		c.log.Warn("outbox: store PIN pepper", "err", err)
	}
}

func (c *Client) setEnrolled() {
	c.mu.Lock()
	c.enrolled = true
	c.status.Enrolled = true
	c.mu.Unlock()
}

// PushOnce sends one batch of up to BatchSize outbox events (an empty batch
// when there are none, to learn central's acknowledgement), records the
// outcome and reports whether the batch was full (more may wait). Run calls
// it; tests and `kioskctl` may too.
func (c *Client) PushOnce(ctx context.Context) (full bool, err error) {
	if err := c.ensureEnrolled(ctx); err != nil {
		return false, err
	}
	items, err := c.cfg.Store.Outbox(ctx, 0, c.cfg.BatchSize)
	if err != nil {
		return false, fmt.Errorf("outbox: read: %w", err)
	}
	// Keep the body under central's limit: large events make smaller batches.
	trimmed := false
	size := 1024 // the batch's head
	for k, it := range items {
		size += len(it.Body) + 1
		if k > 0 && size > protocol.MaxBatchBytes {
			items, trimmed = items[:k], true
			break
		}
	}
	probe, err := c.cfg.Probe()
	if err != nil {
		// An unreadable clock still lets events flow; they are flagged.
		c.log.Warn("outbox: clock probe", "err", err)
		probe = protocol.ClockProbe{Wall: c.cfg.Now().UTC().Round(0)}
	}
	body := encodeBatch(c.cfg.Store.DeviceID(), probe, c.healthReport(ctx), items)
	var resp protocol.BatchResponse
	if err := c.do(ctx, http.MethodPost, protocol.PathEvents, body, true, nil, &resp); err != nil {
		return false, fmt.Errorf("outbox: push %d events: %w", len(items), err)
	}
	if len(resp.Results) != len(items) {
		return false, fmt.Errorf("outbox: push: central answered %d results for %d events", len(resp.Results), len(items))
	}
	for i, r := range resp.Results {
		if r.Seq != items[i].Seq || r.EventID != items[i].EventID {
			return false, fmt.Errorf("outbox: push: result %d is for seq %d, sent %d", i, r.Seq, items[i].Seq)
		}
		if r.Status == protocol.StatusRejected {
			reason := r.Reason
			if r.Detail != "" {
				reason += ": " + r.Detail
			}
			c.log.Warn("outbox: central rejected an event: quarantined", "seq", r.Seq, "reason", reason)
			if err := c.cfg.Store.Quarantine(ctx, r.Seq, reason); err != nil {
				return false, fmt.Errorf("outbox: quarantine: %w", err)
			}
		}
	}
	lastSeq, ackedThrough, err := c.cfg.Store.Watermarks(ctx)
	if err != nil {
		return false, fmt.Errorf("outbox: %w", err)
	}
	if resp.AckedThroughSeq > lastSeq {
		// Central has more of this device than this database: it was
		// restored from a backup. Never reuse those seqs.
		c.log.Error("outbox: central acknowledged beyond the local sequence: database restored from a backup? skipping ahead",
			"local_last_seq", lastSeq, "central_acked", resp.AckedThroughSeq)
		if err := c.cfg.Store.BumpSeq(ctx, resp.AckedThroughSeq); err != nil {
			return false, fmt.Errorf("outbox: %w", err)
		}
	}
	if resp.AckedThroughSeq > ackedThrough || len(items) > 0 {
		if err := c.cfg.Store.Ack(ctx, resp.AckedThroughSeq, resp.ServerTime); err != nil {
			return false, fmt.Errorf("outbox: ack: %w", err)
		}
	}
	c.ok()
	return trimmed || len(items) == c.cfg.BatchSize, nil
}

// encodeBatch writes the batch with each event's stored bytes verbatim, so
// a resend is byte-identical.
func encodeBatch(deviceID string, probe protocol.ClockProbe, health *protocol.HealthReport, items []store.OutboxItem) []byte {
	var b bytes.Buffer
	head, _ := json.Marshal(struct {
		Protocol int                    `json:"protocol"`
		DeviceID string                 `json:"device_id"`
		Clock    protocol.ClockProbe    `json:"clock"`
		Health   *protocol.HealthReport `json:"health,omitempty"`
	}{protocol.Version, deviceID, probe, health})
	b.Write(head[:len(head)-1])
	b.WriteString(`,"events":[`)
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(it.Body)
	}
	b.WriteString("]}")
	return b.Bytes()
}

// watchRoster holds the roster long-poll while Run runs: central answers
// as soon as the location's roster changes (on any replica), and the new
// version is pulled and applied at once. Failures back off (full jitter up
// to BackoffMax); the periodic pull of Run stays the fallback. Its own
// timers and randomness: the injected ones belong to Run's loop.
func (c *Client) watchRoster(ctx context.Context) {
	attempt := 0
	for ctx.Err() == nil {
		changed, err := c.WaitRoster(ctx)
		if err == nil && changed {
			err = c.PullRoster(ctx)
		}
		if ctx.Err() != nil {
			return
		}
		c.mu.Lock()
		c.status.RosterLive = err == nil
		c.mu.Unlock()
		if err == nil {
			attempt = 0
			continue
		}
		c.log.Debug("outbox: roster long-poll", "err", err)
		t := time.NewTimer(Backoff(attempt, c.cfg.BackoffBase, c.cfg.BackoffMax, mrand.Float64))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		attempt++
	}
}

// WaitRoster asks central to answer when the location's roster is newer
// than the store's (protocol.PathRosterWait) and reports whether it is.
func (c *Client) WaitRoster(ctx context.Context) (bool, error) {
	if err := c.ensureEnrolled(ctx); err != nil {
		return false, err
	}
	var have int64
	if cur, err := c.cfg.Store.Roster(ctx); err == nil {
		have = cur.Version
	}
	path := fmt.Sprintf("%s?version=%d&wait=%d", protocol.PathRosterWait, have, int(c.cfg.RosterWait/time.Second))
	var ch protocol.RosterChange
	if err := c.do(ctx, http.MethodGet, path, nil, true, nil, &ch); err != nil {
		return false, fmt.Errorf("outbox: roster wait: %w", err)
	}
	return ch.Changed && ch.Version > have, nil
}

// PullRoster fetches the location's roster when central has a newer version
// than the store and applies it atomically; the kiosk keeps the old one on
// any error.
func (c *Client) PullRoster(ctx context.Context) error {
	if err := c.ensureEnrolled(ctx); err != nil {
		return err
	}
	c.pullMu.Lock()
	defer c.pullMu.Unlock()
	var have int64
	if cur, err := c.cfg.Store.Roster(ctx); err == nil {
		have = cur.Version
	}
	hdr := http.Header{}
	if have > 0 {
		hdr.Set("If-None-Match", `"`+strconv.FormatInt(have, 10)+`"`)
	}
	var r roster.Roster
	err := c.do(ctx, http.MethodGet, protocol.PathRoster, nil, true, hdr, &r)
	var pe *protocol.Error
	switch {
	case errors.Is(err, errNotModified):
		c.setRosterVersion(have)
		return nil
	case errors.As(err, &pe) && pe.Code == protocol.CodeNotFound:
		return nil // central has no roster for us yet
	case err != nil:
		return fmt.Errorf("outbox: roster: %w", err)
	}
	if loc, err := c.cfg.Store.Meta(ctx, MetaLocationID); err == nil && loc != r.Location.ID {
		return fmt.Errorf("outbox: roster: central sent location %q, enrolled in %q", r.Location.ID, loc)
	}
	if err := c.cfg.Store.ApplyRoster(ctx, r); err != nil {
		if errors.Is(err, store.ErrStaleRoster) {
			return nil
		}
		return fmt.Errorf("outbox: roster v%d: %w", r.Version, err)
	}
	c.log.Info("outbox: roster applied", "version", r.Version)
	c.setRosterVersion(r.Version)
	if c.cfg.OnRoster != nil {
		c.cfg.OnRoster(r)
	}
	return nil
}

// PullCorrections fetches the corrections of the location made after the
// kiosk's cursor (every page), stores them with the new cursor in one
// transaction, and hands those new here to OnCorrections. A page fetched
// again after a crash or a lost answer changes nothing: corrections are
// applied by event id.
func (c *Client) PullCorrections(ctx context.Context) error {
	cs, ok := c.cfg.Store.(CorrectionStore)
	if !ok {
		return nil
	}
	if err := c.ensureEnrolled(ctx); err != nil {
		return err
	}
	for {
		after, err := cs.CorrectionsCursor(ctx)
		if err != nil {
			return fmt.Errorf("outbox: corrections: %w", err)
		}
		var page protocol.Corrections
		if err := c.do(ctx, http.MethodGet, protocol.PathDeviceCorrections+"?after="+strconv.FormatInt(after, 10), nil, true, nil, &page); err != nil {
			return fmt.Errorf("outbox: corrections: %w", err)
		}
		if len(page.Corrections) == 0 {
			return nil
		}
		items := make([]store.RemoteCorrection, len(page.Corrections))
		next := after
		for i, it := range page.Corrections {
			items[i] = store.RemoteCorrection{Cursor: it.Cursor, Body: it.Event}
			next = max(next, it.Cursor)
		}
		fresh, err := cs.ApplyRemoteCorrections(ctx, items, next)
		if err != nil {
			return fmt.Errorf("outbox: corrections: %w", err)
		}
		if len(fresh) > 0 {
			c.log.Info("outbox: corrections applied", "count", len(fresh), "cursor", next)
			if c.cfg.OnCorrections != nil {
				c.cfg.OnCorrections(fresh)
			}
		}
		if !page.More {
			return nil
		}
	}
}

func (c *Client) setRosterVersion(v int64) {
	c.mu.Lock()
	c.status.RosterVersion = v
	c.mu.Unlock()
}

// Presence asks central who is present at this kiosk's location according
// to all its doors. Offline, it fails: the daemon then shows its own.
func (c *Client) Presence(ctx context.Context) (protocol.Presence, error) {
	var p protocol.Presence
	if err := c.ensureEnrolled(ctx); err != nil {
		return p, err
	}
	if err := c.do(ctx, http.MethodGet, protocol.PathDevicePresence, nil, true, nil, &p); err != nil {
		return p, fmt.Errorf("outbox: presence: %w", err)
	}
	return p, nil
}

var errNotModified = errors.New("not modified")

// do sends one request (signed when sign is set) and decodes a 2xx JSON
// answer into out. A clock_skew refusal teaches the client central's time
// and is retried once at once.
func (c *Client) do(ctx context.Context, method, path string, body []byte, sign bool, hdr http.Header, out any) error {
	for try := 0; ; try++ {
		err := c.doOnce(ctx, method, path, body, sign, hdr, out)
		var pe *protocol.Error
		if try == 0 && errors.As(err, &pe) && pe.Code == protocol.CodeClockSkew && !pe.ServerTime.IsZero() {
			c.mu.Lock()
			c.offset = pe.ServerTime.Sub(c.cfg.Now())
			c.mu.Unlock()
			c.log.Info("outbox: adjusted request clock to central's", "offset", c.offset.Round(time.Second))
			continue
		}
		return err
	}
}

func (c *Client) doOnce(ctx context.Context, method, path string, body []byte, sign bool, hdr http.Header, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if sign {
		c.mu.Lock()
		key, offset := c.key, c.offset
		c.mu.Unlock()
		if err := protocol.Sign(req, c.cfg.Store.DeviceID(), key, body, c.cfg.Now().Add(offset)); err != nil {
			return err
		}
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, protocol.MaxRosterBytes+1))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if pep := resp.Header.Get(protocol.HeaderPINPepper); pep != "" && sign && resp.StatusCode/100 != 4 {
		c.rememberPepper(ctx, pep)
	}
	if resp.StatusCode == http.StatusNotModified {
		return errNotModified
	}
	if resp.StatusCode/100 != 2 {
		return protocol.DecodeError(resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}
