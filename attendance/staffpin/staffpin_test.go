package staffpin_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/staffpin"
)

// testParams keep tests fast; the format and code path are the same.
var testParams = staffpin.Params{Time: 1, Memory: 64, Threads: 1, KeyLen: 32, SaltLen: 16}

func TestParsePIN(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"1234", nil}, {"12345678", nil}, {"0000", nil},
		{"123", staffpin.ErrBadPIN}, {"123456789", staffpin.ErrBadPIN}, {"", staffpin.ErrBadPIN},
		{"12a4", staffpin.ErrBadPIN}, {" 1234", staffpin.ErrBadPIN}, {"-123", staffpin.ErrBadPIN},
		{"١٢٣٤", staffpin.ErrBadPIN}, // Arabic-Indic digits
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := staffpin.ParsePIN(tt.in)
			if !errors.Is(err, tt.want) {
				t.Errorf("ParsePIN(%q) = %v, want %v", tt.in, err, tt.want)
			}
		})
	}
}

func TestHashCheck(t *testing.T) {
	h, err := staffpin.Hash("4821", staffpin.KioskParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=8192,t=1,p=1$") {
		t.Errorf("hash %q not in PHC form with kiosk params", h)
	}
	h2, _ := staffpin.Hash("4821", staffpin.KioskParams)
	if h == h2 {
		t.Error("two hashes of one PIN are equal: salt not random")
	}
	for _, tt := range []struct {
		pin  string
		want bool
	}{{"4821", true}, {"4822", false}, {"48210", false}} {
		got, err := staffpin.Check(h, tt.pin)
		if err != nil || got != tt.want {
			t.Errorf("Check(%q) = %v, %v; want %v", tt.pin, got, err, tt.want)
		}
	}
	if _, err := staffpin.Hash("12", testParams); !errors.Is(err, staffpin.ErrBadPIN) {
		t.Errorf("Hash of short PIN: %v", err)
	}
}

func TestDecodeHashRejects(t *testing.T) {
	good, _ := staffpin.Hash("1234", testParams)
	parts := strings.Split(good, "$")
	mk := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	tests := map[string]string{
		"empty":         "",
		"bcrypt":        "$2a$10$abcdefghijklmnopqrstuv",
		"argon2i":       mk(1, "argon2i"),
		"old version":   mk(2, "v=16"),
		"huge memory":   mk(3, "m=4194304,t=1,p=1"),
		"zero time":     mk(3, "m=64,t=0,p=1"),
		"leading zero":  mk(3, "m=064,t=1,p=1"),
		"missing param": mk(3, "m=64,t=1"),
		"bad salt":      mk(4, "!!"),
		"short key":     mk(5, "AAAA"),
		"extra field":   good + "$x",
	}
	for name, h := range tests {
		t.Run(name, func(t *testing.T) {
			if _, _, _, err := staffpin.DecodeHash(h); !errors.Is(err, staffpin.ErrMalformedHash) {
				t.Errorf("DecodeHash(%q) = %v, want ErrMalformedHash", h, err)
			}
			if ok, err := staffpin.Check(h, "1234"); ok || err == nil {
				t.Errorf("Check on malformed hash = %v, %v", ok, err)
			}
		})
	}
}

// clock is a fake clock tests advance by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// staffHashes is a HashLookup over a map, counting lookups (each lookup is
// one real hash comparison).
type staffHashes struct {
	mu      sync.Mutex
	hashes  map[string]string
	lookups int
}

func (s *staffHashes) PINHash(_ context.Context, id string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lookups++
	h, ok := s.hashes[id]
	if !ok {
		return "", attendance.ErrNotFound
	}
	return h, nil
}

func newGuard(t testing.TB) (*staffpin.Guard, *clock, *staffHashes) {
	t.Helper()
	hashes := &staffHashes{hashes: map[string]string{}}
	for id, pin := range map[string]string{"S1": "4821", "S2": "1357", "S3": "9999"} {
		h, err := staffpin.Hash(pin, testParams)
		if err != nil {
			t.Fatal(err)
		}
		hashes.hashes[id] = h
	}
	c := &clock{t: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}
	g, err := staffpin.NewGuard(hashes, staffpin.DefaultPolicy, c.now)
	if err != nil {
		t.Fatal(err)
	}
	return g, c, hashes
}

func kind(err error) string {
	var le *staffpin.LockedError
	var we *staffpin.WrongPINError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &le):
		s := "locked:" + string(le.Scope)
		if le.JustLocked {
			s += "!"
		}
		return s
	case errors.As(err, &we):
		return fmt.Sprintf("wrong:%d", we.Remaining)
	case errors.Is(err, staffpin.ErrBadPIN):
		return "bad"
	}
	return err.Error()
}

func TestGuardSequence(t *testing.T) {
	ctx := context.Background()
	type step struct {
		advance time.Duration
		staff   string
		pin     string
		want    string
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"right PIN", []step{{0, "S1", "4821", "ok"}}},
		{"malformed input is not counted", []step{
			{0, "S1", "12", "bad"}, {0, "S1", "abcd", "bad"}, {0, "S1", "0000", "wrong:4"},
		}},
		{"five wrong lock five minutes", []step{
			{0, "S1", "0000", "wrong:4"}, {0, "S1", "0001", "wrong:3"}, {0, "S1", "0002", "wrong:2"},
			{0, "S1", "0003", "wrong:1"}, {0, "S1", "0004", "locked:staff!"},
			{0, "S1", "4821", "locked:staff"}, // even the right PIN waits
			{4*time.Minute + 59*time.Second, "S1", "4821", "locked:staff"},
			{time.Second, "S1", "4821", "ok"},
		}},
		{"lock-out doubles", []step{
			{0, "S1", "0000", "wrong:4"}, {0, "S1", "0000", "wrong:3"}, {0, "S1", "0000", "wrong:2"}, {0, "S1", "0000", "wrong:1"}, {0, "S1", "0000", "locked:staff!"},
			{5 * time.Minute, "S1", "0000", "wrong:4"}, {0, "S1", "0000", "wrong:3"}, {0, "S1", "0000", "wrong:2"}, {0, "S1", "0000", "wrong:1"}, {0, "S1", "0000", "locked:staff!"},
			{9 * time.Minute, "S1", "4821", "locked:staff"},
			{time.Minute, "S1", "4821", "ok"},
		}},
		{"success resets the staff counter", []step{
			{0, "S1", "0000", "wrong:4"}, {0, "S1", "0000", "wrong:3"}, {0, "S1", "4821", "ok"}, {0, "S1", "0000", "wrong:4"},
		}},
		{"failures are forgotten after an hour", []step{
			{0, "S1", "0000", "wrong:4"}, {0, "S1", "0000", "wrong:3"}, {61 * time.Minute, "S1", "0000", "wrong:4"},
		}},
		{"one staff lock does not lock another", []step{
			{0, "S1", "0000", "wrong:4"}, {0, "S1", "0000", "wrong:3"}, {0, "S1", "0000", "wrong:2"}, {0, "S1", "0000", "wrong:1"}, {0, "S1", "0000", "locked:staff!"},
			{0, "S2", "1357", "ok"},
		}},
		{"unknown staff count like wrong PINs", []step{
			{0, "S404", "1234", "wrong:4"}, {0, "S404", "1234", "wrong:3"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, c, _ := newGuard(t)
			var want, got []string
			for _, s := range tt.steps {
				c.add(s.advance)
				want = append(want, s.want)
				got = append(got, kind(g.Verify(ctx, "kiosk-1", s.staff, s.pin)))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("outcomes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestKioskLimitAcrossStaff(t *testing.T) {
	g, c, _ := newGuard(t)
	ctx := context.Background()
	// Spread guesses over many staff ids: no staff counter reaches 5, but
	// the kiosk's 20 within 15 minutes does.
	var got []string
	for i := range 21 {
		got = append(got, kind(g.Verify(ctx, "kiosk-1", fmt.Sprintf("S%d", 100+i), "0000")))
	}
	if got[19] != "locked:kiosk!" || got[20] != "locked:kiosk" {
		t.Errorf("attempts 20, 21 = %s, %s; want locked:kiosk!, locked:kiosk", got[19], got[20])
	}
	if k := kind(g.Verify(ctx, "kiosk-2", "S2", "1357")); k != "ok" {
		t.Errorf("other kiosk = %s, want ok", k)
	}
	c.add(5 * time.Minute)
	if k := kind(g.Verify(ctx, "kiosk-1", "S2", "1357")); k != "ok" {
		t.Errorf("after kiosk lock-out = %s, want ok", k)
	}
}

// TestBruteForce: 10,000 guesses at the whole PIN space of one staff
// member, fired as fast as possible from many goroutines, reach the hash
// check only StaffMaxAttempts times, and the right PIN among them is
// never accepted.
func TestBruteForce(t *testing.T) {
	g, _, hashes := newGuard(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted, locked := 0, 0
	guesses := make(chan string)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for pin := range guesses {
				err := g.Verify(ctx, "kiosk-1", "S3", pin)
				mu.Lock()
				if err == nil {
					accepted++
				} else if errors.Is(err, staffpin.ErrLocked) {
					locked++
				}
				mu.Unlock()
			}
		}()
	}
	for i := range 10000 {
		guesses <- fmt.Sprintf("%04d", i) // includes the right PIN 9999 last
	}
	close(guesses)
	wg.Wait()
	if accepted != 0 {
		t.Errorf("%d guesses accepted", accepted)
	}
	if hashes.lookups != staffpin.DefaultPolicy.StaffMaxAttempts {
		t.Errorf("hash checks = %d, want %d", hashes.lookups, staffpin.DefaultPolicy.StaffMaxAttempts)
	}
	if locked != 10000-staffpin.DefaultPolicy.StaffMaxAttempts+1 {
		t.Errorf("locked answers = %d", locked)
	}
}

// TestBruteForceOverTime: a patient attacker who waits out each lock-out
// gets few guesses per day because the lock-out doubles.
func TestBruteForceOverTime(t *testing.T) {
	g, c, hashes := newGuard(t)
	ctx := context.Background()
	start := c.now()
	for i := 0; i < 10000 && c.now().Sub(start) < 24*time.Hour; i++ {
		err := g.Verify(ctx, "kiosk-1", "S3", fmt.Sprintf("%04d", i))
		var le *staffpin.LockedError
		if errors.As(err, &le) {
			c.t = le.Until // wait exactly until the lock ends
		}
		if err == nil {
			t.Fatalf("guess %04d accepted", i)
		}
	}
	// 5 min, 10, 20, ..., capped at 24 h: 5 guesses per step, 9 steps fit in a day.
	if hashes.lookups > 50 {
		t.Errorf("%d guesses checked in 24 hours, want at most 50", hashes.lookups)
	}
	t.Logf("%d guesses checked in 24 hours", hashes.lookups)
}

func TestSnapshotRestore(t *testing.T) {
	g, c, _ := newGuard(t)
	ctx := context.Background()
	for range 5 {
		g.Verify(ctx, "kiosk-1", "S1", "0000")
	}
	snap := g.Snapshot()
	g2, _ := staffpin.NewGuard(&staffHashes{hashes: map[string]string{}}, staffpin.DefaultPolicy, c.now)
	if k := kind(g2.Verify(ctx, "kiosk-1", "S1", "4821")); k != "wrong:4" {
		t.Fatalf("fresh guard = %s", k)
	}
	if err := g2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if k := kind(g2.Verify(ctx, "kiosk-1", "S1", "4821")); k != "locked:staff" {
		t.Errorf("restored guard = %s, want locked:staff", k)
	}
	if diff := cmp.Diff(snap, g2.Snapshot()); diff != "" {
		t.Errorf("snapshot after restore (-want +got):\n%s", diff)
	}
	if err := g2.Restore([]staffpin.State{{Scope: "x"}}); err == nil {
		t.Error("Restore accepted an unknown scope")
	}
}

func TestGuardLookupFailureNotCounted(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}
	broken := errors.New("disk I/O error")
	calls := 0
	g, err := staffpin.NewGuard(staffpin.HashLookupFunc(func(context.Context, string) (string, error) {
		calls++
		if calls <= 10 {
			return "", broken
		}
		return "", nil // no PIN set: counts as wrong
	}), staffpin.DefaultPolicy, c.now)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 10 {
		if err := g.Verify(ctx, "k", "S1", "1234"); !errors.Is(err, broken) {
			t.Fatalf("Verify = %v, want the store error", err)
		}
	}
	if k := kind(g.Verify(ctx, "k", "S1", "1234")); k != "wrong:4" {
		t.Errorf("after store errors = %s, want wrong:4 (errors not counted)", k)
	}
}
