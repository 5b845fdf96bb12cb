package portal

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/kinderdeur/kiosk/sync/central"
)

// NoticeWorker sends the check-out e-mails guardians opted in to (the
// outbox in sync/central/notices.go) through the portal's Mailer. Run it
// on every replica: notices expand idempotently and mails are leased.
type NoticeWorker struct {
	Parents *central.Parents
	Mailer  Mailer
	Log     *slog.Logger
	// Poll is how often it looks for work without a wake-up (10 s).
	Poll time.Duration
	// Lease is how long a claimed mail is this worker's (2 min).
	Lease time.Duration

	wake chan struct{}
}

// NewNoticeWorker builds a worker and registers its wake-up with ingest.
func NewNoticeWorker(p *central.Parents, m Mailer, log *slog.Logger) *NoticeWorker {
	w := &NoticeWorker{Parents: p, Mailer: m, Log: log, wake: make(chan struct{}, 1)}
	p.OnNotice(w.Wake)
	return w
}

// Wake makes the worker look for work now.
func (w *NoticeWorker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run works until ctx ends.
func (w *NoticeWorker) Run(ctx context.Context) {
	poll := w.Poll
	if poll == 0 {
		poll = 10 * time.Second
	}
	if w.wake == nil {
		w.wake = make(chan struct{}, 1)
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	lastPrune := time.Time{}
	for {
		if _, err := w.Once(ctx); err != nil && ctx.Err() == nil {
			w.log().Warn("portal: check-out notices", "err", err)
		}
		if time.Since(lastPrune) > time.Hour {
			if err := w.Parents.PruneMails(ctx, time.Now().Add(-30*24*time.Hour)); err != nil && ctx.Err() == nil {
				w.log().Warn("portal: prune notices", "err", err)
			}
			lastPrune = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.wake:
		}
	}
}

func (w *NoticeWorker) log() *slog.Logger {
	if w.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Log
}

// Once expands open notices and sends the due mails; it returns how many
// were sent.
func (w *NoticeWorker) Once(ctx context.Context) (int, error) {
	for {
		n, err := w.Parents.ExpandNotices(ctx, 50, renderCheckout)
		if err != nil {
			return 0, err
		}
		if n == 0 {
			break
		}
	}
	lease := w.Lease
	if lease == 0 {
		lease = 2 * time.Minute
	}
	sent := 0
	for {
		ms, err := w.Parents.ClaimMails(ctx, lease, 20)
		if err != nil || len(ms) == 0 {
			return sent, err
		}
		for _, m := range ms {
			sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			serr := w.Mailer.Send(sctx, m.To, m.Subject, m.Body)
			cancel()
			if serr != nil {
				w.log().Warn("portal: check-out e-mail not sent", "mail", m.ID, "attempt", m.Attempt, "err", serr)
			} else {
				sent++
			}
			if err := w.Parents.FinishMail(ctx, m, serr); err != nil {
				return sent, err
			}
		}
		if len(ms) < 20 {
			return sent, nil
		}
	}
}

// renderCheckout writes a check-out e-mail, Dutch then English: the
// child's first name, the pickup person's name and the time; nothing else.
func renderCheckout(n central.CheckoutNotice) (subject, body string) {
	who := [2]string{n.PickupName, n.PickupName}
	if n.PickupName == "" {
		who = [2]string{T("nl", "someone"), T("en", "someone")}
	}
	at := n.At.Format("15:04")
	subject = fmt.Sprintf(T("nl", "mail_checkout_subject"), n.ChildName)
	body = fmt.Sprintf(T("nl", "mail_checkout_body"), n.ChildName, at, who[0]) + "\r\n\r\n" +
		fmt.Sprintf(T("en", "mail_checkout_body"), n.ChildName, at, who[1]) + "\r\n\r\n" +
		"-- \r\nKinderdeur ouderportaal. Deze e-mail uitzetten: Vandaag > Stuur mij een e-mail.\r\n"
	return subject, body
}
