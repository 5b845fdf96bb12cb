package rc522

import (
	"encoding/hex"
	"fmt"
	"math/big"
)

// NTAG21x originality signatures are ECDSA on secp128r1 over the 7-byte UID
// with no hash (the UID is the message integer). Go's crypto/ecdsa has no
// secp128r1, so the curve arithmetic is done here with math/big: it only
// verifies public data, so constant time does not matter.

// secp128r1 domain parameters (SEC 2, version 1.0, section 2.3.1).
var (
	curveP  = mustHex("FFFFFFFDFFFFFFFFFFFFFFFFFFFFFFFF")
	curveA  = mustHex("FFFFFFFDFFFFFFFFFFFFFFFFFFFFFFFC")
	curveB  = mustHex("E87579C11079F43DD824993C2CEE5ED3")
	curveGx = mustHex("161FF7528B899B2D0C28607CA52C5B86")
	curveGy = mustHex("CF5AC8395BAFEB13C02DA292DDED7A83")
	curveN  = mustHex("FFFFFFFE0000000075A30D1B9038A115")
)

// NXPNTAG21xKey is NXP's public key for NTAG21x originality signatures, from
// NXP application note AN11350 "NTAG21x Originality Signature Validation"
// (uncompressed point 04 || X || Y). The same value is used by the
// Proxmark3 client and NXP TagInfo.
const NXPNTAG21xKey = "04494E1A386D3D3CFE3DC10E5DE68A499B1C202DB5B132393E89ED19FE5BE8BC61"

func mustHex(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic("rc522: bad constant " + s)
	}
	return v
}

// point is an affine point on secp128r1; nil coordinates mean infinity.
type point struct{ x, y *big.Int }

func (p point) inf() bool { return p.x == nil }

// PublicKey is a secp128r1 public key.
type PublicKey struct{ q point }

// ParsePublicKey parses an uncompressed point (04 || X || Y, 33 bytes) and
// checks that it lies on the curve.
func ParsePublicKey(b []byte) (*PublicKey, error) {
	if len(b) != 33 || b[0] != 0x04 {
		return nil, fmt.Errorf("rc522: public key must be 33 bytes starting 0x04, got %d bytes", len(b))
	}
	q := point{new(big.Int).SetBytes(b[1:17]), new(big.Int).SetBytes(b[17:33])}
	if !onCurve(q) {
		return nil, fmt.Errorf("rc522: public key is not on secp128r1")
	}
	return &PublicKey{q: q}, nil
}

// ParsePublicKeyHex is ParsePublicKey for a hex string.
func ParsePublicKeyHex(s string) (*PublicKey, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("rc522: public key: %w", err)
	}
	return ParsePublicKey(b)
}

// NXPKey returns NXP's NTAG21x originality key.
func NXPKey() *PublicKey {
	k, err := ParsePublicKeyHex(NXPNTAG21xKey)
	if err != nil {
		panic(err)
	}
	return k
}

func onCurve(p point) bool {
	if p.inf() || p.x.Cmp(curveP) >= 0 || p.y.Cmp(curveP) >= 0 || p.x.Sign() < 0 || p.y.Sign() < 0 {
		return false
	}
	l := new(big.Int).Mul(p.y, p.y)
	r := new(big.Int).Mul(p.x, p.x)
	r.Mul(r, p.x)
	r.Add(r, new(big.Int).Mul(curveA, p.x))
	r.Add(r, curveB)
	return l.Sub(l, r).Mod(l, curveP).Sign() == 0
}

func add(p, q point) point {
	if p.inf() {
		return q
	}
	if q.inf() {
		return p
	}
	var m *big.Int
	if p.x.Cmp(q.x) == 0 {
		if new(big.Int).Add(p.y, q.y).Mod(new(big.Int).Add(p.y, q.y), curveP).Sign() == 0 {
			return point{}
		}
		// tangent: (3x^2 + a) / 2y
		num := new(big.Int).Mul(p.x, p.x)
		num.Mul(num, big.NewInt(3)).Add(num, curveA)
		den := new(big.Int).Lsh(p.y, 1)
		m = num.Mul(num, den.ModInverse(den.Mod(den, curveP), curveP))
	} else {
		num := new(big.Int).Sub(q.y, p.y)
		den := new(big.Int).Sub(q.x, p.x)
		den.Mod(den, curveP)
		m = num.Mul(num, den.ModInverse(den, curveP))
	}
	m.Mod(m, curveP)
	x := new(big.Int).Mul(m, m)
	x.Sub(x, p.x).Sub(x, q.x).Mod(x, curveP)
	y := new(big.Int).Sub(p.x, x)
	y.Mul(y, m).Sub(y, p.y).Mod(y, curveP)
	return point{x, y}
}

func mul(p point, k *big.Int) point {
	r := point{}
	for i := k.BitLen() - 1; i >= 0; i-- {
		r = add(r, r)
		if k.Bit(i) == 1 {
			r = add(r, p)
		}
	}
	return r
}

func generator() point { return point{curveGx, curveGy} }

// VerifyOriginality checks an NTAG21x READ_SIG answer (r || s, 16 bytes
// each) over uid with key.
func VerifyOriginality(key *PublicKey, uid, sig []byte) bool {
	if key == nil || len(sig) != 32 {
		return false
	}
	r := new(big.Int).SetBytes(sig[:16])
	s := new(big.Int).SetBytes(sig[16:])
	if r.Sign() <= 0 || s.Sign() <= 0 || r.Cmp(curveN) >= 0 || s.Cmp(curveN) >= 0 {
		return false
	}
	e := new(big.Int).SetBytes(uid) // 56 bits < 128: no truncation
	w := new(big.Int).ModInverse(s, curveN)
	u1 := new(big.Int).Mul(e, w)
	u1.Mod(u1, curveN)
	u2 := new(big.Int).Mul(r, w)
	u2.Mod(u2, curveN)
	x := add(mul(generator(), u1), mul(key.q, u2))
	if x.inf() {
		return false
	}
	return new(big.Int).Mod(x.x, curveN).Cmp(r) == 0
}
