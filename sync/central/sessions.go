package central

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kinderdeur/kiosk/sync/central/auth"
	"github.com/kinderdeur/kiosk/sync/central/sqldb"
)

// Sessions holds the sign-in sessions of the admin pages
// (auth.SessionStore).
type Sessions struct{ db *sqldb.DB }

// PutSession implements auth.SessionStore.
func (s *Sessions) PutSession(ctx context.Context, ss auth.Session) error {
	_, err := s.db.Exec(ctx, nil, `INSERT INTO sessions (id_hash, user_id, user_name, role, csrf_token, created_ns, last_seen_ns)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id_hash) DO UPDATE SET last_seen_ns = excluded.last_seen_ns`,
		ss.IDHash, ss.Principal.ID, ss.Principal.Name, string(ss.Principal.Role), ss.CSRFToken, ss.Created.UnixNano(), ss.LastSeen.UnixNano())
	if err != nil {
		return fmt.Errorf("central: put session: %w", err)
	}
	return nil
}

// GetSession implements auth.SessionStore. A session of a user disabled
// since is gone (SetUserDisabled deletes it).
func (s *Sessions) GetSession(ctx context.Context, idHash string) (auth.Session, error) {
	ss := auth.Session{IDHash: idHash}
	var role string
	var created, seen int64
	err := s.db.QueryRow(ctx, nil, "SELECT user_id, user_name, role, csrf_token, created_ns, last_seen_ns FROM sessions WHERE id_hash = ?", idHash).
		Scan(&ss.Principal.ID, &ss.Principal.Name, &role, &ss.CSRFToken, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return ss, auth.ErrNoSession
	}
	if err != nil {
		return ss, fmt.Errorf("central: get session: %w", err)
	}
	ss.Principal.Role, ss.Created, ss.LastSeen = auth.Role(role), time.Unix(0, created), time.Unix(0, seen)
	return ss, nil
}

// DeleteSession implements auth.SessionStore.
func (s *Sessions) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := s.db.Exec(ctx, nil, "DELETE FROM sessions WHERE id_hash = ?", idHash); err != nil {
		return fmt.Errorf("central: delete session: %w", err)
	}
	return nil
}

// PruneSessions deletes sessions idle since before idleBefore or created
// before createdBefore and returns how many.
func (s *Sessions) PruneSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int64, error) {
	res, err := s.db.Exec(ctx, nil, "DELETE FROM sessions WHERE last_seen_ns < ? OR created_ns < ?", idleBefore.UnixNano(), createdBefore.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("central: prune sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

var _ auth.SessionStore = (*Sessions)(nil)
