package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/sync/central"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads a /metrics endpoint with Prometheus' own text parser.
func scrape(t *testing.T, url string, hdr http.Header) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return fams
}

// metricValue is the value of the family's series whose labels include
// want (a counter's or gauge's value, a histogram's count).
func metricValue(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// TestMetrics scrapes kioskd's /metrics before and after a tap: the tap's
// outcome, the decision, commit and detection histograms and the outbox
// move; the readers, clock and disk are there; a foreign Host is refused.
func TestMetrics(t *testing.T) {
	addr := freeAddr(t)
	stop, _ := startDemoArgs(t, addr)
	defer stop()
	url := "http://" + addr + "/metrics"
	before := scrape(t, url, nil)
	for _, name := range []string{"kioskd_reader_up", "kioskd_reader_degraded", "kioskd_clock_synced", "kioskd_data_disk_free_bytes",
		"kioskd_websocket_clients", "kioskd_outbox_pending_events", "kioskd_outbox_oldest_pending_age_seconds", "kioskd_build_info",
		"kioskd_tap_decision_seconds", "kioskd_store_commit_seconds", "kioskd_tap_detection_seconds", "go_goroutines"} {
		if before[name] == nil {
			t.Errorf("%s missing", name)
		}
	}
	if v, ok := metricValue(before, "kioskd_reader_up", map[string]string{"reader": "entrance", "kind": "sim"}); !ok || v != 1 {
		t.Errorf("reader_up{entrance} = %v, %v; want 1", v, ok)
	}
	if v, _ := metricValue(before, "kioskd_data_disk_free_bytes", nil); v <= 0 {
		t.Errorf("disk free = %v", v)
	}
	pending0, _ := metricValue(before, "kioskd_outbox_pending_events", nil)

	if m := tap(t, addr, "2B3C4D5E"); m["outcome"] != "check_in" {
		t.Fatalf("tap: %v", m)
	}
	tap(t, addr, "A1B2C3D4") // unknown card
	after := scrape(t, url, nil)
	checks := []struct {
		name   string
		labels map[string]string
		delta  float64
	}{
		{"kioskd_taps_total", map[string]string{"outcome": "check_in"}, 1},
		{"kioskd_taps_total", map[string]string{"outcome": "denied"}, 1},
		{"kioskd_tap_decision_seconds", nil, 2},
		{"kioskd_store_commit_seconds", nil, 1}, // the denied unknown card records nothing
		{"kioskd_tap_detection_seconds", map[string]string{"reader": "entrance"}, 2},
		{"kioskd_outbox_pending_events", nil, 1}, // no central: the check-in waits
	}
	for _, c := range checks {
		b, _ := metricValue(before, c.name, c.labels)
		a, ok := metricValue(after, c.name, c.labels)
		if !ok || a-b != c.delta {
			t.Errorf("%s%v: %v -> %v (found %v), want +%v", c.name, c.labels, b, a, ok, c.delta)
		}
	}
	if v, _ := metricValue(after, "kioskd_outbox_pending_events", nil); v != pending0+1 {
		t.Errorf("pending %v", v)
	}
	if v, _ := metricValue(after, "kioskd_outbox_oldest_pending_age_seconds", nil); v < 0 || v > 60 {
		t.Errorf("oldest pending age %v", v)
	}

	// The same Host allow-list as the page: a rebinding name is refused.
	req, _ := http.NewRequest("GET", url, nil)
	req.Host = "evil.example"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("foreign Host: %s, want 403", resp.Status)
	}
}

// TestHealthReachesCentral: a demo kiosk syncing with a real central sends
// its health with every batch; central keeps it for the fleet page.
func TestHealthReachesCentral(t *testing.T) {
	ctx := context.Background()
	db, err := central.Open(ctx, filepath.Join(t.TempDir(), "central.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tz, _ := time.LoadLocation("Europe/Amsterdam")
	if err := db.Demo.SeedDemo(ctx, attendance.DateOf(time.Now().In(tz))); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(central.NewServer(central.Config{DB: db, AdminTokens: []string{"t"}}).Handler())
	defer ts.Close()
	addr := freeAddr(t)
	stop, _ := startDemoArgs(t, addr, "-central", ts.URL)
	defer stop()
	tap(t, addr, "2B3C4D5E")
	deadline := time.Now().Add(20 * time.Second)
	for {
		doors, err := db.Fleet.Doors(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range doors {
			if h := d.Health; h != nil && h.Version == version && len(h.Readers) > 0 {
				if h.Readers[0].Name == "" || h.DiskFreeBytes <= 0 || !h.StorageOK {
					t.Errorf("report: %+v", h)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no health report at central: %+v", doors)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
