package portal_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/sync/central/auth"
	"github.com/kinderdeur/kiosk/sync/central/centraltest"
	"github.com/kinderdeur/kiosk/sync/central/portal"
)

// TestBannedPersonSpellingVariants: a contact ban on "Tom J." (Julia and
// Lucas) cannot be side-stepped by writing the name another way: without
// the dot, in capitals, with a zero-width or bidi character, with the
// surname written out, or with accents.
func TestBannedPersonSpellingVariants(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		for _, name := range []string{"Tom J", "TOM J.", "Tom  J ,", "T\u200bom J.", "Tom\u00a0J.", "\u202eTom J.", "Tom Jansen", "Tom J.-", "Tóm J.", "Tom", "Tom van J."} {
			body := map[string]any{"children": []string{"c-julia"}, "person_name": name, "date": e.today.String()}
			if a := e.do(t, tokIngrid, "POST", "/api/v1/parent/pickups", body); a.status != http.StatusForbidden {
				t.Errorf("%q: %d %s, want 403", name, a.status, a.body)
			}
		}
		// Someone else with the same first name is still welcome.
		body := map[string]any{"children": []string{"c-julia"}, "person_name": "Tom K.", "date": e.today.String()}
		if a := e.do(t, tokIngrid, "POST", "/api/v1/parent/pickups", body); a.status != http.StatusCreated {
			t.Errorf("Tom K.: %d %s, want 201", a.status, a.body)
		}
	})
}

// slowMailer takes its time, like a real SMTP server across a network.
type slowMailer struct{ d time.Duration }

func (m slowMailer) Send(context.Context, string, string, string) error {
	time.Sleep(m.d)
	return errors.New("smtp down")
}

// TestCodeRequestDoesNotTellWhoIsAParent: asking for a code for a known
// address takes as long and answers the same as for an unknown one, even
// when the SMTP server is slow or down; and trying a code for an address
// with a pending code takes as long as for one without.
func TestCodeRequestDoesNotTellWhoIsAParent(t *testing.T) {
	e := newEnv(t, centraltest.Backends()[0])
	hasher := auth.Hasher{Params: auth.PasswordParams{Time: 1, Memory: 64 * 1024, Threads: 1, KeyLen: 32, SaltLen: 16}} // ~tens of ms
	p, err := portal.New(portal.Config{DB: e.db, Audit: e.audit, Origin: "http://localhost", Mailer: slowMailer{time.Second},
		CodeHasher: hasher, Now: e.clock.Now, CodeLimiter: auth.NewLimiter(100, 1000, nil), VerifyLimiter: auth.NewLimiter(100, 1000, nil)})
	if err != nil {
		t.Fatal(err)
	}
	h := p.Handler()
	timed := func(path, body string) (time.Duration, int, string) {
		start := time.Now()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", path, strings.NewReader(body)))
		return time.Since(start), rec.Code, rec.Body.String()
	}
	median := func(path, email, code string) (time.Duration, int, string) {
		var ds []time.Duration
		var st int
		var b string
		for range 5 {
			var d time.Duration
			d, st, b = timed(path, `{"email":"`+email+`","code":"`+code+`"}`)
			ds = append(ds, d)
		}
		slices.Sort(ds)
		return ds[2], st, b
	}
	known, ks, kb := median("/api/v1/parent/login/code", "fatima@ouders.demo", "")
	unknown, us, ub := median("/api/v1/parent/login/code", "nobody@example.org", "")
	if ks != us || kb != ub {
		t.Errorf("code request: known %d %s, unknown %d %s", ks, kb, us, ub)
	}
	if diff := known - unknown; diff > 500*time.Millisecond || diff < -500*time.Millisecond {
		t.Errorf("code request: known address %v, unknown %v", known, unknown)
	}
	known, ks, _ = median("/api/v1/parent/login/verify", "fatima@ouders.demo", "000000")
	unknown, us, _ = median("/api/v1/parent/login/verify", "nobody@example.org", "000000")
	if ks != us {
		t.Errorf("verify: known %d, unknown %d", ks, us)
	}
	if unknown < known/3 { // without a code, no argon2id: microseconds

		t.Errorf("verify: address with a code %v, without %v", known, unknown)
	}
}

// TestContract10AsCurlSendsIt: the README's curl line posts the JSON with
// curl's default Content-Type (application/x-www-form-urlencoded); the API
// reads the body as JSON all the same.
func TestContract10AsCurlSendsIt(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		body := `{"children":["c-daan"],"person_name":"Henk K.","date":"` + e.today.String() + `","from":"16:00","until":"18:30"}`
		req, _ := http.NewRequest("POST", e.url("/api/v1/parent/pickups"), strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tokFatima)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("curl -d: %d, want 201", res.StatusCode)
		}
	})
}

// TestImpossibleRequestsRefused: going home alone is for out-of-school care
// (Mila is a toddler at a day-care group), not Sara at the BSO; an absence
// years ahead. (A window that has passed today is still accepted: contract
// 10's example announces 16:00-18:30 for today at any hour.)
func TestImpossibleRequestsRefused(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		d := e.today.String()
		for name, tc := range map[string]struct {
			path string
			body map[string]any
			want int
		}{
			"toddler alone":  {"/api/v1/parent/permissions", map[string]any{"child": "c-mila", "scope": "home", "from": d, "until": "2027-07-01", "confirm": true}, 400},
			"bso child":      {"/api/v1/parent/permissions", map[string]any{"child": "c-sara", "scope": "home", "from": d, "until": "2027-07-01", "confirm": true}, 201},
			"absence 2031":   {"/api/v1/parent/absences", map[string]any{"child": "c-daan", "date": "2031-01-06", "kind": "cancel"}, 400},
			"window running": {"/api/v1/parent/pickups", map[string]any{"children": []string{"c-daan"}, "person_name": "Henk K.", "date": d, "from": "13:00", "until": "15:00"}, 201},
		} {
			if a := e.do(t, tokFatima, "POST", tc.path, tc.body); a.status != tc.want {
				t.Errorf("%s: %d %s, want %d", name, a.status, a.body, tc.want)
			}
		}
	})
}

// TestWritesAndStreamsAreLimited: every announcement is a new roster
// version for every kiosk of the location, so one parent cannot write
// without end (429 with Retry-After), and cannot hold open more than a few
// live streams.
func TestWritesAndStreamsAreLimited(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		limited := 0
		for i := range 60 {
			body := map[string]any{"children": []string{"c-daan"}, "person_name": "Henk K.", "date": e.today.String(), "from": "16:00", "until": "18:00"}
			a := e.do(t, tokIngrid, "POST", "/api/v1/parent/absences", map[string]any{"child": "c-julia", "date": "2026-11-30", "kind": "sick"})
			if i%2 == 0 {
				a = e.do(t, tokFatima, "POST", "/api/v1/parent/pickups", body)
			}
			if a.status == http.StatusTooManyRequests {
				limited++
				if a.header.Get("Retry-After") == "" {
					t.Error("429 without Retry-After")
				}
			}
		}
		if limited == 0 {
			t.Error("60 writes in a row, none limited")
		}
		if n := len(e.roster(t, "loc-regenboog").Announced); n > 40 {
			t.Errorf("%d announcements stored", n)
		}
		// Reading still works for a parent who is write-limited.
		if a := e.do(t, tokFatima, "GET", "/api/v1/parent/pickups", nil); a.status != 200 {
			t.Errorf("read after write limit: %d", a.status)
		}
		// Streams: a handful at once per parent.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var codes []int
		for range 8 {
			req, _ := http.NewRequestWithContext(ctx, "GET", e.url("/api/v1/parent/today/stream"), nil)
			req.Header.Set("Authorization", "Bearer "+tokOmar)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			codes = append(codes, res.StatusCode)
		}
		if !slices.Contains(codes, http.StatusTooManyRequests) {
			t.Errorf("8 streams at once: %v", codes)
		}
	})
}

// TestCodeGuessesPerAddressAreCapped: a new code every few minutes gives
// five fresh tries each; from many client addresses that would be
// thousands of guesses a day at one parent's account. Tries per e-mail
// address are capped over all codes and clients.
func TestCodeGuessesPerAddressAreCapped(t *testing.T) {
	e := newEnv(t, centraltest.Backends()[0])
	var code string
	refused := false
	for i := range 40 {
		if i%5 == 0 {
			if a := e.do(t, "", "POST", "/api/v1/parent/login/code", map[string]string{"email": "kees@ouders.demo"}); a.status != 202 {
				t.Fatalf("code: %d", a.status)
			}
			code = e.mb.code(t, "kees@ouders.demo")
			e.mb.mu.Lock()
			e.mb.msgs = nil
			e.mb.mu.Unlock()
		}
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		if i%5 == 4 {
			wrong = code // the right one, after four wrong
		}
		a := e.do(t, "", "POST", "/api/v1/parent/login/verify", map[string]string{"email": "kees@ouders.demo", "code": wrong})
		if a.status == 200 && i > 30 {
			t.Fatalf("try %d: signed in; tries per address are not capped", i)
		}
		refused = refused || a.status == http.StatusTooManyRequests
	}
	if !refused {
		t.Error("40 tries at one address, none refused")
	}
}

// TestPickupFormKeepsWhatWasTyped: after an error the form shows the
// children, the person and the new person's name as they were, so pressing
// the button again never announces someone else (the first known person)
// and absences name the child, not its id.
func TestPickupFormKeepsWhatWasTyped(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		post := func(path string, form url.Values) string {
			req, _ := http.NewRequest("POST", e.url(path), strings.NewReader(form.Encode()))
			req.Header.Set("Authorization", "Bearer "+tokFatima)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return string(b)
		}
		page := post("/ouders/pickups", url.Values{"children": {"loc-regenboog/c-daan"}, "person": {"new"}, "person_name": {"Piet P."},
			"date": {e.today.String()}, "from": {"18:00"}, "until": {"16:00"}})
		for _, want := range []string{`value="loc-regenboog/c-daan" checked`, `<option value="new" selected>`, `value="Piet P."`} {
			if !strings.Contains(page, want) {
				t.Errorf("after an error the form lacks %s", want)
			}
		}
		post("/ouders/absences", url.Values{"child": {"loc-regenboog/c-daan"}, "date": {"2026-11-30"}, "kind": {"sick"}})
		a := e.do(t, tokFatima, "GET", "/ouders/absences", nil)
		if !strings.Contains(a.body, "<strong>Daan</strong>") || strings.Contains(a.body, "<strong>c-daan") {
			t.Errorf("absences list the child by id")
		}
	})
}
