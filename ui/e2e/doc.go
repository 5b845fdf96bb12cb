// Package e2e holds the end-to-end tests of the kiosk screen: they build
// and start the real kioskd in demo mode on a loopback port, tap demo cards
// through POST /api/v1/sim/tap and drive the embedded page (ui/web) in one
// headless Chromium with chromedp, asserting on the DOM and saving
// screenshots at 800x480 and 1280x800.
//
// The package has no non-test code. Run it with
//
//	go test ./ui/e2e
//
// Screenshots go to $KIOSK_ARTEFACTS when set. Without Chromium the tests
// skip, unless CI=true, where they fail. The tap-to-DOM benchmark:
//
//	go test ./ui/e2e -run '^$' -bench TapToDOM -benchtime 200x
package e2e
