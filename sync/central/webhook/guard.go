package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrForbiddenAddress is returned for a URL or a connection to an address
// central must not call: loopback, private, link-local, carrier-grade NAT,
// multicast, unspecified or reserved ranges (unless Guard.AllowPrivate).
var ErrForbiddenAddress = errors.New("webhook: address not allowed (loopback, private, link-local or reserved)")

// ErrBadURL is returned for a URL that is not an absolute https URL (http
// only with Guard.AllowPrivate), or carries credentials or a fragment.
var ErrBadURL = errors.New("webhook: bad URL")

// Guard decides which addresses central may call. The check runs twice:
// when an admin saves an endpoint (CheckURL resolves the host) and on
// every connection (Dialer checks the address actually dialled), so a
// name that later resolves to 127.0.0.1 (DNS rebinding) is still refused.
type Guard struct {
	// AllowPrivate lifts the address check and allows http:// (the
	// -webhooks-allow-private flag: tests with httptest, a receiver on the
	// centre's own network).
	AllowPrivate bool
	// Resolver looks up host names (default net.DefaultResolver).
	Resolver interface {
		LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
	}
}

// extraForbidden are ranges the netip predicates do not cover.
var extraForbidden = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: may embed a private IPv4
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64 (RFC 8215): the same
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated): ::10.0.0.1
	netip.MustParsePrefix("2002::/16"),       // 6to4: embeds an IPv4 address
	netip.MustParsePrefix("2001::/32"),       // Teredo: embeds IPv4 addresses
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
}

// Forbidden reports whether a is an address central must not call.
func Forbidden(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return true
	}
	for _, p := range extraForbidden {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// CheckURL validates an endpoint URL and resolves its host: every address
// it resolves to must be allowed.
func (g Guard) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadURL, err)
	}
	switch {
	case u.Scheme != "https" && !(u.Scheme == "http" && g.AllowPrivate):
		return fmt.Errorf("%w: want https://", ErrBadURL)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("%w: no host", ErrBadURL)
	case u.User != nil:
		return fmt.Errorf("%w: no user or password in the URL (the signature authenticates central)", ErrBadURL)
	case u.Fragment != "":
		return fmt.Errorf("%w: no #fragment", ErrBadURL)
	case len(raw) > 2000:
		return fmt.Errorf("%w: longer than 2000 characters", ErrBadURL)
	}
	if g.AllowPrivate {
		return nil
	}
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); err == nil {
		if Forbidden(a) {
			return fmt.Errorf("%w: %s", ErrForbiddenAddress, host)
		}
		return nil
	}
	if h := strings.ToLower(strings.TrimSuffix(host, ".")); h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, host)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := g.resolver().LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("%w: %s does not resolve: %v", ErrBadURL, host, err)
	}
	for _, a := range addrs {
		if Forbidden(a) {
			return fmt.Errorf("%w: %s resolves to %s", ErrForbiddenAddress, host, a)
		}
	}
	return nil
}

func (g Guard) resolver() interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
} {
	if g.Resolver != nil {
		return g.Resolver
	}
	return net.DefaultResolver
}

// Dialer returns a dialer that refuses forbidden addresses at connect
// time (after name resolution), unless AllowPrivate.
func (g Guard) Dialer() *net.Dialer {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if g.AllowPrivate {
		return d
	}
	d.Control = func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
		}
		if Forbidden(ap.Addr()) {
			return fmt.Errorf("%w: %s", ErrForbiddenAddress, ap.Addr())
		}
		return nil
	}
	return d
}
