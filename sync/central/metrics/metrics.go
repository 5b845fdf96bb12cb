// Package metrics is central's /metrics: ingest (told through
// central.IngestObserver) and the fleet (read from the fleet store when
// Prometheus scrapes). Every series carries the replica label, so N
// replicas behind one load balancer are N targets that sum.
//
// Cardinality: outcome, status and reason are the protocol's fixed codes;
// problem kinds are a fixed set; the per-device gauges
// (central_device_last_seen_timestamp_seconds,
// central_device_pending_events, central_device_oldest_pending_age_seconds)
// have one series per enrolled, unrevoked device: a chain of 1,000 doors
// is 3,000 series per replica. A larger fleet scrapes one replica only for
// them (they are the same on every replica) or drops them by relabelling.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/fleet"
	"github.com/kinderdeur/kiosk/sync/protocol"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Fleet is what the metrics read of the fleet (*fleet.Store).
type Fleet interface {
	Doors(ctx context.Context) ([]fleet.Door, error)
}

// Central holds central's metrics.
type Central struct {
	reg      *prometheus.Registry
	fleet    Fleet
	now      func() time.Time
	ingest   prometheus.Histogram
	batches  *prometheus.CounterVec
	events   *prometheus.CounterVec
	rejected *prometheus.CounterVec
}

var _ central.IngestObserver = (*Central)(nil)

// New registers central's metrics with the replica label (e.g. the host
// name); fleet may be nil (no fleet gauges).
func New(replica string, f Fleet) *Central {
	c := &Central{reg: prometheus.NewRegistry(), fleet: f, now: time.Now}
	r := prometheus.WrapRegistererWith(prometheus.Labels{"replica": replica}, c.reg)
	c.ingest = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "central_ingest_seconds", Help: "Serving one batch of a device: decode, the ingest transaction, the health report.",
		Buckets: []float64{.0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	})
	c.batches = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "central_batches_total", Help: "Batches posted by devices, by outcome (ok or the error code they were refused with).",
	}, []string{"outcome"})
	c.events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "central_events_ingested_total", Help: "Events in accepted batches, by status (stored, duplicate).",
	}, []string{"status"})
	c.rejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "central_events_rejected_total", Help: "Events rejected and kept for admins, by reason.",
	}, []string{"reason"})
	for _, s := range []protocol.Status{protocol.StatusStored, protocol.StatusDuplicate} {
		c.events.WithLabelValues(string(s))
	}
	c.batches.WithLabelValues("ok")
	r.MustRegister(c.ingest, c.batches, c.events, c.rejected,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if f != nil {
		r.MustRegister(fleetCollector{c})
	}
	return c
}

// Handler serves the metrics in the Prometheus text format.
func (c *Central) Handler() http.Handler {
	return promhttp.HandlerFor(c.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// BatchDone implements central.IngestObserver.
func (c *Central) BatchDone(took time.Duration, outcome string, results []protocol.EventResult) {
	c.ingest.Observe(took.Seconds())
	c.batches.WithLabelValues(outcome).Inc()
	for _, r := range results {
		if r.Status == protocol.StatusRejected {
			c.rejected.WithLabelValues(r.Reason).Inc()
		} else {
			c.events.WithLabelValues(string(r.Status)).Inc()
		}
	}
}

type fleetCollector struct{ c *Central }

var (
	descLastSeen = prometheus.NewDesc("central_device_last_seen_timestamp_seconds", "When the device last synced (unix seconds; 0: never). One series per unrevoked device.", []string{"device", "location"}, nil)
	descPending  = prometheus.NewDesc("central_device_pending_events", "Events waiting on the device at its last health report.", []string{"device", "location"}, nil)
	descLag      = prometheus.NewDesc("central_device_oldest_pending_age_seconds", "Age of the device's oldest pending event at its last report.", []string{"device", "location"}, nil)
	descDevices  = prometheus.NewDesc("central_devices", "Enrolled devices by state (active, revoked).", []string{"state"}, nil)
	descProblems = prometheus.NewDesc("central_fleet_problems", "Open problems of the fleet by kind (silent, reader_down, reader_degraded, clock_unsynced, low_disk, storage).", []string{"kind"}, nil)
)

func (f fleetCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLastSeen, descPending, descLag, descDevices, descProblems} {
		ch <- d
	}
}

func (f fleetCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	doors, err := f.c.fleet.Doors(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descDevices, err)
		return
	}
	active, revoked := 0, 0
	kinds := map[string]int{"silent": 0, "reader_down": 0, "reader_degraded": 0, "clock_unsynced": 0, "low_disk": 0, "storage": 0}
	for _, d := range doors {
		if d.Revoked {
			revoked++
			continue
		}
		active++
		seen := 0.0
		if !d.LastSeen.IsZero() {
			seen = float64(d.LastSeen.UnixMilli()) / 1000
		}
		ch <- prometheus.MustNewConstMetric(descLastSeen, prometheus.GaugeValue, seen, d.DeviceID, d.LocationID)
		if d.Health != nil {
			ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(d.Health.Pending), d.DeviceID, d.LocationID)
			ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, float64(d.LagSeconds()), d.DeviceID, d.LocationID)
		}
		for _, p := range d.Problems {
			if _, ok := kinds[p.Kind()]; ok {
				kinds[p.Kind()]++
			}
		}
	}
	ch <- prometheus.MustNewConstMetric(descDevices, prometheus.GaugeValue, float64(active), "active")
	ch <- prometheus.MustNewConstMetric(descDevices, prometheus.GaugeValue, float64(revoked), "revoked")
	for k, n := range kinds {
		ch <- prometheus.MustNewConstMetric(descProblems, prometheus.GaugeValue, float64(n), k)
	}
}
