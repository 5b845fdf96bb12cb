package webhook_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/sync/central/webhook"
)

func TestSignVerify(t *testing.T) {
	secret := []byte("whsec_test")
	body := []byte(`{"version":1}`)
	at := time.Unix(1800000000, 0)
	sig := webhook.Sign(secret, at, body)
	// The documented construction, by hand: hex(HMAC-SHA256(secret, "1800000000." + body)).
	if want := "t=1800000000,v1="; !strings.HasPrefix(sig, want) || len(sig) != len(want)+64 {
		t.Fatalf("signature %q", sig)
	}
	tests := []struct {
		name   string
		secret []byte
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"ok", secret, sig, body, at.Add(time.Minute), nil},
		{"rotated: old and new signature", secret, webhook.Sign([]byte("old"), at, body) + "," + strings.Split(sig, ",")[1], body, at, nil},
		{"other body", secret, sig, []byte(`{"version":2}`), at, webhook.ErrBadSignature},
		{"other secret", []byte("nope"), sig, body, at, webhook.ErrBadSignature},
		{"replayed later", secret, sig, body, at.Add(10 * time.Minute), webhook.ErrTooOld},
		{"no header", secret, "", body, at, webhook.ErrNoSignature},
		{"no v1", secret, "t=1800000000", body, at, webhook.ErrNoSignature},
		{"garbage", secret, "t=x,v1=zz", body, at, webhook.ErrNoSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := webhook.Verify(tt.secret, tt.header, tt.body, tt.now, 0); !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	first, maxd := 30*time.Second, 2*time.Hour
	prev := time.Duration(0)
	for a := 1; a <= 12; a++ {
		lo, hi := webhook.Backoff(a, first, maxd, 0), webhook.Backoff(a, first, maxd, 0.999999)
		if lo < prev/2 || hi > maxd || lo > hi {
			t.Errorf("attempt %d: [%s, %s]", a, lo, hi)
		}
		prev = lo * 2
	}
	if got := webhook.Backoff(1, first, maxd, 0); got != 15*time.Second {
		t.Errorf("first retry at least %s, want 15s", got)
	}
	if got := webhook.Backoff(20, first, maxd, 0.999999); got > maxd || got < maxd*99/100 {
		t.Errorf("capped retry %s, want about %s", got, maxd)
	}
}

type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func TestGuard(t *testing.T) {
	g := webhook.Guard{Resolver: fakeResolver{
		"hooks.example.nl":    {netip.MustParseAddr("93.184.215.14")},
		"intranet.example.nl": {netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("10.0.0.5")},
		"v6.example.nl":       {netip.MustParseAddr("2001:4860::1")},
		"ula.example.nl":      {netip.MustParseAddr("fd00::1")},
	}}
	for _, tt := range []struct {
		url  string
		want error
	}{
		{"https://hooks.example.nl/kinderdeur", nil},
		{"https://v6.example.nl/", nil},
		{"https://intranet.example.nl/", webhook.ErrForbiddenAddress}, // one private answer is enough
		{"https://ula.example.nl/", webhook.ErrForbiddenAddress},
		{"https://unknown.example.nl/", webhook.ErrBadURL},
		{"https://169.254.169.254/", webhook.ErrForbiddenAddress},
		{"https://[::ffff:10.0.0.1]/", webhook.ErrForbiddenAddress},
		{"https://[64:ff9b::a00:1]/", webhook.ErrForbiddenAddress},
		{"https://LOCALHOST./", webhook.ErrForbiddenAddress},
		{"http://hooks.example.nl/", webhook.ErrBadURL},
		{"https://hooks.example.nl/#x", webhook.ErrBadURL},
	} {
		if err := g.CheckURL(context.Background(), tt.url); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.url, err, tt.want)
		}
	}
	if err := (webhook.Guard{AllowPrivate: true}).CheckURL(context.Background(), "http://127.0.0.1:9/"); err != nil {
		t.Errorf("allow private: %v", err)
	}
}

// A name that resolved to a public address when it was saved and to a
// loopback one when it is called (DNS rebinding) is refused at connect.
func TestSenderRefusesForbiddenAddressesAtConnect(t *testing.T) {
	called := false
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	defer srv.Close()
	s := &webhook.Sender{Client: webhook.NewClient(webhook.Guard{}, time.Second), Now: time.Now}
	res := s.Send(context.Background(), webhook.Job{ID: "d1", Attempt: 1, URL: srv.URL, Secret: []byte("k"), Body: []byte("{}")})
	if called || res.State != webhook.Pending || !strings.Contains(res.Error, "address not allowed") {
		t.Errorf("called=%v result %+v", called, res)
	}
	// Redirects are not followed: a 3xx is a failed attempt.
	redir := httptest.NewServer(http.RedirectHandler("http://169.254.169.254/", http.StatusFound))
	defer redir.Close()
	s = &webhook.Sender{Client: webhook.NewClient(webhook.Guard{AllowPrivate: true}, time.Second), Now: time.Now}
	if res := s.Send(context.Background(), webhook.Job{ID: "d2", URL: redir.URL, Body: []byte("{}")}); res.State != webhook.Pending || res.Code != http.StatusFound {
		t.Errorf("redirect: %+v", res)
	}
}

// TestGuardRefusesIPv4EmbeddedInIPv6: IPv6 forms that carry an IPv4
// address a gateway or tunnel may deliver to (the local-use NAT64 prefix,
// 6to4, Teredo, IPv4-compatible ::a.b.c.d) were accepted, so
// https://[64:ff9b:1::a00:1]/ reached 10.0.0.1 through a NAT64 gateway.
func TestGuardRefusesIPv4EmbeddedInIPv6(t *testing.T) {
	for _, a := range []string{
		"64:ff9b:1::a00:1",                     // RFC 8215 local-use NAT64
		"::127.0.0.1",                          // IPv4-compatible (deprecated)
		"::a00:1",                              // the same for 10.0.0.1
		"2002:7f00:1::1",                       // 6to4 of 127.0.0.1
		"2002:a00:1::1",                        // 6to4 of 10.0.0.1
		"2001:0:4136:e378:8000:63bf:80ff:fffe", // Teredo
	} {
		if !webhook.Forbidden(netip.MustParseAddr(a)) {
			t.Errorf("%s allowed", a)
		}
		if err := (webhook.Guard{}).CheckURL(context.Background(), "https://["+a+"]/"); !errors.Is(err, webhook.ErrForbiddenAddress) {
			t.Errorf("https://[%s]/: %v", a, err)
		}
	}
	for _, a := range []string{"2001:4860:4860::8888", "2a00:1450:400e:80c::200e", "93.184.215.14"} {
		if webhook.Forbidden(netip.MustParseAddr(a)) {
			t.Errorf("public %s refused", a)
		}
	}
}
