package central

import (
	"archive/zip"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/attendance/billing"
	"github.com/kinderdeur/kiosk/attendance/invoice"
	"github.com/kinderdeur/kiosk/attendance/sheet"
	"github.com/kinderdeur/kiosk/sync/central/auth"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// billingRoutes registers the billing API: runs, their invoices and
// downloads (ReadBilling), issuing runs and corrections and mandates
// (ManageBilling), the provider's details (ManageProvider: admins).
func (s *Server) billingRoutes(m *routeMux, admin func(auth.Permission, http.HandlerFunc) http.Handler) {
	const base = "/api/v1/admin/locations/{id}/billing"
	m.Handle("GET "+base+"/runs", admin(auth.ReadBilling, s.listRuns))
	m.Handle("POST "+base+"/runs", admin(auth.ManageBilling, s.issueRun))
	m.Handle("GET "+base+"/runs/{run}", admin(auth.ReadBilling, s.getRun))
	m.Handle("GET "+base+"/runs/{run}/invoices/{file}", admin(auth.ReadBilling, s.invoicePDF))
	m.Handle("GET "+base+"/runs/{run}/invoices.zip", admin(auth.ReadBilling, s.invoicesZip))
	m.Handle("GET "+base+"/runs/{run}/sepa.xml", admin(auth.ReadBilling, s.runSEPA))
	m.Handle("GET "+base+"/runs/{run}/lines", admin(auth.ReadBilling, s.runLines))
	m.Handle("POST "+base+"/runs/{run}/collected", admin(auth.ManageBilling, s.runCollected))
	m.Handle("GET "+base+"/diff", admin(auth.ReadBilling, s.runDiff))
	m.Handle("POST "+base+"/corrections", admin(auth.ManageBilling, s.issueCorrections))
	m.Handle("GET "+base+"/provider", admin(auth.ReadBilling, s.getProvider))
	m.Handle("PUT "+base+"/provider", admin(auth.ManageProvider, s.putProvider))
	m.Handle("GET "+base+"/mandates", admin(auth.ReadBilling, s.listMandates))
	m.Handle("PUT "+base+"/mandates/{family}", admin(auth.ManageBilling, s.putMandate))
	m.Handle("DELETE "+base+"/mandates/{family}", admin(auth.ManageBilling, s.deleteMandate))
}

// BillingStatus is the HTTP status and error code of a billing error.
func BillingStatus(err error) (int, string) {
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrNotYetInvoiced):
		return http.StatusNotFound, protocol.CodeNotFound
	case errors.Is(err, ErrMalformed):
		return http.StatusBadRequest, protocol.CodeMalformed
	case errors.Is(err, ErrNoProvider), errors.Is(err, ErrAlreadyBilled), errors.Is(err, ErrNothingToBill),
		errors.Is(err, ErrDiffMoved), errors.Is(err, ErrConflict), errors.Is(err, ErrUnpriced), errors.Is(err, ErrMonthNotOver):
		return http.StatusConflict, protocol.CodeConflict
	}
	return http.StatusInternalServerError, protocol.CodeInternal
}

func (s *Server) billingFail(w http.ResponseWriter, r *http.Request, err error) {
	status, code := BillingStatus(err)
	if status == http.StatusInternalServerError {
		s.internal(w, r, err)
		return
	}
	s.writeError(w, status, code, err.Error())
}

func (s *Server) readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, ok := s.readBody(w, r, 64<<10)
	if !ok {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, err.Error())
		return false
	}
	return true
}

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request) {
	runs, err := s.billing.Runs(r.Context(), r.PathValue("id"))
	if err != nil {
		s.billingFail(w, r, err)
		return
	}
	if runs == nil {
		runs = []Run{}
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"runs": runs})
}

func principalActor(r *http.Request) string {
	if p, ok := auth.PrincipalFrom(r.Context()); ok {
		return "user:" + p.ID
	}
	return "system"
}

// RunAudit is the audit detail of a run.
func RunAudit(run Run) map[string]any {
	return map[string]any{"run": run.ID, "kind": run.Kind, "period": run.Period, "profile": run.Profile, "invoices": run.Count,
		"total_cents": run.TotalCents, "first": run.FirstNumber, "last": run.LastNumber}
}

func (s *Server) issueRun(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Month         string `json:"month"`
		Profile       string `json:"profile"`
		AllowUnpriced bool   `json:"allow_unpriced"`
	}
	if !s.readJSON(w, r, &req) {
		return
	}
	loc := r.PathValue("id")
	run, err := s.billing.Issue(r.Context(), RunRequest{LocationID: loc, Month: req.Month, Profile: req.Profile, Actor: principalActor(r),
		AllowUnpriced: req.AllowUnpriced})
	if err != nil {
		s.billingFail(w, r, err)
		return
	}
	s.record(r, audit.BillingRun, "location:"+loc, RunAudit(run))
	s.writeJSON(w, http.StatusCreated, run)
}

func (s *Server) getRun(w http.ResponseWriter, r *http.Request) {
	run, err := s.billing.GetRun(r.Context(), r.PathValue("id"), r.PathValue("run"))
	if err != nil {
		s.billingFail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, run)
}

func (s *Server) invoicePDF(w http.ResponseWriter, r *http.Request) {
	number, ok := strings.CutSuffix(r.PathValue("file"), ".pdf")
	if !ok {
		s.writeError(w, http.StatusNotFound, protocol.CodeNotFound, "want NUMBER.pdf")
		return
	}
	pdf, err := s.billing.InvoicePDF(r.Context(), r.PathValue("id"), r.PathValue("run"), number)
	if err != nil {
		s.billingFail(w, r, err)
		return
	}
	download(w, "application/pdf", safeName(number)+".pdf")
	w.Write(pdf)
}

var unsafeFile = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func safeName(s string) string { return strings.Trim(unsafeFile.ReplaceAllString(s, "_"), "._") }

func download(w http.ResponseWriter, ctype, name string) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, name))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

// WriteRunZip writes a run's PDFs as one zip (NUMBER-FAMILY.pdf, dated
// the run's time, so the same run gives the same zip).
func (b *Billing) WriteRunZip(r *http.Request, w http.ResponseWriter, loc, runID string) error {
	run, err := b.GetRun(r.Context(), loc, runID)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, i := range run.Invoices {
		pdf, err := b.InvoicePDF(r.Context(), loc, runID, i.Number)
		if err != nil {
			return err
		}
		f, err := zw.CreateHeader(&zip.FileHeader{Name: safeName(i.Number) + "-" + safeName(i.FamilyID) + ".pdf", Method: zip.Store, Modified: run.Created})
		if err != nil {
			return err
		}
		if _, err := f.Write(pdf); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	download(w, "application/zip", fmt.Sprintf("facturen-%s-%s-%s.zip", safeName(loc), run.Period, safeName(run.FirstNumber)))
	_, err = w.Write(buf.Bytes())
	return err
}

func (s *Server) invoicesZip(w http.ResponseWriter, r *http.Request) {
	if err := s.billing.WriteRunZip(r, w, r.PathValue("id"), r.PathValue("run")); err != nil {
		s.billingFail(w, r, err)
	}
}

func (s *Server) runSEPA(w http.ResponseWriter, r *http.Request) {
	loc, id := r.PathValue("id"), r.PathValue("run")
	xml, _, err := s.billing.SEPA(r.Context(), loc, id)
	if err != nil {
		s.billingFail(w, r, err)
		return
	}
	download(w, "application/xml", fmt.Sprintf("incasso-%s-%s.xml", safeName(loc), safeName(id)))
	w.Write(xml)
}

// RunLines are the invoice lines of a run (a correction's credits with
// negative amounts), every invoice's lines in number order.
func RunLines(run Run) []billing.Line {
	var out []billing.Line
	for _, i := range run.Invoices {
		for _, c := range i.Invoice.Children {
			out = append(out, c.Lines...)
		}
	}
	return out
}

func (s *Server) runLines(w http.ResponseWriter, r *http.Request) {
	f, err := sheet.ParseFormat(cmp.Or(r.URL.Query().Get("format"), "xlsx"))
	if err != nil {
		s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, err.Error())
		return
	}
	run, err := s.billing.GetRun(r.Context(), r.PathValue("id"), r.PathValue("run"))
	if err != nil {
		s.billingFail(w, r, err)
		return
	}
	SetDownload(w.Header(), f, fmt.Sprintf("factuurregels-%s-%s-%s", safeName(run.LocationID), run.Period, run.ID))
	if err := WriteRunLines(w, f, run); err != nil {
		s.log.Warn("central: run lines", "err", err)
	}
}

func (s *Server) runCollected(w http.ResponseWriter, r *http.Request) {
	loc, id := r.PathValue("id"), r.PathValue("run")
	n, err := s.billing.MarkCollected(r.Context(), loc, id)
	if err != nil {
		s.billingFail(w, r, err)
		return
	}
	s.record(r, audit.BillingSettings, "location:"+loc, map[string]any{"change": "sepa_collected", "run": id, "mandates_now_rcur": n})
	s.writeJSON(w, http.StatusOK, map[string]any{"run": id, "mandates_now_rcur": n})
}

func (s *Server) runDiff(w http.ResponseWriter, r *http.Request) {
	d, err := s.billing.Diff(r.Context(), r.PathValue("id"), r.URL.Query().Get("month"))
	if err != nil {
		s.billingFail(w, r, err)
		return
	}
	if d.Families == nil {
		d.Families = []FamilyDiff{}
	}
	s.writeJSON(w, http.StatusOK, d)
}

func (s *Server) issueCorrections(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Month       string `json:"month"`
		Fingerprint string `json:"fingerprint"`
	}
	if !s.readJSON(w, r, &req) {
		return
	}
	loc := r.PathValue("id")
	run, err := s.billing.Correct(r.Context(), loc, req.Month, req.Fingerprint, principalActor(r))
	if err != nil {
		s.billingFail(w, r, err)
		return
	}
	s.record(r, audit.BillingRun, "location:"+loc, RunAudit(run))
	s.writeJSON(w, http.StatusCreated, run)
}

func (s *Server) getProvider(w http.ResponseWriter, r *http.Request) {
	p, err := s.billing.Provider(r.Context(), r.PathValue("id"))
	if err != nil {
		s.billingFail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, p)
}

func (s *Server) putProvider(w http.ResponseWriter, r *http.Request) {
	var p invoice.Provider
	if !s.readJSON(w, r, &p) {
		return
	}
	loc := r.PathValue("id")
	if err := s.billing.SetProvider(r.Context(), loc, p, principalActor(r)); err != nil {
		s.billingFail(w, r, err)
		return
	}
	s.record(r, audit.BillingSettings, "location:"+loc, map[string]any{"change": "provider", "iban": maskIBAN(p.IBAN), "creditor_id": p.CreditorID})
	s.writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}

// maskIBAN keeps an audit record useful without the whole account number.
func maskIBAN(s string) string {
	if len(s) < 8 {
		return s
	}
	return s[:4] + "…" + s[len(s)-4:]
}

func (s *Server) listMandates(w http.ResponseWriter, r *http.Request) {
	ms, err := s.billing.Mandates(r.Context(), r.PathValue("id"))
	if err != nil {
		s.billingFail(w, r, err)
		return
	}
	out := make([]Mandate, 0, len(ms))
	for _, m := range ms {
		out = append(out, m)
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"mandates": out})
}

func (s *Server) putMandate(w http.ResponseWriter, r *http.Request) {
	var m struct {
		MandateID string `json:"mandate_id"`
		IBAN      string `json:"iban"`
		BIC       string `json:"bic"`
		Holder    string `json:"holder"`
		Signed    string `json:"signed"`
		Sequence  string `json:"sequence"` // FRST or RCUR (default)
	}
	if !s.readJSON(w, r, &m) {
		return
	}
	loc, fam := r.PathValue("id"), r.PathValue("family")
	md, err := ParseMandate(fam, m.MandateID, m.IBAN, m.BIC, m.Holder, m.Signed, m.Sequence)
	if err == nil {
		// Any guardian of the family names it; the mandate is the family's.
		md.FamilyID, err = s.billing.MandateFamily(r.Context(), loc, fam)
	}
	if err == nil {
		err = s.billing.SetMandate(r.Context(), loc, md)
	}
	if err != nil {
		s.billingFail(w, r, err)
		return
	}
	s.record(r, audit.BillingSettings, "location:"+loc, map[string]any{"change": "mandate", "family": md.FamilyID, "mandate": md.ID, "iban": maskIBAN(md.IBAN)})
	s.writeJSON(w, http.StatusOK, map[string]any{"ok": true, "family_id": md.FamilyID})
}

func (s *Server) deleteMandate(w http.ResponseWriter, r *http.Request) {
	loc, fam := r.PathValue("id"), r.PathValue("family")
	if err := s.billing.DeleteMandate(r.Context(), loc, fam); err != nil {
		s.billingFail(w, r, err)
		return
	}
	s.record(r, audit.BillingSettings, "location:"+loc, map[string]any{"change": "mandate_removed", "family": fam})
	s.writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}
