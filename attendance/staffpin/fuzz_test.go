package staffpin_test

import (
	"testing"

	"github.com/kinderdeur/kiosk/attendance/staffpin"
)

func FuzzParsePIN(f *testing.F) {
	for _, s := range []string{"1234", "12345678", "123", "12 34", "١٢٣٤", "\x00\x00\x00\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := staffpin.ParsePIN(s)
		if err != nil {
			return
		}
		if p != s || len(p) < staffpin.MinLen || len(p) > staffpin.MaxLen {
			t.Fatalf("ParsePIN(%q) = %q", s, p)
		}
		for _, r := range p {
			if r < '0' || r > '9' {
				t.Fatalf("accepted non-digit %q in %q", r, s)
			}
		}
	})
}

func FuzzDecodeHash(f *testing.F) {
	good, _ := staffpin.Hash("1234", testParams)
	f.Add(good)
	f.Add("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5")
	f.Add("$argon2id$v=19$m=1,t=1,p=255$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := staffpin.DecodeHash(s)
		if err != nil {
			return
		}
		if p.Memory > 256*1024 || p.Time > 16 || p.Time == 0 || p.Threads == 0 || len(salt) < 8 || len(key) < 16 {
			t.Fatalf("accepted %q: %+v", s, p)
		}
	})
}
