package store

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a log sink the maintenance goroutine and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestMaintainPurgesAtOnceAndStopsWithItsContext(t *testing.T) {
	s := openTemp(t)
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// A keep below the minimum makes every purge fail loudly: the log shows
	// that one ran at start and again on the purge ticker.
	go func() { done <- s.maintain(ctx, time.Hour, log, time.Millisecond, 5*time.Millisecond) }()
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(logs.String(), "retention purge") < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("maintain() = %v, want nil after cancel", err)
	}
	got := logs.String()
	if n := strings.Count(got, "retention purge"); n < 2 || strings.Contains(got, "wal checkpoint") {
		t.Errorf("log after maintenance (%d purges, want >= 2 and no checkpoint warning):\n%s", n, got)
	}
}
