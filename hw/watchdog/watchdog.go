// Package watchdog keeps systemd informed about the kiosk daemon through the
// sd_notify protocol: READY=1 once the daemon says it is ready, STATUS= lines
// that an installer sees in `systemctl status`, WATCHDOG=1 keep-alives and
// STOPPING=1 on shutdown.
//
// Keep-alives are conditional: every round runs the health checks the daemon
// registered (reader loops alive, database writable, ...) and pings only when
// all of them pass. A failing check, or a check that hangs, stops the pings,
// and systemd restarts the daemon when WatchdogSec= runs out. Rounds run at
// half of WatchdogSec, as sd_watchdog_enabled(3) advises.
package watchdog

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// Check reports whether one part of the daemon is healthy: nil when it is.
// It gets a context that ends after one round interval and should give up
// by then (returning ctx.Err() counts as a failure); a check that never
// returns stops the keep-alives, which is the point of a watchdog.
type Check func(ctx context.Context) error

// DefaultInterval is the round interval when systemd set no watchdog: the
// checks still run so that STATUS= stays truthful.
const DefaultInterval = 10 * time.Second

// Options configures a Notifier. The zero value talks to systemd through
// NOTIFY_SOCKET and WATCHDOG_USEC as systemd set them.
type Options struct {
	// Interval between rounds when systemd's watchdog is off; default
	// DefaultInterval. With the watchdog on, rounds run at WatchdogSec/2.
	Interval time.Duration
	Logger   *slog.Logger // default slog.Default()
	// Notify sends one sd_notify datagram; default daemon.SdNotify. It
	// returns false, nil when there is no NOTIFY_SOCKET.
	Notify func(state string) (bool, error)
	// WatchdogEnabled reads systemd's watchdog interval; default
	// daemon.SdWatchdogEnabled. Zero means disabled.
	WatchdogEnabled func() (time.Duration, error)
}

// Result is the outcome of one check in the last round.
type Result struct {
	Name  string
	Error string // empty when the check passed
}

// Report is the outcome of the last round.
type Report struct {
	At      time.Time
	Healthy bool
	Results []Result
}

type namedCheck struct {
	name  string
	check Check
}

// Notifier owns the keep-alive loop. Create it with New, register checks,
// start Run in a goroutine the daemon owns and call Ready once serving.
type Notifier struct {
	notify   func(string) (bool, error)
	log      *slog.Logger
	interval time.Duration
	watchdog bool // systemd expects WATCHDOG=1

	readyCh   chan struct{}
	readyOnce sync.Once

	mu         sync.Mutex
	checks     []namedCheck
	last       Report
	lastStatus string
	notifyErr  bool
}

// New reads systemd's environment and returns a Notifier. It fails only when
// WATCHDOG_USEC is malformed.
func New(o Options) (*Notifier, error) {
	n := &Notifier{
		notify:   o.Notify,
		log:      o.Logger,
		interval: o.Interval,
		readyCh:  make(chan struct{}),
	}
	if n.notify == nil {
		n.notify = func(state string) (bool, error) { return daemon.SdNotify(false, state) }
	}
	if n.log == nil {
		n.log = slog.Default()
	}
	if n.interval <= 0 {
		n.interval = DefaultInterval
	}
	enabled := o.WatchdogEnabled
	if enabled == nil {
		enabled = func() (time.Duration, error) { return daemon.SdWatchdogEnabled(false) }
	}
	wd, err := enabled()
	if err != nil {
		return nil, fmt.Errorf("watchdog: %w", err)
	}
	if wd > 0 {
		n.watchdog = true
		n.interval = wd / 2
	}
	return n, nil
}

// Interval is the time between two rounds of checks (and keep-alives).
func (n *Notifier) Interval() time.Duration { return n.interval }

// WatchdogEnabled reports whether systemd expects keep-alives.
func (n *Notifier) WatchdogEnabled() bool { return n.watchdog }

// Register adds a named health check. Safe to call while Run runs; the
// check takes part from the next round on.
func (n *Notifier) Register(name string, check Check) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.checks = append(n.checks, namedCheck{name: name, check: check})
}

// Ready tells systemd that start-up is complete, with a status line, and
// starts the rounds. Calls after the first only update the status.
func (n *Notifier) Ready(status string) error {
	first := false
	n.readyOnce.Do(func() { first = true })
	if !first {
		return n.Status(status)
	}
	n.mu.Lock()
	n.lastStatus = oneLine(status)
	n.mu.Unlock()
	err := n.send(daemon.SdNotifyReady + "\nSTATUS=" + oneLine(status))
	close(n.readyCh)
	return err
}

// Status sends a STATUS= line (shown by `systemctl status`).
func (n *Notifier) Status(status string) error {
	n.mu.Lock()
	n.lastStatus = oneLine(status)
	n.mu.Unlock()
	return n.send("STATUS=" + oneLine(status))
}

// Last returns the report of the last round (zero before the first).
func (n *Notifier) Last() Report {
	n.mu.Lock()
	defer n.mu.Unlock()
	r := n.last
	r.Results = append([]Result(nil), r.Results...)
	return r
}

// Run runs rounds until ctx is done, then sends STOPPING=1 and returns nil.
// Before Ready it only waits: systemd's start timeout covers start-up.
func (n *Notifier) Run(ctx context.Context) error {
	select {
	case <-ctx.Done():
		n.stopping()
		return nil
	case <-n.readyCh:
	}
	t := time.NewTicker(n.interval)
	defer t.Stop()
	for {
		n.round(ctx)
		select {
		case <-ctx.Done():
			n.stopping()
			return nil
		case <-t.C:
		}
	}
}

func (n *Notifier) stopping() {
	_ = n.send(daemon.SdNotifyStopping + "\nSTATUS=stopping")
}

// round runs every check, records the report and pings when all pass.
func (n *Notifier) round(ctx context.Context) {
	n.mu.Lock()
	checks := append([]namedCheck(nil), n.checks...)
	n.mu.Unlock()

	rep := Report{At: time.Now(), Healthy: true}
	var failed []string
	for _, c := range checks {
		err := runCheck(ctx, n.interval, c.check)
		if ctx.Err() != nil {
			return // shutting down: neither ping nor blame a check
		}
		r := Result{Name: c.name}
		if err != nil {
			r.Error = err.Error()
			rep.Healthy = false
			failed = append(failed, c.name+": "+r.Error)
		}
		rep.Results = append(rep.Results, r)
	}

	n.mu.Lock()
	was := n.last
	n.last = rep
	n.mu.Unlock()

	var status string
	switch {
	case !rep.Healthy:
		status = "unhealthy: " + strings.Join(failed, "; ")
	case !was.Healthy && !was.At.IsZero():
		status = "healthy again"
	}
	if !rep.Healthy && (was.Healthy || was.At.IsZero()) {
		n.log.Warn("watchdog: health check failed, keep-alives paused", "failed", strings.Join(failed, "; "))
	} else if rep.Healthy && !was.Healthy && !was.At.IsZero() {
		n.log.Info("watchdog: health checks pass again, keep-alives resumed")
	}

	var msg []string
	if rep.Healthy && n.watchdog {
		msg = append(msg, daemon.SdNotifyWatchdog)
	}
	if status != "" {
		n.mu.Lock()
		changed := oneLine(status) != n.lastStatus
		n.lastStatus = oneLine(status)
		n.mu.Unlock()
		if changed {
			msg = append(msg, "STATUS="+oneLine(status))
		}
	}
	if len(msg) > 0 {
		_ = n.send(strings.Join(msg, "\n"))
	}
}

func runCheck(ctx context.Context, d time.Duration, c Check) (err error) {
	cctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("check panicked: %v", p)
		}
	}()
	// A check that returns nil, even late, has shown that its part is
	// alive; one that honours its context fails with DeadlineExceeded.
	return c(cctx)
}

// send writes one datagram; a failure is logged once until a send works.
func (n *Notifier) send(state string) error {
	_, err := n.notify(state)
	n.mu.Lock()
	logIt := err != nil && !n.notifyErr
	n.notifyErr = err != nil
	n.mu.Unlock()
	if err != nil {
		if logIt {
			n.log.Warn("watchdog: sd_notify failed", "err", err)
		}
		return fmt.Errorf("watchdog: sd_notify: %w", err)
	}
	return nil
}

// oneLine keeps a STATUS= value on one line and short.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	const max = 200
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "..."
	}
	return s
}
