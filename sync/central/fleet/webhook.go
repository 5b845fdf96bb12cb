package fleet

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/sync/central/webhook"
)

// Fleet notifications are signed exactly like the attendance webhooks
// (package webhook): Kinderdeur-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret,
// t + "." + body)>, Kinderdeur-Delivery (the same on every retry) and
// Kinderdeur-Event (fleet.problem or fleet.resolved). A receiver checks
// them with webhook.Verify.

// Endpoint is a webhook receiver of fleet notifications.
type Endpoint struct {
	URL    string `json:"url"`
	Secret string `json:"secret"` // at least 16 characters
}

// Webhook posts each change, signed, to one endpoint.
type Webhook struct {
	Endpoint Endpoint
	Client   *http.Client     // default: 10 s timeout
	Now      func() time.Time // default time.Now
}

// WebhookPayload is the JSON body of a fleet notification.
type WebhookPayload struct {
	Event        string    `json:"event"` // fleet.problem or fleet.resolved
	DeviceID     string    `json:"device_id"`
	DeviceName   string    `json:"device_name"`
	LocationID   string    `json:"location_id"`
	LocationName string    `json:"location_name"`
	Problem      string    `json:"problem"` // e.g. silent, reader_down:entrance
	Kind         string    `json:"kind"`    // the problem without the reader: silent, reader_down, ...
	Detail       string    `json:"detail"`
	Since        time.Time `json:"since"`
	Cleared      time.Time `json:"cleared,omitzero"`
}

// Payload is c as a webhook body.
func Payload(c Change) WebhookPayload {
	ev := "fleet.problem"
	if c.Resolved {
		ev = "fleet.resolved"
	}
	return WebhookPayload{Event: ev, DeviceID: c.DeviceID, DeviceName: c.DeviceName, LocationID: c.LocationID, LocationName: c.LocationName,
		Problem: c.Code, Kind: c.Kind(), Detail: c.Detail, Since: c.Since, Cleared: c.Cleared}
}

// deliveryID is the same for every retry of one change: the receiver can
// drop a duplicate after a lost answer.
func deliveryID(c Change) string {
	s := sha256.Sum256([]byte(fmt.Sprintf("%s|%s|%d|%v", c.DeviceID, c.Code, c.Since.UnixNano(), c.Resolved)))
	return hex.EncodeToString(s[:12])
}

// Send implements Sender. A 2xx answer delivers; 4xx (but 408 and 429) is
// permanent; anything else is retried by the Dispatcher.
func (w *Webhook) Send(ctx context.Context, c Change) error {
	body, err := json.Marshal(Payload(c))
	if err != nil {
		return &Permanent{err}
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	client := w.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.Endpoint.URL, bytes.NewReader(body))
	if err != nil {
		return &Permanent{fmt.Errorf("fleet: webhook: %w", err)}
	}
	ts := now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "kinderdeur-central")
	req.Header.Set(webhook.HeaderSignature, webhook.Sign([]byte(w.Endpoint.Secret), ts, body))
	req.Header.Set(webhook.HeaderDelivery, deliveryID(c))
	req.Header.Set(webhook.HeaderEvent, Payload(c).Event)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("fleet: webhook %s: %w", redact(w.Endpoint.URL), err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests:
		return &Permanent{fmt.Errorf("fleet: webhook %s: %s", redact(w.Endpoint.URL), resp.Status)}
	}
	return fmt.Errorf("fleet: webhook %s: %s", redact(w.Endpoint.URL), resp.Status)
}

// redact keeps a URL's query (which may hold a token) out of logs.
func redact(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i] + "?…"
	}
	return u
}

// ParseEndpoints reads the -alert-webhooks file: a JSON array of
// {"url","secret"}; a URL must be http(s) and a secret at least 16
// characters.
func ParseEndpoints(r io.Reader) ([]Endpoint, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var eps []Endpoint
	if err := dec.Decode(&eps); err != nil {
		return nil, fmt.Errorf("fleet: webhooks: %w", err)
	}
	for i, e := range eps {
		if !strings.HasPrefix(e.URL, "https://") && !strings.HasPrefix(e.URL, "http://") {
			return nil, fmt.Errorf("fleet: webhooks[%d].url: want http:// or https://", i)
		}
		if len(e.Secret) < 16 {
			return nil, fmt.Errorf("fleet: webhooks[%d].secret: at least 16 characters", i)
		}
	}
	return eps, nil
}

// NewSecret makes a webhook secret (for operators: `kioskctl`-free setup).
func NewSecret() string {
	var b [24]byte
	rand.Read(b[:])
	return "whsec_" + hex.EncodeToString(b[:])
}
