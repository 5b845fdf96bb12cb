// Package metrics is kioskd's /metrics: the door's taps and commits (told
// through door.Observer), the taps' latency from the reader (told by the
// tap pump), and the state of readers, outbox, sync, clock, disk and
// screens, read from the parts when Prometheus scrapes. Nothing here is a
// global: the daemon builds one Kiosk and hands its hooks to the parts.
//
// Labels are bounded: outcome (the door's fixed outcomes), reader (the
// configured readers), kind (the protocol's error codes and three more).
// No label ever carries a person, a badge or an event.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/kinderdeur/kiosk/attendance/door"
	"github.com/kinderdeur/kiosk/attendance/store"
	"github.com/kinderdeur/kiosk/hw"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Sources are the parts read at scrape time; a nil one is left out.
type Sources struct {
	Readers []hw.Reader
	// Outbox is the store's outbox state (*store.Store).
	Outbox interface {
		SyncStatus(ctx context.Context) (store.SyncStatus, error)
	}
	// SyncErrors counts failed exchanges with central by kind
	// ((*outbox.Client).ErrorCounts); nil without central.
	SyncErrors func() map[string]int64
	// ClockSynced tells whether the wall clock is synchronised.
	ClockSynced func() bool
	// DiskFree is the free space of the data directory ((*datadir.Dir).Free).
	DiskFree func() (uint64, error)
	// Screens is the number of websocket clients ((*ui.Server).Clients).
	Screens func() int
	Version string
	Now     func() time.Time // default time.Now
}

// Kiosk holds kioskd's metrics.
type Kiosk struct {
	reg       *prometheus.Registry
	src       Sources
	taps      *prometheus.CounterVec
	decision  prometheus.Histogram
	commit    prometheus.Histogram
	commitErr prometheus.Counter
	detection *prometheus.HistogramVec
}

var _ door.Observer = (*Kiosk)(nil)

// Latency buckets for the tap path: the budget is 100 ms from card to
// screen; an fsync on an SD card takes 2-30 ms.
var tapBuckets = []float64{.001, .0025, .005, .01, .02, .035, .05, .075, .1, .25, .5, 1, 2.5}

// New registers kioskd's metrics (and the Go runtime's and the process's).
func New(src Sources) *Kiosk {
	if src.Now == nil {
		src.Now = time.Now
	}
	k := &Kiosk{reg: prometheus.NewRegistry(), src: src}
	k.taps = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kioskd_taps_total", Help: "Taps decided by the door, by outcome.",
	}, []string{"outcome"})
	k.decision = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "kioskd_tap_decision_seconds", Help: "From the door receiving a tap to its result (commit included).", Buckets: tapBuckets,
	})
	k.commit = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "kioskd_store_commit_seconds", Help: "One durable store transaction (events, fsync).", Buckets: tapBuckets,
	})
	k.commitErr = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kioskd_store_commit_errors_total", Help: "Store transactions that failed (the tap was not recorded).",
	})
	k.detection = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "kioskd_tap_detection_seconds", Help: "From the reader detecting a card to the door's result, by reader.", Buckets: tapBuckets,
	}, []string{"reader"})
	k.reg.MustRegister(k.taps, k.decision, k.commit, k.commitErr, k.detection, stateCollector{k},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, r := range src.Readers {
		k.detection.WithLabelValues(r.Name()) // present from the start, at zero
	}
	return k
}

// Handler serves the registry in the Prometheus text format.
func (k *Kiosk) Handler() http.Handler {
	return promhttp.HandlerFor(k.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Registry is the registry (tests gather it).
func (k *Kiosk) Registry() *prometheus.Registry { return k.reg }

// TapDecided implements door.Observer.
func (k *Kiosk) TapDecided(outcome string, took time.Duration) {
	k.taps.WithLabelValues(outcome).Inc()
	k.decision.Observe(took.Seconds())
}

// Committed implements door.Observer.
func (k *Kiosk) Committed(_ int, took time.Duration, err error) {
	if err != nil {
		k.commitErr.Inc()
		return
	}
	k.commit.Observe(took.Seconds())
}

// TapHandled is the tap pump's hook: the door answered a tap the reader
// detected at detected.
func (k *Kiosk) TapHandled(reader string, detected time.Time) {
	if detected.IsZero() {
		return
	}
	k.detection.WithLabelValues(reader).Observe(k.src.Now().Sub(detected).Seconds())
}

// stateCollector reads the parts at scrape time.
type stateCollector struct{ k *Kiosk }

var (
	descReaderUp    = prometheus.NewDesc("kioskd_reader_up", "1 while the reader works, 0 while it is dead or re-initialising.", []string{"reader", "kind"}, nil)
	descReaderDeg   = prometheus.NewDesc("kioskd_reader_degraded", "1 while the reader works but something is wrong (e.g. IRQ line not moving: polling).", []string{"reader", "kind"}, nil)
	descPending     = prometheus.NewDesc("kioskd_outbox_pending_events", "Events central has not acknowledged (quarantined ones excluded).", nil, nil)
	descOldest      = prometheus.NewDesc("kioskd_outbox_oldest_pending_age_seconds", "Age of the oldest pending event by the kiosk's clock (0 when none).", nil, nil)
	descQuarantined = prometheus.NewDesc("kioskd_outbox_quarantined_events", "Events central rejected, kept on the kiosk for staff.", nil, nil)
	descSyncErrors  = prometheus.NewDesc("kioskd_sync_errors_total", "Failed exchanges with central, by kind (a protocol error code, network, timeout, other).", []string{"kind"}, nil)
	descClock       = prometheus.NewDesc("kioskd_clock_synced", "1 when the wall clock is synchronised.", nil, nil)
	descDisk        = prometheus.NewDesc("kioskd_data_disk_free_bytes", "Free bytes in the data directory's file system.", nil, nil)
	descScreens     = prometheus.NewDesc("kioskd_websocket_clients", "Screens connected over the websocket.", nil, nil)
	descBuild       = prometheus.NewDesc("kioskd_build_info", "kioskd's version (always 1).", []string{"version"}, nil)
)

func (c stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descReaderUp, descReaderDeg, descPending, descOldest, descQuarantined, descSyncErrors, descClock, descDisk, descScreens, descBuild} {
		ch <- d
	}
}

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	src := c.k.src
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, r := range src.Readers {
		h := r.Health()
		gauge(descReaderUp, b2f(h.OK), r.Name(), h.Kind)
		gauge(descReaderDeg, b2f(h.Degraded != ""), r.Name(), h.Kind)
	}
	if src.Outbox != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, err := src.Outbox.SyncStatus(ctx)
		cancel()
		if err == nil {
			gauge(descPending, float64(st.Pending))
			gauge(descQuarantined, float64(st.Quarantined))
			age := 0.0
			if !st.OldestPending.IsZero() {
				age = max(src.Now().Sub(st.OldestPending).Seconds(), 0)
			}
			gauge(descOldest, age)
		}
	}
	if src.SyncErrors != nil {
		for kind, n := range src.SyncErrors() {
			ch <- prometheus.MustNewConstMetric(descSyncErrors, prometheus.CounterValue, float64(n), kind)
		}
	}
	if src.ClockSynced != nil {
		gauge(descClock, b2f(src.ClockSynced()))
	}
	if src.DiskFree != nil {
		if free, err := src.DiskFree(); err == nil {
			gauge(descDisk, float64(free))
		}
	}
	if src.Screens != nil {
		gauge(descScreens, float64(src.Screens()))
	}
	gauge(descBuild, 1, src.Version)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
