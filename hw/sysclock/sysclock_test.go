package sysclock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const testBootID = "6f1c0b0e-8c1a-4a57-9d7e-2b3c4d5e6f70"

var (
	syncedKernel   = func() (Kernel, error) { return Kernel{Status: 0x0001 /* STA_PLL */, State: 0}, nil }
	unsyncedKernel = func() (Kernel, error) { return Kernel{Status: staUnsync, State: timeError}, nil }
	errKernel      = func() (Kernel, error) { return Kernel{}, syscall.EPERM }
	afterFloor     = func() time.Time { return time.Date(2026, 11, 22, 8, 15, 0, 0, time.UTC) }
	epoch          = func() time.Time { return time.Unix(12, 0).UTC() }
)

func TestStatus(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "synchronized")
	tests := []struct {
		name     string
		file     string
		adjtimex func() (Kernel, error)
		now      func() time.Time
		want     Status
		wantErr  error
	}{
		{
			name: "timesyncd flag file present",
			file: "testdata/synchronized", adjtimex: unsyncedKernel, now: afterFloor,
			want: Status{Synced: true, Source: SourceTimesyncd, Plausible: true},
		},
		{
			name: "flag absent, kernel synchronised (chrony/ntpd)",
			file: missing, adjtimex: syncedKernel, now: afterFloor,
			want: Status{Synced: true, Source: SourceKernel, Plausible: true},
		},
		{
			name: "flag absent, kernel unsynchronised, clock restored from saved time",
			file: missing, adjtimex: unsyncedKernel, now: afterFloor,
			want: Status{Synced: false, Source: SourceKernel, Plausible: true},
		},
		{
			name: "fresh boot in 1970",
			file: missing, adjtimex: unsyncedKernel, now: epoch,
			want: Status{Synced: false, Source: SourceKernel, Plausible: false},
		},
		{
			name: "kernel says TIME_ERROR although the bit is clear",
			file: missing, adjtimex: func() (Kernel, error) { return Kernel{State: timeError}, nil }, now: afterFloor,
			want: Status{Synced: false, Source: SourceKernel, Plausible: true},
		},
		{
			name: "kernel cannot be asked (seccomp)",
			file: missing, adjtimex: errKernel, now: afterFloor,
			want:    Status{Synced: false, Source: SourceNone, Plausible: true},
			wantErr: syscall.EPERM,
		},
		{
			name: "flag file wins over a failing kernel",
			file: "testdata/synchronized", adjtimex: errKernel, now: epoch,
			want: Status{Synced: true, Source: SourceTimesyncd, Plausible: false},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Options{SyncedFile: tt.file, Adjtimex: tt.adjtimex, Now: tt.now})
			got := c.Status()
			if !errors.Is(got.Err, tt.wantErr) {
				t.Errorf("Status().Err = %v, want %v", got.Err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(Status{}, "Err")); diff != "" {
				t.Errorf("Status() mismatch (-want +got):\n%s", diff)
			}
			if got.String() == "" {
				t.Error("String() is empty")
			}
		})
	}
}

func TestBootID(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		want    string
		wantErr error
	}{
		{name: "valid", file: "testdata/boot_id", want: testBootID},
		{name: "malformed", file: "testdata/boot_id_bad", wantErr: ErrBadBootID},
		{name: "missing", file: "testdata/no_such_file", wantErr: os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New(Options{BootIDFile: tt.file}).BootID()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("BootID() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("BootID() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBootIDCachedOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "boot_id")
	if err := os.WriteFile(path, []byte(testBootID+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := New(Options{BootIDFile: path})
	first, err := c.BootID()
	if err != nil {
		t.Fatal(err)
	}
	// The boot id cannot change while the process runs; a rewrite of the
	// file (impossible on /proc) must not be seen.
	if err := os.WriteFile(path, []byte("00000000-0000-0000-0000-000000000000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	second, err := c.BootID()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("BootID() changed (-first +second):\n%s", diff)
	}
}

func TestParseBootID(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: testBootID + "\n", want: testBootID},
		{in: testBootID, want: testBootID},
		{in: "", wantErr: true},
		{in: "6F1C0B0E-8C1A-4A57-9D7E-2B3C4D5E6F70\n", wantErr: true},
		{in: "6f1c0b0e8c1a4a579d7e2b3c4d5e6f70\n", wantErr: true},
		{in: testBootID + "0\n", wantErr: true},
		{in: testBootID + "\n" + testBootID + "\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseBootID(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseBootID(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrBadBootID) {
				t.Errorf("error %v does not wrap ErrBadBootID", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseBootID(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func FuzzParseBootID(f *testing.F) {
	f.Add(testBootID + "\n")
	f.Add("not-a-uuid")
	f.Add("")
	f.Add("\x00\xff" + testBootID)
	f.Fuzz(func(t *testing.T, in string) {
		id, err := ParseBootID(in)
		if err != nil {
			if !errors.Is(err, ErrBadBootID) {
				t.Fatalf("error %v does not wrap ErrBadBootID", err)
			}
			return
		}
		if len(id) != 36 {
			t.Fatalf("accepted %q of length %d", id, len(id))
		}
		again, err := ParseBootID(id)
		if err != nil || again != id {
			t.Fatalf("not idempotent: %q -> %q, %v", id, again, err)
		}
	})
}

func TestStamp(t *testing.T) {
	now := afterFloor()
	c := New(Options{
		SyncedFile: "testdata/synchronized",
		BootIDFile: "testdata/boot_id",
		Adjtimex:   unsyncedKernel,
		SinceBoot:  func() (time.Duration, error) { return 93 * time.Second, nil },
		Now:        func() time.Time { return now },
	})
	got, err := c.Stamp()
	if err != nil {
		t.Fatal(err)
	}
	want := Stamp{Wall: now, MonoNS: int64(93 * time.Second), BootID: testBootID, Synced: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Stamp() mismatch (-want +got):\n%s", diff)
	}
}

func TestStampDegradesInsteadOfFailing(t *testing.T) {
	now := epoch()
	c := New(Options{
		SyncedFile: filepath.Join(t.TempDir(), "synchronized"),
		BootIDFile: "testdata/boot_id_bad",
		Adjtimex:   errKernel,
		SinceBoot:  func() (time.Duration, error) { return 0, syscall.ENOSYS },
		Now:        func() time.Time { return now },
	})
	got, err := c.Stamp()
	if !errors.Is(err, ErrBadBootID) || !errors.Is(err, syscall.ENOSYS) {
		t.Errorf("Stamp() error = %v, want both ErrBadBootID and ENOSYS", err)
	}
	want := Stamp{Wall: now}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Stamp() mismatch (-want +got):\n%s", diff)
	}
}

// flipKernel is a kernel state that a test can change while Watch runs.
type flipKernel struct {
	mu     sync.Mutex
	synced bool
	calls  int
}

func (k *flipKernel) adjtimex() (Kernel, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls++
	if k.synced {
		return Kernel{}, nil
	}
	return Kernel{Status: staUnsync, State: timeError}, nil
}

func (k *flipKernel) set(synced bool) {
	k.mu.Lock()
	k.synced = synced
	k.mu.Unlock()
}

func TestWatchReportsChangesOnly(t *testing.T) {
	k := &flipKernel{}
	c := New(Options{SyncedFile: filepath.Join(t.TempDir(), "none"), Adjtimex: k.adjtimex, Now: afterFloor})
	ctx, cancel := context.WithCancel(context.Background())
	changes := make(chan Status, 16)
	done := make(chan error, 1)
	go func() { done <- c.Watch(ctx, time.Millisecond, func(s Status) { changes <- s }) }()

	first := <-changes
	if first.Synced {
		t.Fatalf("first status %v, want unsynchronised", first)
	}
	k.set(true)
	second := <-changes
	if !second.Synced || second.Source != SourceKernel {
		t.Fatalf("second status %v, want synchronised by kernel", second)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Watch() = %v, want nil after cancel", err)
	}
	// Many polls happened with the same state; none was reported again.
	k.mu.Lock()
	calls := k.calls
	k.mu.Unlock()
	close(changes)
	var extra []Status
	for s := range changes {
		extra = append(extra, s)
	}
	if len(extra) != 0 {
		t.Errorf("Watch reported %d unchanged statuses after %d polls: %v", len(extra), calls, extra)
	}
}

func TestWaitSynced(t *testing.T) {
	k := &flipKernel{}
	c := New(Options{SyncedFile: filepath.Join(t.TempDir(), "none"), Adjtimex: k.adjtimex, Now: afterFloor})

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	st, err := c.WaitSynced(ctx, time.Millisecond)
	if !errors.Is(err, context.Canceled) || st.Synced {
		t.Fatalf("WaitSynced(cancelled) = %v, %v; want unsynchronised, context.Canceled", st, err)
	}

	go func() {
		time.Sleep(5 * time.Millisecond)
		k.set(true)
	}()
	st, err = c.WaitSynced(context.Background(), time.Millisecond)
	if err != nil || !st.Synced {
		t.Fatalf("WaitSynced() = %v, %v; want synchronised", st, err)
	}
	if _, err := c.WaitSynced(context.Background(), 0); err == nil {
		t.Error("WaitSynced(interval 0) succeeded, want an error")
	}
}

// TestRealKernel exercises the real system calls and files of this machine.
func TestRealKernel(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("kernel probes are Linux only")
	}
	c := New(Options{})
	a, err := c.SinceBoot()
	if err != nil {
		t.Fatalf("SinceBoot() = %v", err)
	}
	b, err := c.SinceBoot()
	if err != nil {
		t.Fatal(err)
	}
	if a <= 0 || b < a {
		t.Errorf("SinceBoot() went %v then %v, want positive and non-decreasing", a, b)
	}
	if _, err := c.BootID(); err != nil {
		t.Errorf("BootID() = %v", err)
	}
	if _, err := kernelAdjtimex(); err != nil {
		// Some sandboxes filter adjtimex; the daemon then relies on the flag file.
		t.Logf("adjtimex unavailable here: %v", err)
	}
	st := c.Status()
	t.Logf("this machine: %v", st)
}

func BenchmarkStamp(b *testing.B) {
	c := New(Options{})
	for b.Loop() {
		if _, err := c.Stamp(); err != nil {
			b.Fatal(err)
		}
	}
}
