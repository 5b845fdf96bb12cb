package store

import (
	"context"
	"log/slog"
	"time"
)

// Maintain checkpoints the WAL hourly and purges synced events older than
// keep daily, the first time at once (Purge never goes below the 6-week
// inspection window). Failures are logged and tried again at the next turn.
// It returns nil when ctx is done; the caller's goroutine owns it.
func (s *Store) Maintain(ctx context.Context, keep time.Duration, log *slog.Logger) error {
	return s.maintain(ctx, keep, log, time.Hour, 24*time.Hour)
}

func (s *Store) maintain(ctx context.Context, keep time.Duration, log *slog.Logger, checkpointEvery, purgeEvery time.Duration) error {
	checkpoint := time.NewTicker(checkpointEvery)
	defer checkpoint.Stop()
	purge := time.NewTicker(purgeEvery)
	defer purge.Stop()
	s.purgeAndLog(ctx, keep, log)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-checkpoint.C:
			if err := s.Checkpoint(ctx); err != nil && ctx.Err() == nil {
				log.Warn("wal checkpoint", "err", err) // a stop mid-checkpoint is no error
			}
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
