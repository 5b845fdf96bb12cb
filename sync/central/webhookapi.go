package central

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/sync/central/auth"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// webhookAdmin is what the API uses of the Webhooks store.
type webhookAdmin interface {
	CreateEndpoint(ctx context.Context, in WebhookInput) (WebhookEndpoint, string, error)
	UpdateEndpoint(ctx context.Context, id string, in WebhookInput) (WebhookEndpoint, error)
	RotateSecret(ctx context.Context, id string) (string, error)
	DeleteEndpoint(ctx context.Context, id string) error
	Endpoint(ctx context.Context, id string) (WebhookEndpoint, error)
	Endpoints(ctx context.Context) ([]WebhookEndpoint, error)
	Deliveries(ctx context.Context, endpointID, status string, limit int, payloads bool) ([]WebhookDelivery, error)
	RetryDelivery(ctx context.Context, endpointID, id string) error
	SendTest(ctx context.Context, endpointID string) (string, error)
}

// CodeURLRefused answers an endpoint URL that is not https, or resolves
// to a loopback, private, link-local or reserved address.
const CodeURLRefused = "url_refused"

// webhookRoutes registers the webhook admin API. Endpoints decide where
// attendance data goes: ManageDevices (admins), like connecting a door.
func (s *Server) webhookRoutes(m *routeMux, admin func(auth.Permission, http.HandlerFunc) http.Handler) {
	const base = "/api/v1/admin/webhooks"
	m.Handle("GET "+base, admin(auth.ManageDevices, s.listWebhooks))
	m.Handle("POST "+base, admin(auth.ManageDevices, s.createWebhook))
	m.Handle("GET "+base+"/{id}", admin(auth.ManageDevices, s.getWebhook))
	m.Handle("PUT "+base+"/{id}", admin(auth.ManageDevices, s.updateWebhook))
	m.Handle("DELETE "+base+"/{id}", admin(auth.ManageDevices, s.deleteWebhook))
	m.Handle("POST "+base+"/{id}/secret", admin(auth.ManageDevices, s.rotateWebhookSecret))
	m.Handle("POST "+base+"/{id}/test", admin(auth.ManageDevices, s.testWebhook))
	m.Handle("GET "+base+"/{id}/deliveries", admin(auth.ManageDevices, s.listWebhookDeliveries))
	m.Handle("POST "+base+"/{id}/deliveries/{delivery}/retry", admin(auth.ManageDevices, s.retryWebhookDelivery))
}

// WebhookStatus is the HTTP status and error code of a webhook error.
func WebhookStatus(err error) (int, string) {
	switch {
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound, protocol.CodeNotFound
	case errors.Is(err, ErrWebhookURL):
		return http.StatusUnprocessableEntity, CodeURLRefused
	case errors.Is(err, ErrMalformed):
		return http.StatusBadRequest, protocol.CodeMalformed
	case errors.Is(err, ErrConflict):
		return http.StatusConflict, protocol.CodeConflict
	}
	return http.StatusInternalServerError, protocol.CodeInternal
}

func (s *Server) webhookFail(w http.ResponseWriter, r *http.Request, err error) {
	status, code := WebhookStatus(err)
	if status == http.StatusInternalServerError {
		s.internal(w, r, err)
		return
	}
	s.writeError(w, status, code, err.Error())
}

func (s *Server) webhookInput(w http.ResponseWriter, r *http.Request) (WebhookInput, bool) {
	var in WebhookInput
	body, ok := s.readBody(w, r, protocol.MaxSmallBody)
	if !ok {
		return in, false
	}
	if err := json.Unmarshal(body, &in); err != nil {
		s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, `want {"url":"https://...","events":["attendance.check_in"],"location_id":"","include_first_name":false,"active":true}`)
		return in, false
	}
	return in, true
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	eps, err := s.webhooks.Endpoints(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if eps == nil {
		eps = []WebhookEndpoint{}
	}
	s.writeJSON(w, http.StatusOK, eps)
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	in, ok := s.webhookInput(w, r)
	if !ok {
		return
	}
	ep, secret, err := s.webhooks.CreateEndpoint(r.Context(), in)
	if err != nil {
		s.webhookFail(w, r, err)
		return
	}
	s.record(r, audit.WebhookChange, "webhook:"+ep.ID, webhookAuditDetails("created", ep))
	w.Header().Set("Location", "/api/v1/admin/webhooks/"+ep.ID)
	s.writeJSON(w, http.StatusCreated, struct {
		WebhookEndpoint
		Secret string `json:"secret"`
	}{ep, secret})
}

func webhookAuditDetails(op string, ep WebhookEndpoint) map[string]any {
	return map[string]any{"op": op, "url": ep.URL, "location": ep.LocationID, "events": ep.Events,
		"include_first_name": ep.IncludeFirstName, "active": ep.Active}
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) {
	ep, err := s.webhooks.Endpoint(r.Context(), r.PathValue("id"))
	if err != nil {
		s.webhookFail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, ep)
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request) {
	in, ok := s.webhookInput(w, r)
	if !ok {
		return
	}
	ep, err := s.webhooks.UpdateEndpoint(r.Context(), r.PathValue("id"), in)
	if err != nil {
		s.webhookFail(w, r, err)
		return
	}
	s.record(r, audit.WebhookChange, "webhook:"+ep.ID, webhookAuditDetails("updated", ep))
	s.writeJSON(w, http.StatusOK, ep)
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.webhooks.DeleteEndpoint(r.Context(), id); err != nil {
		s.webhookFail(w, r, err)
		return
	}
	s.record(r, audit.WebhookChange, "webhook:"+id, map[string]any{"op": "deleted"})
	s.writeJSON(w, http.StatusOK, map[string]string{"deleted": id})
}

func (s *Server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	secret, err := s.webhooks.RotateSecret(r.Context(), id)
	if err != nil {
		s.webhookFail(w, r, err)
		return
	}
	s.record(r, audit.WebhookChange, "webhook:"+id, map[string]any{"op": "secret_rotated"})
	s.writeJSON(w, http.StatusOK, map[string]string{"id": id, "secret": secret})
}

func (s *Server) testWebhook(w http.ResponseWriter, r *http.Request) {
	id, err := s.webhooks.SendTest(r.Context(), r.PathValue("id"))
	if err != nil {
		s.webhookFail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusAccepted, map[string]string{"delivery_id": id})
}

func (s *Server) listWebhookDeliveries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 1000 {
			s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, "limit: 1..1000")
			return
		}
		limit = n
	}
	status := q.Get("status")
	switch status {
	case "", "pending", "delivered", "dead":
	default:
		s.writeError(w, http.StatusBadRequest, protocol.CodeMalformed, "status: pending, delivered or dead")
		return
	}
	ds, err := s.webhooks.Deliveries(r.Context(), r.PathValue("id"), status, limit, q.Get("payload") == "1")
	if err != nil {
		s.webhookFail(w, r, err)
		return
	}
	if ds == nil {
		ds = []WebhookDelivery{}
	}
	s.writeJSON(w, http.StatusOK, ds)
}

func (s *Server) retryWebhookDelivery(w http.ResponseWriter, r *http.Request) {
	id, del := r.PathValue("id"), r.PathValue("delivery")
	if err := s.webhooks.RetryDelivery(r.Context(), id, del); err != nil {
		s.webhookFail(w, r, err)
		return
	}
	s.record(r, audit.WebhookChange, "webhook:"+id, map[string]any{"op": "retry", "delivery": del})
	s.writeJSON(w, http.StatusAccepted, map[string]string{"retrying": del})
}

// openAPIDoc is the OpenAPI 3.1 description of the whole /api surface
// (admin, device and parent API), written by hand and checked against the
// registered routes by TestOpenAPIMatchesRoutes.
//
//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI returns the OpenAPI 3.1 description central serves at
// /api/openapi.json.
func OpenAPI() []byte { return openAPIDoc }

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(openAPIDoc)
}
