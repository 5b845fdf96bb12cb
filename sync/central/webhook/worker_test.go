package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/sync/central/webhook"
)

// memQueue hands out its jobs in order, each once.
type memQueue struct {
	mu       sync.Mutex
	jobs     []webhook.Job
	finished map[string]webhook.State
	claims   []int // max asked for, per claim
}

func (q *memQueue) Claim(_ context.Context, _ time.Time, _ time.Duration, max int) ([]webhook.Job, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.claims = append(q.claims, max)
	n := min(max, len(q.jobs))
	out := q.jobs[:n:n]
	q.jobs = q.jobs[n:]
	return out, nil
}

func (q *memQueue) Finish(_ context.Context, j webhook.Job, r webhook.Result) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.finished[j.ID] = r.State
	return nil
}

func (q *memQueue) done() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.finished)
}

// Run claims for a slot as soon as it frees: a slow job holds its own slot,
// not the others (before, the worker waited for its whole batch).
func TestRunFillsFreedSlotsWithoutWaitingForTheBatch(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer fast.Close()

	q := &memQueue{finished: map[string]webhook.State{}}
	q.jobs = append(q.jobs, webhook.Job{ID: "slow", Attempt: 1, URL: slow.URL})
	for i := range 40 {
		q.jobs = append(q.jobs, webhook.Job{ID: fmt.Sprint("fast-", i), Attempt: 1, URL: fast.URL})
	}
	w := webhook.NewWorker(webhook.WorkerConfig{Queue: q, Guard: webhook.Guard{AllowPrivate: true}, Slots: 2, Poll: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		w.Run(ctx)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for q.done() < 40 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-stopped
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.finished) != 40 {
		t.Fatalf("%d jobs finished while the slow one was in flight, want the 40 fast ones", len(q.finished))
	}
	if _, ok := q.finished["slow"]; ok {
		t.Errorf("the slow job finished: %v", q.finished["slow"])
	}
	for _, m := range q.claims {
		if m < 1 || m > 2 {
			t.Errorf("claimed up to %d with 2 slots: %v", m, q.claims)
			break
		}
	}
}
