package central

import (
	"context"
	"fmt"
	"time"

	"github.com/kinderdeur/kiosk/sync/central/auth"
	"github.com/kinderdeur/kiosk/sync/central/sqldb"
)

// Limits keeps shared token buckets (auth.Buckets) in central's database,
// so a limit that protects an account (sign-in) holds across every
// replica: one statement per request, an upsert that refills, takes and
// reports in one step, atomic under concurrent replicas.
type Limits struct{ db *sqldb.DB }

var _ auth.Buckets = (*Limits)(nil)

// Take implements auth.Buckets.
func (s *Limits) Take(ctx context.Context, limiter, key string, rate, burst float64, now time.Time) (bool, float64, error) {
	least := "min"
	if s.db.Dialect() == Postgres {
		least = "least"
	}
	// R: the bucket's tokens as of now (never above burst; a clock
	// behind another replica's refills nothing). The request's values come
	// in as the row it would insert (excluded), so each is bound once.
	R := least + `(excluded.burst, rate_buckets.tokens + (CASE WHEN excluded.last_ns > rate_buckets.last_ns
		THEN excluded.last_ns - rate_buckets.last_ns ELSE 0 END) * excluded.rate)`
	q := `INSERT INTO rate_buckets (limiter, key, tokens, taken, last_ns, rate, burst)
		VALUES (?, ?, CAST(? AS DOUBLE PRECISION), 1, ?, CAST(? AS DOUBLE PRECISION), CAST(? AS DOUBLE PRECISION))
		ON CONFLICT (limiter, key) DO UPDATE SET
			tokens = CASE WHEN ` + R + ` >= 1 THEN ` + R + ` - 1 ELSE ` + R + ` END,
			taken = CASE WHEN ` + R + ` >= 1 THEN 1 ELSE 0 END,
			last_ns = CASE WHEN excluded.last_ns > rate_buckets.last_ns THEN excluded.last_ns ELSE rate_buckets.last_ns END,
			rate = excluded.rate, burst = excluded.burst
		RETURNING taken, tokens`
	var taken int
	var left float64
	if err := s.db.QueryRow(ctx, nil, q, limiter, key, burst-1, now.UnixNano(), rate/1e9, burst).Scan(&taken, &left); err != nil {
		return false, 0, fmt.Errorf("central: rate limit: %w", err)
	}
	return taken == 1, left, nil
}

// Keys implements auth.Buckets.
func (s *Limits) Keys(ctx context.Context, limiter string) ([]string, error) {
	rows, err := s.db.Query(ctx, nil, "SELECT key FROM rate_buckets WHERE limiter = ?", limiter)
	if err != nil {
		return nil, fmt.Errorf("central: rate limit keys: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("central: rate limit keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// Delete implements auth.Buckets.
func (s *Limits) Delete(ctx context.Context, limiter string, keys []string) error {
	for _, k := range keys {
		if _, err := s.db.Exec(ctx, nil, "DELETE FROM rate_buckets WHERE limiter = ? AND key = ?", limiter, k); err != nil {
			return fmt.Errorf("central: rate limit forget: %w", err)
		}
	}
	return nil
}

// Prune deletes buckets untouched since before: they have refilled long
// ago (the sign-in limits refill in minutes) and carry no state.
func (s *Limits) Prune(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.Exec(ctx, nil, "DELETE FROM rate_buckets WHERE last_ns < ?", before.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("central: prune rate limits: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
