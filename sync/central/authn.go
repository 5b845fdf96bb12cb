package central

import (
	"time"

	"github.com/kinderdeur/kiosk/sync/central/auth"
)

// AuthOptions configure NewAuthenticator.
type AuthOptions struct {
	StaticAdminTokens []string    // the -admin-token flag
	Secure            bool        // served over TLS (__Host- cookie, Secure)
	Hasher            auth.Hasher // zero: auth.ServerParams
	Audit             auth.AuditFunc
	Now               func() time.Time // session clock; nil: the DB's
}

// NewAuthenticator returns the authenticator of central: bearer tokens
// (api_tokens plus static admin tokens), users from the users table and
// sessions in the sessions table.
func NewAuthenticator(d *DB, o AuthOptions) *auth.Authenticator {
	if o.Hasher.Params == (auth.PasswordParams{}) {
		o.Hasher = auth.Hasher{Params: auth.ServerParams}
	}
	now := o.Now
	if now == nil {
		now = d.h.Clock()
	}
	sess := auth.NewSessions(d.Sessions)
	sess.Now = now
	return &auth.Authenticator{
		Tokens:   NewTokenStore(d.Users, o.StaticAdminTokens...),
		Sessions: sess,
		Users:    d.Users,
		Hasher:   o.Hasher,
		Secure:   o.Secure,
		Audit:    o.Audit,
	}
}

// Demo users: central -demo creates one user per role, all with the
