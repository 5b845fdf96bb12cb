package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// AuditFunc records a security event; (*audit.Log).Hook has this shape.
// Details never hold a password, token or session id.
type AuditFunc func(ctx context.Context, action, actor, subject string, details map[string]any) error

// Cookie names. The __Host- prefix (only over TLS) makes the browser refuse
// a cookie that is not Secure, not Path=/, or set for another domain.
const (
	CookieNameTLS   = "__Host-kd_session"
	CookieNamePlain = "kd_session"
	// CSRFHeader carries the session's CSRF token on unsafe requests made by
	// scripts; HTML forms send the form field CSRFField instead.
	CSRFHeader = "X-CSRF-Token"
	CSRFField  = "csrf_token"
)

// Authenticator authenticates requests by Bearer token or session cookie
// and signs users in.
type Authenticator struct {
	Tokens   TokenStore
	Sessions *Sessions // nil: bearer tokens only
	Users    UserStore // nil: no password sign-in
	Hasher   Hasher    // for sign-in and rehashing
	Secure   bool      // served over TLS: __Host- cookie with Secure
	// Cookie is the session cookie's base name (default "kd_session"), so a
	// second kind of session (the parents' portal) never shares the admins'
	// cookie; over TLS it gets the __Host- prefix.
	Cookie string
	Audit  AuditFunc    // nil: not audited
	Log    *slog.Logger // nil: slog.Default()

	dummyOnce sync.Once
	dummy     string // hash checked for unknown users so timing does not tell
}

// CookieName returns the session cookie's name.
func (a *Authenticator) CookieName() string {
	if a.Cookie != "" {
		if a.Secure {
			return "__Host-" + a.Cookie
		}
		return a.Cookie
	}
	if a.Secure {
		return CookieNameTLS
	}
	return CookieNamePlain
}

func (a *Authenticator) log() *slog.Logger {
	if a.Log != nil {
		return a.Log
	}
	return slog.Default()
}

func (a *Authenticator) audit(ctx context.Context, action, actor, subject string, details map[string]any) {
	if a.Audit == nil {
		return
	}
	if err := a.Audit(ctx, action, actor, subject, details); err != nil {
		a.log().Error("audit failed", "action", action, "err", err)
	}
}

// SignIn checks a user name and password and starts a session. Unknown
// users, disabled users and wrong passwords all return ErrBadCredentials
// after the same hashing work. A hash made with older parameters is
// upgraded on success.
func (a *Authenticator) SignIn(ctx context.Context, username, password string) (string, Session, error) {
	if a.Users == nil || a.Sessions == nil {
		return "", Session{}, errors.New("auth: sign-in not configured")
	}
	u, err := a.Users.LookupUser(ctx, username)
	if err != nil && !errors.Is(err, ErrUnknownUser) {
		return "", Session{}, fmt.Errorf("auth: sign in: %w", err)
	}
	hash := u.PasswordHash
	if err != nil {
		a.dummyOnce.Do(func() { a.dummy, _ = a.Hasher.Hash("dummy-password-for-timing") })
		hash = a.dummy
	}
	ok, rehash, verr := a.Hasher.Verify(hash, password)
	if err != nil || verr != nil || !ok || u.Disabled {
		if verr != nil && err == nil {
			a.log().Error("stored password hash unreadable", "user", u.ID, "err", verr)
		}
		a.audit(ctx, "sign_in_failed", "anonymous", "user:"+sanitizeName(username), map[string]any{"reason": "bad_credentials"})
		return "", Session{}, ErrBadCredentials
	}
	if rehash {
		if h, err := a.Hasher.Hash(password); err == nil {
			if err := a.Users.SetPasswordHash(ctx, u.ID, h); err != nil {
				a.log().Warn("password rehash not stored", "user", u.ID, "err", err)
			}
		}
	}
	p := Principal{ID: u.ID, Name: u.Username, Role: u.Role}
	id, s, err := a.Sessions.Create(ctx, p)
	if err != nil {
		return "", Session{}, err
	}
	a.audit(ctx, "sign_in", "user:"+u.ID, "user:"+u.ID, map[string]any{"role": string(u.Role)})
	return id, s, nil
}

// sanitizeName bounds what an attacker-typed user name can put in the audit.
func sanitizeName(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// SetSessionCookie writes the session cookie (HttpOnly, SameSite=Strict,
// Secure over TLS, lifetime = the absolute timeout).
func (a *Authenticator) SetSessionCookie(w http.ResponseWriter, id string) {
	maxAge := int(DefaultAbsoluteTimeout / time.Second)
	if a.Sessions != nil {
		maxAge = int(a.Sessions.Absolute / time.Second)
	}
	http.SetCookie(w, &http.Cookie{Name: a.CookieName(), Value: id, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: a.Secure, SameSite: http.SameSiteStrictMode})
}

// ClearSessionCookie removes the session cookie.
func (a *Authenticator) ClearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: a.CookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: a.Secure, SameSite: http.SameSiteStrictMode})
}

type ctxKey int

const (
	principalKey ctxKey = iota
	sessionKey
)

// PrincipalFrom returns the authenticated principal of a request context.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey).(Principal)
	return p, ok
}

// SessionFrom returns the session of a cookie-authenticated request (for
// rendering its CSRF token into forms).
func SessionFrom(ctx context.Context) (Session, bool) {
	s, ok := ctx.Value(sessionKey).(Session)
	return s, ok
}

// WithPrincipal returns ctx carrying p (for handlers' tests and for
// services that authenticate by other means, e.g. device certificates).
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// errAuth is an authentication failure with its HTTP answer.
type errAuth struct {
	status int
	code   string
	msg    string
}

// authenticate identifies the caller. It returns the request with the
// principal (and session) in its context, or the error answer.
func (a *Authenticator) authenticate(r *http.Request) (*http.Request, *errAuth) {
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return nil, &errAuth{http.StatusUnauthorized, "unauthenticated", "Authorization must be 'Bearer <token>'"}
		}
		if a.Tokens == nil {
			return nil, &errAuth{http.StatusUnauthorized, "unauthenticated", "tokens not accepted here"}
		}
		p, err := a.Tokens.LookupToken(ctx, HashToken(strings.TrimSpace(tok)))
		if errors.Is(err, ErrUnknownToken) {
			return nil, &errAuth{http.StatusUnauthorized, "unauthenticated", "unknown or revoked token"}
		} else if err != nil {
			a.log().Error("token lookup failed", "err", err)
			return nil, &errAuth{http.StatusInternalServerError, "internal", "authentication unavailable"}
		}
		// Bearer tokens are not sent by browsers on their own: no CSRF check.
		return r.WithContext(WithPrincipal(ctx, p)), nil
	}
	if a.Sessions != nil {
		if c, err := r.Cookie(a.CookieName()); err == nil {
			s, err := a.Sessions.Lookup(ctx, c.Value)
			switch {
			case errIs(err, ErrNoSession):
				return nil, &errAuth{http.StatusUnauthorized, "unauthenticated", "session expired or unknown"}
			case err != nil:
				a.log().Error("session lookup failed", "err", err)
				return nil, &errAuth{http.StatusInternalServerError, "internal", "authentication unavailable"}
			}
			if !safeMethod(r.Method) {
				tok := r.Header.Get(CSRFHeader)
				if tok == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
					tok = r.PostFormValue(CSRFField)
				}
				if !CheckCSRF(s, tok) {
					return nil, &errAuth{http.StatusForbidden, "csrf", "missing or wrong CSRF token"}
				}
			}
			ctx = WithPrincipal(ctx, s.Principal)
			return r.WithContext(context.WithValue(ctx, sessionKey, s)), nil
		}
	}
	return nil, &errAuth{http.StatusUnauthorized, "unauthenticated", "sign in or send a Bearer token"}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// Authenticate is middleware that requires any authenticated principal.
func (a *Authenticator) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2, e := a.authenticate(r)
		if e != nil {
			a.deny(w, e)
			return
		}
		next.ServeHTTP(w, r2)
	})
}

// Require is middleware that authenticates the request (401 when it
// cannot) and then requires permission p (403 when the role lacks it).
func (a *Authenticator) Require(p Permission) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r2, e := a.authenticate(r)
			if e != nil {
				a.deny(w, e)
				return
			}
			pr, _ := PrincipalFrom(r2.Context())
			if !Can(pr.Role, p) {
				WriteError(w, http.StatusForbidden, "forbidden", fmt.Sprintf("role %q may not %s", pr.Role, p))
				return
			}
			next.ServeHTTP(w, r2)
		})
	}
}

func (a *Authenticator) deny(w http.ResponseWriter, e *errAuth) {
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kinderdeur"`)
	}
	WriteError(w, e.status, e.code, e.msg)
}

// WriteError writes {"error": code, "message": msg} with status.
func WriteError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Error   string `json:"error"`
		Message string `json:"message,omitempty"`
	}{code, msg})
}
