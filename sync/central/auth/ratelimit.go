package auth

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Limiter is a set of token buckets, one per key (client address, user or
// device): each holds up to Burst tokens and refills at Rate per second;
// a request takes one token or is refused with the time until the next.
type Limiter struct {
	rate  float64
	burst float64
	now   func() time.Time

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

// Allow takes a token for key. When none is left it returns false and how
// long until one is.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
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
	if l.rate <= 0 {
		return false, time.Hour
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

// Forget drops every bucket whose key match accepts (an admin lifting a
// sign-in lock), so those keys start again with a full burst.
func (l *Limiter) Forget(match func(key string) bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
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
// behind a reverse proxy, wrap the handler so RemoteAddr is the real
// client before this runs.
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return "ip:" + r.RemoteAddr
	}
	return "ip:" + host
}

// PrincipalOrIP keys by the authenticated principal (a user or a device)
// when there is one, else by client address. Put it after authentication.
func PrincipalOrIP(r *http.Request) string {
	if p, ok := PrincipalFrom(r.Context()); ok {
		return "principal:" + p.ID
	}
	return ClientIP(r)
}
