package passhash_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance/passhash"
)

var limits = passhash.Limits{MaxMemory: 1 << 20, MaxTime: 64}

// Hashes made by the two copies this package replaced (staffpin.Hash and
// auth.Hasher.Hash): stored hashes must keep verifying.
func TestVerifiesEarlierHashes(t *testing.T) {
	for _, tt := range []struct{ name, hash, secret string }{
		{"staff PIN", "$argon2id$v=19$m=64,t=1,p=1$u7q69g0Wq/Gm4sp7qAgddQ$zOdhgNC1k4vGlrZSPslWjyFNJMZa3CmOkSu8mlr4zVE", "1234"},
		{"admin password", "$argon2id$v=19$m=64,t=1,p=1$X7HCm2bHtd7DZRBcJQfCVA$J6dsNa8KKztIcYuSf7DTzgyt5DcZiCeJpLtylRHSAD8", "correct horse battery"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ok, p, err := passhash.Verify(tt.hash, tt.secret, limits)
			if err != nil || !ok {
				t.Fatalf("Verify = %v, %v; want a match", ok, err)
			}
			if ok, _, _ := passhash.Verify(tt.hash, tt.secret+"x", limits); ok {
				t.Error("a wrong secret matched")
			}
			_, salt, key, _ := passhash.Decode(tt.hash, limits)
			if got := passhash.Encode(p, salt, key); got != tt.hash {
				t.Errorf("Encode(Decode(h)) = %q, want %q", got, tt.hash)
			}
		})
	}
}

func TestHashRoundTrip(t *testing.T) {
	p := passhash.Params{Time: 1, Memory: 64, Threads: 1, KeyLen: 32, SaltLen: 16}
	h, err := passhash.Hash("s3cret", p)
	if err != nil {
		t.Fatal(err)
	}
	ok, got, err := passhash.Verify(h, "s3cret", limits)
	if err != nil || !ok {
		t.Fatalf("Verify = %v, %v", ok, err)
	}
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("params (-want +got):\n%s", diff)
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, h := range []string{
		"",
		"$2y$10$bcrypt",
		"$argon2id$v=18$m=64,t=1,p=1$u7q69g0Wq/Gm4sp7qAgddQ$zOdhgNC1k4vGlrZSPslWjyFNJMZa3CmOkSu8mlr4zVE",
		"$argon2id$v=19$m=4194304,t=1,p=1$u7q69g0Wq/Gm4sp7qAgddQ$zOdhgNC1k4vGlrZSPslWjyFNJMZa3CmOkSu8mlr4zVE",
		"$argon2id$v=19$m=064,t=1,p=1$u7q69g0Wq/Gm4sp7qAgddQ$zOdhgNC1k4vGlrZSPslWjyFNJMZa3CmOkSu8mlr4zVE",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdA$zOdhgNC1k4vGlrZSPslWjyFNJMZa3CmOkSu8mlr4zVE",
	} {
		if _, _, _, err := passhash.Decode(h, limits); !errors.Is(err, passhash.ErrMalformed) {
			t.Errorf("Decode(%q) = %v, want ErrMalformed", h, err)
		}
	}
}
