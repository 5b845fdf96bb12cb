package central_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/sync/central/centraltest"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// FuzzIngest posts arbitrary signed bodies as a real, enrolled device:
// central must answer 200 or a 4xx (never a 5xx), and a refused body must
// store nothing.
func FuzzIngest(f *testing.F) {
	e := newEnv(f, centraltest.Backends()[0])
	d := e.enrol(f)
	t0 := e.clock.Now()
	f.Add(d.batch(d.unsyncedProbe()))
	f.Add(d.batch(d.unsyncedProbe(), d.event(1, attendance.ChildCheckIn, "c-noah", t0, time.Minute, true)))
	f.Add(d.batch(d.unsyncedProbe(), d.event(2, attendance.ChildCheckIn, "c-noah", t0, time.Minute, false), d.event(3, "x", "", t0, 0, false)))
	f.Add([]byte(`{"protocol":1,"device_id":"` + d.id + `","clock":{"wall":"1970-01-01T00:00:00Z"},"events":[{"seq":1}]}`))
	f.Add([]byte(`{"protocol":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		before := e.count(t, "events") + e.count(t, "rejected_events")
		code, out := e.do(t, http.MethodPost, "/api/v1/device/events", body, func(r *http.Request) {
			if err := protocol.Sign(r, d.id, d.key, body, e.clock.Now()); err != nil {
				t.Fatal(err)
			}
		})
		if code >= 500 {
			t.Fatalf("central answered %d: %s", code, out)
		}
		after := e.count(t, "events") + e.count(t, "rejected_events")
		if code != 200 && after != before {
			t.Fatalf("refused with %d but rows went from %d to %d", code, before, after)
		}
		if code == 200 && !bytes.Contains(out, []byte(`"acked_through_seq"`)) {
			t.Fatalf("200 without an acknowledgement: %s", out)
		}
	})
}
