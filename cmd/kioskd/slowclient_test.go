package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// startWithTimeouts runs a demo kioskd whose HTTP server has the given
// timeouts and returns its address.
func startWithTimeouts(t *testing.T, to httpTimeouts) string {
	t.Helper()
	addr := freeAddr(t)
	f, err := parseFlags([]string{"-demo", "-listen", addr, "-data", t.TempDir()}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d, err := newDaemon(ctx, cfg, true, io.Discard)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	d.httpTimeouts = to
	errc := make(chan error, 1)
	go func() { errc <- d.run(ctx) }()
	t.Cleanup(func() { cancel(); <-errc })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("kioskd not healthy")
		}
	}
}

// closedWithin reads c until the server closes it; false if it is still
// open after d.
func closedWithin(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// drip writes s one byte at a time, every 100ms, until the connection
// fails or stop is closed.
func drip(c net.Conn, s string, stop <-chan struct{}) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-time.After(100 * time.Millisecond):
		}
		if _, err := c.Write([]byte{s[i%len(s)]}); err != nil {
			return
		}
	}
}

// TestSlowClientsAreCutOff plays an attacker on the LAN: connections that
// trickle headers or a body, or sit idle after a request, are closed by the
// server, so they cannot pile up until kioskd runs out of file descriptors.
// The screen's websocket, hijacked from the server, outlives every one of
// those timeouts: its deadlines are set per read and write by the hub.
func TestSlowClientsAreCutOff(t *testing.T) {
	to := httpTimeouts{ReadHeader: 300 * time.Millisecond, Read: 600 * time.Millisecond, Write: 600 * time.Millisecond, Idle: 600 * time.Millisecond}
	addr := startWithTimeouts(t, to)
	const patience = 4 * time.Second
	for _, tt := range []struct {
		name, start, trickle string
	}{
		{"slow headers", "GET /healthz HTTP/1.1\r\nHost: kiosk\r\n", "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"},
		{"slow body", "POST /api/v1/sim/tap HTTP/1.1\r\nHost: kiosk\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"reader\":\"entrance\",\"uid\":\"", "0"},
		{"idle keep-alive", "GET /healthz HTTP/1.1\r\nHost: kiosk\r\n\r\n", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			stop := make(chan struct{})
			defer close(stop)
			if _, err := io.WriteString(c, tt.start); err != nil {
				t.Fatal(err)
			}
			if tt.trickle != "" {
				go drip(c, tt.trickle, stop)
			}
			if !closedWithin(c, patience) {
				t.Errorf("the server kept the %s connection open for %v", tt.name, patience)
			}
		})
	}
	t.Run("websocket lives on", func(t *testing.T) {
		ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", http.Header{"Origin": {"http://" + addr}})
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		ws.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, _, err := ws.ReadMessage(); err != nil { // the snapshot
			t.Fatal(err)
		}
		time.Sleep(3 * to.Idle) // longer than any of the server's timeouts
		tap(t, addr, "2B3C4D5E")
		ws.SetReadDeadline(time.Now().Add(2 * time.Second))
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				t.Fatalf("the screen's websocket died after the HTTP timeouts: %v", err)
			}
			if strings.Contains(string(msg), "check_in") {
				break
			}
		}
	})
}

// TestHTTPServerHasEveryTimeout: the production server sets each one (a
// zero is "no limit" in net/http).
func TestHTTPServerHasEveryTimeout(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler(), defaultHTTPTimeouts, newLogger("info", io.Discard))
	for name, d := range map[string]time.Duration{"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout,
		"WriteTimeout": srv.WriteTimeout, "IdleTimeout": srv.IdleTimeout} {
		if d <= 0 {
			t.Errorf("%s = %v, want a limit", name, d)
		}
	}
}
