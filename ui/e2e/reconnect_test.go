package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestReconnectAfterRestart: kioskd is killed and started again on the
// same port and data directory; the page notices, shows that it is
// reconnecting, and resyncs by itself from the new snapshot.
func TestReconnectAfterRestart(t *testing.T) {
	s := setup(t)
	d := startDaemon(t, s, withUndoGuard("0s")) // the same card in and out within seconds
	p := openPage(t, s, d)
	youssef := d.uid("Youssef")

	v := d.tap(youssef)
	p.waitScreen("ok", v.ID)

	d.kill()
	p.waitJS(`document.body.dataset.conn === "down"`)
	if got := eval[string](p, `document.body.dataset.screen`); got != "idle" {
		t.Errorf("without a connection the screen is %q, want idle", got)
	}
	if txt := p.text(); !strings.Contains(txt, "Verbinding met de kiosk wordt hersteld") {
		t.Errorf("disconnected idle screen: %q", txt)
	}
	p.shots("disconnected")

	start := time.Now()
	if err := d.start(); err != nil {
		t.Fatal(err)
	}
	p.waitJSFor(`document.body.dataset.conn === "up"`, 10*time.Second)
	t.Logf("page resynced %v after kioskd was healthy again", time.Since(start).Round(10*time.Millisecond))

	// The restarted daemon rebuilt presence from its log: Zoë checks out.
	v = d.tap(youssef)
	if v.Outcome != "check_out" {
		t.Errorf("tap after restart: outcome %q, want check_out", v.Outcome)
	}
	p.waitScreen("ok", v.ID)
	if txt := p.text(); !strings.Contains(txt, "Uitgecheckt") {
		t.Errorf("after resync: %q", txt)
	}
}
