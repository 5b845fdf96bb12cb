package taps

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/kinderdeur/kiosk/hw/feedback"
)

// Outputs runs the readers' buzzers and LEDs. A GPIO error is a fault of
// one output, never of the door: it is logged, kept for /healthz (Errors)
// and the output is started again with a capped backoff. Run is the owner
// of every feedback goroutine.
type Outputs struct {
	Feedback map[string]*feedback.Feedback // by reader name; set before Run
	Logger   *slog.Logger
	// Retry is the first delay before an output is started again (default
	// 1s); it doubles up to MaxRetry (default 1m). An output that then runs
	// for Settle (default 10s) counts as working again.
	Retry, MaxRetry, Settle time.Duration

	mu   sync.Mutex
	errs map[string]string
}

// Run keeps every output running until ctx is done, then returns nil.
func (o *Outputs) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for name, fb := range o.Feedback {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o.keep(ctx, name, fb)
		}()
	}
	wg.Wait()
	return nil
}

// Errors is the outputs that failed and have not run well since, with the
// last error, by reader name (nil when all is well).
func (o *Outputs) Errors() map[string]string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.errs) == 0 {
		return nil
	}
	m := make(map[string]string, len(o.errs))
	for k, v := range o.errs {
		m[k] = v
	}
	return m
}

func (o *Outputs) set(name string, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err == nil {
		delete(o.errs, name)
		return
	}
	if o.errs == nil {
		o.errs = map[string]string{}
	}
	o.errs[name] = err.Error()
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (o *Outputs) keep(ctx context.Context, name string, fb *feedback.Feedback) {
	retry, maxRetry, settle := orDefault(o.Retry, time.Second), orDefault(o.MaxRetry, time.Minute), orDefault(o.Settle, 10*time.Second)
	delay := retry
	for {
		done := make(chan error, 1)
		go func() { done <- fb.Run(ctx) }()
		var err error
		select {
		case err = <-done:
		case <-time.After(settle):
			o.set(name, nil)
			delay = retry
			err = <-done
		}
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("feedback: stopped") // Run ends only with ctx
		}
		o.set(name, err)
		o.Logger.Error("feedback output failed; the door goes on without it", "reader", name, "err", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, maxRetry)
	}
}
