package taps

import (
	"context"
	"sync"

	"github.com/kinderdeur/kiosk/hw/feedback"
)

// Outputs runs the readers' buzzers and LEDs. A GPIO error is a fault of
// one output, never of the door: hw/feedback retries it with a capped
// backoff and keeps it in its health, which Errors reports for /healthz.
// Run is the owner of every feedback goroutine.
type Outputs struct {
	Feedback map[string]*feedback.Feedback // by reader name; set before Run
}

// Run keeps every output running until ctx is done, then returns nil.
func (o *Outputs) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, fb := range o.Feedback {
		wg.Go(func() { _ = fb.Run(ctx) }) // Run returns nil when ctx ends
	}
	wg.Wait()
	return nil
}

// Errors is the outputs whose GPIO is failing now, with the last error, by
// reader name (nil when all is well).
func (o *Outputs) Errors() map[string]string {
	var m map[string]string
	for name, fb := range o.Feedback {
		if h := fb.Health(); h.Degraded != "" {
			if m == nil {
				m = map[string]string{}
			}
			m[name] = h.Degraded
		}
	}
	return m
}
