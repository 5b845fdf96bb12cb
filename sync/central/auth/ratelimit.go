package auth

import (
	"context"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Limiter is a set of token buckets, one per key (client address, user or
// device): each holds up to Burst tokens and refills at Rate per second;
// a request takes one token or is refused with the time until the next.
//
// A limiter is per process unless Shared: behind a load balancer each
// replica then keeps its own buckets, which is right for limits that
// protect the process itself (memory, CPU) and wrong for limits that
// protect an account (sign-in), which must hold across replicas.
type Limiter struct {
	rate  float64
	burst float64
	now   func() time.Time

	shared Buckets // nil: this process's buckets only
	name   string  // the limiter's name in shared
	log    *slog.Logger

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBuckets bounds memory under a flood of distinct keys; full (idle)
// buckets are dropped first because they carry no state.
const maxBuckets = 100_000

// NewLimiter returns a limiter of perSecond requests with bursts of burst.
// now may be nil (time.Now).
func NewLimiter(perSecond float64, burst int, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{rate: perSecond, burst: float64(burst), now: now, buckets: map[string]*bucket{}}
}

// Buckets keeps token buckets outside the process (central's database),
// so that every replica takes from the same bucket. Take refills the
// bucket (limiter, key) at rate per second up to burst as of now, takes a
// token when there is one, and reports whether it did and what is left.
type Buckets interface {
	Take(ctx context.Context, limiter, key string, rate, burst float64, now time.Time) (ok bool, left float64, err error)
	Keys(ctx context.Context, limiter string) ([]string, error)
	Delete(ctx context.Context, limiter string, keys []string) error
}

// Shared returns a limiter with l's rate and burst whose buckets live in b
// under name, shared by every process on b. When b fails (the database is
// unreachable) it falls back to a bucket in this process, so a limit never
// disappears and the request is not refused for the wrong reason.
func (l *Limiter) Shared(name string, b Buckets, log *slog.Logger) *Limiter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Limiter{rate: l.rate, burst: l.burst, now: l.now, shared: b, name: name, log: log, buckets: map[string]*bucket{}}
}

// Allow takes a token for key. When none is left it returns false and how
// long until one is.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	if l.shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		ok, left, err := l.shared.Take(ctx, l.name, key, l.rate, l.burst, l.now())
		cancel()
		if err == nil {
			if ok {
				return true, 0
			}
			return false, l.waitFor(left)
		}
		l.log.Warn("auth: shared rate limit unavailable; using this replica's", "limiter", l.name, "err", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = math.Min(l.burst, b.tokens+el.Seconds()*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, l.waitFor(b.tokens)
}

func (l *Limiter) waitFor(tokens float64) time.Duration {
	if l.rate <= 0 {
		return time.Hour
	}
	return time.Duration((1 - tokens) / l.rate * float64(time.Second))
}

// Forget drops every bucket whose key match accepts (an admin lifting a
// sign-in lock), so those keys start again with a full burst.
func (l *Limiter) Forget(match func(key string) bool) int {
	n := 0
	if l.shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		keys, err := l.shared.Keys(ctx, l.name)
		var drop []string
		for _, k := range keys {
			if match(k) {
				drop = append(drop, k)
			}
		}
		if err == nil && len(drop) > 0 {
			err = l.shared.Delete(ctx, l.name, drop)
		}
		if err != nil {
			l.log.Error("auth: forget shared rate limit", "limiter", l.name, "err", err)
		} else {
			n = len(drop)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for k := range l.buckets {
		if match(k) {
			delete(l.buckets, k)
			n++
		}
	}
	return n
}

func (l *Limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}

// RateLimit is middleware answering 429 with Retry-After (whole seconds,
// rounded up) once key's bucket is empty.
func RateLimit(l *Limiter, key func(*http.Request) string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ok, wait := l.Allow(key(r))
			if !ok {
				secs := int(math.Ceil(wait.Seconds()))
				w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
				WriteError(w, http.StatusTooManyRequests, "rate_limited", "too many requests")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// ClientIP keys by the connection's address. It ignores X-Forwarded-For:
// behind a reverse proxy, use Proxies.ClientIP.
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return addrKey(a)
	}
	return "ip:" + host
}

// addrKey is the rate-limit key of a client address: an IPv4 address
// itself, an IPv6 address by its /64. One IPv6 host is normally given a
// whole /64 and may use a new source address for every request, so keyed
// by the full address it would start each attempt with a full bucket.
func addrKey(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	if a.Is6() && !a.IsLoopback() {
		return "ip:" + netip.PrefixFrom(a, 64).Masked().String()
	}
	return "ip:" + a.String()
}

// PrincipalOrIP keys by the authenticated principal (a user or a device)
// when there is one, else by client address. Put it after authentication.
func PrincipalOrIP(r *http.Request) string {
	if p, ok := PrincipalFrom(r.Context()); ok {
		return "principal:" + p.ID
	}
	return ClientIP(r)
}
