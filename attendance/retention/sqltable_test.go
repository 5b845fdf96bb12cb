package retention_test

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance/retention"
)

// sqlTable adapts one SQL table holding one category to retention.Store:
// the engine's tests run over it. It works on SQLite and PostgreSQL ($N
// placeholders). Anchors are stored as Unix
// milliseconds or nanoseconds (INTEGER/BIGINT, NULL when unset).
//
// For the kiosk's events table, for example:
//
//	sqlTable{DB: db, Table: "events", ID: "event_id", Subject: "child_id",
//		Anchor: "acked_ns", AnchorNanos: true}
//
// where acked_ns is set when central acknowledges the event.
type sqlTable struct {
	DB      *sql.DB
	Table   string
	ID      string // primary key column
	Subject string // column naming whose data it is
	Anchor  string // column: when the term started, Unix ms, NULL = not started
	// AnchorNanos: the anchor column holds Unix nanoseconds (the kiosk
	// store's *_ns columns) instead of milliseconds.
	AnchorNanos bool
	// Extended is an optional 0/1 column selecting the extended term.
	Extended string
	// AnonymiseColumns gives the columns Anonymise overwrites and their values
	// (typically "" or nil). Empty: Anonymise is refused.
	AnonymiseColumns map[string]any
	// Where is an optional extra filter (a fixed SQL condition, e.g.
	// "kind = 'health'") for tables holding several categories.
	Where string
}

var ident = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (t sqlTable) check() error {
	for _, n := range []string{t.Table, t.ID, t.Subject, t.Anchor} {
		if !ident.MatchString(n) {
			return fmt.Errorf("retention: sql table: bad identifier %q", n)
		}
	}
	if t.Extended != "" && !ident.MatchString(t.Extended) {
		return fmt.Errorf("retention: sql table: bad identifier %q", t.Extended)
	}
	for c := range t.AnonymiseColumns {
		if !ident.MatchString(c) {
			return fmt.Errorf("retention: sql table: bad identifier %q", c)
		}
	}
	return nil
}

func (t sqlTable) where() string {
	if t.Where == "" {
		return ""
	}
	return " AND (" + t.Where + ")"
}

func (t sqlTable) query(ctx context.Context, c retention.Category, cond string, arg any) ([]retention.Record, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	ext := "0"
	if t.Extended != "" {
		ext = t.Extended
	}
	q := fmt.Sprintf(`SELECT %s, %s, %s, %s FROM %s WHERE %s%s ORDER BY %s`,
		t.ID, t.Subject, t.Anchor, ext, t.Table, cond, t.where(), t.ID)
	rows, err := t.DB.QueryContext(ctx, q, arg)
	if err != nil {
		return nil, fmt.Errorf("retention: %s: %w", t.Table, err)
	}
	defer rows.Close()
	var out []retention.Record
	for rows.Next() {
		var id string
		var subject sql.NullString
		var anchor sql.NullInt64
		var extended sql.NullInt64
		if err := rows.Scan(&id, &subject, &anchor, &extended); err != nil {
			return nil, fmt.Errorf("retention: %s: %w", t.Table, err)
		}
		r := retention.Record{ID: id, Category: c, Subject: subject.String, Extended: extended.Int64 != 0}
		if anchor.Valid {
			r.Anchor = t.fromUnix(anchor.Int64)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("retention: %s: %w", t.Table, err)
	}
	return out, nil
}

func (t sqlTable) toUnix(x time.Time) int64 {
	if t.AnchorNanos {
		return x.UnixNano()
	}
	return x.UnixMilli()
}

func (t sqlTable) fromUnix(n int64) time.Time {
	if t.AnchorNanos {
		return time.Unix(0, n).UTC()
	}
	return time.UnixMilli(n).UTC()
}

// Candidates implements Store.
func (t sqlTable) Candidates(ctx context.Context, c retention.Category, anchorBefore time.Time) ([]retention.Record, error) {
	return t.query(ctx, c, t.Anchor+" IS NOT NULL AND "+t.Anchor+" < $1", t.toUnix(anchorBefore))
}

// BySubject implements Store.
func (t sqlTable) BySubject(ctx context.Context, c retention.Category, subject string) ([]retention.Record, error) {
	return t.query(ctx, c, t.Subject+" = $1", subject)
}

// chunk bounds the number of ids per statement (SQLite's parameter limit).
const chunk = 500

// inTx runs stmt (with "%s" for the placeholder list) over ids in chunks,
// in one transaction, with args first.
func (t sqlTable) inTx(ctx context.Context, stmt string, args []any, ids []string) (int64, error) {
	if err := t.check(); err != nil {
		return 0, err
	}
	ids = uniq(ids)
	tx, err := t.DB.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("retention: %s: begin: %w", t.Table, err)
	}
	defer tx.Rollback()
	var total int64
	for len(ids) > 0 {
		n := min(chunk, len(ids))
		part := ids[:n]
		ids = ids[n:]
		all := append([]any(nil), args...)
		ph := make([]string, len(part))
		for i, id := range part {
			all = append(all, id)
			ph[i] = fmt.Sprintf("$%d", len(all))
		}
		res, err := tx.ExecContext(ctx, fmt.Sprintf(stmt, strings.Join(ph, ", ")), all...)
		if err != nil {
			return 0, fmt.Errorf("retention: %s: %w", t.Table, err)
		}
		k, _ := res.RowsAffected()
		total += k
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("retention: %s: commit: %w", t.Table, err)
	}
	return total, nil
}

func uniq(ids []string) []string {
	s := append([]string(nil), ids...)
	sort.Strings(s)
	out := s[:0]
	for i, id := range s {
		if i == 0 || id != s[i-1] {
			out = append(out, id)
		}
	}
	return out
}

// Delete implements Store.
func (t sqlTable) Delete(ctx context.Context, _ retention.Category, ids []string) (int64, error) {
	return t.inTx(ctx, "DELETE FROM "+t.Table+" WHERE "+t.ID+" IN (%s)"+t.where(), nil, ids)
}

// Anonymise implements Store: it overwrites the AnonymiseColumns and
// clears the anchor.
func (t sqlTable) Anonymise(ctx context.Context, _ retention.Category, ids []string) (int64, error) {
	if len(t.AnonymiseColumns) == 0 {
		return 0, fmt.Errorf("retention: %s: no columns to anonymise configured", t.Table)
	}
	cols := make([]string, 0, len(t.AnonymiseColumns))
	for c := range t.AnonymiseColumns {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	var set []string
	var args []any
	for i, c := range cols {
		set = append(set, fmt.Sprintf("%s = $%d", c, i+1))
		args = append(args, t.AnonymiseColumns[c])
	}
	// Clearing the anchor takes the record out of retention for good: what
	// is left is no longer personal data.
	set = append(set, t.Anchor+" = NULL")
	stmt := "UPDATE " + t.Table + " SET " + strings.Join(set, ", ") + " WHERE " + t.ID + " IN (%s)" + t.where()
	return t.inTx(ctx, stmt, args, ids)
}

// SetAnchor implements Store; records that already have an anchor keep it.
func (t sqlTable) SetAnchor(ctx context.Context, _ retention.Category, ids []string, anchor time.Time) error {
	stmt := "UPDATE " + t.Table + " SET " + t.Anchor + " = $1 WHERE " + t.Anchor + " IS NULL AND " + t.ID + " IN (%s)" + t.where()
	_, err := t.inTx(ctx, stmt, []any{t.toUnix(anchor)}, ids)
	return err
}

var _ retention.Store = sqlTable{}
