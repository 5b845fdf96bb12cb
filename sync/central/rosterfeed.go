package central

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/kinderdeur/kiosk/sync/central/sqldb"
)

// RosterFeed tells the kiosks' roster long-polls that their location's
// roster changed. A write on this replica wakes its waiters at once
// (Changed, called by Sites.PutRoster); on PostgreSQL every roster row
// written by any replica, through any code path, fires a NOTIFY (the
// trigger of migration 0160) that a LISTEN connection of each replica turns
// into Changed. Waiters never trust a wake-up: each re-reads the version
// from the database, so a lost, duplicated or foreign notification costs a
// query, never a wrong answer.
//
// The LISTEN connection is opened with the first waiter and closed by
// DB.Close, so a central that serves no kiosk holds no extra connection.
type RosterFeed struct {
	db    *sqldb.DB
	sites *Sites
	log   *slog.Logger

	mu      sync.Mutex
	waiters map[string]map[chan struct{}]struct{} // location -> waiters
	listen  sync.Once
	stop    context.CancelFunc
	done    chan struct{}
}

func newRosterFeed(db *sqldb.DB, sites *Sites) *RosterFeed {
	return &RosterFeed{db: db, sites: sites, log: slog.Default(), waiters: map[string]map[chan struct{}]struct{}{}}
}

// SetLogger sets where the feed logs lost LISTEN connections.
func (f *RosterFeed) SetLogger(l *slog.Logger) {
	f.mu.Lock()
	f.log = l
	f.mu.Unlock()
}

// Changed wakes the waiters of location ("" wakes every waiter: after a
// LISTEN reconnection anything may have changed). It never blocks.
func (f *RosterFeed) Changed(location string) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	wake := func(set map[chan struct{}]struct{}) {
		for ch := range set {
			select {
			case ch <- struct{}{}:
			default: // already woken
			}
		}
	}
	if location == "" {
		for _, set := range f.waiters {
			wake(set)
		}
		return
	}
	wake(f.waiters[location])
}

// Wait returns the location's roster version as soon as it is above have,
// or the current version when ctx ends first (the long-poll's time is up).
// The error is only a database error.
func (f *RosterFeed) Wait(ctx context.Context, location string, have int64) (int64, error) {
	f.startListening()
	ch := make(chan struct{}, 1)
	f.mu.Lock()
	if f.waiters[location] == nil {
		f.waiters[location] = map[chan struct{}]struct{}{}
	}
	f.waiters[location][ch] = struct{}{}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.waiters[location], ch)
		if len(f.waiters[location]) == 0 {
			delete(f.waiters, location)
		}
		f.mu.Unlock()
	}()
	for {
		// Subscribed before reading: a change between the read and the
		// select still finds ch.
		// Not ctx: its end (the wait is up) must not turn into an error.
		qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		v, err := f.sites.RosterVersion(qctx, location)
		cancel()
		if err != nil || v > have {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, nil
		case <-ch:
		}
	}
}

// Waiting reports how many long-polls this replica holds.
func (f *RosterFeed) Waiting() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, set := range f.waiters {
		n += len(set)
	}
	return n
}

func (f *RosterFeed) startListening() {
	if f.db.Dialect() != Postgres {
		return // one process: Changed is the whole story
	}
	f.listen.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		f.mu.Lock()
		f.stop, f.done = cancel, done
		log := f.log
		f.mu.Unlock()
		go func() {
			defer close(done)
			f.db.Listen(ctx, log, f.Changed)
		}()
	})
}

// close stops the LISTEN connection (DB.Close).
func (f *RosterFeed) close() {
	f.mu.Lock()
	stop, done := f.stop, f.done
	f.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}
