package central

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/sync/protocol"
)

// DemoHistoryDevice is the device id under which SeedDemoAttendance files
// its generated events.
const DemoHistoryDevice = "demo-history"

// SeedDemoAttendance generates a plausible day at a location with a
// roster: every child arrives between 07:30 and 09:30 and leaves between
// 15:30 and 18:15, staff of each group work early and late shifts with a
// lunch break in the middle of the day (so the chart shows where the ratio
// gets tight), and one child's check-out is missing. The times are
// deterministic (seeded by location and date); the events go through the
// normal ingest under device DemoHistoryDevice-<location>, enrolled with a
// fresh enrolment token when needed. A day seeded before is left alone
// (0 events). For demos, tests and benchmarks only.
func (s *Demo) SeedDemoAttendance(ctx context.Context, locationID string, day attendance.Date) (int, error) {
	r, _, err := s.sites.Roster(ctx, locationID)
	if err != nil {
		return 0, err
	}
	cal, err := CalendarFor(r.Location)
	if err != nil {
		return 0, err
	}
	tz := cal.Location()
	dev := DemoHistoryDevice + "-" + locationID
	devRow, err := s.devices.Device(ctx, dev)
	if errors.Is(err, ErrUnknownDevice) {
		pub, _, _ := ed25519.GenerateKey(nil)
		tok, terr := s.devices.CreateEnrolmentToken(ctx, locationID, time.Hour, "demo history")
		if terr != nil {
			return 0, terr
		}
		if _, err := s.devices.Enrol(ctx, protocol.EnrolRequest{Token: tok, DeviceID: dev, PublicKey: protocol.EncodePublicKey(pub), Name: "demo history"}); err != nil {
			return 0, fmt.Errorf("central: demo history device: %w", err)
		}
		devRow, err = s.devices.Device(ctx, dev)
	}
	if err != nil {
		return 0, err
	}
	var have int
	if err := s.db.QueryRow(ctx, nil, "SELECT count(*) FROM events WHERE device_id = ? AND time_ns >= ? AND time_ns < ?",
		dev, day.In(tz).UnixNano(), day.In(tz).AddDate(0, 0, 1).UnixNano()).Scan(&have); err != nil {
		return 0, fmt.Errorf("central: demo attendance: %w", err)
	}
	if have > 0 {
		return 0, nil // this day was seeded before
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%s", locationID, day)
	rng := rand.New(rand.NewPCG(h.Sum64(), 7))
	at := func(minute int) time.Time { return day.In(tz).Add(time.Duration(minute) * time.Minute) }
	boot := uuid.NewString()
	var evs []attendance.Event
	add := func(typ attendance.EventType, t time.Time, child, staff, group string) {
		id, _ := uuid.NewV7()
		evs = append(evs, attendance.Event{ID: id.String(), DeviceID: dev, Type: typ, LocationID: locationID,
			ChildID: child, StaffID: staff, GroupID: group, Wall: t.UTC(), BootID: boot, ClockSynced: true})
	}
	for i, c := range r.Children {
		in := 450 + rng.IntN(120)
		out := 930 + rng.IntN(165)
		add(attendance.ChildCheckIn, at(in), c.ID, "", c.GroupID)
		if i == 1 {
			continue
		}
		add(attendance.ChildCheckOut, at(out), c.ID, "", c.GroupID)
	}
	for i, s := range r.Staff {
		if len(s.Groups) == 0 {
			continue
		}
		g := s.Groups[0]
		if i%2 == 0 { // early shift with a lunch break
			add(attendance.StaffIn, at(435), "", s.ID, g)
			add(attendance.StaffOut, at(750+rng.IntN(20)), "", s.ID, g)
			add(attendance.StaffIn, at(810+rng.IntN(20)), "", s.ID, g)
			add(attendance.StaffOut, at(1005), "", s.ID, g)
		} else { // late shift
			add(attendance.StaffIn, at(540), "", s.ID, g)
			add(attendance.StaffOut, at(1110), "", s.ID, g)
		}
	}
	sortEventsByWall(evs)
	start := devRow.AckedThrough + 1
	var raws []json.RawMessage
	for i := range evs {
		evs[i].Seq = start + int64(i)
		evs[i].MonoNS = int64(evs[i].Wall.Sub(day.In(tz)))
		b, err := json.Marshal(evs[i])
		if err != nil {
			return 0, err
		}
		raws = append(raws, b)
	}
	b := protocol.Batch{Protocol: protocol.Version, DeviceID: dev, Events: raws,
		Clock: protocol.ClockProbe{BootID: boot, MonoNS: evs[len(evs)-1].MonoNS, Wall: evs[len(evs)-1].Wall, Synced: true}}
	if _, err := s.events.Ingest(ctx, dev, b, evs); err != nil {
		return 0, fmt.Errorf("central: demo attendance: %w", err)
	}
	return len(evs), nil
}

func sortEventsByWall(evs []attendance.Event) {
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].Wall.Before(evs[j-1].Wall); j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
}
