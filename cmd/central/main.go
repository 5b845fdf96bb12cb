// Command central is the central service of the door kiosks: device
// enrolment, event ingest (exactly once), rosters, presence between doors
// and attendance exports. Storage is an embedded SQLite file by default or
// PostgreSQL with -db postgres://...
//
//	go run ./cmd/central                          # http://127.0.0.1:8090, SQLite in ./data/central
//	go run ./cmd/central -demo -admin-token TOKEN # demo organisation, demo kiosks enrol themselves
//
// The admin pages are served on the same address (sign in at /login). With
// -demo, users admin@demo, manager@demo, billing@demo and inspector@demo
// exist with the password central.DemoPassword ("kinderdeur-demo").
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/attendance/retention"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/staffpin"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/auth"
	"github.com/kinderdeur/kiosk/sync/central/metrics"
	"github.com/kinderdeur/kiosk/sync/central/portal"
	"github.com/kinderdeur/kiosk/sync/central/web"
	"github.com/kinderdeur/kiosk/sync/central/webhook"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.As(err, new(usageError)):
		fmt.Fprintln(os.Stderr, "central:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "central:", err)
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("central", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8090", "address to serve the API on")
	dataDir := fs.String("data", "data/central", "data folder for the default SQLite database")
	dsn := fs.String("db", "", "SQLite file path or postgres:// URL (default DATA/central.db)")
	demo := fs.Bool("demo", false, "seed the demo organisation and roster and accept demo kiosks (token "+protocol.DemoEnrolToken+")")
	adminToken := fs.String("admin-token", os.Getenv("CENTRAL_ADMIN_TOKEN"), "admin bearer token (or env CENTRAL_ADMIN_TOKEN)")
	tlsCert := fs.String("tls-cert", "", "TLS certificate file (with -tls-key)")
	tlsKey := fs.String("tls-key", "", "TLS key file")
	behindTLSProxy := fs.Bool("behind-tls-proxy", false, "clients reach central over HTTPS through a TLS-terminating proxy: Secure (__Host-) cookies and HSTS on every answer")
	trustedProxies := fs.String("trusted-proxies", "", "comma-separated CIDRs or addresses of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (from anyone else they are ignored)")
	pepperFile := fs.String("pin-pepper-file", "", "file with central's staff PIN pepper (64 hex characters), kept OUTSIDE the database and backed up apart from it; also seals the webhook secrets stored in the database; created on first start (default DATA/pin-pepper)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	retentionEvery := fs.Duration("retention-every", 0, "run the retention engine (delete/anonymise what is due) at this interval, e.g. 24h (0: only from the admin pages)")
	parentToken := fs.String("parent-token", os.Getenv("CENTRAL_PARENT_TOKEN"), "with -demo: a bearer token that acts as the demo guardian Fatima B. on the parent API (or env CENTRAL_PARENT_TOKEN)")
	portalOrigin := fs.String("portal-origin", "", "public origin of the parents' portal, e.g. https://ouders.example.nl (the passkey relying party; default http://localhost:PORT)")
	smtpAddr := fs.String("smtp-addr", "", "SMTP server host:port for the parents' sign-in codes (STARTTLS required unless -smtp-insecure-plain)")
	smtpFrom := fs.String("smtp-from", "", "sender address of the sign-in e-mails")
	smtpUser := fs.String("smtp-user", "", "SMTP user name (PLAIN authentication over TLS)")
	smtpPassFile := fs.String("smtp-password-file", "", "file holding the SMTP password (or env CENTRAL_SMTP_PASSWORD)")
	smtpTLS := fs.Bool("smtp-tls", false, "connect to the SMTP server with TLS from the start (port 465) instead of STARTTLS")
	smtpPlain := fs.Bool("smtp-insecure-plain", false, "allow an SMTP relay without TLS (only a relay on this host)")
	hooksPerEndpoint := fs.Int("webhooks-per-endpoint", webhook.DefaultPerEndpoint, "deliveries in flight at once per webhook endpoint across replicas (a slow receiver holds no more than this; a fast one gets about this many divided by its answer time per second)")
	hooksAllowPrivate := fs.Bool("webhooks-allow-private", false, "let webhook endpoints be http:// and on loopback, private or link-local addresses (tests, a receiver on the centre's own network); default: public https only")
	jobsTick := fs.Duration("jobs-tick", 15*time.Second, "how often this replica looks for due scheduled work (retention, pruning, demo days); each job runs once per schedule across all replicas")
	retentionConfig := fs.String("retention-config", "", "retention policy JSON (retention.ParseConfig; default: the nl profile)")
	metricsListen := fs.String("metrics-listen", "", "serve /metrics (no authentication) on this separate address, e.g. 10.0.0.5:9090; /metrics on -listen always needs a bearer token")
	metricsToken := fs.String("metrics-token", os.Getenv("CENTRAL_METRICS_TOKEN"), "a bearer token good for GET /metrics only (or env CENTRAL_METRICS_TOKEN); admin tokens work too")
	replicaID := fs.String("replica-id", "", "this replica's name in the metrics' replica label (default the host name)")
	fleetEvery := fs.Duration("fleet-check-every", time.Minute, "how often to check the fleet for problems (silent doors, readers, clocks, disks) and notify (0: never)")
	fleetSilent := fs.Duration("fleet-silent-after", 15*time.Minute, "a door that has not synced for this long while its location is open is silent")
	alertEmail := fs.String("alert-email", "", "comma-separated addresses told by e-mail when a door gets a problem and when it clears (needs -smtp-addr)")
	alertWebhooks := fs.String("alert-webhooks", "", `JSON file of signed webhook endpoints for fleet problems: [{"url":"https://...","secret":"..."}]`)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected arguments: %v", fs.Args())}
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return usageError{"-tls-cert and -tls-key go together"}
	}
	proxies, err := auth.ParseProxies(*trustedProxies)
	if err != nil {
		return usageError{"-trusted-proxies: " + err.Error()}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageError{"-log-level: " + err.Error()}
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if *parentToken != "" && !*demo {
		return usageError{"-parent-token is for the demo only (with -demo)"}
	}
	if *alertEmail != "" && *smtpAddr == "" && !*demo {
		return usageError{"-alert-email needs -smtp-addr"}
	}
	if *smtpAddr != "" && *smtpFrom == "" {
		return usageError{"-smtp-addr needs -smtp-from"}
	}
	if *dsn == "" {
		*dsn = filepath.Join(*dataDir, "central.db")
	}
	if *demo && *adminToken == "" {
		return usageError{"-demo needs -admin-token TOKEN (the admin bearer token for the demo)"}
	}

	db, err := central.Open(ctx, *dsn, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	db.Rosters.SetLogger(log)
	if *adminToken == "" {
		log.Warn("no -admin-token: only API tokens created in the database are accepted (none at first)")
	}
	if *pepperFile == "" {
		*pepperFile = filepath.Join(*dataDir, "pin-pepper")
	}
	pepper, err := loadPepper(*pepperFile)
	if err != nil {
		return err
	}
	// Start-up work that writes shared rows runs in one replica at a time
	// (an advisory lock on PostgreSQL): replicas started together find it
	// done instead of colliding on the same rows.
	var auditLog *audit.Log
	err = db.Exclusive(ctx, "startup", func(ctx context.Context) error {
		if *demo {
			if err := seedDemo(ctx, db); err != nil {
				return err
			}
			log.Info("demo organisation seeded", "location", "loc-regenboog", "enrolment_token", protocol.DemoEnrolToken,
				"sign_in", "admin@demo, manager@demo, billing@demo, inspector@demo", "password", central.DemoPassword)
		}
		if err := db.SetPINPepper(ctx, pepper); err != nil {
			return err
		}
		var err error
		auditLog, err = db.OpenAudit(ctx)
		return err
	})
	if err != nil {
		return err
	}
	retCfg := retention.DefaultConfig()
	if *retentionConfig != "" {
		f, err := os.Open(*retentionConfig)
		if err != nil {
			return fmt.Errorf("retention config: %w", err)
		}
		retCfg, err = retention.ParseConfig(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("retention config %s: %w", *retentionConfig, err)
		}
	}
	authn := central.NewAuthenticator(db, central.AuthOptions{StaticAdminTokens: []string{*adminToken},
		Secure: *tlsCert != "" || *behindTLSProxy, Audit: auditLog.Hook})
	authn.Log = log
	replica := *replicaID
	if replica == "" {
		replica, _ = os.Hostname()
	}
	mets := metrics.New(replica, db.Fleet)
	srv := central.NewServer(central.Config{DB: db, Auth: authn, Audit: auditLog, Logger: log, ClientIP: proxies.ClientIP,
		Observer: mets, Metrics: mets.Handler(), MetricsTokens: []string{*metricsToken}})
	pages, err := web.New(web.Config{DB: db, Auth: authn, Audit: auditLog, API: srv.Handler(), Logger: log, Retention: &retCfg,
		ClientIP: proxies.ClientIP, SharedLimits: db.Limits})
	if err != nil {
		return err
	}
	var parentTokens map[string]string
	if *demo && *parentToken != "" {
		fatima, err := db.Demo.SeedDemoParents(ctx)
		if err != nil {
			return err
		}
		parentTokens = map[string]string{*parentToken: fatima.ID}
	} else if *demo {
		if _, err := db.Demo.SeedDemoParents(ctx); err != nil {
			return err
		}
	}
	var mailer portal.Mailer
	switch {
	case *smtpAddr != "":
		pass := os.Getenv("CENTRAL_SMTP_PASSWORD")
		if *smtpPassFile != "" {
			b, err := os.ReadFile(*smtpPassFile)
			if err != nil {
				return fmt.Errorf("smtp password: %w", err)
			}
			pass = strings.TrimSpace(string(b))
		}
		mailer = &portal.SMTPMailer{Addr: *smtpAddr, From: *smtpFrom, Username: *smtpUser, Password: pass, ImplicitTLS: *smtpTLS, InsecurePlain: *smtpPlain}
	case *demo:
		mailer = portal.LogMailer{Log: log}
	}
	stopFleet, err := startFleet(ctx, fleetOptions{DB: db, Every: *fleetEvery, SilentAfter: *fleetSilent,
		Mailer: mailer, Emails: *alertEmail, WebhooksFile: *alertWebhooks, Log: log})
	if err != nil {
		return err
	}
	defer stopFleet()
	if *metricsListen != "" {
		stop, err := serveMetrics(*metricsListen, mets.Handler(), log)
		if err != nil {
			return err
		}
		defer stop()
	}
	origin := *portalOrigin
	if origin == "" {
		_, port, _ := net.SplitHostPort(*listen)
		origin = "http://localhost:" + port
	}
	parents, err := portal.New(portal.Config{DB: db, Audit: auditLog, Origin: origin, Mailer: mailer, ParentTokens: parentTokens,
		Secure: *tlsCert != "" || *behindTLSProxy, Logger: log, ClientIP: proxies.ClientIP})
	if err != nil {
		return usageError{err.Error()}
	}
	handler := portal.Mount(parents.Handler(), pages.Handler())
	if *behindTLSProxy {
		handler = auth.HSTS(func(*http.Request) bool { return true }, handler)
	} else if *trustedProxies != "" {
		handler = auth.HSTS(proxies.TLS, handler)
	}
	// Webhook deliveries: one worker per replica; the outbox's leases (FOR
	// UPDATE SKIP LOCKED on PostgreSQL) keep replicas off each other's jobs.
	db.Webhooks.SetGuard(webhook.Guard{AllowPrivate: *hooksAllowPrivate})
	if *hooksPerEndpoint < 1 {
		return usageError{"-webhooks-per-endpoint must be at least 1"}
	}
	db.Webhooks.SetEndpointLimit(*hooksPerEndpoint)
	if *hooksAllowPrivate {
		log.Warn("-webhooks-allow-private: webhook endpoints may point at this host and its private network")
	}
	hooks := db.Webhooks.NewWorker(webhook.WorkerConfig{Log: log})
	hctx, hcancel := context.WithCancel(ctx)
	hooksDone := make(chan struct{})
	go func() {
		defer close(hooksDone)
		hooks.Run(hctx)
	}()
	defer func() { hcancel(); <-hooksDone }()
	// Check-out e-mails guardians opted in to: one worker per replica
	// (notices expand idempotently, mails are leased).
	if mailer != nil {
		nw := portal.NewNoticeWorker(db.Parents, mailer, log)
		nctx, ncancel := context.WithCancel(ctx)
		noticesDone := make(chan struct{})
		go func() {
			defer close(noticesDone)
			nw.Run(nctx)
		}()
		defer func() { ncancel(); <-noticesDone }()
	}
	jobs, err := scheduledJobs(db, *demo, *retentionEvery, retCfg, auditLog, log)
	if err != nil {
		return err
	}
	jctx, jcancel := context.WithCancel(ctx)
	jdone := make(chan struct{})
	go func() {
		defer close(jdone)
		db.Jobs.Run(jctx, *jobsTick, log, jobs...)
	}()
	defer func() { jcancel(); <-jdone }()
	hs := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	hs.RegisterOnShutdown(srv.Close) // end the kiosks' roster long-polls at once
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *listen, err)
	}
	scheme := "http"
	if *tlsCert != "" {
		scheme = "https"
	}
	log.Info("central ready", "url", scheme+"://"+ln.Addr().String(), "db", string(db.Dialect()), "replica", db.Jobs.Holder())
	errc := make(chan error, 1)
	go func() {
		if *tlsCert != "" {
			errc <- hs.ServeTLS(ln, *tlsCert, *tlsKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("central shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// seedDemo seeds the demo organisation, its users and the past week's
// weekdays (so the charts and lists have days to show); every step leaves
// what exists alone.
func seedDemo(ctx context.Context, db *central.DB) error {
	if err := db.Demo.SeedDemo(ctx, roster.DemoToday(time.Now())); err != nil {
		return err
	}
	if err := db.Demo.SeedDemoUsers(ctx, auth.Hasher{Params: auth.ServerParams}); err != nil {
		return err
	}
	return seedDemoDays(ctx, db)
}

func seedDemoDays(ctx context.Context, db *central.DB) error {
	for i := 7; i >= 1; i-- {
		d := time.Now().AddDate(0, 0, -i)
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			continue
		}
		if _, err := db.Demo.SeedDemoAttendance(ctx, "loc-regenboog", attendance.DateOf(d)); err != nil {
			return err
		}
	}
	return nil
}

// scheduledJobs is central's scheduled work. db.Jobs runs each once per
// schedule across every replica on the database.
func scheduledJobs(db *central.DB, demo bool, retentionEvery time.Duration, retCfg retention.Config, auditLog *audit.Log, log *slog.Logger) ([]central.Job, error) {
	jobs := []central.Job{
		{Name: "prune-sessions", Every: 10 * time.Minute, Run: func(ctx context.Context) error {
			now := time.Now()
			n, err := db.Sessions.PruneSessions(ctx, now.Add(-auth.DefaultIdleTimeout), now.Add(-auth.DefaultAbsoluteTimeout))
			if n > 0 {
				log.Info("sessions pruned", "n", n)
			}
			return err
		}},
		{Name: "prune-nonces", Every: time.Minute, Run: db.Devices.PruneNonces},
		// Parents' absences of today and tomorrow ride with the roster; when
		// the day moves on, the kiosks get the new two days.
		{Name: "roster-absences", Every: 15 * time.Minute, Run: db.Sites.RefreshAbsences},
		{Name: "prune-rate-limits", Every: time.Hour, Run: func(ctx context.Context) error {
			_, err := db.Limits.Prune(ctx, time.Now().Add(-24*time.Hour))
			return err
		}},
	}
	if demo { // a demo left running keeps a week of history behind it
		jobs = append(jobs, central.Job{Name: "demo-days", Every: 6 * time.Hour, Run: func(ctx context.Context) error { return seedDemoDays(ctx, db) }})
	}
	if retentionEvery > 0 {
		eng, err := db.Subjects.NewRetentionEngine(retCfg, auditLog.Hook)
		if err != nil {
			return nil, err
		}
		eng.Log = log
		jobs = append(jobs, central.Job{Name: "retention", Every: retentionEvery, Lease: max(retentionEvery, time.Hour), Run: func(ctx context.Context) error {
			res, err := eng.Run(ctx, time.Now())
			if err == nil {
				log.Info("retention run", "deleted", res.Deleted, "anonymised", res.Anonymised, "held", res.Held)
			}
			return err
		}})
	}
	return jobs, nil
}

// loadPepper reads the master PIN pepper, creating it (mode 0600) when the
// file does not exist. It is never stored in the database: a leaked
// database without it does not give away staff PINs.
func loadPepper(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		p, err := staffpin.NewPepper()
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("pin pepper: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("pin pepper: %w", err)
		}
		_, werr := fmt.Fprintln(f, p.String())
		if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
			return nil, fmt.Errorf("pin pepper %s: %w", path, err)
		}
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pin pepper: %w", err)
	}
	p, err := staffpin.ParsePepper(string(b))
	if err != nil {
		return nil, fmt.Errorf("pin pepper %s: %w", path, err)
	}
	return p, nil
}

// runRetentionEvery runs retention at once and then every interval until
// ctx ends. run is the single scheduled job (central.Subjects.RunRetention);
// a failed run is logged and retried at the next tick.
func runRetentionEvery(ctx context.Context, interval time.Duration, run func(context.Context) (retention.Result, error), log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		res, err := run(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			log.Error("retention run failed", "err", err)
		default:
			log.Info("retention run", "deleted", res.Deleted, "anonymised", res.Anonymised, "held", res.Held)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
