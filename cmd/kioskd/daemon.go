package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/calendar"
	"github.com/kinderdeur/kiosk/attendance/door"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/rules"
	"github.com/kinderdeur/kiosk/attendance/staffpin"
	"github.com/kinderdeur/kiosk/attendance/store"
	"github.com/kinderdeur/kiosk/cmd/kioskd/internal/datadir"
	"github.com/kinderdeur/kiosk/cmd/kioskd/internal/health"
	"github.com/kinderdeur/kiosk/cmd/kioskd/internal/metrics"
	"github.com/kinderdeur/kiosk/cmd/kioskd/internal/taps"
	"github.com/kinderdeur/kiosk/hw"
	"github.com/kinderdeur/kiosk/hw/feedback"
	"github.com/kinderdeur/kiosk/hw/rc522"
	"github.com/kinderdeur/kiosk/hw/readers"
	"github.com/kinderdeur/kiosk/hw/simreader"
	"github.com/kinderdeur/kiosk/hw/sysclock"
	"github.com/kinderdeur/kiosk/hw/watchdog"
	"github.com/kinderdeur/kiosk/sync/outbox"
	"github.com/kinderdeur/kiosk/sync/protocol"
	"github.com/kinderdeur/kiosk/sync/remote"
	"github.com/kinderdeur/kiosk/ui"
)

// daemon is kioskd assembled: every goroutine it starts is stopped by run.
type daemon struct {
	cfg      Config
	demo     bool
	log      *slog.Logger
	store    *store.Store
	door     *door.Service
	ui       *ui.Server
	clock    *sysclock.Tracker
	readers  []hw.Reader
	sims     simreader.Set
	hwSet    *readers.Set
	feedback map[string]*feedback.Feedback
	outputs  *taps.Outputs  // runs feedback; a GPIO error never stops the door
	sync     *outbox.Client // nil without central
	dir      *datadir.Dir   // locked for the daemon's life
	metrics  *metrics.Kiosk // served at /metrics; the door and the tap pump report to it
	started  time.Time
	ln       net.Listener
	// httpTimeouts bound the HTTP server's connections (tests shorten them).
	httpTimeouts httpTimeouts
}

// httpTimeouts bound how long a client may take over a request and keep an
// idle connection, so slow or silent clients cannot pile up connections.
type httpTimeouts struct {
	ReadHeader, Read, Write, Idle time.Duration
}

// The kiosk's requests are small and local: seconds are generous. /ws is
// hijacked from the server, after which these no longer apply; the hub
// sets that connection's deadlines per read (pong wait) and per write.
var defaultHTTPTimeouts = httpTimeouts{ReadHeader: 5 * time.Second, Read: 10 * time.Second, Write: 30 * time.Second, Idle: 60 * time.Second}

// newHTTPServer is the kiosk's HTTP server.
func newHTTPServer(h http.Handler, t httpTimeouts, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

func newLogger(level string, w io.Writer) *slog.Logger {
	var l slog.Level
	l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

func newDaemon(ctx context.Context, cfg Config, demo bool, logw io.Writer) (_ *daemon, err error) {
	d := &daemon{cfg: cfg, demo: demo, log: newLogger(cfg.LogLevel, logw), sims: simreader.Set{}, httpTimeouts: defaultHTTPTimeouts, started: time.Now()}
	// Libraries that log through slog's default (the reader layer) write
	// structured lines to the same place.
	slog.SetDefault(d.log)
	d.clock = sysclock.NewTracker(sysclock.New(sysclock.Options{}))
	// One kioskd per data dir, and a dir that takes a write, before SQLite
	// gets a chance to say "no such file" about either.
	if d.dir, err = datadir.Open(cfg.DataDir); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			d.dir.Close()
		}
	}()
	if err := d.dir.Check(); err != nil {
		d.log.Warn("data dir nearly full: /healthz reports it until space is freed", "dir", cfg.DataDir, "err", err)
	}
	d.store, err = store.Open(filepath.Join(cfg.DataDir, "kiosk.db"))
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			d.store.Close()
		}
	}()
	key, err := d.badgeKey(ctx)
	if err != nil {
		return nil, err
	}
	var cards []roster.DemoCard
	if demo {
		var r roster.Roster
		r, cards = roster.Demo(roster.DemoToday(time.Now()))
		if err := d.store.ApplyRoster(ctx, r); err != nil && !errors.Is(err, store.ErrStaleRoster) {
			return nil, fmt.Errorf("demo roster: %w", err)
		}
	}
	d.hwSet, err = readers.OpenAll(cfg.Readers, func(e rc522.Event) {
		// Collisions and rejected cards are not taps; staff see them in logs.
		d.log.Info("reader event", "reader", e.Reader, "kind", e.Kind, "err", e.Err)
	})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			d.hwSet.Close()
		}
	}()
	roles := map[string]attendance.ReaderRole{}
	var names []string
	for _, r := range d.hwSet.Readers {
		d.readers = append(d.readers, r)
		roles[r.Name()] = d.hwSet.Roles[r.Name()]
		names = append(names, r.Name())
		if sr, ok := r.(*simreader.Reader); ok {
			d.sims[r.Name()] = sr
		}
	}
	d.feedback = d.hwSet.Feedback
	d.outputs = &taps.Outputs{}
	cal, err := d.calendar(ctx)
	if err != nil {
		return nil, err
	}
	pins, err := staffpin.NewGuard(staffpin.HashLookupFunc(d.pinHash), staffpin.DefaultPolicy, time.Now)
	if err != nil {
		return nil, err
	}
	pins.SetPepper(d.pinPepper)
	d.metrics = d.newMetrics()
	d.door, err = door.New(ctx, door.Config{
		Observer: d.metrics,
		Store:    d.store, Key: key, Readers: roles, Clock: d.clock,
		StaffLockAfter: time.Duration(cfg.StaffLockAfter), Logger: d.log,
		Policy:       rules.Policy{UndoGuard: time.Duration(cfg.UndoGuard)},
		ThreeHourDay: door.CalendarThreeHourDay(cal),
		OnCommit: func() {
			if d.sync != nil {
				d.sync.Notify()
			}
		},
		VerifyPIN: func(staffID, pin string) error {
			return pins.Verify(context.Background(), d.store.DeviceID(), staffID, pin)
		},
	})
	if err != nil {
		return nil, err
	}
	if cfg.Central.URL != "" {
		if d.sync, err = d.newSync(); err != nil {
			return nil, err
		}
	}
	rep := &health.Reporter{Store: d.store, Door: d.door, Readers: d.readers, Clock: d.clock, Disk: d.dir, Feedback: d.outputs,
		Version: version, Started: d.started, DiskFree: d.dir.Free}
	if d.sync != nil {
		rep.Sync = d.sync
		d.sync.SetHealth(rep.Report)
	}
	uiCfg := ui.Config{Door: d.door, Health: rep.Health, Status: rep.Status, Logger: d.log, Metrics: d.metrics.Handler()}
	if h, _, err := net.SplitHostPort(d.cfg.Listen); err == nil && h != "" {
		uiCfg.AllowedHosts = append(uiCfg.AllowedHosts, h)
	}
	uiCfg.AllowedHosts = append(uiCfg.AllowedHosts, d.cfg.AllowedHosts...)
	if uiCfg.StaffScreens, err = d.cfg.staffScreens(); err != nil {
		return nil, err
	}
	if len(d.sims) > 0 {
		uiCfg.Sim, uiCfg.Cards, uiCfg.Readers = d.sims, cards, names
	}
	d.ui = ui.New(uiCfg)
	d.ln, err = net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	if !loopbackOnly(d.ln.Addr()) {
		// Screens on other machines see the public screen only, unless
		// listed in staff_screens (ui.Config.StaffScreens).
		d.log.Warn("kioskd listens beyond this machine: screens elsewhere see the public screen only and may not act, except those in staff_screens", "listen", d.ln.Addr().String(), "staff_screens", d.cfg.StaffScreens)
	}
	return d, nil
}

// loopbackOnly reports whether a listener is reachable only from this
// machine.
func loopbackOnly(a net.Addr) bool {
	t, ok := a.(*net.TCPAddr)
	return ok && t.IP.IsLoopback()
}

// newMetrics builds /metrics on the daemon's parts, read when scraped
// (the sync client and the screens' server are made later: read through
// d).
func (d *daemon) newMetrics() *metrics.Kiosk {
	return metrics.New(metrics.Sources{
		Readers: d.readers, Outbox: d.store, ClockSynced: d.clock.Synced, DiskFree: d.dir.Free, Version: version,
		SyncErrors: func() map[string]int64 {
			if d.sync == nil {
				return nil
			}
			return d.sync.ErrorCounts()
		},
		Screens: func() int {
			if d.ui == nil {
				return 0
			}
			return d.ui.Clients()
		},
	})
}

// calendar loads the school calendar that tells the three-hour rule which
// days are school days and which are vacation days.
func (d *daemon) calendar(ctx context.Context) (*calendar.Calendar, error) {
	cfg := calendar.DefaultConfig()
	if f := d.cfg.CalendarFile; f != "" {
		file, err := os.Open(f)
		if err != nil {
			return nil, fmt.Errorf("calendar_file: %w", err)
		}
		defer file.Close()
		if cfg, err = calendar.ParseConfig(file); err != nil {
			return nil, fmt.Errorf("calendar_file %s: %w", f, err)
		}
	} else if r, err := d.store.Roster(ctx); err == nil && strings.EqualFold(r.Location.Country, "BE") {
		cfg.Country, cfg.Region = "be", "vlaanderen"
	}
	return calendar.New(cfg)
}

// pinHash finds a staff member's PIN hash in the roster in force.
func (d *daemon) pinHash(_ context.Context, staffID string) (string, error) {
	if ix := d.door.Roster(); ix != nil {
		if m, ok := ix.Staff(staffID); ok && m.PINHash != "" {
			return m.PINHash, nil
		}
	}
	return "", fmt.Errorf("staff %q: %w", staffID, attendance.ErrNotFound)
}

// pinPepper is the site's staff PIN pepper from central (enrolment or a
// roster pull), kept with the badge key; nil before there is one (then
// only unpeppered hashes verify).
func (d *daemon) pinPepper() staffpin.Pepper {
	s, err := d.store.Meta(context.Background(), outbox.MetaPINPepper)
	if err != nil {
		return nil
	}
	p, err := staffpin.ParsePepper(s)
	if err != nil {
		d.log.Warn("kioskd: stored PIN pepper unreadable", "err", err)
		return nil
	}
	return p
}

// badgeKey is the per-site key that hashes card UIDs: the demo's public
// one, or the one central handed out at enrolment.
func (d *daemon) badgeKey(ctx context.Context) (attendance.BadgeKey, error) {
	if d.demo {
		return roster.DemoBadgeKey, nil
	}
	s, err := d.store.Meta(ctx, outbox.MetaBadgeKey)
	if errors.Is(err, attendance.ErrNotFound) {
		if d.cfg.Central.URL != "" {
			return nil, nil // enrolment with central brings it; taps are refused until then
		}
		return nil, errors.New("this kiosk has no badge key yet: enrol it with central (central.url and central.enrol_token_file in the config), or run with -demo")
	}
	if err != nil {
		return nil, err
	}
	return attendance.ParseBadgeKey(s)
}

// newSync builds the client that pushes events to central and pulls
// rosters. Enrolment uses the token file (or the public demo token).
func (d *daemon) newSync() (*outbox.Client, error) {
	token := ""
	if d.demo {
		token = protocol.DemoEnrolToken
	}
	if f := d.cfg.Central.EnrolTokenFile; f != "" {
		b, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("central.enrol_token_file: %w", err)
		}
		if t := strings.TrimSpace(string(b)); t != "" {
			token = t
		}
	}
	var httpClient *http.Client
	if f := d.cfg.Central.CAFile; f != "" {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("central.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("central.ca_file: %s holds no PEM certificate", f)
		}
		httpClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	}
	return outbox.New(outbox.Config{
		Store: d.store, CentralURL: d.cfg.Central.URL, EnrolToken: token, DeviceName: d.cfg.DeviceName,
		Logger: d.log, HTTPClient: httpClient, Probe: d.clockProbe,
		OnRoster: func(r roster.Roster) {
			if err := d.door.SetRoster(r); err != nil {
				d.log.Error("roster from central not used", "version", r.Version, "err", err)
				return
			}
			d.log.Info("roster in force", "version", r.Version)
		},
		OnCorrections: func(evs []attendance.Event) { d.door.ApplyCorrections(evs) },
		OnEnrolled: func(protocol.EnrolResponse) {
			key, err := d.badgeKey(context.Background())
			if err != nil || key == nil {
				d.log.Error("enrolled but no badge key", "err", err)
				return
			}
			d.door.SetKey(key)
			d.log.Info("enrolled with central", "device", d.store.DeviceID())
		},
	})
}

// clockProbe reads the clock events are stamped with, for the outbox's
// batches.
func (d *daemon) clockProbe() (protocol.ClockProbe, error) {
	st, err := d.clock.Stamp()
	if err != nil {
		return protocol.ClockProbe{}, err
	}
	return protocol.ClockProbe{BootID: st.BootID, MonoNS: st.MonoNS, Wall: st.Wall, Synced: st.Synced}, nil
}

// run serves until ctx is done, then stops every part in order and closes
// the database.
func (d *daemon) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	goFn := func(name string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil && !errors.Is(err, context.Canceled) {
				errc <- fmt.Errorf("%s: %w", name, err)
				cancel()
			}
		}()
	}
	tapc := make(chan hw.Tap, 16)
	var readersRunning atomic.Int32
	for _, r := range d.readers {
		readersRunning.Add(1)
		goFn("reader "+r.Name(), func(ctx context.Context) error {
			defer readersRunning.Add(-1)
			return r.Run(ctx, tapc)
		})
	}
	wd, err := watchdog.New(watchdog.Options{Logger: d.log})
	if err != nil {
		return fmt.Errorf("watchdog: %w", err)
	}
	// The watchdog is fed only while the parts that matter are alive: the
	// reader loops run, the door answers and the database takes writes. A
	// dead reader chip is not among them: its loop re-initialises it.
	wd.Register("readers", func(context.Context) error {
		if n := readersRunning.Load(); int(n) != len(d.readers) {
			return fmt.Errorf("%d of %d reader loops running", n, len(d.readers))
		}
		return nil
	})
	wd.Register("door", func(context.Context) error { d.door.Presence(); return nil })
	wd.Register("database", func(ctx context.Context) error {
		if err := d.store.Ping(ctx); err != nil {
			return err
		}
		return d.door.StorageError()
	})
	goFn("watchdog", wd.Run)
	if d.sync != nil {
		goFn("sync", d.sync.Run)
		goFn("presence", (&remote.Follower{Central: d.sync, Door: d.door}).Run)
	}
	goFn("maintenance", func(ctx context.Context) error {
		// The retention term, never below the 6-week inspection window.
		return d.store.Maintain(ctx, time.Duration(d.cfg.RetentionWeeks)*7*24*time.Hour, d.log)
	})
	pump := &taps.Pump{Door: d.door, Feedback: d.feedback, Logger: d.log, Observer: d.metrics}
	goFn("taps", func(ctx context.Context) error { return pump.Run(ctx, tapc) })
	d.outputs.Feedback = d.feedback
	goFn("feedback", d.outputs.Run)
	goFn("door", d.door.Run)
	goFn("ui", d.ui.Run)
	goFn("clock", func(ctx context.Context) error {
		return d.clock.Run(ctx, 10*time.Second, func(st sysclock.Status) {
			d.log.Info("clock", "synced", st.Synced, "status", st.String())
		})
	})
	srv := newHTTPServer(d.ui.Handler(), d.httpTimeouts, d.log)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.Serve(d.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http: %w", err)
			cancel()
		}
	}()
	if err := wd.Ready("serving on " + d.ln.Addr().String()); err != nil {
		d.log.Warn("sd_notify ready", "err", err)
	}
	d.log.Info("kioskd serving", "url", "http://"+d.ln.Addr().String(), "data", d.cfg.DataDir, "demo", d.demo, "version", version)
	<-ctx.Done()
	d.log.Info("kioskd stopping")
	shutdownCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	srv.Shutdown(shutdownCtx)
	wg.Wait()
	close(errc)
	err = <-errc
	if cerr := d.hwSet.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if cerr := d.store.Close(); cerr != nil && err == nil {
		err = cerr
	}
	// Last: the next kioskd may start once the database is closed.
	if cerr := d.dir.Close(); cerr != nil && err == nil {
		err = cerr
	}
	d.log.Info("kioskd stopped")
	return err
}
