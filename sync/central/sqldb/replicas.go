package sqldb

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Exclusive runs fn while holding a lock named name that every process on
// this database (every replica) shares: on PostgreSQL a session advisory
// lock keyed by the schema and name, so start-up work (migrations, demo
// seeding, rewriting rosters) runs in one replica at a time and the others
// find it done. On SQLite central is one process: fn just runs.
func (d *DB) Exclusive(ctx context.Context, name string, fn func(context.Context) error) error {
	if d.dialect != Postgres {
		mu := localLock(name)
		mu.Lock()
		defer mu.Unlock()
		return fn(ctx)
	}
	conn, err := d.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("central: lock %s: %w", name, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(hashtext(current_schema() || ' ' || $1))", name); err != nil {
		return fmt.Errorf("central: lock %s: %w", name, err)
	}
	ferr := fn(ctx)
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := conn.ExecContext(uctx, "SELECT pg_advisory_unlock(hashtext(current_schema() || ' ' || $1))", name); err != nil {
		// Never hand a connection holding the lock back to the pool: a
		// bad connection is closed, and its session's locks go with it.
		conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	return ferr
}

// localLocks stand in for advisory locks on SQLite, where central is one
// process (tests open several handles on one file).
var localLocks sync.Map

func localLock(name string) *sync.Mutex {
	mu, _ := localLocks.LoadOrStore(name, new(sync.Mutex))
	return mu.(*sync.Mutex)
}

// NotifyChannel is the PostgreSQL channel of roster changes; payloads are
// "<schema> <location id>" (the trigger of migration 0160), so databases
// and test schemas sharing a server do not wake each other.
const NotifyChannel = "kinderdeur_roster"

// Listen holds a connection of its own LISTENing on NotifyChannel and calls
// fn with the location of every notification for this DB's schema, until
// ctx ends (then it returns nil). It reconnects with backoff; after each
// (re)connection it calls fn("") because notifications sent while it was
// away are lost: "" means "anything may have changed". SQLite has no
// LISTEN: Listen returns at once with an error.
func (d *DB) Listen(ctx context.Context, log *slog.Logger, fn func(location string)) error {
	if d.dialect != Postgres {
		return errors.New("central: listen: PostgreSQL only")
	}
	backoff := 100 * time.Millisecond
	for {
		err := d.listenOnce(ctx, fn)
		if ctx.Err() != nil {
			return nil
		}
		log.Warn("central: roster notifications lost; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

func (d *DB) listenOnce(ctx context.Context, fn func(string)) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.Connect(cctx, d.dsn)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var schema string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+NotifyChannel); err != nil {
		return err
	}
	fn("")
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if s, loc, ok := strings.Cut(n.Payload, " "); ok && s == schema {
			fn(loc)
		}
	}
}
