package portal

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/auth"
)

// Sign-in codes: 6 digits, valid 10 minutes, 5 tries.
const (
	codeTTL         = 10 * time.Minute
	codeMaxAttempts = 5
)

var errBadCode = errors.New("portal: wrong or expired code")

// requestCode sends a code to email when the centre keeps that address for
// a guardian. It answers the same either way, so the form does not tell
// who is a parent here.
func (s *Server) requestCode(ctx context.Context, r *http.Request, email string) error {
	if s.cfg.Mailer == nil {
		return errors.New("portal: e-mail sign-in is not configured (-smtp-addr)")
	}
	e, err := central.NormParentEmail(email)
	if err != nil {
		return bad("email", "e-mail address")
	}
	okIP, _ := s.codeLimit.Allow("ip:" + s.clientIP(r))
	okAddr, _ := s.codeLimit.Allow("email:" + e)
	if !okIP || !okAddr {
		return errRateLimited
	}
	links, err := s.parents.GuardianLinks(ctx, e)
	if err != nil {
		return err
	}
	active := false
	for _, l := range links {
		active = active || !l.Withdrawn
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return err
	}
	code := fmt.Sprintf("%06d", n.Int64())
	// The hash is computed for an unknown address too, and the e-mail goes
	// out in the background: neither the answer nor its timing (argon2id,
	// a slow or failing SMTP server) tells who is a parent here.
	hash, err := s.cfg.CodeHasher.Hash(codeSecret(e, code))
	if err != nil {
		return err
	}
	if !active {
		s.auditAnon(ctx, audit.SignInFailed, "parent-email:"+e, map[string]any{"reason": "not_invited"})
		return nil
	}
	if err := s.parents.PutCode(ctx, e, hash, s.now().Add(codeTTL)); err != nil {
		return err
	}
	body := fmt.Sprintf("Uw inlogcode voor het ouderportaal: %s\r\n(10 minuten geldig)\r\n\r\nYour sign-in code for the parents' portal: %s\r\n(valid for 10 minutes)\r\n\r\n%s/ouders/login\r\n",
		code, code, strings.TrimRight(s.cfg.Origin, "/"))
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := s.cfg.Mailer.Send(ctx, e, "Inlogcode ouderportaal / sign-in code", body); err != nil {
			s.log.Error("portal: send code", "err", err) // never the address or the code
		}
	}()
	return nil
}

// dummyCodeHash is a hash of nothing, verified against when an address has
// no code, so that a try costs the same time either way.
func (s *Server) dummyCodeHash() string {
	s.dummyOnce.Do(func() {
		s.dummyHash, _ = s.cfg.CodeHasher.Hash(codeSecret("nobody@invalid", "no code"))
	})
	return s.dummyHash
}

// codeSecret is what is hashed (argon2id, attendance/passhash): the code
// bound to its address, so a stored hash is useless for any other address
// and long enough for the hasher's minimum.
func codeSecret(email, code string) string {
	return "kinderdeur-parent-code\x00" + email + "\x00" + code
}

var errRateLimited = errors.New("portal: too many attempts; wait a few minutes")

// verifyCode checks a code and starts a session.
func (s *Server) verifyCode(ctx context.Context, r *http.Request, email, code string) (string, error) {
	e, err := central.NormParentEmail(email)
	if err != nil {
		return "", errBadCode
	}
	if ok, _ := s.verifyLimit.Allow("ip:" + s.clientIP(r)); !ok {
		return "", errRateLimited
	}
	if ok, _ := s.codeTryLimit.Allow("email:" + e); !ok {
		return "", errRateLimited
	}
	hash, exp, attempts, err := s.parents.TakeCodeAttempt(ctx, e)
	if errors.Is(err, central.ErrNotFound) {
		s.cfg.CodeHasher.Verify(s.dummyCodeHash(), codeSecret(e, code))
		return "", errBadCode
	}
	if err != nil {
		return "", err
	}
	code = strings.TrimSpace(code)
	ok, _, verr := s.cfg.CodeHasher.Verify(hash, codeSecret(e, code))
	if attempts > codeMaxAttempts || s.now().After(exp) || verr != nil || !ok || len(code) != 6 {
		if attempts >= codeMaxAttempts || s.now().After(exp) {
			s.parents.DeleteCode(ctx, e)
		}
		s.auditAnon(ctx, audit.SignInFailed, "parent-email:"+e, map[string]any{"reason": "bad_code"})
		return "", errBadCode
	}
	if err := s.parents.DeleteCode(ctx, e); err != nil {
		return "", err
	}
	acc, err := s.parents.Account(ctx, e)
	if err != nil {
		return "", err
	}
	return s.startSession(ctx, acc, "email_code")
}

func (s *Server) startSession(ctx context.Context, acc central.ParentAccount, method string) (string, error) {
	id, _, err := s.a.Sessions.Create(ctx, auth.Principal{ID: acc.ID, Name: acc.Email, Role: RoleParent})
	if err != nil {
		return "", err
	}
	s.auditAnon(ctx, audit.SignIn, "parent:"+acc.ID, map[string]any{"method": method, "actor": "parent:" + acc.ID})
	return id, nil
}

func (s *Server) auditAnon(ctx context.Context, action audit.Action, subject string, details map[string]any) {
	if s.audit == nil {
		return
	}
	actor := "anonymous"
	if a, ok := details["actor"].(string); ok {
		actor = a
		delete(details, "actor")
	}
	if _, err := s.audit.Append(ctx, audit.Record{Actor: actor, Action: action, Subject: subject, Details: details}); err != nil {
		s.log.Error("portal: audit", "err", err)
	}
}

func (s *Server) apiRequestCode(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Email string `json:"email"`
	}
	if !s.decode(w, r, &b) {
		return
	}
	if err := s.requestCode(r.Context(), r, b.Email); err != nil {
		s.signInFail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusAccepted, map[string]string{"sent": "if this address is known, a code is on its way"})
}

func (s *Server) apiVerifyCode(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Email string `json:"email"`
		Code  string `json:"code"`
	}
	if !s.decode(w, r, &b) {
		return
	}
	id, err := s.verifyCode(r.Context(), r, b.Email, b.Code)
	if err != nil {
		s.signInFail(w, r, err)
		return
	}
	s.a.SetSessionCookie(w, id)
	ss, _ := s.a.Sessions.Lookup(r.Context(), id)
	s.writeJSON(w, http.StatusOK, map[string]string{"signed_in": "ok", "csrf_token": ss.CSRFToken})
}

func (s *Server) signInFail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errRateLimited):
		w.Header().Set("Retry-After", "120")
		auth.WriteError(w, http.StatusTooManyRequests, "rate_limited", err.Error())
	case errors.Is(err, errBadCode):
		auth.WriteError(w, http.StatusUnauthorized, "bad_code", "wrong or expired code")
	default:
		s.fail(w, r, err)
	}
}

// ---- passkeys ----

// ceremonies keeps the WebAuthn session data of running ceremonies in
// memory for two minutes, keyed by a random id the browser holds in a
// short-lived cookie (login) or by the portal session (registration).
type ceremonies struct {
	mu sync.Mutex
	m  map[string]ceremony
}

type ceremony struct {
	data    webauthn.SessionData
	account string
	expires time.Time
}

func newCeremonies() *ceremonies { return &ceremonies{m: map[string]ceremony{}} }

func (c *ceremonies) put(key string, cer ceremony) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range c.m {
		if time.Now().After(v.expires) {
			delete(c.m, k)
		}
	}
	if len(c.m) > 10000 {
		return // a flood: refuse new ceremonies rather than grow
	}
	c.m[key] = cer
}

func (c *ceremonies) take(key string) (ceremony, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	delete(c.m, key)
	if !ok || time.Now().After(v.expires) {
		return ceremony{}, false
	}
	return v, true
}

// passkeyUser is a parent account as webauthn.User.
type passkeyUser struct {
	acc   central.ParentAccount
	creds []webauthn.Credential
}

func (u *passkeyUser) WebAuthnID() []byte                         { return u.acc.Handle }
func (u *passkeyUser) WebAuthnName() string                       { return u.acc.Email }
func (u *passkeyUser) WebAuthnDisplayName() string                { return u.acc.Email }
func (u *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func (s *Server) passkeyUserOf(ctx context.Context, acc central.ParentAccount) (*passkeyUser, error) {
	u := &passkeyUser{acc: acc}
	pks, err := s.parents.Passkeys(ctx, acc.ID)
	if err != nil {
		return nil, err
	}
	for _, p := range pks {
		var c webauthn.Credential
		if err := json.Unmarshal([]byte(p.JSON), &c); err != nil {
			return nil, fmt.Errorf("portal: stored passkey: %w", err)
		}
		u.creds = append(u.creds, c)
	}
	return u, nil
}

func sessionKey(r *http.Request) string {
	ss, _ := auth.SessionFrom(r.Context())
	return "reg:" + ss.IDHash
}

func (s *Server) passkeyRegisterBegin(w http.ResponseWriter, r *http.Request) {
	f := familyOf(r)
	u, err := s.passkeyUserOf(r.Context(), f.Account)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var exclude []protocol.CredentialDescriptor
	for _, c := range u.creds {
		exclude = append(exclude, c.Descriptor())
	}
	opts, data, err := s.wa.BeginRegistration(u,
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
		webauthn.WithExclusions(exclude))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.ceremonies.put(sessionKey(r), ceremony{data: *data, account: f.Account.ID, expires: time.Now().Add(2 * time.Minute)})
	s.writeJSON(w, http.StatusOK, opts)
}

func (s *Server) passkeyRegisterFinish(w http.ResponseWriter, r *http.Request) {
	f := familyOf(r)
	cer, ok := s.ceremonies.take(sessionKey(r))
	if !ok || cer.account != f.Account.ID {
		auth.WriteError(w, http.StatusBadRequest, "no_ceremony", "start the registration again")
		return
	}
	u, err := s.passkeyUserOf(r.Context(), f.Account)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cred, err := s.wa.FinishRegistration(u, cer.data, r)
	if err != nil {
		s.log.Info("portal: passkey registration refused", "err", err)
		auth.WriteError(w, http.StatusBadRequest, "passkey_refused", "the passkey could not be registered")
		return
	}
	b, _ := json.Marshal(cred)
	id := base64.RawURLEncoding.EncodeToString(cred.ID)
	if err := s.parents.PutPasskey(r.Context(), id, f.Account.ID, string(b)); err != nil {
		s.fail(w, r, err)
		return
	}
	s.record(r.Context(), f, audit.PasskeyAdded, "parent:"+f.Account.ID, nil)
	s.writeJSON(w, http.StatusCreated, map[string]string{"passkey": id})
}

const passkeyCookie = "kd_parent_pk"

func (s *Server) passkeyLoginBegin(w http.ResponseWriter, r *http.Request) {
	if ok, _ := s.verifyLimit.Allow("ip:" + s.clientIP(r)); !ok {
		s.signInFail(w, r, errRateLimited)
		return
	}
	opts, data, err := s.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b := make([]byte, 24)
	rand.Read(b)
	key := base64.RawURLEncoding.EncodeToString(b)
	s.ceremonies.put("login:"+key, ceremony{data: *data, expires: time.Now().Add(2 * time.Minute)})
	http.SetCookie(w, &http.Cookie{Name: passkeyCookie, Value: key, Path: "/api/v1/parent/passkeys/", MaxAge: 120,
		HttpOnly: true, Secure: s.cfg.Secure, SameSite: http.SameSiteStrictMode})
	s.writeJSON(w, http.StatusOK, opts)
}

func (s *Server) passkeyLoginFinish(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(passkeyCookie)
	if err != nil {
		auth.WriteError(w, http.StatusBadRequest, "no_ceremony", "start the sign-in again")
		return
	}
	cer, ok := s.ceremonies.take("login:" + c.Value)
	if !ok {
		auth.WriteError(w, http.StatusBadRequest, "no_ceremony", "start the sign-in again")
		return
	}
	var acc central.ParentAccount
	handler := func(rawID, userHandle []byte) (webauthn.User, error) {
		a, err := s.parents.AccountByHandle(r.Context(), userHandle)
		if err != nil {
			return nil, err
		}
		acc = a
		return s.passkeyUserOf(r.Context(), a)
	}
	cred, err := s.wa.FinishDiscoverableLogin(handler, cer.data, r)
	if err != nil {
		s.auditAnon(r.Context(), audit.SignInFailed, "parent-passkey", map[string]any{"reason": "passkey_refused"})
		auth.WriteError(w, http.StatusUnauthorized, "passkey_refused", "this passkey is not known here")
		return
	}
	b, _ := json.Marshal(cred) // the new sign counter
	if err := s.parents.PutPasskey(r.Context(), base64.RawURLEncoding.EncodeToString(cred.ID), acc.ID, string(b)); err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := s.startSession(r.Context(), acc, "passkey")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: passkeyCookie, Value: "", Path: "/api/v1/parent/passkeys/", MaxAge: -1, HttpOnly: true, Secure: s.cfg.Secure, SameSite: http.SameSiteStrictMode})
	s.a.SetSessionCookie(w, id)
	s.writeJSON(w, http.StatusOK, map[string]string{"signed_in": "ok", "next": "/ouders/"})
}
