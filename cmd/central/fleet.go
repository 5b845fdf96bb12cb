package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/fleet"
)

// fleetOptions assemble the fleet check and its notifications.
type fleetOptions struct {
	DB           *central.DB
	Every        time.Duration // 0: no check
	SilentAfter  time.Duration
	Mailer       fleet.Mailer // nil: no mail
	Emails       string       // comma-separated
	WebhooksFile string
	Log          *slog.Logger
}

// startFleet runs the fleet check every o.Every and delivers its
// notifications; stop ends both and waits for them. Every replica runs the
// check: fleet.Store.Check opens and clears each problem with a statement
// one replica wins, and only the winner notifies (see package fleet), so
// no lock is needed for "once". When central gets a job scheduler, the
// check is one function for it: db.Fleet.Check.
func startFleet(ctx context.Context, o fleetOptions) (stop func(), err error) {
	d := &fleet.Dispatcher{Log: o.Log}
	var to []string
	for _, a := range strings.Split(o.Emails, ",") {
		if a = strings.TrimSpace(a); a != "" {
			to = append(to, a)
		}
	}
	if len(to) > 0 && o.Mailer != nil {
		d.Senders = append(d.Senders, &fleet.Mail{Mailer: o.Mailer, To: to})
	}
	if o.WebhooksFile != "" {
		f, err := os.Open(o.WebhooksFile)
		if err != nil {
			return nil, fmt.Errorf("-alert-webhooks: %w", err)
		}
		eps, err := fleet.ParseEndpoints(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("-alert-webhooks %s: %w", o.WebhooksFile, err)
		}
		for _, e := range eps {
			d.Senders = append(d.Senders, &fleet.Webhook{Endpoint: e})
		}
	}
	if o.Every <= 0 {
		return func() {}, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	go func() { d.Run(ctx); done <- struct{}{} }()
	go func() {
		defer func() { done <- struct{}{} }()
		cfg := fleet.CheckConfig{SilentAfter: o.SilentAfter}
		t := time.NewTicker(o.Every)
		defer t.Stop()
		for {
			changes, err := o.DB.Fleet.Check(ctx, cfg, d, o.Log)
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				o.Log.Error("fleet check failed", "err", err)
			}
			for _, c := range changes {
				o.Log.Warn("fleet problem", "device", c.DeviceID, "location", c.LocationID, "problem", c.Code, "resolved", c.Resolved, "detail", c.Detail)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); <-done; <-done }, nil
}

// serveMetrics serves /metrics alone, without authentication, on addr (a
// private network address a Prometheus server reaches).
func serveMetrics(addr string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-metrics-listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener", "err", err)
		}
	}()
	log.Info("metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
		<-done
	}, nil
}
