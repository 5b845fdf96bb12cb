// Package fleet is central's view of its kiosks' health: the latest
// health report of each device (sent with every batch), the fleet page's
// rows (location, last seen, lag, problems), the check that finds problems
// (a door silent during opening hours, a dead or degraded reader, an
// unsynchronised clock, a nearly full disk, a failing store) and the
// notifications sent when a problem begins and when it clears.
//
// A problem is a row in fleet_problems from its start until it clears. The
// check opens and clears rows with statements that only one caller can
// win (a unique index on the open row; an UPDATE of the open row), and
// only the winner notifies: one mail per problem, not per check, even when
// several replicas run the check at once.
package fleet

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/central/sqldb"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// Store keeps the health reports and the problems.
type Store struct {
	db *sqldb.DB
}

// New returns the store on central's database.
func New(db *sqldb.DB) *Store { return &Store{db: db} }

// PutHealth keeps a device's latest report (central's clock as its time).
func (s *Store) PutHealth(ctx context.Context, deviceID string, h protocol.HealthReport) error {
	body, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("fleet: health: %w", err)
	}
	_, err = s.db.Exec(ctx, nil, `INSERT INTO device_health (device_id, reported_ns, report) VALUES (?, ?, ?)
		ON CONFLICT (device_id) DO UPDATE SET reported_ns = excluded.reported_ns, report = excluded.report`,
		deviceID, s.db.Now().UnixNano(), string(body))
	if err != nil {
		return fmt.Errorf("fleet: health of %s: %w", deviceID, err)
	}
	return nil
}

// Problem is something wrong with a door, open or cleared.
type Problem struct {
	DeviceID string    `json:"device_id"`
	Code     string    `json:"problem"` // silent, reader_down:NAME, reader_degraded:NAME, clock_unsynced, low_disk, storage
	Detail   string    `json:"detail"`
	Since    time.Time `json:"since"`
	Cleared  time.Time `json:"cleared,omitzero"`
}

// Kind is the problem's code without the reader name (a bounded set, for
// metrics and words).
func (p Problem) Kind() string { k, _, _ := strings.Cut(p.Code, ":"); return k }

// Door is one row of the fleet page.
type Door struct {
	DeviceID     string                 `json:"device_id"`
	Name         string                 `json:"name"`
	LocationID   string                 `json:"location_id"`
	LocationName string                 `json:"location_name"`
	EnrolledAt   time.Time              `json:"enrolled_at"`
	Revoked      bool                   `json:"revoked,omitempty"`
	LastSeen     time.Time              `json:"last_seen,omitzero"`
	Health       *protocol.HealthReport `json:"health,omitempty"` // nil: no report yet (an older kiosk)
	ReportedAt   time.Time              `json:"reported_at,omitzero"`
	Problems     []Problem              `json:"problems"` // open ones
	// Open says whether the location's hours say it is open now.
	Open bool `json:"open"`
}

// LagSeconds is how far the door's outbox is behind: the age of its oldest
// pending event at its last report (0 when none).
func (d Door) LagSeconds() int64 {
	if d.Health == nil || d.Health.OldestPending.IsZero() || d.Health.Pending == 0 {
		return 0
	}
	return max(int64(d.ReportedAt.Sub(d.Health.OldestPending).Seconds()), 0)
}

// Doors lists every enrolled device with its health and open problems,
// revoked ones last; now decides "open".
func (s *Store) Doors(ctx context.Context) ([]Door, error) {
	rows, err := s.db.Query(ctx, nil, `SELECT d.id, d.name, d.location_id, l.name, d.enrolled_ns, d.revoked_ns, d.last_seen_ns, h.reported_ns, h.report
		FROM devices d JOIN locations l ON l.id = d.location_id LEFT JOIN device_health h ON h.device_id = d.id
		ORDER BY l.name, d.name, d.id`)
	if err != nil {
		return nil, fmt.Errorf("fleet: doors: %w", err)
	}
	defer rows.Close()
	var doors []Door
	for rows.Next() {
		var d Door
		var enrolled int64
		var revoked, seen, reported sql.NullInt64
		var report sql.NullString
		if err := rows.Scan(&d.DeviceID, &d.Name, &d.LocationID, &d.LocationName, &enrolled, &revoked, &seen, &reported, &report); err != nil {
			return nil, fmt.Errorf("fleet: doors: %w", err)
		}
		d.EnrolledAt, d.Revoked = time.Unix(0, enrolled).UTC(), revoked.Valid
		if seen.Valid {
			d.LastSeen = time.Unix(0, seen.Int64).UTC()
		}
		if report.Valid {
			var h protocol.HealthReport
			if err := json.Unmarshal([]byte(report.String), &h); err == nil {
				d.Health, d.ReportedAt = &h, time.Unix(0, reported.Int64).UTC()
			}
		}
		d.Problems = []Problem{}
		doors = append(doors, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("fleet: doors: %w", err)
	}
	open, err := s.OpenProblems(ctx)
	if err != nil {
		return nil, err
	}
	hours, err := s.locationHours(ctx)
	if err != nil {
		return nil, err
	}
	now := s.db.Now()
	for i := range doors {
		d := &doors[i]
		d.Problems = append(d.Problems, open[d.DeviceID]...)
		if h, ok := hours[d.LocationID]; ok {
			d.Open, _ = h.openFor(now)
		}
	}
	sort.SliceStable(doors, func(i, j int) bool { return !doors[i].Revoked && doors[j].Revoked })
	return doors, nil
}

// OpenProblems are the problems that last, by device.
func (s *Store) OpenProblems(ctx context.Context) (map[string][]Problem, error) {
	rows, err := s.db.Query(ctx, nil, "SELECT device_id, problem, detail, since_ns FROM fleet_problems WHERE cleared_ns IS NULL ORDER BY device_id, problem")
	if err != nil {
		return nil, fmt.Errorf("fleet: problems: %w", err)
	}
	defer rows.Close()
	out := map[string][]Problem{}
	for rows.Next() {
		var p Problem
		var since int64
		if err := rows.Scan(&p.DeviceID, &p.Code, &p.Detail, &since); err != nil {
			return nil, fmt.Errorf("fleet: problems: %w", err)
		}
		p.Since = time.Unix(0, since).UTC()
		out[p.DeviceID] = append(out[p.DeviceID], p)
	}
	return out, rows.Err()
}

// hours are a location's opening hours in its zone.
type hours struct {
	tz    *time.Location
	hours []roster.Hours
}

// openFor reports whether the location is open at t and since when today.
func (h hours) openFor(t time.Time) (bool, time.Time) {
	lt := t.In(h.tz)
	min := lt.Hour()*60 + lt.Minute()
	for _, x := range h.hours {
		if x.Weekday != lt.Weekday() {
			continue
		}
		o, err1 := roster.ParseClock(x.Open)
		c, err2 := roster.ParseClock(x.Close)
		if err1 != nil || err2 != nil || min < o || min >= c {
			continue
		}
		y, m, d := lt.Date()
		return true, time.Date(y, m, d, o/60, o%60, 0, 0, h.tz)
	}
	return false, time.Time{}
}

// locationHours reads each location's opening hours from its current
// roster (a location without a roster or hours is never "open": nobody
// expects its doors to talk).
func (s *Store) locationHours(ctx context.Context) (map[string]hours, error) {
	rows, err := s.db.Query(ctx, nil, `SELECT r.location_id, r.body FROM rosters r
		WHERE r.version = (SELECT max(version) FROM rosters WHERE location_id = r.location_id)`)
	if err != nil {
		return nil, fmt.Errorf("fleet: opening hours: %w", err)
	}
	defer rows.Close()
	out := map[string]hours{}
	for rows.Next() {
		var id, body string
		if err := rows.Scan(&id, &body); err != nil {
			return nil, fmt.Errorf("fleet: opening hours: %w", err)
		}
		var r struct {
			Location roster.Location `json:"location"`
		}
		if json.Unmarshal([]byte(body), &r) != nil {
			continue
		}
		tz, err := time.LoadLocation(r.Location.TimeZone)
		if err != nil {
			tz = time.UTC
		}
		out[id] = hours{tz: tz, hours: r.Location.Hours}
	}
	return out, rows.Err()
}

// CheckConfig tunes the check.
type CheckConfig struct {
	// SilentAfter: a door that has not pushed for this long while its
	// location is open (and has been open this long) is silent (default 15 min).
	SilentAfter time.Duration
	// LowDiskBytes: free space in the data directory under this is a
	// problem (default 256 MiB; kioskd refuses taps under 64 MiB).
	LowDiskBytes int64
	// ClockGrace: an unsynchronised clock is a problem once kioskd has
	// been up this long (default 10 min: NTP needs a moment after boot).
	ClockGrace time.Duration
}

func (c *CheckConfig) defaults() {
	if c.SilentAfter <= 0 {
		c.SilentAfter = 15 * time.Minute
	}
	if c.LowDiskBytes <= 0 {
		c.LowDiskBytes = 256 << 20
	}
	if c.ClockGrace <= 0 {
		c.ClockGrace = 10 * time.Minute
	}
}

// Change is a problem that began or cleared in a check.
type Change struct {
	Problem
	Resolved     bool   // true: it cleared (Problem.Cleared says when); false: it began
	DeviceName   string // the door's name
	LocationID   string
	LocationName string
}

// Notifier is told of every change this replica won.
type Notifier interface {
	Notify(ctx context.Context, c Change) error
}

// Check looks at every enrolled, unrevoked door, opens the problems it
// finds and clears those that ended, and tells notify of each change it
// made (nil: nobody). It is the one function a scheduler calls; it is
// safe to run on several replicas at once (see the package comment).
func (s *Store) Check(ctx context.Context, cfg CheckConfig, notify Notifier, log *slog.Logger) ([]Change, error) {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	doors, err := s.Doors(ctx)
	if err != nil {
		return nil, err
	}
	hrs, err := s.locationHours(ctx)
	if err != nil {
		return nil, err
	}
	now := s.db.Now()
	var changes []Change
	for _, d := range doors {
		found := map[string]string{}
		if !d.Revoked {
			found = problemsOf(d, hrs[d.LocationID], cfg, now)
		}
		open := map[string]Problem{}
		for _, p := range d.Problems {
			open[p.Code] = p
		}
		codes := make([]string, 0, len(found))
		for c := range found {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		for _, code := range codes {
			if _, ok := open[code]; ok {
				continue
			}
			res, err := s.db.Exec(ctx, nil, `INSERT INTO fleet_problems (device_id, problem, detail, since_ns) VALUES (?, ?, ?, ?)
				ON CONFLICT (device_id, problem) WHERE cleared_ns IS NULL DO NOTHING`, d.DeviceID, code, found[code], now.UnixNano())
			if err != nil {
				return changes, fmt.Errorf("fleet: open problem: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				changes = append(changes, Change{Problem: Problem{DeviceID: d.DeviceID, Code: code, Detail: found[code], Since: now}, DeviceName: d.Name, LocationID: d.LocationID, LocationName: d.LocationName})
			}
		}
		for code, p := range open {
			if _, ok := found[code]; ok {
				continue
			}
			res, err := s.db.Exec(ctx, nil, "UPDATE fleet_problems SET cleared_ns = ? WHERE device_id = ? AND problem = ? AND cleared_ns IS NULL",
				now.UnixNano(), d.DeviceID, code)
			if err != nil {
				return changes, fmt.Errorf("fleet: clear problem: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				p.Cleared = now
				changes = append(changes, Change{Problem: p, Resolved: true, DeviceName: d.Name, LocationID: d.LocationID, LocationName: d.LocationName})
			}
		}
	}
	if notify != nil {
		for _, c := range changes {
			if err := notify.Notify(ctx, c); err != nil {
				log.Error("fleet: notification failed", "device", c.DeviceID, "problem", c.Code, "resolved", c.Resolved, "err", err)
			}
		}
	}
	return changes, nil
}

// problemsOf is what is wrong with d now: problem code -> detail.
func problemsOf(d Door, h hours, cfg CheckConfig, now time.Time) map[string]string {
	out := map[string]string{}
	if h.tz != nil {
		if open, since := h.openFor(now); open && now.Sub(since) >= cfg.SilentAfter {
			last := d.LastSeen
			if last.IsZero() {
				last = d.EnrolledAt
			}
			if now.Sub(last) >= cfg.SilentAfter {
				out["silent"] = fmt.Sprintf("no sync for %s during opening hours", now.Sub(last).Round(time.Minute))
			}
		}
	}
	r := d.Health
	if r == nil {
		return out
	}
	for _, rd := range r.Readers {
		switch {
		case !rd.OK:
			out["reader_down:"+rd.Name] = strings.TrimSpace("reader " + rd.Name + " not working " + rd.Error)
		case rd.Degraded != "":
			out["reader_degraded:"+rd.Name] = "reader " + rd.Name + " degraded: " + rd.Degraded
		}
	}
	if !r.ClockSynced && time.Duration(r.UptimeSeconds)*time.Second >= cfg.ClockGrace {
		out["clock_unsynced"] = "the clock is not synchronised (NTP)"
	}
	if r.DiskFreeBytes >= 0 && r.DiskFreeBytes < cfg.LowDiskBytes {
		out["low_disk"] = fmt.Sprintf("%d MiB free in the data directory", r.DiskFreeBytes>>20)
	}
	if !r.StorageOK {
		out["storage"] = "the last write to the kiosk's store failed"
	}
	return out
}
