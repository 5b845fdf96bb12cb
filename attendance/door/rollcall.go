package door

import "time"

// rollCall is the emergency roll call: who of those present staff have
// accounted for. Guarded by the door's state lock.
type rollCall struct {
	started time.Time
	marks   map[string]bool
}

func newRollCall(now time.Time) *rollCall {
	return &rollCall{started: now, marks: map[string]bool{}}
}

func (rc *rollCall) mark(id string) { rc.marks[id] = true }

// view lists everyone present (children first) and who is accounted for;
// nil when no roll call runs.
func (rc *rollCall) view(p Presence) *RollCall {
	if rc == nil {
		return nil
	}
	v := &RollCall{Started: rc.started}
	for _, pp := range p.Children {
		v.People = append(v.People, RollCallLine{Person: pp, Kind: "child", Accounted: rc.marks[pp.ID]})
	}
	for _, pp := range p.Staff {
		v.People = append(v.People, RollCallLine{Person: pp, Kind: "staff", Accounted: rc.marks[pp.ID]})
	}
	for _, l := range v.People {
		if !l.Accounted {
			v.Missing++
		}
	}
	return v
}
