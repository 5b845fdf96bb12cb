package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/auth"
)

// portalRoutes are the admins' page of the parents' portal per location:
// the guardians, their invitation e-mail, whether they have a passkey and
// whether their access was withdrawn. Admins and managers
// (EditPersonalData, as PUT /api/v1/admin/locations/{id}/guardians/{person}).
func (s *Server) portalRoutes() []Route {
	return []Route{
		{"GET", "/locations/{loc}/portal", auth.EditPersonalData, s.portalPage},
		{"POST", "/locations/{loc}/portal/{person}", auth.EditPersonalData, s.portalGuardian},
	}
}

// guardianRow is one guardian on the portal page.
type guardianRow struct {
	PersonID, Name, Children string
	Email                    string
	Invited, Passkey         bool
	Withdrawn, Notify        bool
}

type portalData struct {
	Loc       central.Location
	Guardians []guardianRow
	Done      string // the action just done (save, withdraw, restore)
}

func (s *Server) portalPage(w http.ResponseWriter, r *http.Request) {
	d, err := s.portalData(r, r.PathValue("loc"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	switch ok := r.URL.Query().Get("ok"); ok {
	case "save", "withdraw", "restore":
		d.Done = ok
	}
	v := s.newView(r, "portal_admin", d)
	v.Flash = "" // the layout's flash speaks of roster versions; this page says its own
	s.render(w, http.StatusOK, "portal", v)
}

func (s *Server) portalData(r *http.Request, loc string) (portalData, error) {
	ctx := r.Context()
	rs, l, err := s.loadRoster(ctx, loc)
	if err != nil {
		return portalData{}, err
	}
	links, err := s.parents.GuardianEmails(ctx, loc)
	if err != nil {
		return portalData{}, err
	}
	byPerson := map[string]central.GuardianLink{}
	for _, k := range links {
		byPerson[k.PersonID] = k
	}
	child := map[string]string{}
	for _, c := range rs.Children {
		child[c.ID] = c.FirstName
	}
	kids := map[string][]string{}
	for _, g := range rs.Guardianships {
		if !slices.Contains(kids[g.PersonID], child[g.ChildID]) {
			kids[g.PersonID] = append(kids[g.PersonID], child[g.ChildID])
		}
	}
	d := portalData{Loc: l}
	for _, p := range rs.People {
		if _, ok := kids[p.ID]; !ok {
			continue // not a guardian here
		}
		k := byPerson[p.ID]
		row := guardianRow{PersonID: p.ID, Name: p.Name, Children: strings.Join(kids[p.ID], ", "), Email: k.Email,
			Invited: k.Email != "", Withdrawn: k.Withdrawn, Notify: k.NotifyCheckout}
		if row.Invited {
			if row.Passkey, err = s.parents.HasPasskey(ctx, k.Email); err != nil {
				return d, err
			}
		}
		d.Guardians = append(d.Guardians, row)
	}
	return d, nil
}

// portalGuardian sets or changes a guardian's invitation e-mail (empty:
// no invitation), or withdraws or restores their access (action).
func (s *Server) portalGuardian(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	loc, person := r.PathValue("loc"), r.PathValue("person")
	rs, _, err := s.loadRoster(ctx, loc)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !isGuardian(&rs, person) {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	action := r.PostFormValue("action")
	details := map[string]any{"location": loc}
	switch action {
	case "save":
		email := strings.TrimSpace(r.PostFormValue("email"))
		err = s.parents.SetGuardianEmail(ctx, loc, person, email)
		details["portal_invitation"] = email != ""
	case "withdraw", "restore":
		err = s.parents.SetGuardianWithdrawn(ctx, loc, person, action == "withdraw")
		details["withdrawn"] = action == "withdraw"
	default:
		err = badInput("action")
	}
	if errors.Is(err, central.ErrMalformed) {
		d, derr := s.portalData(r, loc)
		if derr != nil {
			s.fail(w, r, derr)
			return
		}
		v := s.newView(r, "portal_admin", d)
		v.Error = v.T("portal_bad_email")
		s.render(w, http.StatusBadRequest, "portal", v)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.appendAudit(ctx, r, audit.PersonalDataChange, "person:"+person, details); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/locations/"+loc+"/portal?ok="+action, http.StatusSeeOther)
}

func isGuardian(rs *roster.Roster, person string) bool {
	for _, g := range rs.Guardianships {
		if g.PersonID == person {
			return true
		}
	}
	return false
}
