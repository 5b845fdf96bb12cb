package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/attendance/store"
)

// bigRoster is a location with n children in groups of 12, one guardian
// card per child, and a staff member per group.
func bigRoster(n int, key attendance.BadgeKey, today attendance.Date) (roster.Roster, [][]byte) {
	r := roster.Roster{Version: 1, Location: roster.Location{ID: "loc", Name: "Groot", TimeZone: "Europe/Amsterdam", Country: "NL"}}
	var uids [][]byte
	for g := 0; g*12 < n; g++ {
		gid := fmt.Sprintf("g-%d", g)
		r.Groups = append(r.Groups, roster.Group{ID: gid, Name: "Groep " + strconv.Itoa(g), Policy: "nl-kdv"})
		r.Staff = append(r.Staff, roster.Staff{ID: "s-" + gid, Name: "Staff " + gid, Groups: []string{gid}})
	}
	for i := range n {
		cid, pid := fmt.Sprintf("c-%d", i), fmt.Sprintf("p-%d", i)
		r.Children = append(r.Children, roster.Child{ID: cid, FirstName: "Kind" + strconv.Itoa(i), GroupID: fmt.Sprintf("g-%d", i/12),
			BirthDate: attendance.DateOf(today.In(time.UTC).AddDate(-(i%4)-1, 0, 0))})
		r.People = append(r.People, roster.Person{ID: pid, Name: "Ouder " + strconv.Itoa(i)})
		r.Guardianships = append(r.Guardianships, roster.Guardianship{ChildID: cid, PersonID: pid})
		uid := []byte{0x04, 0x10, byte(i >> 8), byte(i), 0x20, 0x30, 0x40}
		uids = append(uids, uid)
		r.Badges = append(r.Badges, roster.Badge{Hash: key.Hash(uid), Role: attendance.RoleGuardian, HolderID: pid})
	}
	return r, uids
}

func rssKiB(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			return strconv.Atoi(f[1])
		}
	}
	return 0, fmt.Errorf("no VmRSS")
}

// TestDaemonFootprint is a benchmark run as a test because it drives a real
// kioskd process: KIOSK_BENCH=1 go test -run Footprint -v ./cmd/kioskd.
// It reports start-up time to a healthy /healthz and resident memory with a
// 1,000-child roster after 10,000 taps.
func TestDaemonFootprint(t *testing.T) {
	if os.Getenv("KIOSK_BENCH") == "" {
		t.Skip("benchmark: set KIOSK_BENCH=1 (scripts/bench does)")
	}
	taps := 10000
	if v, err := strconv.Atoi(os.Getenv("KIOSK_BENCH_TAPS")); err == nil {
		taps = v
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "kioskd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	st, err := store.Open(filepath.Join(data, "kiosk.db"))
	if err != nil {
		t.Fatal(err)
	}
	key, _ := attendance.NewBadgeKey()
	r, uids := bigRoster(1000, key, attendance.DateOf(time.Now()))
	if err := st.ApplyRoster(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	st.SetMeta(context.Background(), "badge_key", key.String())
	st.Close()
	addr := freeAddr(t)
	cfg := fmt.Sprintf(`{"listen":%q,"data_dir":%q,"log_level":"warn","readers":[{"name":"door","kind":"sim","role":"both","poll_interval":"1ms","debounce":"0s"}]}`, addr, data)
	os.WriteFile(filepath.Join(dir, "kioskd.json"), []byte(cfg), 0o600)
	cmd := exec.Command(bin, "-allow-sim-readers", "-config", filepath.Join(dir, "kioskd.json"))
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Since(start) > 20*time.Second {
			t.Fatal("kioskd did not become healthy")
		}
		time.Sleep(5 * time.Millisecond)
	}
	startup := time.Since(start)
	rss0, _ := rssKiB(cmd.Process.Pid)
	tapStart := time.Now()
	for i := range taps {
		body := fmt.Sprintf(`{"reader":"door","uid":%q}`, hex.EncodeToString(uids[i%len(uids)]))
		resp, err := http.Post("http://"+addr+"/api/v1/sim/tap", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		json.NewDecoder(resp.Body).Decode(&v)
		resp.Body.Close()
		if v["committed"] != true {
			t.Fatalf("tap %d: %v", i, v)
		}
	}
	elapsed := time.Since(tapStart)
	rss1, err := rssKiB(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("start-up to healthy: %v", startup.Round(time.Millisecond))
	t.Logf("RSS after start: %.1f MiB; after %d taps with a 1,000-child roster: %.1f MiB", float64(rss0)/1024, taps, float64(rss1)/1024)
	t.Logf("simulated taps through the HTTP API: %.0f taps/s", float64(taps)/elapsed.Seconds())
}
