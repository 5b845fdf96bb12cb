package portal

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/sync/central"
)

// Invoice is one issued invoice as the family sees it, with where the
// PDF is (the page's link and the API's).
type Invoice struct {
	central.FamilyInvoice
	LocationName string `json:"location_name"`
	PDF          string `json:"pdf"` // the API's download path
}

// billingFamilies are the ids the billing runs invoice the family at a
// place under: a family is invoiced under the first guardian of its
// children (central.FamilyOf), so per child of the place its first
// guardian in the current roster, and the guardian themself (invoiced
// under their own id when they were first). Ids are per location: they
// are only ever matched together with the place's location.
func (p *Place) billingFamilies() []string {
	kids := p.childIDs()
	first := map[string]string{}
	for _, g := range p.Roster.Guardianships {
		if _, ok := first[g.ChildID]; !ok {
			first[g.ChildID] = g.PersonID
		}
	}
	ids := []string{p.PersonID}
	for c := range kids {
		if f, ok := first[c]; ok && !slices.Contains(ids, f) {
			ids = append(ids, f)
		}
	}
	slices.Sort(ids)
	return ids
}

// invoices lists the family's issued invoices at every place, oldest
// first. A place contributes only invoices of its own location.
func (s *Server) invoices(ctx context.Context, f *Family) ([]Invoice, error) {
	out := []Invoice{}
	for i := range f.Places {
		p := &f.Places[i]
		for _, fam := range p.billingFamilies() {
			invs, err := s.billing.FamilyInvoices(ctx, fam)
			if err != nil {
				return nil, err
			}
			for _, v := range invs {
				if v.LocationID != p.LocationID {
					continue // the same person id at another location is another person
				}
				out = append(out, Invoice{FamilyInvoice: v, LocationName: p.LocationName,
					PDF: "/api/v1/parent/invoices/" + central.PathSegment(v.LocationID) + "/" + central.PathSegment(v.Number) + ".pdf"})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Invoice) int {
		return cmp.Compare(a.Date.String()+a.LocationID+a.Number, b.Date.String()+b.LocationID+b.Number)
	})
	return out, nil
}

// invoicePDF returns one of the family's invoices; any other (another
// family's, a location outside the family) is errNotYours.
func (s *Server) invoicePDF(ctx context.Context, f *Family, loc, file string) (string, []byte, error) {
	number, ok := strings.CutSuffix(file, ".pdf")
	p := f.place(loc)
	if !ok || number == "" || p == nil {
		return "", nil, fmt.Errorf("%w: invoice %q", errNotYours, file)
	}
	for _, fam := range p.billingFamilies() {
		pdf, err := s.billing.FamilyInvoicePDF(ctx, fam, loc, number)
		if errors.Is(err, central.ErrNotFound) {
			continue
		}
		return number, pdf, err
	}
	return "", nil, fmt.Errorf("%w: invoice %q", errNotYours, file)
}

func (s *Server) apiInvoices(w http.ResponseWriter, r *http.Request) {
	invs, err := s.invoices(r.Context(), familyOf(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, invs)
}

// invoiceDownload serves the PDF bytes as stored (the legal record), as
// an attachment, never cached.
func (s *Server) invoiceDownload(w http.ResponseWriter, r *http.Request) {
	number, pdf, err := s.invoicePDF(r.Context(), familyOf(r), r.PathValue("location"), r.PathValue("file"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="factuur-%s.pdf"`, safeFile(number)))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", fmt.Sprint(len(pdf)))
	_, _ = w.Write(pdf)
}

// safeFile keeps a file name to letters, digits, '-' and '_'.
func safeFile(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// longDate is "2 december 2026" / "2 December 2026".
func longDate(l Lang, d attendance.Date) string {
	if d.IsZero() {
		return ""
	}
	t := d.In(time.UTC)
	if l == "en" {
		return t.Format("2 January 2006")
	}
	return fmt.Sprintf("%d %s %d", t.Day(), monthsNLLong[t.Month()-1], t.Year())
}

// period is "november 2026" / "November 2026" for "2026-11".
func period(l Lang, m string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return m
	}
	if l == "en" {
		return t.Format("January 2006")
	}
	return fmt.Sprintf("%s %d", monthsNLLong[t.Month()-1], t.Year())
}

var monthsNLLong = [...]string{"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"}
