package retention_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/kinderdeur/kiosk/attendance/retention"
)

func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"7y", "2y6m", "6w", "42d", "1y2m3w4d", "", "6m2y", "99999y", "0d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := retention.ParsePeriod(s)
		if err != nil {
			return
		}
		q, err := retention.ParsePeriod(p.String())
		if err != nil || q != p {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, p, p.String(), q, err)
		}
		if p.Years < 0 || p.Months < 0 || p.Weeks < 0 || p.Days < 0 {
			t.Fatalf("negative period from %q", s)
		}
	})
}

func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"profile":"be-vl"}`,
		`{"categories":{"kiosk_events":{"term":"8w","disposal":"delete"}},"holds":[{"subject":"child:C1","reason":"x","until":"2027-01-01"}]}`,
		`{"categories":{"kiosk_events":{"term":"5w"}}}`,
		`{"categories":{"staff":{"extended_term":"1y"}}}`,
		`{"holds":[{}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := retention.ParseConfig(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, retention.ErrConfig) {
				t.Fatalf("error not ErrConfig: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted config fails Validate: %v", err)
		}
		k := c.Policies[retention.KioskEvents]
		if !k.Term.AtLeast(retention.P(0, 0, 6, 0)) {
			t.Fatalf("kiosk term %s below 6 weeks accepted", k.Term)
		}
	})
}
