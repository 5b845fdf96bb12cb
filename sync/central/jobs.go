package central

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/kinderdeur/kiosk/sync/central/sqldb"
)

// Job is work central does on a schedule (retention, pruning, demo days).
type Job struct {
	Name  string
	Every time.Duration
	// Lease bounds one run: a replica that dies mid-run holds the job no
	// longer than this (default Every, at least a minute).
	Lease time.Duration
	Run   func(ctx context.Context) error
}

// Jobs runs scheduled work once per schedule across every replica on the
// database. Each replica ticks; at a tick a due job is claimed by one
// conditional UPDATE of its row in scheduled_jobs (due, not leased: move
// the next run on and take the lease), which exactly one replica wins on
// PostgreSQL and on SQLite alike. The winner runs it and gives the lease
// back. No advisory lock is held across the run, so a replica killed with
// -9 mid-run blocks the job only until its lease ends.
type Jobs struct {
	db     *sqldb.DB
	holder string
}

// Holder names this process in scheduled_jobs (host, pid, random).
func (s *Jobs) Holder() string { return s.holder }

func newHolder() string {
	h, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", h, os.Getpid(), hex.EncodeToString(b[:]))
}

// Claim takes job name when it is due, for lease, and schedules its next
// run every later. It reports whether this replica won it.
func (s *Jobs) Claim(ctx context.Context, name string, every, lease time.Duration) (bool, error) {
	now := s.db.Now().UnixNano()
	if _, err := s.db.Exec(ctx, nil, "INSERT INTO scheduled_jobs (name) VALUES (?) ON CONFLICT (name) DO NOTHING", name); err != nil {
		return false, fmt.Errorf("central: job %s: %w", name, err)
	}
	res, err := s.db.Exec(ctx, nil, `UPDATE scheduled_jobs SET next_run_ns = ?, lease_until_ns = ?, holder = ?
		WHERE name = ? AND next_run_ns <= ? AND lease_until_ns <= ?`,
		now+int64(every), now+int64(lease), s.holder, name, now, now)
	if err != nil {
		return false, fmt.Errorf("central: job %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Finish records a run of name by this replica and gives its lease back.
func (s *Jobs) Finish(ctx context.Context, name string, runErr error) error {
	msg := ""
	if runErr != nil {
		msg = runErr.Error()
	}
	_, err := s.db.Exec(ctx, nil, `UPDATE scheduled_jobs SET lease_until_ns = 0, last_run_ns = ?, last_error = ?, runs = runs + 1
		WHERE name = ? AND holder = ?`, s.db.Now().UnixNano(), msg, name, s.holder)
	if err != nil {
		return fmt.Errorf("central: job %s: %w", name, err)
	}
	return nil
}

// JobRun is what scheduled_jobs says of a job.
type JobRun struct {
	Name      string
	Runs      int64
	LastRun   time.Time
	LastError string
	Holder    string
}

// Runs lists the scheduled jobs and their last runs.
func (s *Jobs) Runs(ctx context.Context) ([]JobRun, error) {
	rows, err := s.db.Query(ctx, nil, "SELECT name, runs, last_run_ns, last_error, holder FROM scheduled_jobs ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("central: jobs: %w", err)
	}
	defer rows.Close()
	var out []JobRun
	for rows.Next() {
		var j JobRun
		var last int64
		if err := rows.Scan(&j.Name, &j.Runs, &last, &j.LastError, &j.Holder); err != nil {
			return nil, fmt.Errorf("central: jobs: %w", err)
		}
		if last > 0 {
			j.LastRun = time.Unix(0, last)
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// Run ticks every tick (default 15 s) until ctx ends, claiming and running
// whichever jobs are due; its caller owns the goroutine. A failed run is
// logged and recorded; it runs again at its next schedule. It returns nil
// when ctx is cancelled.
func (s *Jobs) Run(ctx context.Context, tick time.Duration, log *slog.Logger, jobs ...Job) error {
	if tick <= 0 {
		tick = 15 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		for _, j := range jobs {
			if ctx.Err() != nil {
				return nil
			}
			s.runOne(ctx, j, log)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (s *Jobs) runOne(ctx context.Context, j Job, log *slog.Logger) {
	lease := j.Lease
	if lease <= 0 {
		lease = max(j.Every, time.Minute)
	}
	won, err := s.Claim(ctx, j.Name, j.Every, lease)
	if err != nil {
		if ctx.Err() == nil {
			log.Warn("central: scheduled job not claimed", "job", j.Name, "err", err)
		}
		return
	}
	if !won {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, lease)
	start := time.Now()
	runErr := j.Run(rctx)
	cancel()
	if errors.Is(runErr, context.Canceled) && ctx.Err() != nil {
		runErr = nil // shutting down; the lease ends by itself
	}
	if runErr != nil {
		log.Error("central: scheduled job failed", "job", j.Name, "err", runErr)
	} else {
		log.Debug("central: scheduled job ran", "job", j.Name, "took", time.Since(start).Round(time.Millisecond))
	}
	if err := s.Finish(context.WithoutCancel(ctx), j.Name, runErr); err != nil {
		log.Warn("central: scheduled job not recorded", "job", j.Name, "err", err)
	}
}
