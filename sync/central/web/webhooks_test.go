package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/auth"
)

func TestWebhookPages(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		c := e.signedIn(t, auth.RoleAdmin)
		// A private address is refused with a message; nothing is stored.
		code, body := c.post(t, "/webhooks", url.Values{"url": {"https://192.168.1.20/hook"}, "events": {central.HookCheckIn}, "active": {"1"}})
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "niet toegestaan") {
			t.Fatalf("private URL: %d %.300s", code, body)
		}
		code, body = c.post(t, "/webhooks", url.Values{"url": {"https://93.184.215.14/kassa"}, "events": {central.HookCheckIn, central.HookCheckOut},
			"include_first_name": {"on"}, "active": {"1"}, "description": {"Kassasysteem"}})
		secret := regexp.MustCompile(`whsec_[A-Za-z0-9_-]{43}`).FindString(body)
		if code != http.StatusOK || secret == "" {
			t.Fatalf("create: %d %.500s", code, body)
		}
		eps, _ := e.db.Webhooks.Endpoints(context.Background())
		var ep central.WebhookEndpoint
		for _, x := range eps {
			if x.Description == "Kassasysteem" {
				ep = x
			}
		}
		if !ep.IncludeFirstName || !ep.Active || len(ep.Events) != 2 {
			t.Fatalf("stored %+v", ep)
		}
		// The secret is shown once.
		for _, p := range []string{"/webhooks", "/webhooks/" + ep.ID} {
			if _, body := c.get(t, p); strings.Contains(body, secret) {
				t.Errorf("%s shows the secret again", p)
			}
		}
		// Test event, then the log shows it with a retry button.
		if code, _ := c.post(t, "/webhooks/"+ep.ID+"/test", nil); code != http.StatusOK && code != http.StatusSeeOther {
			t.Fatalf("test: %d", code)
		}
		_, body = c.get(t, "/webhooks/"+ep.ID)
		ds, _ := e.db.Webhooks.Deliveries(context.Background(), ep.ID, "", 0, false)
		if len(ds) != 1 || !strings.Contains(body, ds[0].ID) || !strings.Contains(body, "/deliveries/"+ds[0].ID+"/retry") {
			t.Fatalf("delivery log: %v %.300s", ds, body)
		}
		if code, _ := c.post(t, "/webhooks/"+ep.ID+"/deliveries/"+ds[0].ID+"/retry", nil); code != http.StatusOK && code != http.StatusSeeOther {
			t.Errorf("retry now: %d", code)
		}
		// Deactivate: unchecked boxes are off.
		c.post(t, "/webhooks/"+ep.ID, url.Values{"url": {ep.URL}, "events": {central.HookCheckOut}})
		if ep, _ = e.db.Webhooks.Endpoint(context.Background(), ep.ID); ep.Active || ep.IncludeFirstName || len(ep.Events) != 1 {
			t.Errorf("after update: %+v", ep)
		}
		_, body = c.post(t, "/webhooks/"+ep.ID+"/secret", nil)
		if s2 := regexp.MustCompile(`whsec_[A-Za-z0-9_-]{43}`).FindString(body); s2 == "" || s2 == secret {
			t.Errorf("rotate: new secret %q", s2)
		}
		c.post(t, "/webhooks/"+ep.ID+"/delete", nil)
		if _, err := e.db.Webhooks.Endpoint(context.Background(), ep.ID); err == nil {
			t.Errorf("endpoint survived delete")
		}
	})
}
