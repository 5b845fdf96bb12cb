package auth

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestProxiesClientIP(t *testing.T) {
	p, err := ParseProxies("10.0.0.0/8, 192.168.1.5, ::1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, remote string
		xff          []string
		proto        string
		wantIP       string
		wantTLS      bool
	}{
		{"untrusted client spoofing XFF", "203.0.113.7:5000", []string{"1.2.3.4"}, "https", "ip:203.0.113.7", false},
		{"untrusted client, no headers", "203.0.113.7:5000", nil, "", "ip:203.0.113.7", false},
		{"trusted proxy", "10.1.2.3:443", []string{"198.51.100.9"}, "https", "ip:198.51.100.9", true},
		{"trusted proxy, client prepends a lie", "10.1.2.3:443", []string{"1.2.3.4, 198.51.100.9"}, "https", "ip:198.51.100.9", true},
		{"two trusted hops", "192.168.1.5:443", []string{"198.51.100.9, 10.9.9.9"}, "http", "ip:198.51.100.9", false},
		{"two headers", "10.1.2.3:443", []string{"1.2.3.4", "198.51.100.9"}, "", "ip:198.51.100.9", false},
		{"trusted proxy, garbage XFF", "10.1.2.3:443", []string{"not-an-ip"}, "", "ip:10.1.2.3", false},
		{"trusted proxy, no XFF", "10.1.2.3:443", nil, "", "ip:10.1.2.3", false},
		{"IPv6 loopback proxy", "[::1]:443", []string{"2001:db8::1"}, "HTTPS", "ip:2001:db8::/64", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, x := range tt.xff {
				r.Header.Add("X-Forwarded-For", x)
			}
			if tt.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			if got := p.ClientIP(r); got != tt.wantIP {
				t.Errorf("ClientIP = %q, want %q", got, tt.wantIP)
			}
			if got := p.TLS(r); got != tt.wantTLS {
				t.Errorf("TLS = %v, want %v", got, tt.wantTLS)
			}
		})
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.TLS = &tls.ConnectionState{}
	if !(*Proxies)(nil).TLS(r) {
		t.Error("a direct TLS connection is TLS")
	}
	for _, bad := range []string{"10.0.0.0/33", "nope", "10.0.0.1/x"} {
		if _, err := ParseProxies(bad); err == nil {
			t.Errorf("ParseProxies(%q) accepted", bad)
		}
	}
}

// TestSpoofedForwardedForDoesNotEscapeRateLimit: an untrusted client that
// changes X-Forwarded-For on every request stays in one bucket.
func TestSpoofedForwardedForDoesNotEscapeRateLimit(t *testing.T) {
	p, _ := ParseProxies("10.0.0.0/8")
	h := RateLimit(NewLimiter(0, 3, nil), p.ClientIP)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	codes := []int{}
	for i := range 5 {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "203.0.113.7:1234"
		r.Header.Set("X-Forwarded-For", "198.51.100."+string(rune('1'+i)))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		codes = append(codes, w.Code)
	}
	if codes[3] != 429 || codes[4] != 429 {
		t.Errorf("codes %v: spoofed X-Forwarded-For escaped the limit", codes)
	}
}

func TestHSTSBehindProxy(t *testing.T) {
	p, _ := ParseProxies("10.0.0.0/8")
	h := HSTS(p.TLS, SecurityHeaders(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	for _, tt := range []struct {
		remote string
		want   bool
	}{{"10.0.0.2:1", true}, {"203.0.113.7:1", false}} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		r.Header.Set("X-Forwarded-Proto", "https")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if got := w.Header().Get("Strict-Transport-Security") != ""; got != tt.want {
			t.Errorf("from %s: HSTS %v, want %v", tt.remote, got, tt.want)
		}
	}
}

// TestIPv6AddressesOfOneSlash64ShareABucket: one IPv6 host holds a whole
// /64 (2^64 addresses) and picks a new source address per request, so
// keyed by the full address every sign-in attempt came from a "new client"
// with a full burst: per-address and per-(address, account) limits meant
// nothing and an admin's password could be guessed without end. IPv6
// clients are keyed by their /64, directly and behind a trusted proxy.
func TestIPv6AddressesOfOneSlash64ShareABucket(t *testing.T) {
	p, _ := ParseProxies("10.0.0.0/8")
	for name, key := range map[string]func(*http.Request) string{"direct": ClientIP, "behind a proxy": p.ClientIP} {
		t.Run(name, func(t *testing.T) {
			h := RateLimit(NewLimiter(0, 3, nil), key)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			codes := []int{}
			for i := range 5 {
				r := httptest.NewRequest("POST", "/login", nil)
				addr := "2001:db8:1:2:" + string(rune('a'+i)) + "::7"
				if name == "direct" {
					r.RemoteAddr = "[" + addr + "]:1234"
				} else {
					r.RemoteAddr = "10.0.0.2:1234"
					r.Header.Set("X-Forwarded-For", addr)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				codes = append(codes, w.Code)
			}
			if codes[3] != 429 || codes[4] != 429 {
				t.Errorf("codes %v: new addresses of one /64 escaped the limit", codes)
			}
		})
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "[2001:db8:1:3::7]:1"
	if got := ClientIP(r); got != "ip:2001:db8:1:3::/64" {
		t.Errorf("ClientIP = %q", got)
	}
	r.RemoteAddr = "[::ffff:198.51.100.4]:1"
	if got := ClientIP(r); got != "ip:198.51.100.4" {
		t.Errorf("ClientIP of a mapped IPv4 = %q", got)
	}
}
