package sepa

import "fmt"

// MakeIBAN returns the IBAN of a country's BBAN (bank code and account
// number) with its check digits: MakeIBAN("NL", "ABNA0417164300") is
// NL91ABNA0417164300. For test data and conversions.
func MakeIBAN(country, bban string) string {
	return fmt.Sprintf("%s%02d%s", country, 98-mod97(bban+country+"00"), bban)
}

// MakeCreditorID returns a creditor identifier with its check digits from
// a country, a business code (ZZZ when none) and a national identifier.
func MakeCreditorID(country, business, national string) string {
	return fmt.Sprintf("%s%02d%s%s", country, 98-mod97(national+country+"00"), business, national)
}
