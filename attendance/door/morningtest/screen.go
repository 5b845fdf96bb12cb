package morningtest

import "encoding/json"

// Screen is what the public screen shows of a decision: the "decision"
// object of ui/PROTOCOL.md (and of the sim tap's answer), plus what the
// spec adds (outcome check_in_out, confirm/undo_recent, committed parts).
type Screen struct {
	ID          string        `json:"id"`
	Outcome     string        `json:"outcome"`
	Reason      string        `json:"reason"`
	Actor       ScreenActor   `json:"actor"`
	Children    []ScreenChild `json:"children"`
	Session     string        `json:"session"`
	ExpiresInMS int64         `json:"expires_in_ms"`
	Committed   bool          `json:"committed"`

	// Request is not on the glass: the children of the staff request this
	// decision opened, as the staff panel lists them (nil: unknown to the
	// driver, e.g. the browser test). Drivers with access fill it in.
	Request []string `json:"-"`
	// Raw is the JSON the screen received ("" when the driver has none).
	Raw string `json:"-"`
	// PINAsked: after a staff tap, the staff panel asks for the PIN
	// (pin_required). A member of staff types the PIN only when asked.
	PINAsked bool `json:"-"`
}

// ScreenActor is who tapped, as the public screen shows them.
type ScreenActor struct {
	Role string `json:"role"`
	Name string `json:"name"`
}

// ScreenChild is one child on the screen.
type ScreenChild struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Present  bool   `json:"present"`
	Action   string `json:"action"`
	Selected bool   `json:"selected"`
}

// ParseScreen decodes a public decision.
func ParseScreen(b []byte) (Screen, error) {
	var s Screen
	err := json.Unmarshal(b, &s)
	s.Raw = string(b)
	return s, err
}

// Screen kinds: the outcome values of PROTOCOL.md and the spec.
const (
	OutCheckIn    = "check_in"
	OutCheckOut   = "check_out"
	OutCheckInOut = "check_in_out" // spec 1: a committed result in both directions
	OutChoose     = "choose_children"
	OutNeedsStaff = "needs_staff"
	OutDenied     = "denied"
	OutStaffIn    = "staff_in"
	OutStaffOut   = "staff_out"
	OutStaffMenu  = "staff_menu"
	OutConfirm    = "confirm" // spec 2: reason undo_recent
	OutHandover   = "handover_wait"
	OutError      = "error"
)

// Child returns the screen's line for a child.
func (s Screen) Child(id string) (ScreenChild, bool) {
	for _, c := range s.Children {
		if c.ID == id {
			return c, true
		}
	}
	return ScreenChild{}, false
}

// Acted lists what a committed screen says happened: child id -> the action
// done (only children whose state after commit matches the action).
func (s Screen) Acted() map[string]string {
	out := map[string]string{}
	if !s.Committed {
		return out
	}
	for _, c := range s.Children {
		switch {
		case c.Action == "check_in" && c.Present:
			out[c.ID] = "check_in"
		case c.Action == "check_out" && !c.Present:
			out[c.ID] = "check_out"
		}
	}
	return out
}
