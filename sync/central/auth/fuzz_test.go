package auth_test

import (
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
