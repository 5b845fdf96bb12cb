package e2e

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkTapToDOM measures a tap through the simulator API until the page
// in headless Chromium has rendered its decision: the page's own clock
// (performance.now) from just before the POST /api/v1/sim/tap to the render
// that put the decision's id into the DOM. The path is the real one: HTTP,
// the simulated MFRC522 reader's polling, the rules, the SQLite commit,
// the websocket, the page's render. Run it with 200 taps:
//
//	go test ./ui/e2e -run '^$' -bench TapToDOM -benchtime 200x
func BenchmarkTapToDOM(b *testing.B) {
	s := setup(b)
	d := startDaemon(b, s)
	p := openPage(b, s, d)
	// Three one-child adults in turn: each tap is a committed check-in or
	// check-out with a green confirmation. A card waits out the reader's
	// debounce before it comes back (outside the measured time).
	uids := []string{d.uid("Youssef"), d.uid("Ruben"), d.uid("Els")}
	last := map[string]time.Time{}
	lat := make([]float64, 0, b.N)
	httpLat := make([]float64, 0, b.N) // the HTTP answer, for comparison
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		uid := uids[i%len(uids)]
		b.StopTimer()
		waitDebounce(last, uid)
		b.StartTimer()
		r := eval[[2]float64](p, fmt.Sprintf(`(async () => {
  const t0 = performance.now();
  const r = await fetch("/api/v1/sim/tap", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({reader: "entrance", uid: %q})});
  if (!r.ok) throw new Error("tap: HTTP " + r.status + " " + await r.text());
  const v = await r.json();
  const tHTTP = performance.now() - t0;
  let e;
  while (!(e = window.__kioskRenders.find(x => x[0] === v.id))) await new Promise(res => setTimeout(res, 1));
  return [e[1] - t0, tHTTP];
})()`, uid))
		last[uid] = time.Now()
		lat = append(lat, r[0])
		httpLat = append(httpLat, r[1])
	}
	b.StopTimer()
	slices.Sort(lat)
	slices.Sort(httpLat)
	q := func(l []float64, f float64) float64 { return l[min(len(l)-1, int(f*float64(len(l))))] }
	b.ReportMetric(q(lat, 0.50), "p50-ms")
	b.ReportMetric(q(lat, 0.99), "p99-ms")
	b.ReportMetric(lat[len(lat)-1], "max-ms")
	b.ReportMetric(q(httpLat, 0.50), "http-p50-ms")
	b.ReportMetric(q(httpLat, 0.99), "http-p99-ms")
	b.Logf("tap -> DOM over %d taps: p50 %.1f ms, p99 %.1f ms, max %.1f ms (tap HTTP answer: p50 %.1f ms, p99 %.1f ms)",
		len(lat), q(lat, 0.50), q(lat, 0.99), lat[len(lat)-1], q(httpLat, 0.50), q(httpLat, 0.99))
}
