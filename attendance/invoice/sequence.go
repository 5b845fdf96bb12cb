package invoice

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"sync"
)

// Sequence hands out invoice numbers without gaps, per series (a year).
// Numbers are taken in two steps so no lock is held while invoices are
// rendered and written: Next says which number comes next, the caller
// numbers and writes its invoices, then Commit records the numbers used.
// Commit fails with ErrSequenceMoved, recording nothing, when another
// issuer committed numbers of the series in between; the caller then
// starts again from Next. Numbers start at 1.
type Sequence interface {
	Next(ctx context.Context, series string) (int64, error)
	Commit(ctx context.Context, series string, first, n int64) error
}

// ErrSequenceMoved: the series' next number is no longer the one the
// caller numbered from.
var ErrSequenceMoved = errors.New("invoice: the number sequence moved on: renumber and retry")

// MemorySequence is a Sequence in memory (tests, one-off runs).
type MemorySequence struct {
	mu   sync.Mutex
	last map[string]int64
}

var _ Sequence = (*MemorySequence)(nil)

// Next implements Sequence.
func (m *MemorySequence) Next(_ context.Context, series string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last[series] + 1, nil
}

// Commit implements Sequence.
func (m *MemorySequence) Commit(_ context.Context, series string, first, n int64) error {
	if n < 0 {
		return fmt.Errorf("invoice: commit %d numbers", n)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.last == nil {
		m.last = map[string]int64{}
	}
	if m.last[series]+1 != first {
		return ErrSequenceMoved
	}
	m.last[series] += n
	return nil
}

//go:embed schema.sql
var schema string

// SQLiteSequence keeps the sequence in a SQLite database (kioskctl
// invoice -numbers FILE): one row per series with its last number. The
// caller opens the database (database/sql with the sqlite3 driver) and
// owns it.
type SQLiteSequence struct {
	db *sql.DB
}

var _ Sequence = (*SQLiteSequence)(nil)

// NewSQLiteSequence creates the table if needed.
func NewSQLiteSequence(ctx context.Context, db *sql.DB) (*SQLiteSequence, error) {
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return nil, fmt.Errorf("invoice: sequence schema: %w", err)
	}
	return &SQLiteSequence{db: db}, nil
}

// Next implements Sequence.
func (s *SQLiteSequence) Next(ctx context.Context, series string) (int64, error) {
	var last int64
	err := s.db.QueryRowContext(ctx, `SELECT last FROM invoice_sequence WHERE series = ?`, series).Scan(&last)
	if errors.Is(err, sql.ErrNoRows) {
		return 1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("invoice: sequence %s: %w", series, err)
	}
	return last + 1, nil
}

// Commit implements Sequence: one compare-and-set statement.
func (s *SQLiteSequence) Commit(ctx context.Context, series string, first, n int64) error {
	if n < 0 {
		return fmt.Errorf("invoice: commit %d numbers", n)
	}
	if first < 1 {
		return ErrSequenceMoved
	}
	q := `UPDATE invoice_sequence SET last = ? WHERE series = ? AND last = ?`
	if first == 1 { // a new series, or one whose row says 0
		q = `INSERT INTO invoice_sequence (last, series) VALUES (?, ?)
			ON CONFLICT (series) DO UPDATE SET last = excluded.last WHERE invoice_sequence.last = ?`
	}
	res, err := s.db.ExecContext(ctx, q, first+n-1, series, first-1)
	if err != nil {
		return fmt.Errorf("invoice: sequence %s: %w", series, err)
	}
	rows, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("invoice: sequence %s: %w", series, err)
	}
	if rows != 1 {
		return ErrSequenceMoved
	}
	return nil
}
