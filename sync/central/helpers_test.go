package central_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/centraltest"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

const adminToken = "test-admin-token"

// clock is a settable clock shared by the server and the DB.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type env struct {
	db    *central.DB
	srv   *httptest.Server
	clock *clock
	token string // demo enrolment token for loc-regenboog
	audit *audit.Log
	dsn   string // to open a second handle (a replica)
}

// newEnv starts a central with the demo organisation on the given backend.
func newEnv(t testing.TB, b centraltest.Backend) *env {
	t.Helper()
	dsn := b.DSN(t)
	clk := &clock{t: time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)} // a Monday
	db, err := central.Open(context.Background(), dsn, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Demo.SeedDemo(context.Background(), attendance.DateOf(clk.Now())); err != nil {
		t.Fatal(err)
	}
	al, err := db.OpenAudit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(central.NewServer(central.Config{DB: db, AdminTokens: []string{adminToken}, Audit: al, Now: clk.Now}).Handler())
	t.Cleanup(srv.Close)
	return &env{db: db, srv: srv, clock: clk, token: protocol.DemoEnrolToken, audit: al, dsn: dsn}
}

// device is a test kiosk speaking the protocol by hand.
type device struct {
	e    *env
	id   string
	key  ed25519.PrivateKey
	boot string
}

func (e *env) enrol(t testing.TB) *device {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(nil)
	d := &device{e: e, id: "kiosk-" + uuid.NewString(), key: key, boot: uuid.NewString()}
	code, body := e.do(t, http.MethodPost, protocol.PathEnrol, mustJSON(protocol.EnrolRequest{
		Token: e.token, DeviceID: d.id, PublicKey: protocol.EncodePublicKey(key.Public().(ed25519.PublicKey))}), nil)
	if code != http.StatusOK {
		t.Fatalf("enrol: %d %s", code, body)
	}
	return d
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func (e *env) do(t testing.TB, method, path string, body []byte, hdr func(*http.Request)) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if hdr != nil {
		hdr(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func (e *env) admin(t testing.TB, method, path string, body []byte) (int, []byte) {
	return e.do(t, method, path, body, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+adminToken) })
}

// signed sends a request signed by d (as signer, claiming id).
func (d *device) signed(t testing.TB, method, path string, body []byte) (int, []byte) {
	t.Helper()
	return d.e.do(t, method, path, body, func(r *http.Request) {
		if err := protocol.Sign(r, d.id, d.key, body, d.e.clock.Now()); err != nil {
			t.Fatal(err)
		}
	})
}

// event makes a check-in event of this device.
func (d *device) event(seq int64, typ attendance.EventType, child string, wall time.Time, mono time.Duration, synced bool) attendance.Event {
	id, _ := uuid.NewV7()
	return attendance.Event{ID: id.String(), DeviceID: d.id, Seq: seq, Type: typ, LocationID: "loc-regenboog", ChildID: child, GroupID: "g-rupsen",
		Wall: wall.UTC(), MonoNS: int64(mono), BootID: d.boot, ClockSynced: synced}
}

func (d *device) batch(probe protocol.ClockProbe, evs ...attendance.Event) []byte {
	b := protocol.Batch{Protocol: protocol.Version, DeviceID: d.id, Clock: probe}
	for _, e := range evs {
		b.Events = append(b.Events, mustJSON(e))
	}
	return mustJSON(b)
}

func (d *device) unsyncedProbe() protocol.ClockProbe {
	return protocol.ClockProbe{BootID: d.boot, MonoNS: int64(time.Hour), Wall: time.Unix(3600, 0).UTC()}
}

func (d *device) post(t testing.TB, body []byte) (int, protocol.BatchResponse, *protocol.Error) {
	t.Helper()
	code, out := d.signed(t, http.MethodPost, protocol.PathEvents, body)
	if code != http.StatusOK {
		return code, protocol.BatchResponse{}, protocol.DecodeError(code, out)
	}
	var r protocol.BatchResponse
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("decode %s: %v", out, err)
	}
	return code, r, nil
}

func (e *env) count(t testing.TB, table string) int {
	t.Helper()
	var n int
	if err := e.db.SQL().QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func statuses(r protocol.BatchResponse) []string {
	var out []string
	for _, x := range r.Results {
		s := string(x.Status)
		if x.Reason != "" {
			s += ":" + x.Reason
		}
		out = append(out, s)
	}
	return out
}

func forEachBackend(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, b := range centraltest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			fn(t, newEnv(t, b))
		})
	}
}

var _ = fmt.Sprint
