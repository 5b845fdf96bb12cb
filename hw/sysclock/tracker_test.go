package sysclock

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func TestTrackerFollowsTheClock(t *testing.T) {
	k := &flipKernel{}
	c := New(Options{
		SyncedFile: filepath.Join(t.TempDir(), "none"), BootIDFile: "testdata/boot_id",
		Adjtimex: k.adjtimex, Now: afterFloor,
		SinceBoot: func() (time.Duration, error) { return 93 * time.Second, nil },
	})
	tr := NewTracker(c)
	if tr.Synced() || tr.BootID() != testBootID || tr.MonoNS() != int64(93*time.Second) {
		t.Fatalf("new tracker: synced %v, boot %q, mono %d", tr.Synced(), tr.BootID(), tr.MonoNS())
	}
	ctx, cancel := context.WithCancel(context.Background())
	changes := make(chan Status, 16)
	done := make(chan error, 1)
	go func() { done <- tr.Run(ctx, time.Millisecond, func(s Status) { changes <- s }) }()
	<-changes
	k.set(true)
	if st := <-changes; !st.Synced || !tr.Synced() {
		t.Errorf("after sync: status %v, tracker synced %v", st, tr.Synced())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v, want nil after cancel", err)
	}
}
