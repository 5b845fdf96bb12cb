package invoice

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/csvline"
	"github.com/kinderdeur/kiosk/attendance/sepa"
)

// FamilyColumns is the families CSV header (kioskctl invoice -families):
//
//	family_id,guardians,street,postcode,city,country,email,lang,iban,bic,mandate_id,mandate_date,sequence
//
// family_id (the guardian_id of the attendance) and guardians (names,
// separated by ';') are required; the rest are optional and in any order.
// A family pays by direct debit when it has a mandate: iban, mandate_id and
// mandate_date (YYYY-MM-DD) together; sequence is FRST for a mandate never
// collected from, RCUR otherwise (the default: since November 2016 the
// EPC rulebook lets a first collection be RCUR too).
var FamilyColumns = []string{"family_id", "guardians", "street", "postcode", "city", "country", "email", "lang",
	"iban", "bic", "mandate_id", "mandate_date", "sequence"}

// ErrFamily is wrapped by every error of ReadFamilies.
var ErrFamily = errors.New("families")

// ReadFamilies reads the families CSV. Every problem is reported with its
// line and column (*csvline.Errors); on error nothing is returned.
func ReadFamilies(r io.Reader) (map[string]Family, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	var errs []*csvline.Error
	bad := func(line int, col, f string, a ...any) {
		errs = append(errs, &csvline.Error{Line: line, Column: col, Err: fmt.Errorf("%w: "+f, append([]any{ErrFamily}, a...)...)})
	}
	header, err := cr.Read()
	if err != nil {
		bad(1, "", "header: %v", err)
		return nil, &csvline.Errors{Summary: "families: %d error(s)", Limit: 50, Errs: errs}
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if !slices.Contains(FamilyColumns, h) {
			bad(1, h, "unknown column (want %s)", strings.Join(FamilyColumns, ","))
		} else if _, dup := col[h]; dup {
			bad(1, h, "duplicate column")
		}
		col[h] = i
	}
	for _, c := range FamilyColumns[:2] {
		if _, ok := col[c]; !ok {
			bad(1, c, "missing column")
		}
	}
	if len(errs) > 0 {
		return nil, &csvline.Errors{Summary: "families: %d error(s)", Limit: 50, Errs: errs}
	}
	out := map[string]Family{}
	firstLine := map[string]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			bad(line, "", "%v", err)
			if pe == nil || pe.Err == csv.ErrQuote || pe.Err == csv.ErrBareQuote {
				break
			}
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		line, _ := cr.FieldPos(0)
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		f := Family{ID: get("family_id"), Email: get("email")}
		if f.ID == "" {
			bad(line, "family_id", "empty")
		} else if first, dup := firstLine[f.ID]; dup {
			bad(line, "family_id", "%s already on line %d", f.ID, first)
		} else {
			firstLine[f.ID] = line
		}
		for _, g := range strings.Split(get("guardians"), ";") {
			if g = strings.TrimSpace(g); g != "" {
				f.Guardians = append(f.Guardians, g)
			}
		}
		if len(f.Guardians) == 0 {
			bad(line, "guardians", "empty (want names separated by ';')")
		}
		if s := get("street"); s != "" {
			f.Address = append(f.Address, s)
		}
		if s := strings.TrimSpace(get("postcode") + "  " + get("city")); s != "" {
			f.Address = append(f.Address, s)
		}
		if s := get("country"); s != "" {
			f.Address = append(f.Address, s)
		}
		lang, err := ParseLang(get("lang"))
		if err != nil {
			bad(line, "lang", "%q: want nl or en", get("lang"))
		}
		f.Lang = lang
		iban, mid, mdate := get("iban"), get("mandate_id"), get("mandate_date")
		if iban != "" || mid != "" || mdate != "" {
			m := &Mandate{ID: mid, IBAN: sepa.NormalizeIBAN(iban), BIC: get("bic")}
			if err := sepa.CheckIBAN(iban); err != nil {
				bad(line, "iban", "%v", err)
			}
			if m.BIC != "" {
				if err := sepa.CheckBIC(m.BIC); err != nil {
					bad(line, "bic", "%v", err)
				}
			}
			if mid == "" || len(mid) > 35 || sepa.Latin(mid) != mid {
				bad(line, "mandate_id", "%q: a mandate needs its reference, 1-35 characters of the SEPA set", mid)
			}
			if d, err := attendance.ParseDate(mdate); err != nil {
				bad(line, "mandate_date", "a mandate needs its date of signature: %v", err)
			} else {
				m.Signed = d
			}
			switch get("sequence") {
			case "", "RCUR":
			case "FRST":
				m.First = true
			default:
				bad(line, "sequence", "%q: want FRST or RCUR", get("sequence"))
			}
			f.Mandate = m
		} else if get("sequence") != "" || get("bic") != "" {
			bad(line, "iban", "sequence or bic without a mandate (iban, mandate_id, mandate_date)")
		}
		out[f.ID] = f
	}
	if len(errs) > 0 {
		return nil, &csvline.Errors{Summary: "families: %d error(s)", Limit: 50, Errs: errs}
	}
	return out, nil
}
