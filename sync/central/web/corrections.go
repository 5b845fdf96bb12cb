package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/auth"
)

// Corrections of stays: managers correct any day (a check-in or check-out
// time, a missed stay, a wrong one) with a reason; the door's events stay,
// the correction is a new record that reports fold in, that reaches the
// kiosks, and that the audit trail keeps (who, when, why).

func (s *Server) correctionRoutes() []Route {
	return []Route{
		{"GET", "/locations/{loc}/corrections", auth.ReadAttendance, s.correctionsPage},
		{"POST", "/locations/{loc}/corrections", auth.CorrectAttendance, s.makeCorrection},
	}
}

type correctionRow struct {
	central.StoredCorrection
	Child, Made, In, Out, Target, By string
}

type correctionsData struct {
	Loc      central.Location
	From, To attendance.Date
	Children []roster.Child
	Form     central.CorrectionInput
	Stay     string // the stay being corrected, in words
	Rows     []correctionRow
}

func (s *Server) correctionsPage(w http.ResponseWriter, r *http.Request) {
	s.renderCorrections(w, r, http.StatusOK, nil, nil)
}

func (s *Server) renderCorrections(w http.ResponseWriter, r *http.Request, status int, form *central.CorrectionInput, formErr error) {
	rs, l, err := s.loadRoster(r.Context(), r.PathValue("loc"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	from, to, err := s.period(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	d := correctionsData{Loc: l, From: from, To: to, Children: rs.Children}
	if form != nil {
		d.Form = *form
	} else {
		d.Form = central.CorrectionInput{ChildID: q.Get("child"), Kind: q.Get("kind"), Target: q.Get("stay"), Date: q.Get("date"),
			CheckIn: q.Get("in"), CheckOut: q.Get("out")}
		if d.Form.Kind == "" {
			d.Form.Kind = string(attendance.SetCheckOut)
			if d.Form.Target == "" {
				d.Form.Kind = string(attendance.AddStay)
			}
		}
		if d.Form.Date == "" {
			d.Form.Date = to.String()
		}
	}
	names := map[string]string{}
	for _, c := range rs.Children {
		names[c.ID] = c.FirstName
	}
	if d.Form.Target != "" {
		d.Stay = fmt.Sprintf("%s, %s %s–%s", names[d.Form.ChildID], d.Form.Date, q.Get("in"), q.Get("out"))
	}
	tz := time.UTC
	if cal, err := central.CalendarFor(rs.Location); err == nil {
		tz = cal.Location()
	}
	list, err := s.corrections.List(r.Context(), l.ID, from.In(tz), to.In(tz).AddDate(0, 0, 1))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	hm := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(tz).Format("02-01-2006 15:04")
	}
	who := map[string]string{} // "user:<id>" -> e-mail; staff by roster name
	if us, err := s.users.Users(r.Context()); err == nil {
		for _, u := range us {
			who["user:"+u.ID] = u.Email
		}
	}
	for _, st := range rs.Staff {
		who["staff:"+st.ID] = st.Name + " (" + T(langOf(r), "source_kiosk") + ")"
	}
	for i := len(list) - 1; i >= 0; i-- { // newest first
		c := list[i]
		row := correctionRow{StoredCorrection: c, Child: names[c.Event.ChildID], Made: hm(c.Event.Wall)}
		if c.Event.Correction != nil {
			row.By = c.Event.Correction.By
			if n, ok := who[row.By]; ok {
				row.By = n
			}
			row.In, row.Out, row.Target = hm(c.Event.Correction.CheckIn), hm(c.Event.Correction.CheckOut), c.Event.Correction.Target
		}
		d.Rows = append(d.Rows, row)
	}
	v := s.newView(r, "corrections", d)
	if formErr != nil {
		v.Error = formErr.Error()
	}
	s.render(w, status, "corrections", v)
}

func (s *Server) makeCorrection(w http.ResponseWriter, r *http.Request) {
	loc := r.PathValue("loc")
	in := central.CorrectionInput{ChildID: r.PostFormValue("child_id"), Kind: r.PostFormValue("kind"), Target: r.PostFormValue("target"),
		Date: r.PostFormValue("date"), CheckIn: r.PostFormValue("check_in"), CheckOut: r.PostFormValue("check_out"), Reason: r.PostFormValue("reason")}
	_, err := central.MakeCorrection(r.Context(), s.corrections, loc, actor(r), in)
	if errors.Is(err, central.ErrMalformed) {
		s.renderCorrections(w, r, http.StatusUnprocessableEntity, &in, err)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	back := url.Values{"from": {in.Date}, "to": {in.Date}, "corrected": {"1"}}
	http.Redirect(w, r, "/locations/"+url.PathEscape(loc)+"/attendance?"+back.Encode(), http.StatusSeeOther)
}
