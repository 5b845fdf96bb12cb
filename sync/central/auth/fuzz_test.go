package auth_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kinderdeur/kiosk/sync/central/auth"
)

func FuzzParsePasswordHash(f *testing.F) {
	h, _ := auth.Hasher{Params: testParams}.Hash("a long enough password")
	f.Add(h)
	f.Add("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5")
	f.Add("$argon2id$v=19$m=4294967295,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2i$v=19$m=64,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := auth.ParsePasswordHash(s)
		if err != nil {
			return
		}
		if p.Memory > 1<<20 || p.Time == 0 || p.Time > 64 || p.Threads == 0 || len(salt) < 8 || len(key) < 16 {
			t.Fatalf("accepted %q: %+v", s, p)
		}
		if int(p.KeyLen) != len(key) || int(p.SaltLen) != len(salt) {
			t.Fatalf("lengths %+v vs %d/%d", p, len(salt), len(key))
		}
	})
}

// FuzzAuthorizationHeader: no header value authenticates except the real
// token, and none panics or yields anything but 401 (or 200 for the token).
func FuzzAuthorizationHeader(f *testing.F) {
	plain, hash, _ := auth.NewToken("kdt")
	toks := auth.NewMemoryTokens()
	toks.Add(hash, auth.Principal{ID: "t", Role: auth.RoleAdmin})
	a := &auth.Authenticator{Tokens: toks}
	h := a.Require(auth.ReadAudit)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, s := range []string{"Bearer " + plain, "bearer " + plain, "Bearer", "Bearer  " + plain + " ", "Basic x", "", "Bearer \x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Authorization"] = []string{v}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		scheme, tok, _ := strings.Cut(v, " ")
		real := v != "" && strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(tok) == plain
		want := http.StatusUnauthorized
		if real {
			want = http.StatusOK
		}
		if w.Code != want {
			t.Fatalf("%q -> %d, want %d", v, w.Code, want)
		}
	})
}
