package rc522

import (
	"crypto/rand"
	"encoding/hex"
	"math/big"
	"testing"
)

func TestCurveParameters(t *testing.T) {
	g := generator()
	if !onCurve(g) {
		t.Fatal("G is not on secp128r1: a parameter is mistyped")
	}
	if p := mul(g, curveN); !p.inf() {
		t.Fatal("n*G is not the point at infinity")
	}
	if p := mul(g, new(big.Int).Sub(curveN, big.NewInt(1))); p.inf() || p.x.Cmp(g.x) != 0 {
		t.Fatal("(n-1)*G is not -G")
	}
	if _, err := ParsePublicKeyHex(NXPNTAG21xKey); err != nil {
		t.Fatalf("NXP key: %v", err)
	}
}

// Signatures read from genuine NTAG21x tags, published in the test data of
// open-source verifiers (NXP AN11350 key); they check the real-key path.
func TestVerifyNXPSignatures(t *testing.T) {
	tests := []struct {
		uid, sig string
		want     bool
	}{
		{"04E10CDA993C80", "8B76052EE42F5567BEB53238B3E3F9950707C0DCC956B5C5EFCFDB709B2D82B3", true},
		{"04DB0BDA993C80", "6048EFD9417CD10F6B7F1818D471A7FE5B46868D2EABDC6307A1E0AAE139D8D0", true},
		{"0453C652FE4A80", "EDFD3263E7DDB1730260B832605205FB40FB32D7BB06F1DB49F17706C2ED6727", true},
		{"04E10CDA993C81", "8B76052EE42F5567BEB53238B3E3F9950707C0DCC956B5C5EFCFDB709B2D82B3", false},
		{"04E10CDA993C80", "6048EFD9417CD10F6B7F1818D471A7FE5B46868D2EABDC6307A1E0AAE139D8D0", false},
		{"04E10CDA993C80", "00000000000000000000000000000000000000000000000000000000000000000", false},
	}
	key := NXPKey()
	for _, tt := range tests {
		uid, _ := hex.DecodeString(tt.uid)
		sig, _ := hex.DecodeString(tt.sig)
		if got := VerifyOriginality(key, uid, sig); got != tt.want {
			t.Errorf("VerifyOriginality(%s) = %v, want %v", tt.uid, got, tt.want)
		}
	}
}

// testKey makes a secp128r1 key pair for tests.
func testKey(t testing.TB) (*PublicKey, *big.Int) {
	t.Helper()
	d, err := rand.Int(rand.Reader, new(big.Int).Sub(curveN, big.NewInt(1)))
	if err != nil {
		t.Fatal(err)
	}
	d.Add(d, big.NewInt(1))
	q := mul(generator(), d)
	b := append([]byte{0x04}, q.x.FillBytes(make([]byte, 16))...)
	b = append(b, q.y.FillBytes(make([]byte, 16))...)
	k, err := ParsePublicKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k, d
}

// testSign signs uid the way NXP programs NTAG21x signatures.
func testSign(t testing.TB, d *big.Int, uid []byte) []byte {
	t.Helper()
	e := new(big.Int).SetBytes(uid)
	for {
		k, err := rand.Int(rand.Reader, curveN)
		if err != nil {
			t.Fatal(err)
		}
		if k.Sign() == 0 {
			continue
		}
		r := new(big.Int).Mod(mul(generator(), k).x, curveN)
		if r.Sign() == 0 {
			continue
		}
		s := new(big.Int).Mul(r, d)
		s.Add(s, e).Mul(s, new(big.Int).ModInverse(k, curveN)).Mod(s, curveN)
		if s.Sign() == 0 {
			continue
		}
		return append(r.FillBytes(make([]byte, 16)), s.FillBytes(make([]byte, 16))...)
	}
}

func TestVerifyTestKey(t *testing.T) {
	key, d := testKey(t)
	uid := []byte{0x04, 0x51, 0x5C, 0xFA, 0x6F, 0x37, 0x80}
	sig := testSign(t, d, uid)
	if !VerifyOriginality(key, uid, sig) {
		t.Fatal("own signature does not verify")
	}
	other, _ := testKey(t)
	if VerifyOriginality(other, uid, sig) {
		t.Error("signature verifies under another key")
	}
	bad := append([]byte(nil), sig...)
	bad[31] ^= 1
	if VerifyOriginality(key, uid, bad) {
		t.Error("tampered signature verifies")
	}
	if VerifyOriginality(key, uid, sig[:31]) {
		t.Error("short signature verifies")
	}
}

func FuzzVerifyOriginality(f *testing.F) {
	f.Add([]byte{0x04, 0xE1, 0x0C, 0xDA, 0x99, 0x3C, 0x80}, make([]byte, 32))
	key := NXPKey()
	f.Fuzz(func(t *testing.T, uid, sig []byte) {
		VerifyOriginality(key, uid, sig) // must not panic
	})
}

func FuzzParsePublicKey(f *testing.F) {
	b, _ := hex.DecodeString(NXPNTAG21xKey)
	f.Add(b)
	f.Add([]byte{0x04})
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParsePublicKey(b)
		if err == nil && !onCurve(k.q) {
			t.Fatal("accepted a point off the curve")
		}
	})
}
