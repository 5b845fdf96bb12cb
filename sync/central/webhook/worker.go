package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Job is one delivery to attempt: claimed from the Queue, which counts
// the attempt (Attempt is 1 on the first try).
type Job struct {
	ID        string // the delivery id: Kinderdeur-Delivery, the same on every attempt
	Attempt   int
	URL       string
	Secret    []byte
	EventType string
	Body      []byte
	Expires   time.Time // no retry is scheduled after this; then the job is dead
}

// State is where a job stands after an attempt.
type State string

const (
	Pending   State = "pending"   // waiting for its (next) attempt
	Delivered State = "delivered" // a 2xx answer
	Dead      State = "dead"      // failed until Expires: no more automatic retries
)

// Result is the outcome of one attempt.
type Result struct {
	State State
	Next  time.Time // the next attempt, when State is Pending
	Code  int       // the receiver's HTTP status, 0 when there was no answer
	Error string    // why it failed ("" when delivered); never the response body
	At    time.Time // when the attempt was made
}

// Queue is the durable store of jobs, owned by the caller.
type Queue interface {
	// Claim returns up to max jobs due at now, each with its attempt
	// counted and leased until now+lease: no other worker (on any replica)
	// claims it again before the lease ends, so a worker that dies with a
	// job in hand only delays it. A Queue may hold jobs back to be fair
	// (central's keeps each endpoint to a few leased jobs, so that one slow
	// receiver cannot take every worker's slots).
	Claim(ctx context.Context, now time.Time, lease time.Duration, max int) ([]Job, error)
	// Finish records an attempt. It must do nothing when the job was
	// claimed again since (its attempt count moved on).
	Finish(ctx context.Context, j Job, r Result) error
}

// Pruner is an optional Queue method: forget finished jobs before t.
type Pruner interface {
	Prune(ctx context.Context, before time.Time) (int64, error)
}

// Retry schedule defaults.
const (
	DefaultFirstRetry = 30 * time.Second
	DefaultMaxDelay   = 2 * time.Hour
	DefaultMaxAge     = 24 * time.Hour // a job is dead when its next retry would be later than this after it was queued
	DefaultLease      = 2 * time.Minute
	DefaultKeep       = 30 * 24 * time.Hour // finished jobs are pruned after this
	DefaultSlots      = 8                   // attempts a worker has in flight at once
	// DefaultPerEndpoint is how many attempts to one receiver may be in
	// flight at once, over all workers (a Queue's fairness limit).
	DefaultPerEndpoint = 4
)

// Backoff returns the wait after the attempt-th failed attempt: doubling
// from first, capped at max, with "equal jitter" (a random point in the
// upper half) so that receivers coming back up are not hit by every
// sender at once. u is a uniform random number in [0, 1).
func Backoff(attempt int, first, max time.Duration, u float64) time.Duration {
	d := first
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return d/2 + time.Duration(u*float64(d/2))
}

// Sender makes one attempt over HTTP.
type Sender struct {
	Client *http.Client
	Now    func() time.Time
}

// NewClient returns the HTTP client for deliveries: the guard's dialer,
// no proxy from the environment, no redirects (a 3xx is a failure), a
// timeout per attempt.
func NewClient(g Guard, timeout time.Duration) *http.Client {
	if timeout == 0 {
		timeout = 15 * time.Second
	}
	tr := &http.Transport{
		DialContext:           g.Dialer().DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Send posts j's body, signed, and reports the outcome (State Delivered
// on a 2xx, otherwise Pending with no Next: the worker schedules it).
func (s *Sender) Send(ctx context.Context, j Job) Result {
	now := s.Now()
	res := Result{At: now, State: Pending}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.URL, bytes.NewReader(j.Body))
	if err != nil {
		res.Error = err.Error()
		return res
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(HeaderDelivery, j.ID)
	req.Header.Set(HeaderEvent, j.EventType)
	req.Header.Set(HeaderSignature, Sign(j.Secret, now, j.Body))
	resp, err := s.Client.Do(req)
	if err != nil {
		res.Error = shorten(err.Error())
		return res
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // reuse the connection; the body is not kept
	resp.Body.Close()
	res.Code = resp.StatusCode
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		res.State = Delivered
		return res
	}
	res.Error = fmt.Sprintf("HTTP %d", resp.StatusCode)
	return res
}

func shorten(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// WorkerConfig configures a Worker. Zero values take the defaults.
type WorkerConfig struct {
	Queue      Queue
	Sender     *Sender // default: NewClient(Guard, 0)
	Guard      Guard
	Now        func() time.Time
	Rand       func() float64 // uniform in [0, 1): the jitter
	Log        *slog.Logger
	Poll       time.Duration // how often to look for due jobs (default 1 s)
	Slots      int           // attempts in flight at once (default 8); Run claims for a slot as soon as it is free
	Lease      time.Duration
	FirstRetry time.Duration
	MaxDelay   time.Duration
	Keep       time.Duration // prune finished jobs older than this (Queue must be a Pruner)
}

// Worker drains a Queue: safe to run on every replica at once (the Queue's
// leases keep two workers off one job).
type Worker struct {
	cfg       WorkerConfig
	wake      chan struct{}
	lastPrune time.Time
}

// NewWorker returns a worker on cfg.
func NewWorker(cfg WorkerConfig) *Worker {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sender == nil {
		cfg.Sender = &Sender{Client: NewClient(cfg.Guard, 0), Now: cfg.Now}
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Poll == 0 {
		cfg.Poll = time.Second
	}
	if cfg.Slots == 0 {
		cfg.Slots = DefaultSlots
	}
	if cfg.Lease == 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.FirstRetry == 0 {
		cfg.FirstRetry = DefaultFirstRetry
	}
	if cfg.MaxDelay == 0 {
		cfg.MaxDelay = DefaultMaxDelay
	}
	if cfg.Keep == 0 {
		cfg.Keep = DefaultKeep
	}
	return &Worker{cfg: cfg, wake: make(chan struct{}, 1)}
}

// Kick makes a running worker look for due jobs now (after a local
// enqueue); other replicas find them on their next poll.
func (w *Worker) Kick() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends. It keeps up to Slots attempts in flight
// and claims for free slots as soon as one frees up (besides every Poll and
// on Kick), so a slow receiver holds only the slots of its own attempts,
// never a whole batch. Errors of the queue are logged and retried at the
// next poll or freed slot; context.Canceled is not an error. Run returns
// after its attempts in flight have returned.
func (w *Worker) Run(ctx context.Context) error {
	t := time.NewTicker(w.cfg.Poll)
	defer t.Stop()
	done := make(chan error, w.cfg.Slots)
	busy := 0
	defer func() {
		for ; busy > 0; busy-- {
			<-done
		}
	}()
	finished := func(err error) {
		busy--
		if err != nil {
			w.cfg.Log.Error("webhook: worker", "err", err)
		}
	}
	for {
		if free := w.cfg.Slots - busy; free > 0 {
			now := w.cfg.Now()
			w.prune(ctx, now)
			jobs, err := w.cfg.Queue.Claim(ctx, now, w.cfg.Lease, free)
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				w.cfg.Log.Error("webhook: worker", "err", fmt.Errorf("webhook: claim: %w", err))
			}
			for _, j := range jobs {
				busy++
				go func() { done <- w.attempt(ctx, j) }()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case err := <-done:
			finished(err)
			// Others may have finished meanwhile: claim for all of them at once.
			for more := true; more; {
				select {
				case err := <-done:
					finished(err)
				default:
					more = false
				}
			}
		case <-t.C:
		case <-w.wake:
		}
	}
}

// RunOnce claims the due jobs (up to Slots), attempts them in parallel and
// waits for every outcome to be recorded. It returns how many it attempted.
// It is for tests and one-off use: Run does not wait for a whole batch.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	now := w.cfg.Now()
	w.prune(ctx, now)
	jobs, err := w.cfg.Queue.Claim(ctx, now, w.cfg.Lease, w.cfg.Slots)
	if err != nil {
		return 0, fmt.Errorf("webhook: claim: %w", err)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(jobs))
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w.attempt(ctx, j)
		}()
	}
	wg.Wait()
	return len(jobs), errors.Join(errs...)
}

func (w *Worker) attempt(ctx context.Context, j Job) error {
	res := w.cfg.Sender.Send(ctx, j)
	if ctx.Err() != nil {
		if res.State != Delivered {
			// Shutting down: leave the job to its lease (another attempt later).
			return nil
		}
		// Accepted just before the shutdown: record it, or it is sent again.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		ctx = fctx
	}
	if res.State != Delivered {
		next := res.At.Add(Backoff(j.Attempt, w.cfg.FirstRetry, w.cfg.MaxDelay, w.cfg.Rand()))
		if !j.Expires.IsZero() && next.After(j.Expires) {
			res.State = Dead
		} else {
			res.Next = next
		}
		w.cfg.Log.Warn("webhook: delivery failed", "delivery", j.ID, "attempt", j.Attempt, "state", res.State, "err", res.Error)
	}
	if err := w.cfg.Queue.Finish(ctx, j, res); err != nil {
		return fmt.Errorf("webhook: finish %s: %w", j.ID, err)
	}
	return nil
}

func (w *Worker) prune(ctx context.Context, now time.Time) {
	p, ok := w.cfg.Queue.(Pruner)
	if !ok || now.Sub(w.lastPrune) < time.Hour {
		return
	}
	w.lastPrune = now
	if n, err := p.Prune(ctx, now.Add(-w.cfg.Keep)); err != nil {
		w.cfg.Log.Warn("webhook: prune", "err", err)
	} else if n > 0 {
		w.cfg.Log.Info("webhook: pruned finished deliveries", "count", n)
	}
}
