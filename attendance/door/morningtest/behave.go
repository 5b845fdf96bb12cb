package morningtest

// How a simulated person answers the screen: one function per screen kind.
// When the protocol gains or changes a screen (spec-door.md), only the
// function for that kind changes.

// Visit is one person at the door with an intention.
type Visit struct {
	Person *Person
	Reader string
	Bring  []string // children they came to drop off
	Take   []string // children they came to pick up
	// Accidental: a repeated tap nobody meant (the card brushed the reader
	// again); the person wants nothing to happen.
	Accidental bool
	// Undo: they really mean to reverse what they just did (took the child
	// back home); Take holds the child.
	Undo bool
	// Hurried: on a choose screen they check only that the children they
	// came for are selected in the direction they came for, and press
	// confirm without reading the rest (the parent of bug 1).
	Hurried bool
	Scene   string // the generator's name for the situation (log, report)
}

// Wants lists the children the visit came for, with the action it wants.
func (v Visit) Wants() map[string]string {
	m := map[string]string{}
	for _, c := range v.Bring {
		m[c] = "check_in"
	}
	for _, c := range v.Take {
		m[c] = "check_out"
	}
	return m
}

// Answer is what the person does next.
type Answer struct {
	Kind     AnswerKind
	Children []string // AnswerSelect: the children chosen
}

// AnswerKind is the kind of a person's answer.
type AnswerKind int

const (
	Leave     AnswerKind = iota // done, or gives up: walks away
	Select                      // chooses children (select intent) and confirms
	Cancel                      // presses "Annuleren" / "Nee"
	WaitStaff                   // waits for a member of staff
	WalkAway                    // leaves the screen open (it expires)
)

// Respond is the person's answer to a screen.
func Respond(v Visit, s Screen) Answer {
	switch s.Outcome {
	case OutChoose:
		return respondChoose(v, s)
	case OutConfirm:
		return respondConfirm(v, s)
	case OutNeedsStaff:
		return respondNeedsStaff(v, s)
	default: // committed results, denied, staff screens, errors
		return Answer{Kind: Leave}
	}
}

// respondChoose: a choose screen. A careful person selects exactly the
// children they came for (spec 1: with nothing preselected across
// directions the confirm button needs a choice). A hurried one confirms the
// preselection when the children they came for are the ones selected in
// their direction. A repeated tap nobody meant is cancelled.
func respondChoose(v Visit, s Screen) Answer {
	want := v.Wants()
	if v.Accidental || len(want) == 0 {
		return Answer{Kind: Cancel}
	}
	var exact, pre []string
	preOwnDir := map[string]bool{}
	dirs := map[string]bool{}
	for _, a := range want {
		dirs[a] = true
	}
	for _, c := range s.Children {
		if a, ok := want[c.ID]; ok && a == c.Action {
			exact = append(exact, c.ID)
		}
		if c.Selected {
			pre = append(pre, c.ID)
			if dirs[c.Action] {
				preOwnDir[c.ID] = true
			}
		}
	}
	if v.Hurried && len(pre) > 0 && len(preOwnDir) == len(exact) {
		same := true
		for _, id := range exact {
			same = same && preOwnDir[id]
		}
		if same && len(exact) == len(want) {
			return Answer{Kind: Select, Children: pre}
		}
	}
	if len(exact) == 0 {
		return Answer{Kind: Cancel}
	}
	return Answer{Kind: Select, Children: exact}
}

// respondConfirm: "Levi is net ingecheckt. Nu ophalen?" (spec 2,
// reason undo_recent). Someone who did not mean the tap answers no; someone
// who means it says yes for the children they came for (a mixed confirm
// also offers other children, unselected: they pick theirs).
func respondConfirm(v Visit, s Screen) Answer {
	want := v.Wants()
	if v.Accidental || len(want) == 0 {
		return Answer{Kind: Cancel}
	}
	var pick []string
	for _, c := range s.Children {
		if a, ok := want[c.ID]; ok && a == c.Action {
			pick = append(pick, c.ID)
		}
	}
	if len(pick) == 0 {
		return Answer{Kind: Cancel}
	}
	return Answer{Kind: Select, Children: pick}
}

// respondNeedsStaff: "een medewerker komt eraan": the person waits (the
// generator sends staff, or the request expires).
func respondNeedsStaff(v Visit, s Screen) Answer {
	if v.Accidental {
		return Answer{Kind: Leave}
	}
	return Answer{Kind: WaitStaff}
}
