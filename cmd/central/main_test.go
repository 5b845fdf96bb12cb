package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/central/webhook"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"unknown flag", []string{"-nope"}},
		{"extra argument", []string{"serve"}},
		{"cert without key", []string{"-tls-cert", "c.pem"}},
		{"demo without admin token", []string{"-demo", "-admin-token", ""}},
		{"bad log level", []string{"-log-level", "loud"}},
		{"parent token without demo", []string{"-parent-token", "x"}},
		{"smtp without from", []string{"-smtp-addr", "mail:587"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr syncBuffer
			err := run(context.Background(), tt.args, &stderr)
			if !errors.As(err, new(usageError)) {
				t.Errorf("run(%q) = %v, want a usage error", tt.args, err)
			}
		})
	}
}

func TestDemoServesAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan error, 1)
	data := t.TempDir()
	go func() {
		done <- run(ctx, []string{"-demo", "-admin-token", "tok", "-listen", "127.0.0.1:0", "-data", data}, &stderr)
	}()
	re := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+)`)
	var url string
	deadline := time.Now().Add(10 * time.Second)
	for url == "" {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			url = m[1]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("central did not start: %s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	get := func(path, token string) int {
		req, _ := http.NewRequest(http.MethodGet, url+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := get("/healthz", ""); c != 200 {
		t.Errorf("healthz %d", c)
	}
	if c := get("/api/v1/admin/locations/loc-regenboog/roster", "tok"); c != 200 {
		t.Errorf("demo roster with the admin token: %d", c)
	}
	if c := get("/api/v1/admin/devices", "wrong"); c != 401 {
		t.Errorf("wrong token: %d", c)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after cancel: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no shutdown")
	}
	if _, err := os.Stat(filepath.Join(data, "central.db")); err != nil {
		t.Errorf("the default database is not in -data: %v", err)
	}
}

// TestBehindTLSProxy is the regression test for issue 16 item 5: behind a
// TLS-terminating proxy, cookies lost Secure and answers lost HSTS.
func TestBehindTLSProxy(t *testing.T) {
	var stderr syncBuffer
	if err := run(context.Background(), []string{"-trusted-proxies", "10.0.0.0/33"}, &stderr); !errors.As(err, new(usageError)) {
		t.Errorf("bad -trusted-proxies: %v, want a usage error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-demo", "-admin-token", "tok", "-listen", "127.0.0.1:0", "-data", t.TempDir(),
			"-behind-tls-proxy", "-trusted-proxies", "127.0.0.1/32"}, &stderr)
	}()
	defer func() {
		cancel()
		<-done
	}()
	re := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+)`)
	deadline := time.Now().Add(10 * time.Second)
	var url string
	for url == "" {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			url = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("central did not start: %s", stderr.String())
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	resp, err := http.Get(url + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS behind the TLS proxy")
	}
	cookies := resp.Cookies()
	if len(cookies) == 0 {
		t.Fatal("the login page set no cookie")
	}
	for _, c := range cookies {
		if !c.Secure {
			t.Errorf("cookie %s without Secure behind the TLS proxy", c.Name)
		}
	}
}

// TestContract10ParentToken is DESIGN.md contract 10 end to end on the
// binary's flags: -demo -parent-token TOKEN acts as Fatima B.
func TestContract10ParentToken(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-demo", "-admin-token", "adm", "-parent-token", "ptok", "-listen", "127.0.0.1:0", "-data", t.TempDir()}, &stderr)
	}()
	re := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+)`)
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == ""; time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			url = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("central did not start: %s", stderr.String())
		}
	}
	call := func(method, path, token, body string) (int, string) {
		req, _ := http.NewRequest(method, url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	today := roster.DemoToday(time.Now()).String() // the location's date, not this machine's
	code, body := call("POST", "/api/v1/parent/pickups", "ptok", `{"children":["c-daan"],"person_name":"Henk K.","date":"`+today+`","from":"16:00","until":"18:30"}`)
	var ann struct {
		ID string `json:"id"`
	}
	json.Unmarshal([]byte(body), &ann)
	if code != 201 || ann.ID == "" {
		t.Fatalf("announce: %d %s", code, body)
	}
	if _, roster := call("GET", "/api/v1/admin/locations/loc-regenboog/roster", "adm", ""); !strings.Contains(roster, ann.ID) {
		t.Errorf("the announcement is not in the roster: %.300s", roster)
	}
	if code, body := call("POST", "/api/v1/parent/pickups", "ptok", `{"children":["c-julia"],"person_name":"Henk K.","date":"`+today+`"}`); code != 403 && code != 404 {
		t.Errorf("another family's child: %d %s", code, body)
	}
	if code, _ := call("POST", "/api/v1/parent/pickups", "adm", `{"children":["c-daan"],"person_name":"Henk K.","date":"`+today+`"}`); code != 401 {
		t.Errorf("the admin token on the parent API: %d, want 401", code)
	}
	if code, _ := call("GET", "/api/v1/admin/devices", "ptok", ""); code != 401 {
		t.Errorf("the parent token on the admin API: %d, want 401", code)
	}
	if code, body := call("DELETE", "/api/v1/parent/pickups/"+ann.ID, "ptok", ""); code != 200 {
		t.Errorf("withdraw: %d %s", code, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}

// TestWebhooksAndOpenAPIThroughMain: central's own worker delivers a
// signed test event to an endpoint on this host (-webhooks-allow-private),
// and /api/openapi.json is served through the whole handler.
func TestWebhooksAndOpenAPIThroughMain(t *testing.T) {
	got := make(chan string, 4)
	var secret atomic.Value
	secret.Store("")
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify([]byte(secret.Load().(string)), r.Header.Get(webhook.HeaderSignature), body, time.Now(), 0); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		got <- r.Header.Get(webhook.HeaderEvent)
	}))
	defer recv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-demo", "-admin-token", "tok", "-listen", "127.0.0.1:0", "-data", t.TempDir(), "-webhooks-allow-private"}, &stderr)
	}()
	re := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+)`)
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == ""; time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			url = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("central did not start: %s", stderr.String())
		}
	}
	call := func(method, path, body string) (int, []byte) {
		req, _ := http.NewRequest(method, url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if code, body := call(http.MethodGet, "/api/openapi.json", ""); code != 200 || !strings.Contains(string(body), `"openapi": "3.1.0"`) {
		t.Errorf("openapi.json: %d %.100s", code, body)
	}
	code, body := call(http.MethodPost, "/api/v1/admin/webhooks", `{"url":"`+recv.URL+`","events":["attendance.check_in"]}`)
	var ep struct{ ID, Secret string }
	if err := json.Unmarshal(body, &ep); code != http.StatusCreated || err != nil {
		t.Fatalf("create: %d %s", code, body)
	}
	secret.Store(ep.Secret)
	if code, body := call(http.MethodPost, "/api/v1/admin/webhooks/"+ep.ID+"/test", ""); code != http.StatusAccepted {
		t.Fatalf("test: %d %s", code, body)
	}
	select {
	case typ := <-got:
		if typ != "ping" {
			t.Errorf("event %q, want ping", typ)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no delivery: %s", stderr.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}
