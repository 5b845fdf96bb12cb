package ui

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestServerClosesClientWithoutPongs: the read deadline is the
// websocket's ReadTimeout. A client that never answers the server's pings
// (and sends nothing) is closed within pongWait; one that answers stays.
func TestServerClosesClientWithoutPongs(t *testing.T) {
	hs := newHubServer(t, newFakeDoor(0), Config{}, func(s *Server) {
		s.hub.pongWait, s.hub.pingPeriod = 400*time.Millisecond, 100*time.Millisecond
	})
	mute := hs.dial(t)
	mute.SetPingHandler(func(string) error { return nil }) // reads pings, never answers
	alive := &screen{ws: hs.dial(t)}
	got := make(chan error, 1)
	go func() { got <- alive.until("d-1", 5*time.Second) }()
	start := time.Now()
	mute.SetReadDeadline(time.Now().Add(5 * time.Second))
	var err error
	for err == nil {
		_, _, err = mute.ReadMessage()
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("a client that never answers pings was closed after %v (%v), want about 400ms", took, err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("the server did not close the mute client: %v", err)
	}
	// The one answering pings (the default handler, while it reads) is
	// still connected well past pongWait, and gets the next update.
	time.Sleep(1200 * time.Millisecond)
	hs.door.publish()
	if err := <-got; err != nil {
		t.Fatalf("a client answering pings: %v", err)
	}
}

// hostile is one way a local client can misbehave.
type hostile func(t *testing.T, hs *hubServer)

func hostileWrite(typ int, b []byte) hostile {
	return func(t *testing.T, hs *hubServer) {
		c, _, err := websocket.DefaultDialer.Dial(hs.wsURL(), nil)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		c.WriteMessage(typ, b)
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		c.ReadMessage()
	}
}

// rawAfterHandshake writes bytes straight onto the connection after the
// handshake (broken frames, a frame cut off mid-way) and hangs up.
func rawAfterHandshake(b []byte) hostile {
	return func(t *testing.T, hs *hubServer) {
		c, _, err := websocket.DefaultDialer.Dial(hs.wsURL(), nil)
		if err != nil {
			t.Error(err)
			return
		}
		c.UnderlyingConn().Write(b)
		c.UnderlyingConn().Close()
	}
}

func deep(n int) []byte {
	return []byte(`{"v":1,"type":"select","session":"s","children":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`)
}

var hostiles = map[string]hostile{
	"binary":            hostileWrite(websocket.BinaryMessage, []byte{0, 1, 2, 0xff}),
	"binary intent":     hostileWrite(websocket.BinaryMessage, []byte(`{"v":1,"type":"lock"}`)),
	"oversized":         hostileWrite(websocket.TextMessage, bytes.Repeat([]byte("x"), 64<<10)),
	"bad JSON":          hostileWrite(websocket.TextMessage, []byte(`{"v":1,"type":`)),
	"not UTF-8":         hostileWrite(websocket.TextMessage, []byte("{\"v\":1,\"type\":\"pin\",\"pin\":\"\xff\xfe\"}")),
	"unknown type":      hostileWrite(websocket.TextMessage, []byte(`{"v":1,"type":"reboot"}`)),
	"huge number":       hostileWrite(websocket.TextMessage, []byte(`{"v":1e999,"type":"lock"}`)),
	"huge integer":      hostileWrite(websocket.TextMessage, []byte(`{"v":123456789012345678901234567890,"type":"lock"}`)),
	"wrong types":       hostileWrite(websocket.TextMessage, []byte(`{"v":"1","type":["lock"],"children":{"a":1}}`)),
	"deep nesting":      hostileWrite(websocket.TextMessage, deep(4000)),
	"deep object":       hostileWrite(websocket.TextMessage, []byte(strings.Repeat(`{"a":`, 1500)+"1"+strings.Repeat("}", 1500))),
	"empty":             hostileWrite(websocket.TextMessage, nil),
	"close frame":       hostileWrite(websocket.CloseMessage, websocket.FormatCloseMessage(4000, "bye")),
	"cut header":        rawAfterHandshake([]byte{0x81}),
	"cut mask":          rawAfterHandshake([]byte{0x81, 0x85, 1, 2}),
	"cut payload":       rawAfterHandshake([]byte{0x81, 0xfe, 0x10, 0x00, 1, 2, 3, 4, 'a', 'b'}),
	"unmasked frame":    rawAfterHandshake([]byte{0x81, 0x02, '{', '}'}),
	"reserved opcode":   rawAfterHandshake([]byte{0x83, 0x80, 1, 2, 3, 4}),
	"64-bit length":     rawAfterHandshake([]byte{0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4}),
	"fragmented ping":   rawAfterHandshake([]byte{0x09, 0x80, 1, 2, 3, 4}),
	"connect and leave": rawAfterHandshake(nil),
	"intent flood": func(t *testing.T, hs *hubServer) {
		c, _, err := websocket.DefaultDialer.Dial(hs.wsURL(), nil)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		for range 200 {
			if c.WriteMessage(websocket.TextMessage, []byte(`{"v":1,"type":"activity"}`)) != nil {
				return
			}
		}
	},
	"resync flood": func(t *testing.T, hs *hubServer) {
		c, _, err := websocket.DefaultDialer.Dial(hs.wsURL(), nil)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		for range 30 {
			c.WriteMessage(websocket.TextMessage, []byte(`{"v":1,"type":"resync"}`))
		}
	},
	"never reads": func(t *testing.T, hs *hubServer) {
		d := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
			c, err := net.Dial(network, addr)
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetReadBuffer(4096)
			}
			return c, err
		}}
		c, _, err := d.Dial(hs.wsURL(), nil)
		if err != nil {
			t.Error(err)
			return
		}
		time.Sleep(300 * time.Millisecond)
		c.Close()
	},
	"half-open handshake": func(t *testing.T, hs *hubServer) {
		c, err := net.Dial("tcp", hs.Listener.Addr().String())
		if err != nil {
			t.Error(err)
			return
		}
		fmt.Fprintf(c, "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n", hs.Listener.Addr())
		c.Close()
	},
}

// TestHubSurvivesHostileClients (item 9f): while clients send every kind of
// broken frame, floods and abrupt closes, in parallel, an honest screen
// connected throughout receives every update, in order, with consecutive
// seqs; nothing panics (the race detector is on in CI); and once everyone
// has gone the goroutine count is back where it started.
func TestHubSurvivesHostileClients(t *testing.T) {
	hs := newHubServer(t, newFakeDoor(0), Config{})
	// Warm the server up (its first connections start long-lived
	// goroutines of the runtime and net/http), then take the baseline.
	for range 3 {
		hostiles["connect and leave"](t, hs)
	}
	time.Sleep(100 * time.Millisecond)
	base := runtime.NumGoroutine()

	honest := &screen{ws: hs.dial(t)}
	if _, err := honest.next(time.Now().Add(3 * time.Second)); err != nil {
		t.Fatal(err)
	}
	const updates = 1000
	honestDone := make(chan error, 1)
	go func() { honestDone <- honest.until(fmt.Sprintf("d-%d", updates), 60*time.Second) }()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	names := make([]string, 0, len(hostiles))
	for name := range hostiles {
		names = append(names, name)
	}
	var attacks atomic.Int64
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				hostiles[names[i%len(names)]](t, hs)
				attacks.Add(1)
			}
		}()
	}
	for i := range updates {
		for int64(i)-honest.seen.Load() > sendBuffer/2 {
			time.Sleep(100 * time.Microsecond)
		}
		hs.door.publish()
		time.Sleep(time.Millisecond)
	}
	err := <-honestDone
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("honest screen: %v", err)
	}
	if len(honest.decisions) != updates || honest.gaps != 0 || honest.snapshots != 1 {
		t.Errorf("honest screen: %d updates, %d gaps, %d snapshots; want %d, 0, 1", len(honest.decisions), honest.gaps, honest.snapshots, updates)
	}
	for i, id := range honest.decisions {
		if id != fmt.Sprintf("d-%d", i+1) {
			t.Fatalf("honest screen: update %d is %s", i+1, id)
		}
	}
	honest.ws.Close()
	var now int
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if now = runtime.NumGoroutine(); now <= base {
			break
		}
	}
	if now > base {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d after every client left, %d before\n%s", now, base, buf[:runtime.Stack(buf, true)])
	}
	t.Logf("%d hostile connections of %d kinds; goroutines %d -> %d", attacks.Load(), len(hostiles), base, now)
}

// FuzzWebsocketFrame sends one frame from the fuzzer (the first byte picks
// text or binary) and then a known bad intent; the hub must answer that
// (or close the connection for an oversized frame), and never hang or
// panic.
func FuzzWebsocketFrame(f *testing.F) {
	for _, seed := range []string{`{"v":1,"type":"lock"}`, `{"v":1,"type":"resync"}`, `{"v":1,"type":"select","session":"s-1","children":["c-1"]}`,
		`{"v":1e999}`, `[[[[[[[[[[]]]]]]]]]]`, "\xff\xfe", `{"v":1,"type":"pin","pin":"12345678901234567890"}`} {
		f.Add(byte(1), []byte(seed))
	}
	f.Add(byte(2), []byte{0, 1, 2})
	hs := newHubServer(f, newFakeDoor(0), Config{})
	f.Fuzz(func(t *testing.T, kind byte, b []byte) {
		c, _, err := websocket.DefaultDialer.Dial(hs.wsURL(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		typ := websocket.TextMessage
		if kind%2 == 0 {
			typ = websocket.BinaryMessage
		}
		c.WriteMessage(typ, b)
		c.WriteMessage(websocket.TextMessage, []byte(`{"v":1,"type":"select"}`))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			_, m, err := c.ReadMessage()
			if err != nil {
				var ce *websocket.CloseError
				if errors.As(err, &ce) && len(b) > maxMessage {
					return // oversized: closed
				}
				t.Fatalf("frame %q: %v", b, err)
			}
			if strings.Contains(string(m), "select: missing session") {
				return
			}
		}
	})
}
