package audit_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kinderdeur/kiosk/attendance/audit"
)

func FuzzCanonicalJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"b":1,"a":[1,2,{"z":null,"y":true}]}`, `{"n":1e400}`, `{"s":"<\u00e9>"}`, `[1]`, `{} x`, `{"a":1.50}`, "{\"\xff\":1}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := audit.CanonicalJSON(b)
		if err != nil {
			return
		}
		c2, err := audit.CanonicalJSON(c)
		if err != nil {
			t.Fatalf("canonical form %q does not parse: %v", c, err)
		}
		if !bytes.Equal(c, c2) {
			t.Fatalf("not idempotent: %q -> %q", c, c2)
		}
	})
}

func FuzzVerifyExport(f *testing.F) {
	f.Add([]byte(`{"seq":1,"at":"2026-03-02T08:00:01.123456Z","actor":"a","action":"sign_in","subject":"","details":{},"prev_hash":"` + audit.GenesisHash + `","hash":"00"}`))
	f.Add([]byte("\n\n"))
	f.Add([]byte(`{"seq":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, head, err := audit.VerifyExport(bytes.NewReader(b))
		if n < 0 || len(head) != 64 {
			t.Fatalf("n=%d head=%q err=%v", n, head, err)
		}
		if err == nil && n > 0 && strings.Count(string(b), `"hash"`) < int(n) {
			t.Fatalf("verified %d entries from fewer hash fields", n)
		}
	})
}
