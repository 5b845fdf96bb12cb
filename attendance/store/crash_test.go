package store

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
)

// The crash test re-executes the test binary as a child that appends events
// as fast as it can and prints the id of each one after Append returns. The
// parent kills it with SIGKILL at a random moment; every printed id must be
// in the database afterwards, and the database must pass integrity_check.

const crashEnv = "KIOSK_STORE_CRASH_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashEnv); path != "" {
		crashChild(path)
		return
	}
	os.Exit(m.Run())
}

func crashChild(path string) {
	s, err := Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(w, "ready")
	w.Flush()
	for i := 0; ; i++ {
		e := attendance.Event{Type: attendance.ChildCheckIn, ChildID: fmt.Sprint("c-", i), Wall: time.Now(), BootID: "crash"}
		evs, err := s.Append(context.Background(), e)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(4)
		}
		fmt.Fprintln(w, "committed", evs[0].ID)
		w.Flush()
	}
}

func TestCrashKill9(t *testing.T) {
	rounds := 50
	if testing.Short() {
		rounds = 5
	}
	path := filepath.Join(t.TempDir(), "kiosk.db")
	acked := map[string]bool{}
	for round := 0; round < rounds; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashEnv+"="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		if !sc.Scan() || sc.Text() != "ready" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("round %d: child did not start: %s", round, stderr.String())
		}
		kill := time.AfterFunc(time.Duration(5+rand.IntN(60))*time.Millisecond, func() {
			cmd.Process.Signal(syscall.SIGKILL)
		})
		for sc.Scan() {
			if id, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
				acked[id] = true
			}
		}
		kill.Stop()
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if strings.TrimSpace(stderr.String()) != "" {
			t.Fatalf("round %d: child failed: %s", round, stderr.String())
		}
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	var last int64
	if err := s.Events(ctx, 0, func(e attendance.Event) error {
		if e.Seq != last+1 {
			return fmt.Errorf("seq gap: %d after %d", e.Seq, last)
		}
		last = e.Seq
		stored[e.ID] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for id := range acked {
		if !stored[id] {
			t.Errorf("acknowledged event %s lost", id)
		}
	}
	if len(acked) == 0 {
		t.Fatal("no event was acknowledged in any round: the test proved nothing")
	}
	t.Logf("%d rounds: %d events acknowledged, %d stored", rounds, len(acked), len(stored))
}
