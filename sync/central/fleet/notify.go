package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// Sender delivers one change once (an e-mail, a webhook call); the
// Dispatcher retries it.
type Sender interface {
	Send(ctx context.Context, c Change) error
}

// Permanent marks an error no retry will fix (a webhook answering 400).
type Permanent struct{ Err error }

func (e *Permanent) Error() string { return e.Err.Error() }
func (e *Permanent) Unwrap() error { return e.Err }

// Dispatcher hands each change to every sender, off the check's path, with
// retries and capped exponential backoff with full jitter. Run is its one
// goroutine; Notify only queues.
type Dispatcher struct {
	Senders  []Sender
	Attempts int           // per sender and change (default 6)
	Base     time.Duration // first retry's cap (default 2 s)
	Max      time.Duration // retry cap (default 5 min)
	Timeout  time.Duration // one attempt (default 30 s)
	Log      *slog.Logger
	// Injected for tests.
	Sleep func(ctx context.Context, d time.Duration) error
	Rand  func() float64

	once  sync.Once
	queue chan Change
}

var _ Notifier = (*Dispatcher)(nil)

func (d *Dispatcher) init() {
	d.once.Do(func() {
		d.queue = make(chan Change, 1024)
		if d.Attempts <= 0 {
			d.Attempts = 6
		}
		if d.Base <= 0 {
			d.Base = 2 * time.Second
		}
		if d.Max <= 0 {
			d.Max = 5 * time.Minute
		}
		if d.Timeout <= 0 {
			d.Timeout = 30 * time.Second
		}
		if d.Log == nil {
			d.Log = slog.New(slog.DiscardHandler)
		}
		if d.Sleep == nil {
			d.Sleep = func(ctx context.Context, dur time.Duration) error {
				t := time.NewTimer(dur)
				defer t.Stop()
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-t.C:
					return nil
				}
			}
		}
		if d.Rand == nil {
			d.Rand = rand.Float64
		}
	})
}

// Notify queues c for delivery; it fails only when the queue is full.
func (d *Dispatcher) Notify(_ context.Context, c Change) error {
	d.init()
	select {
	case d.queue <- c:
		return nil
	default:
		return errors.New("fleet: notification queue full")
	}
}

// Run delivers queued changes until ctx is done.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.init()
	for {
		select {
		case <-ctx.Done():
			return nil
		case c := <-d.queue:
			for _, s := range d.Senders {
				if err := d.deliver(ctx, s, c); err != nil && ctx.Err() == nil {
					d.Log.Error("fleet: notification not delivered", "device", c.DeviceID, "problem", c.Code, "resolved", c.Resolved, "sender", fmt.Sprintf("%T", s), "err", err)
				}
			}
		}
	}
}

// Drain delivers what is queued now and returns (tests, shutdown).
func (d *Dispatcher) Drain(ctx context.Context) {
	d.init()
	for {
		select {
		case c := <-d.queue:
			for _, s := range d.Senders {
				d.deliver(ctx, s, c)
			}
		default:
			return
		}
	}
}

func (d *Dispatcher) deliver(ctx context.Context, s Sender, c Change) error {
	var err error
	for attempt := 0; attempt < d.Attempts; attempt++ {
		if attempt > 0 {
			capd := min(d.Max, d.Base<<(attempt-1))
			if serr := d.Sleep(ctx, time.Duration(d.Rand()*float64(capd))); serr != nil {
				return serr
			}
		}
		actx, cancel := context.WithTimeout(ctx, d.Timeout)
		err = s.Send(actx, c)
		cancel()
		var perm *Permanent
		if err == nil || errors.As(err, &perm) {
			return err
		}
		d.Log.Warn("fleet: notification failed; retrying", "device", c.DeviceID, "problem", c.Code, "attempt", attempt+1, "err", err)
	}
	return err
}

// Mailer sends one plain-text e-mail (portal.SMTPMailer is one).
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// Mail e-mails each change to the operators' addresses.
type Mail struct {
	Mailer Mailer
	To     []string
	// PageURL, when set, is linked in the mail (central's devices page).
	PageURL string
}

// Send implements Sender: one mail per address (a failed address fails
// the delivery, which is retried for all: a duplicate mail is better than
// a lost one).
func (m *Mail) Send(ctx context.Context, c Change) error {
	subject, body := mailText(c, m.PageURL)
	for _, to := range m.To {
		if err := m.Mailer.Send(ctx, to, subject, body); err != nil {
			return err
		}
	}
	return nil
}

// mailText is the mail for a change, Dutch then English.
func mailText(c Change, page string) (subject, body string) {
	door := c.DeviceName
	if door == "" {
		door = c.DeviceID
	}
	where := door + " (" + c.LocationName + ")"
	if c.Resolved {
		subject = "Kinderdeur: opgelost / resolved: " + where + ": " + c.Code
	} else {
		subject = "Kinderdeur: probleem / problem: " + where + ": " + c.Code
	}
	var b strings.Builder
	if c.Resolved {
		fmt.Fprintf(&b, "Het probleem bij deur %s is opgelost.\nThe problem at door %s has cleared.\n\n", where, where)
	} else {
		fmt.Fprintf(&b, "Er is een probleem bij deur %s.\nThere is a problem at door %s.\n\n", where, where)
	}
	fmt.Fprintf(&b, "Probleem / problem: %s\n%s\n\nApparaat / device: %s\nLocatie / location: %s (%s)\nSinds / since: %s\n",
		c.Code, c.Detail, c.DeviceID, c.LocationName, c.LocationID, c.Since.UTC().Format(time.RFC3339))
	if c.Resolved {
		fmt.Fprintf(&b, "Opgelost / cleared: %s\n", c.Cleared.UTC().Format(time.RFC3339))
	}
	if page != "" {
		fmt.Fprintf(&b, "\n%s\n", page)
	}
	return subject, b.String()
}
