package outbox

import (
	"context"
	"errors"
	"maps"
	"net"
	"time"

	"github.com/kinderdeur/kiosk/attendance/store"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// healthReport is the report that rides along with a batch: the daemon's
// part from Config.Health, the sync part from the store and the client.
// Nil without Config.Health.
func (c *Client) healthReport(ctx context.Context) *protocol.HealthReport {
	c.mu.Lock()
	f := c.cfg.Health
	c.mu.Unlock()
	if f == nil {
		return nil
	}
	h := f()
	if st, ok := c.syncCounts(ctx); ok {
		h.Pending, h.Quarantined, h.OldestPending = st.Pending, st.Quarantined, st.OldestPending
	}
	c.mu.Lock()
	if !c.status.Online {
		h.LastError, h.LastErrorAt = c.status.LastError, c.status.LastErrorAt
	}
	h.RosterVersion = c.status.RosterVersion
	c.mu.Unlock()
	h.Clip()
	return &h
}

// Counting what waits reads every waiting event (store.SyncStatus: about
// 12 ms for 100,000 of them, on the store's one connection, which a tap may
// be waiting for). The health report rides along with every batch, so
// while a large backlog drains the counts are refreshed at most every
// countsEvery; a small outbox is counted for every batch.
const (
	countsEvery   = 10 * time.Second
	countsBacklog = 1000
)

// syncCounts returns the store's sync counts for the health report, at
// most countsEvery old while more than countsBacklog events wait.
func (c *Client) syncCounts(ctx context.Context) (store.SyncStatus, bool) {
	now := c.cfg.Now()
	c.mu.Lock()
	last, at := c.counts, c.countsAt
	c.mu.Unlock()
	if !at.IsZero() && last.Pending > countsBacklog && now.Sub(at) < countsEvery {
		return last, true
	}
	st, err := c.cfg.Store.SyncStatus(ctx)
	if err != nil {
		return store.SyncStatus{}, false
	}
	c.mu.Lock()
	c.counts, c.countsAt = st, now
	c.mu.Unlock()
	return st, true
}

// SetHealth sets Config.Health after New (the daemon builds its health
// reporter on the client). Call it before Run.
func (c *Client) SetHealth(f func() protocol.HealthReport) {
	c.mu.Lock()
	c.cfg.Health = f
	c.mu.Unlock()
}

// ErrorKind sorts a failed exchange with central for the metrics: central's
// error code (clock_skew, revoked, seq_gap, rate_limited, internal, ...),
// "network" when central was not reached or did not answer, "timeout", or
// "other". A small, fixed set: protocol codes and these three.
func ErrorKind(err error) string {
	var pe *protocol.Error
	var ne net.Error
	switch {
	case errors.As(err, &pe):
		if knownCodes[pe.Code] {
			return pe.Code
		}
		return "other"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.As(err, &ne):
		if ne.Timeout() {
			return "timeout"
		}
		return "network"
	}
	return "other"
}

// knownCodes bound ErrorKind's values to the protocol's codes, whatever a
// server answers.
var knownCodes = map[string]bool{
	protocol.CodeMalformed: true, protocol.CodeTooLarge: true, protocol.CodeOutOfOrder: true,
	protocol.CodeSeqGap: true, protocol.CodeOtherDevice: true, protocol.CodeUnauthorized: true,
	protocol.CodeClockSkew: true, protocol.CodeReplay: true, protocol.CodeRevoked: true,
	protocol.CodeForbidden: true, protocol.CodeNotFound: true, protocol.CodeConflict: true,
	protocol.CodeBadToken: true, protocol.CodeUnsupported: true, protocol.CodeInternal: true,
	protocol.CodeUnavailable: true, protocol.CodeRateLimited: true, protocol.CodeInvalidRoster: true,
}

// ErrorCounts is how many exchanges with central failed since start, by
// ErrorKind.
func (c *Client) ErrorCounts() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.errs)
}
