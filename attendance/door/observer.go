package door

import "time"

// Observer is told how the door performs, for the daemon's metrics. It is
// called with no lock of the door held, on the tap path: implementations
// must be quick and must not call back into the door.
type Observer interface {
	// TapDecided reports a tap's outcome ("check_in", "denied", ...) and
	// how long the door took from receiving it to its result, commit
	// included.
	TapDecided(outcome string, took time.Duration)
	// Committed reports one durable store transaction of n events and how
	// long it took; err is nil when it committed.
	Committed(n int, took time.Duration, err error)
}

// noObserver is the Observer when Config.Observer is nil.
type noObserver struct{}

func (noObserver) TapDecided(string, time.Duration)    {}
func (noObserver) Committed(int, time.Duration, error) {}
