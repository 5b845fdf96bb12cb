package sepa

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors of the identifier checks.
var (
	ErrIBAN       = errors.New("bad IBAN")
	ErrBIC        = errors.New("bad BIC")
	ErrCreditorID = errors.New("bad creditor identifier")
)

// ibanLength is the IBAN length of every SEPA country (EPC409-09 'EPC list
// of SEPA scheme countries', IBAN registry).
var ibanLength = map[string]int{
	"AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20,
	"ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26,
	"IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28,
	"PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "VA": 22,
	// French overseas departments and territories use FR-structured IBANs
	// with their own codes; they are SEPA too.
	"GF": 27, "GP": 27, "MQ": 27, "RE": 27, "YT": 27, "PM": 27, "BL": 27, "MF": 27,
}

// NormalizeIBAN removes spaces and upper-cases s ("nl91 abna 0417 1643 00"
// -> "NL91ABNA0417164300").
func NormalizeIBAN(s string) string {
	return strings.ToUpper(strings.Join(strings.Fields(s), ""))
}

// CheckIBAN validates an IBAN of a SEPA country: its length for the
// country and its ISO 7064 MOD 97-10 check digits. Spaces are allowed
// (NormalizeIBAN).
func CheckIBAN(s string) error {
	iban := NormalizeIBAN(s)
	if len(iban) < 4 {
		return fmt.Errorf("%w %q: too short", ErrIBAN, s)
	}
	want, ok := ibanLength[iban[:2]]
	if !ok {
		return fmt.Errorf("%w %q: %q is not a SEPA country", ErrIBAN, s, iban[:2])
	}
	if len(iban) != want {
		return fmt.Errorf("%w %q: a %s IBAN has %d characters, not %d", ErrIBAN, s, iban[:2], want, len(iban))
	}
	for i := 0; i < len(iban); i++ {
		c := iban[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') || i >= 2 && i < 4 && !(c >= '0' && c <= '9') {
			return fmt.Errorf("%w %q: character %d %q", ErrIBAN, s, i+1, c)
		}
	}
	if mod97(iban[4:]+iban[:4]) != 1 {
		return fmt.Errorf("%w %q: check digits do not match", ErrIBAN, s)
	}
	return nil
}

// mod97 is the ISO 7064 MOD 97-10 remainder of s with letters as 10-35.
func mod97(s string) int {
	r := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			r = (r*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			r = (r*100 + int(c-'A') + 10) % 97
		}
	}
	return r
}

// CheckBIC validates a BIC (ISO 9362: 8 or 11 characters, the pattern of
// the pain.008.001.08 BICFI element).
func CheckBIC(s string) error {
	if len(s) != 8 && len(s) != 11 {
		return fmt.Errorf("%w %q: want 8 or 11 characters", ErrBIC, s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter, digit := c >= 'A' && c <= 'Z', c >= '0' && c <= '9'
		if i >= 4 && i < 6 && !letter || !(letter || digit) {
			return fmt.Errorf("%w %q: character %d %q", ErrBIC, s, i+1, c)
		}
	}
	return nil
}

// CheckCreditorID validates a SEPA creditor identifier (EPC262-08): the
// country code, two check digits, a three-character business code that
// the check ignores (ZZZ by default), then the national identifier; the
// check digits are MOD 97-10 over the national identifier, the country
// code and the check digits. NL00ZZZ... and BE..ZZZ... are typical.
func CheckCreditorID(s string) error {
	id := strings.ToUpper(strings.ReplaceAll(s, " ", ""))
	if len(id) < 8 || len(id) > 35 {
		return fmt.Errorf("%w %q: want 8 to 35 characters", ErrCreditorID, s)
	}
	if _, ok := ibanLength[id[:2]]; !ok {
		return fmt.Errorf("%w %q: %q is not a SEPA country", ErrCreditorID, s, id[:2])
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') || i >= 2 && i < 4 && !(c >= '0' && c <= '9') {
			return fmt.Errorf("%w %q: character %d %q", ErrCreditorID, s, i+1, c)
		}
	}
	if mod97(id[7:]+id[:4]) != 1 {
		return fmt.Errorf("%w %q: check digits do not match", ErrCreditorID, s)
	}
	return nil
}
