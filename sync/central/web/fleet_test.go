package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/kinderdeur/kiosk/sync/central/auth"
	"github.com/kinderdeur/kiosk/sync/central/fleet"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// TestFleetPage: the devices page shows each door's health report, lag and
// open problems; the inspector may not see it.
func TestFleetPage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		devs, err := e.db.Devices.Devices(ctx)
		if err != nil || len(devs) == 0 {
			t.Fatalf("demo devices: %v %v", devs, err)
		}
		dev := devs[0]
		if err := e.db.Fleet.PutHealth(ctx, dev.ID, protocol.HealthReport{Version: "v-test-1", ClockSynced: true, DiskFreeBytes: 3 << 30, StorageOK: true,
			Pending: 7, Readers: []protocol.ReaderHealth{{Name: "entrance", Kind: "rc522", OK: false, Error: "chip gone"}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.db.Fleet.Check(ctx, fleet.CheckConfig{}, nil, nil); err != nil {
			t.Fatal(err)
		}
		code, page := e.signedIn(t, auth.RoleAdmin).get(t, "/devices")
		if code != http.StatusOK {
			t.Fatalf("/devices: %d", code)
		}
		for _, want := range []string{dev.ID, "v-test-1", "7 wachtend", "lezer werkt niet: entrance", "3072 MiB"} {
			if !strings.Contains(page, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		if code, _ := e.signedIn(t, auth.RoleInspector).get(t, "/devices"); code != http.StatusForbidden {
			t.Errorf("inspector: %d", code)
		}
	})
}
