package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance/staffpin"
)

// buildCentral builds this command's binary once per test binary run.
var buildOnce struct {
	sync.Once
	path string
	err  error
	out  []byte
}

func buildCentral(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "central-bin-")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "central")
		cmd := exec.Command("go", "build", "-o", buildOnce.path, ".")
		buildOnce.out, buildOnce.err = cmd.CombinedOutput()
	})
	if buildOnce.err != nil {
		t.Fatalf("go build central: %v\n%s", buildOnce.err, buildOnce.out)
	}
	return buildOnce.path
}

// replica is one central process of a replicaSet, on a fixed address so it
// can be killed and started again behind the same proxy entry.
type replica struct {
	set  *replicaSet
	i    int
	addr string
	data string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	log  *lockedBuffer
}

// replicaSet is N real central processes on one database behind a
// round-robin HTTP proxy (a load balancer that moves on to the next
// replica when one refuses connections).
type replicaSet struct {
	t        testing.TB
	bin      string
	dsn      string
	token    string
	pepper   string
	extra    []string
	replicas []*replica
	proxy    *http.Server
	proxyURL string
	next     atomic.Uint64
	served   []atomic.Int64 // requests per replica through the proxy
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 {
		l.b.Reset()
	}
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startReplicaSet starts n replicas of the central binary at once (their
// migrations and demo seeding race) with -demo, and the proxy.
func startReplicaSet(t testing.TB, dsn string, n int, extra ...string) *replicaSet {
	t.Helper()
	pep, err := staffpin.NewPepper()
	if err != nil {
		t.Fatal(err)
	}
	pepFile := filepath.Join(t.TempDir(), "pin-pepper")
	if err := os.WriteFile(pepFile, []byte(pep.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &replicaSet{t: t, bin: buildCentral(t), dsn: dsn, token: "replica-admin", pepper: pepFile, extra: extra, served: make([]atomic.Int64, n)}
	for i := range n {
		s.replicas = append(s.replicas, &replica{set: s, i: i, addr: freeAddr(t), data: t.TempDir(), log: &lockedBuffer{}})
	}
	t.Cleanup(func() {
		for _, r := range s.replicas {
			r.kill()
		}
	})
	var wg sync.WaitGroup
	for _, r := range s.replicas {
		wg.Add(1)
		go func() { defer wg.Done(); r.start() }()
	}
	wg.Wait()
	for _, r := range s.replicas {
		if err := r.waitHealthy(30 * time.Second); err != nil {
			t.Fatalf("replica %d: %v\n%s", r.i, err, r.log.String())
		}
	}
	s.startProxy()
	return s
}

func (r *replica) URL() string { return "http://" + r.addr }

func (r *replica) start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	args := []string{"-db", r.set.dsn, "-demo", "-admin-token", r.set.token, "-listen", r.addr, "-data", r.data,
		"-pin-pepper-file", r.set.pepper, "-jobs-tick", "1s", "-log-level", "warn"}
	cmd := exec.Command(r.set.bin, append(args, r.set.extra...)...)
	cmd.Stdout, cmd.Stderr = r.log, r.log
	if err := cmd.Start(); err != nil {
		r.set.t.Errorf("start replica %d: %v", r.i, err)
		return
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	r.cmd, r.done = cmd, done
}

// kill ends the replica with SIGKILL (no shutdown: open transactions,
// long-polls and connections just break).
func (r *replica) kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.done
	r.cmd = nil
}

func (r *replica) pid() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return 0
	}
	return r.cmd.Process.Pid
}

func (r *replica) waitHealthy(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(r.URL() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not healthy after %v: %v", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startProxy serves a round-robin HTTP proxy over the replicas: each
// request goes to the next replica; one that refuses the connection (it
// is down) is skipped, as a load balancer's health check would.
func (s *replicaSet) startProxy() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.t.Fatal(err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 256, DialContext: (&net.Dialer{Timeout: time.Second}).DialContext}
	s.proxy = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		start := s.next.Add(1)
		for k := range len(s.replicas) {
			i := int(start+uint64(k)) % len(s.replicas)
			out, _ := http.NewRequestWithContext(r.Context(), r.Method, s.replicas[i].URL()+r.URL.RequestURI(), bytes.NewReader(body))
			out.Header = r.Header.Clone()
			resp, err := tr.RoundTrip(out)
			var op *net.OpError
			if err != nil && errors.As(err, &op) && op.Op == "dial" {
				continue // down: the next one
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			s.served[i].Add(1)
			for k, v := range resp.Header {
				w.Header()[k] = v
			}
			w.WriteHeader(resp.StatusCode)
			io.Copy(w, resp.Body)
			resp.Body.Close()
			return
		}
		http.Error(w, "no replica up", http.StatusBadGateway)
	})}
	go s.proxy.Serve(ln)
	s.proxyURL = "http://" + ln.Addr().String()
	s.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s.proxy.Shutdown(ctx)
		s.proxy.Close()
		tr.CloseIdleConnections()
	})
}

// logs returns every replica's log (for failure messages).
func (s *replicaSet) logs() string {
	var b strings.Builder
	for _, r := range s.replicas {
		fmt.Fprintf(&b, "--- replica %d ---\n%s\n", r.i, r.log.String())
	}
	return b.String()
}

// TestMain removes the binary buildCentral built.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildOnce.path != "" {
		os.RemoveAll(filepath.Dir(buildOnce.path))
	}
	os.Exit(code)
}
