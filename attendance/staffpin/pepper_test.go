package staffpin

import (
	"errors"
	"fmt"
	"testing"

	"github.com/kinderdeur/kiosk/attendance/passhash"
)

// cheap are test costs: the scheme is the same, the brute force below
// stays fast.
var cheap = Params{Time: 1, Memory: 64, Threads: 1, KeyLen: 32, SaltLen: 16}

// TestPepperedHashResistsOfflineBruteForce: without the pepper, none of
// the 10,000 four-digit PINs verifies against a peppered hash, whichever
// way one tries; with it, the PIN does.
func TestPepperedHashResistsOfflineBruteForce(t *testing.T) {
	pepper := SitePepper([]byte("master pepper from a file"), "loc-1")
	made, err := HashPeppered("1234", pepper, cheap)
	if err != nil {
		t.Fatal(err)
	}
	legacy, _ := Hash("1234", cheap)
	wrapped, changed, err := Wrap(legacy, pepper)
	if err != nil || !changed {
		t.Fatalf("Wrap: %v %v", changed, err)
	}
	for name, h := range map[string]string{"hashed": made, "wrapped": wrapped} {
		t.Run(name, func(t *testing.T) {
			p, salt, tag, err := decodePeppered(h)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 10000 {
				pin := fmt.Sprintf("%04d", i)
				if ok, err := CheckPeppered(h, pin, nil); ok || !errors.Is(err, ErrNoPepper) {
					t.Fatalf("without the pepper %s: %v %v", pin, ok, err)
				}
				// An attacker treating it as a plain argon2id hash.
				if passhash.Matches(pin, p, salt, tag) {
					t.Fatalf("PIN %s found without the pepper", pin)
				}
				if ok, _ := CheckPeppered(h, pin, SitePepper([]byte("master pepper from a file"), "loc-2")); ok {
					t.Fatalf("PIN %s verifies with another site's pepper", pin)
				}
			}
			if ok, err := CheckPeppered(h, "1234", pepper); !ok || err != nil {
				t.Errorf("with the pepper: %v %v", ok, err)
			}
			if ok, _ := CheckPeppered(h, "1235", pepper); ok {
				t.Error("a wrong PIN matches")
			}
		})
	}
	// Unpeppered hashes still verify (kiosks and rosters from before).
	if ok, err := CheckPeppered(legacy, "1234", pepper); !ok || err != nil {
		t.Errorf("legacy hash: %v %v", ok, err)
	}
	if h, changed, _ := Wrap(wrapped, pepper); changed || h != wrapped {
		t.Error("Wrap of a peppered hash changed it")
	}
}
