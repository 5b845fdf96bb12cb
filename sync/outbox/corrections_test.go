package outbox_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/store"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/centraltest"
	"github.com/kinderdeur/kiosk/sync/outbox"
)

// The corrections kill -9 test: a child process runs the real store and
// outbox, records staff corrections as fast as it can (kiosk -> central,
// printing each id once committed) and follows central's corrections
// (central -> kiosk, printing each id handed to the door). Meanwhile the
// parent makes manager corrections at central, and kills the child with
// SIGKILL at random moments. Afterwards every committed kiosk correction is
// at central exactly once, every central correction is at the kiosk exactly
// once (and none of the kiosk's own), and none was handed to the door twice.

const corrCrashEnv = "KIOSK_OUTBOX_CORRECTIONS_CHILD"

func staffCorrection(i int) attendance.Event {
	day := time.Now().Add(-48 * time.Hour).Truncate(time.Hour)
	return attendance.Event{Type: attendance.CorrectionEvent, ChildID: "c-noah", GroupID: "g-rupsen", LocationID: "loc-regenboog",
		ActorRole: attendance.RoleStaff, ActorID: "s-lotte", Manual: true, Wall: time.Now(), BootID: "crash", ClockSynced: true,
		Correction: &attendance.Correction{Kind: attendance.AddStay, CheckIn: day.Add(time.Duration(i) * time.Minute).UTC(),
			CheckOut: day.Add(time.Duration(i+1) * time.Minute).UTC(), Reason: fmt.Sprint("test ", i), By: "staff:s-lotte"}}
}

func correctionsChild(v string) {
	path, url, _ := strings.Cut(v, "|")
	st, err := store.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	w := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	say := func(a ...any) {
		mu.Lock()
		fmt.Fprintln(w, a...)
		w.Flush()
		mu.Unlock()
	}
	cfg := fastConfig(st, url)
	cfg.CorrectionInterval = 25 * time.Millisecond
	cfg.OnCorrections = func(evs []attendance.Event) {
		for _, e := range evs {
			say("applied", e.ID)
		}
	}
	c, err := outbox.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	go c.Run(context.Background())
	say("ready")
	for i := 0; ; i++ {
		evs, err := st.Append(context.Background(), staffCorrection(i))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(4)
		}
		say("committed", evs[0].ID)
		c.Notify()
		time.Sleep(time.Duration(1+rand.IntN(8)) * time.Millisecond)
	}
}

func TestCorrectionsBothWaysKill9(t *testing.T) {
	for _, b := range centraltest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			rounds := 16
			if testing.Short() {
				rounds = 4
			}
			srv := startCentral(t, b.DSN(t))
			path := filepath.Join(t.TempDir(), "kiosk.db")
			committed, applied, made := map[string]bool{}, map[string]int{}, map[string]bool{}
			ctx := context.Background()
			makeOne := func(i int) {
				day := time.Now().Add(-72 * time.Hour).Truncate(time.Hour)
				sc, err := srv.db.Corrections.Make(ctx, central.CorrectionRequest{LocationID: "loc-regenboog", ChildID: "c-julia",
					Correction: attendance.Correction{Kind: attendance.AddStay, CheckIn: day.Add(time.Duration(i) * time.Minute),
						CheckOut: day.Add(time.Duration(i+1) * time.Minute), Reason: "vergeten", By: "user:manager"}})
				if err != nil {
					t.Error(err)
					return
				}
				made[sc.Event.ID] = true
			}
			n := 0
			for round := 0; round < rounds; round++ {
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), corrCrashEnv+"="+path+"|"+srv.URL())
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
				stopMaking := make(chan struct{})
				var making sync.WaitGroup
				making.Add(1)
				go func() { // manager corrections while the kiosk runs
					defer making.Done()
					for {
						select {
						case <-stopMaking:
							return
						case <-time.After(time.Duration(5+rand.IntN(20)) * time.Millisecond):
							makeOne(n)
							n++
						}
					}
				}()
				kill := time.AfterFunc(time.Duration(50+rand.IntN(250))*time.Millisecond, func() { cmd.Process.Signal(syscall.SIGKILL) })
				for sc.Scan() {
					line := sc.Text()
					if id, ok := strings.CutPrefix(line, "committed "); ok {
						committed[id] = true
					} else if id, ok := strings.CutPrefix(line, "applied "); ok {
						applied[id]++
					}
				}
				kill.Stop()
				close(stopMaking)
				making.Wait()
				err = cmd.Wait()
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
					t.Fatalf("round %d: child ended with %v, not SIGKILL: %s", round, err, stderr.String())
				}
			}
			// A last start drains both ways.
			st := openStore(t, path)
			cfg := fastConfig(st, srv.URL())
			cfg.OnCorrections = func(evs []attendance.Event) {
				for _, e := range evs {
					applied[e.ID]++
				}
			}
			c, err := outbox.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second) // let the device rate limit refill
			for {
				full, err := c.PushOnce(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if !full {
					break
				}
			}
			if err := c.PullCorrections(ctx); err != nil {
				t.Fatal(err)
			}
			// The kiosk's own log: what it committed (some commits were
			// killed before the parent heard of them).
			local := map[string]bool{}
			st.Events(ctx, 0, func(e attendance.Event) error { local[e.ID] = true; return nil })
			for id := range committed {
				if !local[id] {
					t.Errorf("committed correction %s missing from the kiosk's log", id)
				}
			}
			// Kiosk -> central: every committed correction once.
			list, err := srv.db.Corrections.List(ctx, "loc-regenboog", time.Time{}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			atCentral := map[string]int{}
			for i, sc := range list {
				if sc.Cursor != int64(i+1) {
					t.Fatalf("central cursor %d at position %d: a hole", sc.Cursor, i)
				}
				atCentral[sc.Event.ID]++
			}
			for id := range local {
				if atCentral[id] != 1 {
					t.Errorf("kiosk correction %s at central %d times", id, atCentral[id])
				}
			}
			if len(atCentral) != len(local)+len(made) {
				t.Errorf("central holds %d corrections, want %d from the kiosk + %d made there", len(atCentral), len(local), len(made))
			}
			// Central -> kiosk: every manager correction stored once, none of the kiosk's own.
			remote, err := st.RemoteCorrections(ctx, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			here := map[string]bool{}
			for _, e := range remote {
				if here[e.ID] {
					t.Errorf("correction %s stored twice at the kiosk", e.ID)
				}
				here[e.ID] = true
				if local[e.ID] {
					t.Errorf("the kiosk's own correction %s came back as a remote one", e.ID)
				}
			}
			for id := range made {
				if !here[id] {
					t.Errorf("central correction %s never reached the kiosk", id)
				}
			}
			for id, k := range applied {
				if k != 1 || !made[id] {
					t.Errorf("correction %s handed to the door %d times (made at central: %v)", id, k, made[id])
				}
			}
			if cur, _ := st.CorrectionsCursor(ctx); cur != int64(len(list)) {
				t.Errorf("kiosk cursor %d, want %d", cur, len(list))
			}
			t.Logf("%d rounds: %d kiosk corrections, %d central ones, %d handed to the door before the drain", rounds, len(committed), len(made), len(applied))
		})
	}
}
