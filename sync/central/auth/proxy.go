package auth

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the reverse proxies central trusts to say who the client is
// (X-Forwarded-For) and whether it spoke TLS (X-Forwarded-Proto). These
// headers are taken only from a connection that comes from one of them;
// from anyone else they are ignored, so a client cannot spoof its address
// past a rate limit or its scheme.
type Proxies struct {
	nets []netip.Prefix
}

// ParseProxies parses a comma-separated list of CIDRs or single addresses
// ("10.0.0.0/8, 127.0.0.1"). An empty list trusts no one.
func ParseProxies(s string) (*Proxies, error) {
	p := &Proxies{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("auth: trusted proxy %q: %w", f, err)
			}
			p.nets = append(p.nets, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		n, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("auth: trusted proxy %q: %w", f, err)
		}
		p.nets = append(p.nets, n.Masked())
	}
	return p, nil
}

func (p *Proxies) trusted(a netip.Addr) bool {
	if p == nil || !a.IsValid() {
		return false
	}
	a = a.Unmap()
	for _, n := range p.nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

func remoteAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}

// fromProxy reports whether r came over a connection from a trusted proxy.
func (p *Proxies) fromProxy(r *http.Request) bool { return p.trusted(remoteAddr(r)) }

// ClientIP is the rate-limit key of r's client: the connection's address,
// or, when that is a trusted proxy, the right-most X-Forwarded-For entry
// that is not itself a trusted proxy (entries further left were written by
// the client and prove nothing).
func (p *Proxies) ClientIP(r *http.Request) string {
	if !p.fromProxy(r) {
		return ClientIP(r)
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // garbage: stop at the last address we could read
		}
		if !p.trusted(a) {
			return addrKey(a)
		}
	}
	return ClientIP(r)
}

// TLS reports whether the client spoke TLS: to central itself, or to a
// trusted proxy that says so in X-Forwarded-Proto.
func (p *Proxies) TLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if !p.fromProxy(r) {
		return false
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}

// HSTS is middleware that sets Strict-Transport-Security when tls says the
// client's connection is TLS (SecurityHeaders sets it only on a TLS
// connection to central itself). Behind a TLS-terminating proxy pass
// func(*http.Request) bool { return true } or Proxies.TLS.
func HSTS(tls func(*http.Request) bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tls(r) {
			w.Header().Set("Strict-Transport-Security", hstsValue)
		}
		next.ServeHTTP(w, r)
	})
}
