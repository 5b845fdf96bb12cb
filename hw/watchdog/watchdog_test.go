package watchdog

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// notifySocket is a real unixgram socket standing in for systemd's
// NOTIFY_SOCKET; every datagram arrives on got.
type notifySocket struct {
	conn *net.UnixConn
	got  chan string
}

func listenNotify(t *testing.T) *notifySocket {
	t.Helper()
	dir, err := os.MkdirTemp("", "wd") // short path: sun_path holds 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatalf("listen %s: %v", path, err)
	}
	s := &notifySocket{conn: conn, got: make(chan string, 1024)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			s.got <- string(buf[:n])
		}
	}()
	t.Cleanup(func() { conn.Close(); <-done })
	t.Setenv("NOTIFY_SOCKET", path)
	return s
}

// next waits for the next datagram.
func (s *notifySocket) next(t *testing.T) string {
	t.Helper()
	select {
	case d := <-s.got:
		return d
	case <-time.After(5 * time.Second):
		t.Fatal("no sd_notify datagram within 5s")
		return ""
	}
}

// until returns the datagrams up to and including the first one that
// contains want.
func (s *notifySocket) until(t *testing.T, want string) []string {
	t.Helper()
	var seen []string
	for {
		d := s.next(t)
		seen = append(seen, d)
		if strings.Contains(d, want) {
			return seen
		}
	}
}

// drain returns what arrives until the socket has been quiet for quiet,
// or at most 2s.
func (s *notifySocket) drain(quiet time.Duration) []string {
	var seen []string
	limit := time.After(2 * time.Second)
	for {
		select {
		case d := <-s.got:
			seen = append(seen, d)
		case <-time.After(quiet):
			return seen
		case <-limit:
			return seen
		}
	}
}

func countPings(ds []string) int {
	n := 0
	for _, d := range ds {
		for _, line := range strings.Split(d, "\n") {
			if line == "WATCHDOG=1" {
				n++
			}
		}
	}
	return n
}

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestPingsOnlyWhileHealthy runs the whole life cycle against a real
// socket: nothing before READY=1, pings while the check passes, no pings
// while it fails, pings again after recovery, STOPPING=1 at the end.
func TestPingsOnlyWhileHealthy(t *testing.T) {
	sock := listenNotify(t)
	t.Setenv("WATCHDOG_USEC", "40000") // 40ms: rounds every 20ms
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))

	n, err := New(Options{Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := n.Interval(), 20*time.Millisecond; got != want {
		t.Fatalf("Interval() = %v, want %v (half of WATCHDOG_USEC)", got, want)
	}
	if !n.WatchdogEnabled() {
		t.Fatal("WatchdogEnabled() = false with WATCHDOG_USEC set")
	}

	var healthy atomic.Bool
	healthy.Store(true)
	calls := make(chan struct{}, 1024)
	n.Register("database", func(ctx context.Context) error {
		calls <- struct{}{}
		if healthy.Load() {
			return nil
		}
		return errors.New("disk full")
	})
	n.Register("reader entrance", func(ctx context.Context) error { return nil })

	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- n.Run(ctx) }()

	// Before Ready nothing is sent and no check runs.
	if early := sock.drain(3 * n.Interval()); len(early) != 0 {
		t.Fatalf("datagrams before Ready: %q", early)
	}
	if len(calls) != 0 {
		t.Fatalf("%d checks ran before Ready", len(calls))
	}

	if err := n.Ready("serving on 127.0.0.1:8080"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("READY=1\nSTATUS=serving on 127.0.0.1:8080", sock.next(t)); diff != "" {
		t.Errorf("first datagram (-want +got):\n%s", diff)
	}
	for i := 0; i < 3; i++ {
		if diff := cmp.Diff("WATCHDOG=1", sock.next(t)); diff != "" {
			t.Errorf("ping %d (-want +got):\n%s", i, diff)
		}
	}

	// The database check fails: a status line says why and pings stop.
	healthy.Store(false)
	seen := sock.until(t, "STATUS=unhealthy")
	if last := seen[len(seen)-1]; last != "STATUS=unhealthy: database: disk full" {
		t.Errorf("status on failure = %q", last)
	}
	for len(calls) > 0 { // forget rounds that ran before the failure
		<-calls
	}
	for i := 0; i < 4; i++ { // four more failing rounds
		select {
		case <-calls:
		case <-time.After(5 * time.Second):
			t.Fatal("check rounds stopped while unhealthy")
		}
	}
	if during := sock.drain(2 * n.Interval()); countPings(during) != 0 {
		t.Fatalf("%d pings while a check fails", countPings(during))
	}
	if rep := n.Last(); rep.Healthy {
		t.Errorf("Last().Healthy = true while failing: %+v", rep)
	}

	// Recovery resumes pings.
	healthy.Store(true)
	seen = sock.until(t, "WATCHDOG=1")
	if !strings.Contains(strings.Join(seen, "\n"), "STATUS=healthy again") {
		t.Errorf("no recovery status in %q", seen)
	}
	want := Report{Healthy: true, Results: []Result{{Name: "database"}, {Name: "reader entrance"}}}
	got := n.Last()
	got.At = time.Time{}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Last() (-want +got):\n%s", diff)
	}

	cancel()
	if err := <-runErr; err != nil {
		t.Fatalf("Run() = %v, want nil", err)
	}
	tail := sock.drain(50 * time.Millisecond)
	if len(tail) == 0 || tail[len(tail)-1] != "STOPPING=1\nSTATUS=stopping" {
		t.Errorf("last datagrams %q, want STOPPING=1 last", tail)
	}
}

func TestNoPingsWithoutSystemdWatchdog(t *testing.T) {
	sock := listenNotify(t)
	t.Setenv("WATCHDOG_USEC", "")
	rounds := make(chan struct{}, 1024)
	n, err := New(Options{Logger: quietLog, Interval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	n.Register("ok", func(context.Context) error { rounds <- struct{}{}; return nil })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	if err := n.Ready("up"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		<-rounds
	}
	cancel()
	<-done
	all := sock.drain(50 * time.Millisecond)
	want := []string{"READY=1\nSTATUS=up", "STOPPING=1\nSTATUS=stopping"}
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("datagrams (-want +got):\n%s", diff)
	}
}

func TestWatchdogEnvironment(t *testing.T) {
	tests := []struct {
		name    string
		usec    string
		pid     string
		want    time.Duration
		wantErr bool
	}{
		{name: "unset", usec: "", want: DefaultInterval},
		{name: "30s", usec: "30000000", want: 15 * time.Second},
		{name: "30s for this pid", usec: "30000000", pid: strconv.Itoa(os.Getpid()), want: 15 * time.Second},
		{name: "meant for another process", usec: "30000000", pid: "1", want: DefaultInterval},
		{name: "malformed", usec: "thirty", wantErr: true},
		{name: "negative", usec: "-5", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("WATCHDOG_USEC", tt.usec)
			t.Setenv("WATCHDOG_PID", tt.pid)
			n, err := New(Options{Logger: quietLog})
			if (err != nil) != tt.wantErr {
				t.Fatalf("New() error = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.want, n.Interval()); diff != "" {
				t.Errorf("Interval() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNoSocketIsNotAnError(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "")
	n, err := New(Options{Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Ready("up"); err != nil {
		t.Errorf("Ready() without NOTIFY_SOCKET = %v, want nil", err)
	}
	if err := n.Status("still up"); err != nil {
		t.Errorf("Status() without NOTIFY_SOCKET = %v, want nil", err)
	}
}

func TestSocketGoneIsReported(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "absent"))
	t.Setenv("WATCHDOG_USEC", "")
	n, err := New(Options{Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Ready("up"); err == nil {
		t.Error("Ready() to a missing socket succeeded, want an error")
	}
}

func TestCheckFailures(t *testing.T) {
	tests := []struct {
		name  string
		check Check
		want  string
	}{
		{name: "error", check: func(context.Context) error { return errors.New("reader loop stalled") }, want: "reader loop stalled"},
		{name: "panic", check: func(context.Context) error { panic("boom") }, want: "check panicked: boom"},
		{name: "honours its context", check: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, want: context.DeadlineExceeded.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sent := make(chan string, 16)
			n, err := New(Options{
				Logger:          quietLog,
				Notify:          func(s string) (bool, error) { sent <- s; return true, nil },
				WatchdogEnabled: func() (time.Duration, error) { return 20 * time.Millisecond, nil },
			})
			if err != nil {
				t.Fatal(err)
			}
			n.Register("x", tt.check)
			n.round(context.Background())
			want := Report{Results: []Result{{Name: "x", Error: tt.want}}}
			got := n.Last()
			got.At = time.Time{}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Last() (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff("STATUS=unhealthy: x: "+tt.want, <-sent); diff != "" {
				t.Errorf("datagram (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOneLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ok", "ok"},
		{"two\nlines\r\n  here", "two lines here"},
		{strings.Repeat("é", 150), strings.Repeat("é", 100) + "..."},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, oneLine(tt.in)); diff != "" {
			t.Errorf("oneLine(%.20q) (-want +got):\n%s", tt.in, diff)
		}
	}
}
