package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestMetricsEndpoints: /metrics on -listen needs the metrics token (or an
// admin token); on -metrics-listen it is open; both parse as Prometheus
// text and carry the replica label.
func TestMetricsEndpoints(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-demo", "-admin-token", "adm", "-metrics-token", "mtok", "-replica-id", "r-test",
			"-listen", "127.0.0.1:0", "-metrics-listen", "127.0.0.1:0", "-data", t.TempDir()}, &stderr)
	}()
	api := regexp.MustCompile(`"central ready" url=(http://127\.0\.0\.1:\d+)`)
	met := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+)/metrics`)
	var apiURL, metURL string
	deadline := time.Now().Add(10 * time.Second)
	for apiURL == "" || metURL == "" {
		if m := api.FindStringSubmatch(stderr.String()); m != nil {
			apiURL = m[1]
		}
		if m := met.FindStringSubmatch(stderr.String()); m != nil {
			metURL = m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("central did not start: %s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	get := func(url, token string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, c := range []struct {
		url, token string
		want       int
	}{
		{apiURL + "/metrics", "", 401},
		{apiURL + "/metrics", "nope", 401},
		{apiURL + "/metrics", "mtok", 200},
		{apiURL + "/metrics", "adm", 200},
		{metURL + "/metrics", "", 200},
		{metURL + "/api/v1/admin/devices", "adm", 404}, // the metrics address serves nothing else
	} {
		code, body := get(c.url, c.token)
		if code != c.want {
			t.Errorf("%s (%q): %d, want %d", c.url, c.token, code, c.want)
			continue
		}
		if code == 200 {
			p := expfmt.NewTextParser(model.UTF8Validation)
			fams, err := p.TextToMetricFamilies(strings.NewReader(body))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			f := fams["central_devices"]
			if f == nil || fams["central_ingest_seconds"] == nil {
				t.Fatalf("central_devices or central_ingest_seconds missing")
			}
			if !strings.Contains(f.String(), `value:"r-test"`) {
				t.Errorf("no replica label: %v", f)
			}
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no shutdown")
	}
}
