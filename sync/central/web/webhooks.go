package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/auth"
)

// webhookRoutes are the pages of the outgoing webhooks: endpoints, their
// delivery log and "retry now". Admins only (ManageDevices), as in the API.
func (s *Server) webhookRoutes() []Route {
	return []Route{
		{"GET", "/webhooks", auth.ManageDevices, s.webhooksPage},
		{"POST", "/webhooks", auth.ManageDevices, s.createWebhook},
		{"GET", "/webhooks/{id}", auth.ManageDevices, s.webhookPage},
		{"POST", "/webhooks/{id}", auth.ManageDevices, s.updateWebhook},
		{"POST", "/webhooks/{id}/secret", auth.ManageDevices, s.rotateWebhookSecret},
		{"POST", "/webhooks/{id}/test", auth.ManageDevices, s.testWebhook},
		{"POST", "/webhooks/{id}/delete", auth.ManageDevices, s.deleteWebhook},
		{"POST", "/webhooks/{id}/deliveries/{delivery}/retry", auth.ManageDevices, s.retryWebhookDelivery},
	}
}

type webhooksData struct {
	Endpoints []central.WebhookEndpoint
	Locations []central.Location
	Types     []string
	Secret    string // a new endpoint's secret, shown once
	SecretFor string
	Form      central.WebhookInput
}

func (s *Server) webhooksPage(w http.ResponseWriter, r *http.Request) {
	s.renderWebhooks(w, r, http.StatusOK, webhooksData{Form: central.WebhookInput{Events: central.HookEventTypes}}, "")
}

func (s *Server) renderWebhooks(w http.ResponseWriter, r *http.Request, status int, d webhooksData, errMsg string) {
	eps, err := s.cfg.DB.Webhooks.Endpoints(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	locs, err := s.sites.Locations(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Endpoints, d.Locations, d.Types = eps, locs, central.HookEventTypes
	v := s.newView(r, "webhooks", d)
	v.Error = errMsg
	s.render(w, status, "webhooks", v)
}

func webhookForm(r *http.Request) central.WebhookInput {
	active := r.PostFormValue("active") == "on" || r.PostFormValue("active") == "1"
	return central.WebhookInput{
		URL:              strings.TrimSpace(r.PostFormValue("url")),
		LocationID:       r.PostFormValue("location"),
		Events:           r.PostForm["events"],
		IncludeFirstName: r.PostFormValue("include_first_name") == "on",
		Active:           &active,
		Description:      strings.TrimSpace(r.PostFormValue("description")),
	}
}

// webhookInputError is the message of an input the store refused, or ""
// when err is something else.
func webhookInputError(l Lang, err error) string {
	switch {
	case errors.Is(err, central.ErrWebhookURL):
		return T(l, "webhook_url_refused") + " (" + err.Error() + ")"
	case errors.Is(err, central.ErrMalformed), errors.Is(err, central.ErrNotFound):
		return err.Error()
	}
	return ""
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, badInput("form"))
		return
	}
	in := webhookForm(r)
	ep, secret, err := s.cfg.DB.Webhooks.CreateEndpoint(r.Context(), in)
	if msg := webhookInputError(langOf(r), err); msg != "" {
		s.renderWebhooks(w, r, http.StatusUnprocessableEntity, webhooksData{Form: in}, msg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.appendAudit(r.Context(), r, audit.WebhookChange, "webhook:"+ep.ID, map[string]any{"op": "created", "url": ep.URL,
		"location": ep.LocationID, "events": ep.Events, "include_first_name": ep.IncludeFirstName, "active": ep.Active}); err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderWebhooks(w, r, http.StatusOK, webhooksData{Secret: secret, SecretFor: ep.ID, Form: central.WebhookInput{Events: central.HookEventTypes}}, "")
}

type webhookData struct {
	E          central.WebhookEndpoint
	Deliveries []central.WebhookDelivery
	Locations  []central.Location
	Types      []string
	Status     string
	Secret     string
}

// Subscribed reports whether the endpoint takes event type t (for the form).
func (d webhookData) Subscribed(t string) bool {
	for _, e := range d.E.Events {
		if e == t {
			return true
		}
	}
	return false
}

func (s *Server) webhookPage(w http.ResponseWriter, r *http.Request) {
	s.renderWebhook(w, r, http.StatusOK, "", "")
}

func (s *Server) renderWebhook(w http.ResponseWriter, r *http.Request, status int, secret, errMsg string) {
	id := r.PathValue("id")
	ep, err := s.cfg.DB.Webhooks.Endpoint(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st := r.URL.Query().Get("status")
	switch st {
	case "", "pending", "delivered", "dead":
	default:
		st = ""
	}
	ds, err := s.cfg.DB.Webhooks.Deliveries(r.Context(), id, st, 200, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	locs, err := s.sites.Locations(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.newView(r, "webhook", webhookData{E: ep, Deliveries: ds, Locations: locs, Types: central.HookEventTypes, Status: st, Secret: secret})
	v.Error = errMsg
	s.render(w, status, "webhook", v)
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, badInput("form"))
		return
	}
	id := r.PathValue("id")
	ep, err := s.cfg.DB.Webhooks.UpdateEndpoint(r.Context(), id, webhookForm(r))
	if msg := webhookInputError(langOf(r), err); msg != "" && !errors.Is(err, central.ErrNotFound) {
		s.renderWebhook(w, r, http.StatusUnprocessableEntity, "", msg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.appendAudit(r.Context(), r, audit.WebhookChange, "webhook:"+id, map[string]any{"op": "updated", "url": ep.URL,
		"location": ep.LocationID, "events": ep.Events, "include_first_name": ep.IncludeFirstName, "active": ep.Active}); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/webhooks/"+id+"?ok=1", http.StatusSeeOther)
}

func (s *Server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	secret, err := s.cfg.DB.Webhooks.RotateSecret(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.appendAudit(r.Context(), r, audit.WebhookChange, "webhook:"+id, map[string]any{"op": "secret_rotated"}); err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderWebhook(w, r, http.StatusOK, secret, "")
}

func (s *Server) testWebhook(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := s.cfg.DB.Webhooks.SendTest(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/webhooks/"+id+"?ok=1", http.StatusSeeOther)
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.cfg.DB.Webhooks.DeleteEndpoint(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.appendAudit(r.Context(), r, audit.WebhookChange, "webhook:"+id, map[string]any{"op": "deleted"}); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/webhooks?ok=1", http.StatusSeeOther)
}

func (s *Server) retryWebhookDelivery(w http.ResponseWriter, r *http.Request) {
	id, del := r.PathValue("id"), r.PathValue("delivery")
	err := s.cfg.DB.Webhooks.RetryDelivery(r.Context(), id, del)
	if errors.Is(err, central.ErrConflict) {
		s.renderWebhook(w, r, http.StatusConflict, "", T(langOf(r), "webhook_not_retryable"))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.appendAudit(r.Context(), r, audit.WebhookChange, "webhook:"+id, map[string]any{"op": "retry", "delivery": del}); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/webhooks/"+id+"?ok=1", http.StatusSeeOther)
}
