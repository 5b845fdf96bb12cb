package central

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/sync/central/auth"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// correctionStore is what the API uses of the corrections (*CorrectionStore).
type correctionStore interface {
	Make(ctx context.Context, req CorrectionRequest) (StoredCorrection, error)
	After(ctx context.Context, locationID string, after int64, limit int) (protocol.Corrections, error)
	List(ctx context.Context, locationID string, from, to time.Time) ([]StoredCorrection, error)
	LocalTime(ctx context.Context, locationID, date, clock string) (time.Time, error)
}

// CorrectionInput is the JSON of POST /api/v1/admin/locations/{id}/corrections
// and what the correction form posts: times are local "HH:MM" on date
// (YYYY-MM-DD) in the location's time zone, or RFC 3339 instants.
type CorrectionInput struct {
	ChildID  string `json:"child_id"`
	Kind     string `json:"kind"`
	Target   string `json:"target,omitempty"`
	Date     string `json:"date,omitempty"`
	CheckIn  string `json:"check_in,omitempty"`
	CheckOut string `json:"check_out,omitempty"`
	Reason   string `json:"reason"`
}

// Request turns the input into a correction request by who ("user:<id>").
func (in CorrectionInput) Request(ctx context.Context, s correctionStore, locationID, who string) (CorrectionRequest, error) {
	c := attendance.Correction{Kind: attendance.CorrectionKind(in.Kind), Target: strings.TrimSpace(in.Target), Reason: in.Reason, By: who}
	parse := func(v string) (time.Time, error) {
		v = strings.TrimSpace(v)
		if v == "" {
			return time.Time{}, nil
		}
		if strings.Contains(v, "T") {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return t, fmt.Errorf("%w: time %q: want HH:MM or RFC 3339", ErrBadCorrection, v)
			}
			return t, nil
		}
		return s.LocalTime(ctx, locationID, in.Date, v)
	}
	var err error
	if c.CheckIn, err = parse(in.CheckIn); err != nil {
		return CorrectionRequest{}, err
	}
	if c.CheckOut, err = parse(in.CheckOut); err != nil {
		return CorrectionRequest{}, err
	}
	// Only the times a kind uses are kept (a form may post both fields).
	switch c.Kind {
	case attendance.SetCheckIn:
		c.CheckOut = time.Time{}
	case attendance.SetCheckOut:
		c.CheckIn = time.Time{}
	case attendance.RemoveStay:
		c.CheckIn, c.CheckOut = time.Time{}, time.Time{}
	case attendance.AddStay:
		c.Target = ""
	}
	return CorrectionRequest{LocationID: locationID, ChildID: strings.TrimSpace(in.ChildID), Correction: c}, nil
}

// LocalTime reads clock (HH:MM) on date (YYYY-MM-DD) in the location's
// time zone.
func (s *CorrectionStore) LocalTime(ctx context.Context, locationID, date, clock string) (time.Time, error) {
	r, _, err := s.sites.Roster(ctx, locationID)
	if err != nil {
		return time.Time{}, err
	}
	cal, err := CalendarFor(r.Location)
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.ParseInLocation("2006-01-02 15:04", strings.TrimSpace(date)+" "+strings.TrimSpace(clock), cal.Location())
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: date %q and time %q: want YYYY-MM-DD and HH:MM", ErrBadCorrection, date, clock)
	}
	return t, nil
}

// deviceCorrections lists the corrections of the device's location after
// ?after= (central -> kiosk).
func (s *Server) deviceCorrections(w http.ResponseWriter, r *http.Request, dev Device, _ []byte) {
	after, err := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	if err != nil || after < 0 {
		s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, "want ?after=N (the last cursor the kiosk holds, 0 at first)")
		return
	}
	page, err := s.corrections.After(r.Context(), dev.LocationID, after, protocol.MaxCorrectionsPage)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, page)
}

// listCorrections lists a location's corrections (?from=&to= dates touch).
func (s *Server) listCorrections(w http.ResponseWriter, r *http.Request) {
	loc := r.PathValue("id")
	var from, to time.Time
	for name, dst := range map[string]*time.Time{"from": &from, "to": &to} {
		if v := r.URL.Query().Get(name); v != "" {
			d, err := time.Parse(time.DateOnly, v)
			if err != nil {
				s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, name+": want YYYY-MM-DD")
				return
			}
			*dst = d
		}
	}
	if !to.IsZero() {
		to = to.AddDate(0, 0, 2) // through the day, in any time zone
	}
	if !from.IsZero() {
		from = from.AddDate(0, 0, -1)
	}
	list, err := s.corrections.List(r.Context(), loc, from, to)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if list == nil {
		list = []StoredCorrection{}
	}
	s.writeJSON(w, http.StatusOK, list)
}

// createCorrection records a manager's correction (permission
// correct_attendance; audited).
func (s *Server) createCorrection(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r, protocol.MaxSmallBody)
	if !ok {
		return
	}
	var in CorrectionInput
	if err := json.Unmarshal(body, &in); err != nil {
		s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, "json: "+err.Error())
		return
	}
	p, _ := auth.PrincipalFrom(r.Context())
	sc, err := MakeCorrection(r.Context(), s.corrections, r.PathValue("id"), "user:"+p.ID, in)
	switch {
	case errors.Is(err, ErrNotFound):
		s.writeError(w, http.StatusNotFound, protocol.CodeNotFound, err.Error())
	case errors.Is(err, ErrMalformed):
		s.writeError(w, http.StatusUnprocessableEntity, "invalid_correction", err.Error())
	case err != nil:
		s.internal(w, r, err)
	default:
		s.writeJSON(w, http.StatusCreated, sc)
	}
}

// MakeCorrection parses and makes a correction: the API's and the admin
// pages' one path.
func MakeCorrection(ctx context.Context, s correctionStore, locationID, who string, in CorrectionInput) (StoredCorrection, error) {
	req, err := in.Request(ctx, s, locationID, who)
	if err != nil {
		return StoredCorrection{}, err
	}
	return s.Make(ctx, req)
}
