package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/centraltest"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// TestFleet is the fleet benchmark (issue 16), not run in CI: 1,000
// simulated kiosks in this process, each speaking the real protocol
// (Ed25519-signed requests, batches of the kiosk's byte form, retries with
// the same bytes), do a chain's morning peak against 1 and 3 replicas of
// the real central binary on PostgreSQL behind a round-robin proxy: 60,000
// taps over 45 minutes, time-scaled, each pushed at once as the kiosk
// does, plus each kiosk's roster pull every minute (If-None-Match) and a
// roster long-poll held all the time. Run it with scripts/bench-fleet.
//
//	KIOSK_FLEET=1 KIOSK_TEST_PG=... go test -run TestFleet -v -timeout 30m ./cmd/central
//
// KIOSK_FLEET_KIOSKS, _TAPS, _SCALE (how many times faster than real
// time), _REPLICAS (e.g. "1,3") and _LOCATIONS change the load.
func TestFleet(t *testing.T) {
	if os.Getenv("KIOSK_FLEET") == "" {
		t.Skip("the fleet benchmark runs by command: scripts/bench-fleet")
	}
	env := func(k string, def int) int {
		if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
			return v
		}
		return def
	}
	cfg := fleetConfig{
		Kiosks: env("KIOSK_FLEET_KIOSKS", 1000), Taps: env("KIOSK_FLEET_TAPS", 60000),
		Scale: env("KIOSK_FLEET_SCALE", 30), Locations: env("KIOSK_FLEET_LOCATIONS", 500),
	}
	reps := []int{1, 3}
	if v := os.Getenv("KIOSK_FLEET_REPLICAS"); v != "" {
		reps = nil
		for _, s := range strings.Split(v, ",") {
			n, _ := strconv.Atoi(s)
			reps = append(reps, n)
		}
	}
	var results []fleetResult
	for _, n := range reps {
		t.Run(fmt.Sprintf("replicas=%d", n), func(t *testing.T) {
			results = append(results, runFleet(t, n, cfg))
		})
	}
	t.Logf("\n%s", fleetTable(cfg, results))
}

type fleetConfig struct{ Kiosks, Taps, Scale, Locations int }

type fleetResult struct {
	Replicas              int
	Period                time.Duration
	Stored                int
	IngestP50, IngestP99  time.Duration
	IngestMax             time.Duration
	RosterP50, RosterP99  time.Duration
	Requests, Errors      int64
	EventsPerSec          float64
	PeakEventsPerSec      float64
	MaxPGConns            int
	CPUCores              []float64 // per replica: CPU seconds / period
	PeakRSSMiB            []float64 // includes start-up (the -demo users' argon2id hashes)
	RSSMiB                []float64 // at the end of the peak
	SimCPUCores           float64
	PGCPUCores            float64 // every postgres process on this machine
	HeldPolls, PollWakeup int64
}

type simKiosk struct {
	id, loc string
	key     ed25519.PrivateKey
	boot    string
	start   time.Time
	mu      sync.Mutex
	seq     int64
	pending [][]byte // events not acknowledged yet, in seq order
}

func runFleet(t *testing.T, replicas int, cfg fleetConfig) fleetResult {
	dsn := centraltest.PostgresDSN(t)
	set := startReplicaSet(t, dsn, replicas)
	db, err := central.Open(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	// The chain: Locations sites with the demo roster, kiosks spread over
	// them, enrolled straight in the database (set-up is not measured).
	demo, _ := roster.Demo(attendance.DateOf(time.Now()))
	locs := make([]string, cfg.Locations)
	for i := range locs {
		locs[i] = fmt.Sprintf("loc-%04d", i)
		if err := db.Sites.PutLocation(ctx, locs[i], "Locatie "+strconv.Itoa(i), roster.DemoBadgeKey); err != nil {
			t.Fatal(err)
		}
		r := demo
		r.Location.ID, r.Version = locs[i], 0
		if _, err := db.Sites.PutRoster(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	kiosks := make([]*simKiosk, cfg.Kiosks)
	for i := range kiosks {
		pub, key, _ := ed25519.GenerateKey(nil)
		k := &simKiosk{id: fmt.Sprintf("kiosk-fleet-%05d", i), loc: locs[i%len(locs)], key: key, boot: uuid.NewString(), start: time.Now()}
		tok, err := db.Devices.CreateEnrolmentToken(ctx, k.loc, time.Hour, "fleet")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Devices.Enrol(ctx, protocol.EnrolRequest{Token: tok, DeviceID: k.id, PublicKey: protocol.EncodePublicKey(pub), Name: "fleet"}); err != nil {
			t.Fatal(err)
		}
		kiosks[i] = k
	}
	period := 45 * time.Minute / time.Duration(cfg.Scale)
	rosterEvery := time.Minute / time.Duration(cfg.Scale)
	// Tap times: a morning peak (most arrivals in the middle of the
	// window: the sum of two uniforms), each tap at a random kiosk.
	taps := make([][]time.Duration, cfg.Kiosks)
	for range cfg.Taps {
		at := time.Duration((rand.Float64() + rand.Float64()) / 2 * float64(period))
		k := rand.IntN(cfg.Kiosks)
		taps[k] = append(taps[k], at)
	}
	for _, ts := range taps {
		slices.Sort(ts)
	}
	tr := &http.Transport{MaxIdleConns: 4 * cfg.Kiosks, MaxIdleConnsPerHost: 4 * cfg.Kiosks, IdleConnTimeout: time.Minute}
	client := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	defer tr.CloseIdleConnections()

	var (
		latMu              sync.Mutex
		ingestLat, rostLat []time.Duration
		requests, errs     atomic.Int64
		stored             atomic.Int64
		perSecond          sync.Map // second -> *atomic.Int64 (events acked)
		held, wakeups      atomic.Int64
		maxConns           atomic.Int64
		simCPU0            = procCPU(os.Getpid())
		pgCPU0             = postgresCPU()
		cpu0               = make([]float64, replicas)
	)
	runCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	for i, r := range set.replicas {
		cpu0[i] = procCPU(r.pid())
	}
	do := func(ctx context.Context, k *simKiosk, method, path string, body []byte, hdr http.Header) (int, []byte, time.Duration, error) {
		req, _ := http.NewRequestWithContext(ctx, method, set.proxyURL+path, bytes.NewReader(body))
		for h, v := range hdr {
			req.Header[h] = v
		}
		if err := protocol.Sign(req, k.id, k.key, body, time.Now()); err != nil {
			return 0, nil, 0, err
		}
		start := time.Now()
		resp, err := client.Do(req)
		requests.Add(1)
		if err != nil {
			if ctx.Err() == nil { // not the end of the run cutting a long-poll
				errs.Add(1)
			}
			return 0, nil, 0, err
		}
		out, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if resp.StatusCode >= 400 {
			errs.Add(1)
		}
		return resp.StatusCode, out, took, err
	}
	push := func(ctx context.Context, k *simKiosk) {
		k.mu.Lock()
		evs := append([][]byte(nil), k.pending...)
		k.mu.Unlock()
		if len(evs) == 0 {
			return
		}
		now := time.Now()
		head, _ := json.Marshal(struct {
			Protocol int                 `json:"protocol"`
			DeviceID string              `json:"device_id"`
			Clock    protocol.ClockProbe `json:"clock"`
		}{protocol.Version, k.id, protocol.ClockProbe{BootID: k.boot, MonoNS: int64(now.Sub(k.start)), Wall: now.UTC(), Synced: true}})
		body := append(head[:len(head)-1], `,"events":[`...)
		body = append(body, bytes.Join(evs, []byte(","))...)
		body = append(body, "]}"...)
		code, out, took, err := do(ctx, k, http.MethodPost, protocol.PathEvents, body, nil)
		if err != nil || code != http.StatusOK {
			return // retried with the next tap or the final flush, same bytes
		}
		var resp protocol.BatchResponse
		if json.Unmarshal(out, &resp) != nil {
			return
		}
		latMu.Lock()
		ingestLat = append(ingestLat, took)
		latMu.Unlock()
		k.mu.Lock()
		n := 0
		for len(k.pending) > 0 && k.seq-int64(len(k.pending))+1 <= resp.AckedThroughSeq {
			k.pending = k.pending[1:]
			n++
		}
		k.mu.Unlock()
		stored.Add(int64(n))
		sec := int64(time.Since(k.start) / time.Second)
		c, _ := perSecond.LoadOrStore(sec, new(atomic.Int64))
		c.(*atomic.Int64).Add(int64(n))
	}
	// PostgreSQL connections, sampled.
	go func() {
		for runCtx.Err() == nil {
			var n int64
			if db.SQL().QueryRowContext(runCtx, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()").Scan(&n) == nil && n > maxConns.Load() {
				maxConns.Store(n)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}()
	var wg sync.WaitGroup
	begin := time.Now()
	for i, k := range kiosks {
		k.start = begin
		wg.Add(3)
		go func() { // taps, each pushed at once
			defer wg.Done()
			for _, at := range taps[i] {
				time.Sleep(time.Until(begin.Add(at)))
				id, _ := uuid.NewV7()
				k.mu.Lock()
				k.seq++
				ev, _ := json.Marshal(attendance.Event{ID: id.String(), DeviceID: k.id, Seq: k.seq, Type: attendance.ChildCheckIn,
					LocationID: k.loc, GroupID: "g-vlinders", ChildID: "c-zoe", ActorRole: "guardian", ActorID: "p-youssef", Reader: "entrance",
					Wall: time.Now().UTC(), MonoNS: int64(time.Since(begin)), BootID: k.boot, ClockSynced: true, RosterVersion: 1})
				k.pending = append(k.pending, ev)
				k.mu.Unlock()
				push(ctx, k)
			}
		}()
		go func() { // roster pulls every (scaled) minute, If-None-Match
			defer wg.Done()
			time.Sleep(time.Duration(rand.Int64N(int64(rosterEvery))))
			for time.Since(begin) < period {
				code, _, took, err := do(ctx, k, http.MethodGet, protocol.PathRoster, nil, http.Header{"If-None-Match": {`"1"`}})
				if err == nil && (code == http.StatusNotModified || code == http.StatusOK) {
					latMu.Lock()
					rostLat = append(rostLat, took)
					latMu.Unlock()
				}
				time.Sleep(rosterEvery)
			}
		}()
		go func() { // the roster long-poll, held all the time
			defer wg.Done()
			for time.Since(begin) < period && runCtx.Err() == nil {
				held.Add(1)
				code, out, _, err := do(runCtx, k, http.MethodGet, protocol.PathRosterWait+"?version=1&wait=25", nil, nil)
				held.Add(-1)
				var ch protocol.RosterChange
				if err == nil && code == http.StatusOK && json.Unmarshal(out, &ch) == nil && ch.Changed {
					wakeups.Add(1)
				}
				if err != nil || code != http.StatusOK {
					time.Sleep(time.Second)
				}
			}
		}()
	}
	// The long-polls outlive the taps: end them with the period.
	go func() {
		time.Sleep(period + 2*time.Second)
		stopPolling()
	}()
	wg.Wait()
	elapsed := time.Since(begin)
	// final flush of anything a failure left behind
	for _, k := range kiosks {
		for range 5 {
			if k.mu.Lock(); len(k.pending) == 0 {
				k.mu.Unlock()
				break
			}
			k.mu.Unlock()
			push(ctx, k)
		}
	}
	res := fleetResult{Replicas: replicas, Period: elapsed, Stored: int(stored.Load()), Requests: requests.Load(), Errors: errs.Load(),
		MaxPGConns: int(maxConns.Load()), PollWakeup: wakeups.Load()}
	for i, r := range set.replicas {
		res.CPUCores = append(res.CPUCores, (procCPU(r.pid())-cpu0[i])/elapsed.Seconds())
		res.PeakRSSMiB = append(res.PeakRSSMiB, procMem(r.pid(), "VmHWM:"))
		res.RSSMiB = append(res.RSSMiB, procMem(r.pid(), "VmRSS:"))
	}
	res.SimCPUCores = (procCPU(os.Getpid()) - simCPU0) / elapsed.Seconds()
	res.PGCPUCores = (postgresCPU() - pgCPU0) / elapsed.Seconds()
	slices.Sort(ingestLat)
	slices.Sort(rostLat)
	pct := func(l []time.Duration, p int) time.Duration {
		if len(l) == 0 {
			return 0
		}
		return l[min(len(l)*p/100, len(l)-1)]
	}
	res.IngestP50, res.IngestP99, res.IngestMax = pct(ingestLat, 50), pct(ingestLat, 99), pct(ingestLat, 100)
	res.RosterP50, res.RosterP99 = pct(rostLat, 50), pct(rostLat, 99)
	res.EventsPerSec = float64(res.Stored) / elapsed.Seconds()
	perSecond.Range(func(_, v any) bool {
		res.PeakEventsPerSec = max(res.PeakEventsPerSec, float64(v.(*atomic.Int64).Load()))
		return true
	})
	var n int
	if err := db.SQL().QueryRow("SELECT count(*) FROM events WHERE device_id LIKE 'kiosk-fleet-%'").Scan(&n); err != nil || n != cfg.Taps {
		t.Errorf("central holds %d events (%v), want %d", n, err, cfg.Taps)
	}
	t.Logf("%+v", res)
	return res
}

// procCPU is a process's user+system CPU seconds, with those of its
// exited children (Linux /proc).
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	var sum float64
	for _, i := range []int{11, 12, 13, 14} { // utime stime cutime cstime: with exited children (PostgreSQL backends)
		v, _ := strconv.ParseFloat(f[i], 64)
		sum += v
	}
	return sum / 100 // USER_HZ
}

// postgresCPU sums the CPU seconds of every postgres process (the test
// server's backends, WAL writer, checkpointer) that is still running.
func postgresCPU() float64 {
	ents, _ := os.ReadDir("/proc")
	var sum float64
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil && strings.TrimSpace(string(comm)) == "postgres" {
			sum += procCPU(pid)
		}
	}
	return sum
}

// procMem is a memory line of /proc/PID/status (VmHWM:, VmRSS:) in MiB.
func procMem(pid int, key string) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, key) {
			kb, _ := strconv.ParseFloat(strings.Fields(l)[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func fleetTable(cfg fleetConfig, rs []fleetResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d kiosks at %d locations, %d taps over 45 min scaled %dx (%v), roster pull every %v per kiosk, a long-poll held per kiosk\n\n",
		cfg.Kiosks, cfg.Locations, cfg.Taps, cfg.Scale, 45*time.Minute/time.Duration(cfg.Scale), time.Minute/time.Duration(cfg.Scale))
	fmt.Fprintln(&b, "| replicas | events stored | events/s (mean / peak s) | ingest p50 / p99 / max | roster pull p50 / p99 | requests (errors) | max PG conns | central CPU (cores, per replica) | central RSS MiB at the end (peak) | PostgreSQL CPU | simulator CPU |")
	fmt.Fprintln(&b, "|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		var cpu, rss []string
		for i := range r.CPUCores {
			cpu = append(cpu, fmt.Sprintf("%.2f", r.CPUCores[i]))
			rss = append(rss, fmt.Sprintf("%.0f (%.0f)", r.RSSMiB[i], r.PeakRSSMiB[i]))
		}
		fmt.Fprintf(&b, "| %d | %d | %.0f / %.0f | %v / %v / %v | %v / %v | %d (%d) | %d | %s | %s | %.2f | %.2f |\n",
			r.Replicas, r.Stored, r.EventsPerSec, r.PeakEventsPerSec,
			r.IngestP50.Round(100*time.Microsecond), r.IngestP99.Round(100*time.Microsecond), r.IngestMax.Round(time.Millisecond),
			r.RosterP50.Round(100*time.Microsecond), r.RosterP99.Round(100*time.Microsecond),
			r.Requests, r.Errors, r.MaxPGConns, strings.Join(cpu, " + "), strings.Join(rss, " / "), r.PGCPUCores, r.SimCPUCores)
	}
	return b.String()
}
