package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/attendance/retention"
	"github.com/kinderdeur/kiosk/sync/central"
)

func (s *Server) subjectOf(r *http.Request) (string, error) {
	return central.ParseSubject(r.PathValue("kind"), r.PathValue("id"))
}

// exportSubject gathers the export and audits it (personal_data_export).
func (s *Server) exportSubject(r *http.Request, format string) (central.SubjectExport, error) {
	subj, err := s.subjectOf(r)
	if err != nil {
		return central.SubjectExport{}, err
	}
	// Audit first: an export that is not on record must not leave.
	if err := s.appendAudit(r.Context(), r, audit.PersonalDataExport, subj, map[string]any{"format": format}); err != nil {
		return central.SubjectExport{}, err
	}
	return s.subjects.ExportSubject(r.Context(), subj, s.audit)
}

func (s *Server) subjectPage(w http.ResponseWriter, r *http.Request) {
	ex, err := s.exportSubject(r, "html")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, http.StatusOK, "subject", s.newView(r, "export", ex))
}

func (s *Server) subjectJSON(w http.ResponseWriter, r *http.Request) {
	ex, err := s.exportSubject(r, "json")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="export-%s.json"`, safeFile(strings.ReplaceAll(ex.Subject, ":", "-"))))
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ex); err != nil {
		s.log.Warn("web: export", "err", err)
	}
}

// ---- requests and erasure ----

type requestsData struct {
	Requests []central.SubjectRequest
	Kinds    []string
	Plan     *retention.ErasurePlan
	Result   *retention.ErasureResult
}

func (s *Server) requestsPage(w http.ResponseWriter, r *http.Request) {
	s.renderRequests(w, r, http.StatusOK, nil, nil)
}

func (s *Server) renderRequests(w http.ResponseWriter, r *http.Request, status int, plan *retention.ErasurePlan, res *retention.ErasureResult) {
	reqs, err := s.subjects.SubjectRequests(r.Context(), "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, status, "requests", s.newView(r, "requests", requestsData{Requests: reqs, Kinds: central.RequestKinds, Plan: plan, Result: res}))
}

// logRequest registers a request with its one-month deadline; an erasure
// request is also recorded as erasure_requested in the audit trail.
func (s *Server) logRequest(w http.ResponseWriter, r *http.Request) {
	subj, err := central.ParseSubject(r.PostFormValue("subject_kind"), strings.TrimSpace(r.PostFormValue("subject_id")))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req, err := s.subjects.LogSubjectRequest(r.Context(), r.PostFormValue("kind"), subj, actor(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Kind == "erasure" {
		if err := s.appendAudit(r.Context(), r, audit.ErasureRequested, subj, map[string]any{"request_id": req.ID,
			"deadline": req.Deadline.Format("2006-01-02")}); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	http.Redirect(w, r, "/requests?ok="+url.QueryEscape(req.ID), http.StatusSeeOther)
}

func (s *Server) engine() (*retention.Engine, error) {
	return s.subjects.NewRetentionEngine(s.retentionConfig(), s.audit.Hook)
}

func (s *Server) retentionConfig() retention.Config {
	if s.cfg.Retention != nil {
		return *s.cfg.Retention
	}
	return retention.DefaultConfig()
}

// eraseRequest plans the erasure of an erasure request (dry run unless
// apply=1): what no law requires goes now, the rest is scheduled with its
// dates. Applying audits "erasure" (by the engine) and closes the request.
func (s *Server) eraseRequest(w http.ResponseWriter, r *http.Request) {
	req, err := s.subjects.SubjectRequest(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Kind != "erasure" {
		s.fail(w, r, badInput("request %s is not an erasure request", req.ID))
		return
	}
	eng, err := s.engine()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	eng.Actor = actor(r)
	plan, err := eng.PlanErasure(r.Context(), retention.ErasureRequest{ID: req.ID, Subject: req.Subject, Received: req.Received}, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if r.PostFormValue("apply") != "1" {
		s.renderRequests(w, r, http.StatusOK, &plan, nil)
		return
	}
	res, err := eng.ApplyErasure(r.Context(), plan)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	outcome := fmt.Sprintf("deleted %d, scheduled %d, held %d", res.Deleted, res.Scheduled, res.Held)
	if err := s.subjects.CompleteSubjectRequest(r.Context(), req.ID, outcome); err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderRequests(w, r, http.StatusOK, &plan, &res)
}

// ---- retention run ----

type retentionData struct {
	Report retention.Report
	Result *retention.Result
	Config retention.Config
	// LastRun is the newest retention_run audit entry (scheduled or from
	// this page); zero when retention never ran.
	LastRun        time.Time
	LastRunDetails string
}

func (s *Server) retentionData(r *http.Request, rep retention.Report, res *retention.Result) retentionData {
	d := retentionData{Report: rep, Result: res, Config: s.retentionConfig()}
	d.LastRun, d.LastRunDetails, _ = s.subjects.LastRetentionRun(r.Context())
	return d
}

func (s *Server) retentionPage(w http.ResponseWriter, r *http.Request) {
	eng, err := s.engine()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rep, err := eng.PlanStores(r.Context(), s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, http.StatusOK, "retention", s.newView(r, "retention", s.retentionData(r, rep, nil)))
}

func (s *Server) retentionApply(w http.ResponseWriter, r *http.Request) {
	eng, err := s.engine()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	eng.Actor = actor(r)
	rep, err := eng.PlanStores(r.Context(), s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := eng.Apply(r.Context(), rep)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, http.StatusOK, "retention", s.newView(r, "retention", s.retentionData(r, rep, &res)))
}
