package outbox_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/centraltest"
	"github.com/kinderdeur/kiosk/sync/outbox"
)

// centralEnv makes the test binary a central server (for the catch-up
// benchmark, so the kiosk's and central's memory are measured apart).
const centralEnv = "KIOSK_OUTBOX_CENTRAL_CHILD"

func centralChild(dsn string) {
	db, err := central.Open(context.Background(), dsn, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	if err := db.Demo.SeedDemo(context.Background(), attendance.DateOf(time.Now())); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	fmt.Println("http://" + ln.Addr().String())
	// Serve until the parent closes stdin.
	go http.Serve(ln, central.NewServer(central.Config{DB: db}).Handler())
	bufio.NewReader(os.Stdin).ReadString('\n')
	db.Close()
}

// peakRSS reads a process's peak resident set size (VmHWM) in bytes.
func peakRSS(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// heapPeak samples the Go heap every few milliseconds until stopped.
type heapPeak struct {
	peak atomic.Uint64
	stop chan struct{}
	wg   sync.WaitGroup
}

func startHeapPeak() *heapPeak {
	h := &heapPeak{stop: make(chan struct{})}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > h.peak.Load() {
				h.peak.Store(ms.HeapInuse)
			}
			select {
			case <-h.stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return h
}

func (h *heapPeak) Stop() uint64 {
	close(h.stop)
	h.wg.Wait()
	return h.peak.Load()
}

// BenchmarkCatchUp50k measures how long a kiosk that was offline takes to
// hand 50,000 queued events to central (batches of 500 over loopback HTTP,
// signed, each acknowledged in the kiosk's store). Central runs in a child
// process: the kiosk side's peak Go heap and central's peak RSS are
// reported apart.
func BenchmarkCatchUp50k(b *testing.B) {
	const queued = 50000
	for _, be := range centraltest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			var total time.Duration
			var kioskPeak, centralPeak uint64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
				cmd.Env = append(os.Environ(), centralEnv+"="+be.DSN(b))
				stdin, _ := cmd.StdinPipe()
				out, _ := cmd.StdoutPipe()
				cmd.Stderr = os.Stderr
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				sc := bufio.NewScanner(out)
				if !sc.Scan() {
					cmd.Process.Kill()
					b.Fatal("central child did not start")
				}
				url := sc.Text()
				st := openStore(b, filepath.Join(b.TempDir(), "kiosk.db"))
				cfg := fastConfig(st, url)
				cfg.RequestTimeout = 30 * time.Second
				c, err := outbox.New(cfg)
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				if _, err := c.PushOnce(ctx); err != nil { // enrol while online
					b.Fatal(err)
				}
				evs := make([]attendance.Event, 500)
				for n := 0; n < queued; n += len(evs) {
					for k := range evs {
						evs[k] = attendance.Event{Type: attendance.ChildCheckIn, ChildID: fmt.Sprint("c-", (n+k)%40), GroupID: "g-rupsen",
							LocationID: "loc-regenboog", ActorRole: attendance.RoleGuardian, ActorID: "p-sanne", Reader: "entrance",
							Wall: time.Now(), MonoNS: int64(n + k), BootID: "bench", ClockSynced: true, PolicyVersion: "nl-kdv/2019"}
					}
					if _, err := st.Append(ctx, evs...); err != nil {
						b.Fatal(err)
					}
				}
				runtime.GC()
				hp := startHeapPeak()
				b.StartTimer()
				start := time.Now()
				for failures := 0; ; {
					full, err := c.PushOnce(ctx)
					if err != nil {
						// Retried like Run does; a loaded box may time out once.
						if failures++; failures > 5 {
							b.Fatal(err)
						}
						b.Logf("retrying after: %v", err)
						continue
					}
					if !full {
						break
					}
				}
				total += time.Since(start)
				b.StopTimer()
				kioskPeak = max(kioskPeak, hp.Stop())
				centralPeak = max(centralPeak, peakRSS(cmd.Process.Pid))
				stdin.Close()
				cmd.Wait()
				if s := c.Status(); s.Pending != 0 || s.AckedThrough != queued {
					b.Fatalf("after catch-up: %+v", s)
				}
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "s/catch-up")
			b.ReportMetric(float64(queued*b.N)/total.Seconds(), "events/s")
			b.ReportMetric(float64(kioskPeak)/(1<<20), "kiosk-peak-heap-MiB")
			b.ReportMetric(float64(centralPeak)/(1<<20), "central-peak-RSS-MiB")
		})
	}
}
