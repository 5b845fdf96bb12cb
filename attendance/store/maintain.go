package store

import (
	"context"
	"log/slog"
	"time"
)

// IdleCheckpointAfter is how long the door must be quiet (no commit)
// before Maintain checkpoints the WAL. Taps at a door are seconds apart, so
// the checkpoint runs between them and not inside a tap's commit, where
// SQLite's automatic checkpoint (every 1,000 WAL pages) would otherwise put
// it; the automatic one stays as the safety net for a long burst.
const IdleCheckpointAfter = 2 * time.Second

// IdleCheckpointMinWrites is how many commits must be in the WAL before a
// quiet moment checkpoints it. Each idle checkpoint makes the next commit
// start a new WAL; fewer and larger ones keep that rare, while SQLite's own
// checkpoint (1,000 pages, about 250 taps) is never reached at a door.
const IdleCheckpointMinWrites = 50

// checkpointRetry is how long Maintain waits before trying again when a
// reader (kioskctl, a backup) kept part of the WAL from being copied.
const checkpointRetry = time.Minute

// Maintain checkpoints the WAL when the door goes quiet after a commit (see
// IdleCheckpointAfter) and purges synced events older than keep daily, the
// first time at once (Purge never goes below the 6-week inspection
// window). Failures are logged and tried again at the next turn. It returns
// nil when ctx is done; the caller's goroutine owns it.
func (s *Store) Maintain(ctx context.Context, keep time.Duration, log *slog.Logger) error {
	return s.maintain(ctx, keep, log, maintainEvery{idle: IdleCheckpointAfter, minWrites: IdleCheckpointMinWrites, purge: 24 * time.Hour})
}

// maintainEvery is when Maintain works (shorter in tests).
type maintainEvery struct {
	idle      time.Duration // quiet time before a checkpoint
	minWrites int64         // commits in the WAL before a checkpoint
	purge     time.Duration
}

func (s *Store) maintain(ctx context.Context, keep time.Duration, log *slog.Logger, every maintainEvery) error {
	// A look every half of the quiet time; it costs nothing when the door
	// is busy or idle, unlike a wake-up on every commit.
	look := time.NewTicker(every.idle / 2)
	defer look.Stop()
	purge := time.NewTicker(every.purge)
	defer purge.Stop()
	s.purgeAndLog(ctx, keep, log)
	// The WAL an earlier run left counts as full: it is folded in at the
	// first quiet moment.
	checkpointed := s.writes.Load() - every.minWrites
	var retryAt time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-look.C:
			at := s.writes.Load()
			if at-checkpointed < every.minWrites || s.quietFor() < every.idle || now.Before(retryAt) {
				continue
			}
			done, err := s.checkpointIdle(ctx)
			if ctx.Err() != nil {
				return nil // a stop mid-checkpoint is no error
			}
			if err != nil {
				log.Warn("wal checkpoint", "err", err)
			}
			if !done {
				retryAt = now.Add(checkpointRetry) // a reader held part of it back
				continue
			}
			checkpointed = at
		case <-purge.C:
			s.purgeAndLog(ctx, keep, log)
		}
	}
}

func (s *Store) purgeAndLog(ctx context.Context, keep time.Duration, log *slog.Logger) {
	n, err := s.Purge(ctx, keep)
	if err != nil {
		log.Error("retention purge", "err", err)
		return
	}
	if n > 0 {
		log.Info("retention purge", "events", n, "kept", keep.String())
	}
}
