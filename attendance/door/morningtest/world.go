package morningtest

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// World is the physical truth: who is in the building. It changes only by
// what the simulated people do, never by what the door says happened.
type World struct {
	In      map[string]bool // children in the building
	StaffIn map[string]bool // staff at work
}

// NewWorld is an empty building.
func NewWorld() *World { return &World{In: map[string]bool{}, StaffIn: map[string]bool{}} }

// Children lists the children in the building, sorted.
func (w *World) Children() []string { return keys(w.In) }

// Staff lists the staff at work, sorted.
func (w *World) Staff() []string { return keys(w.StaffIn) }

func keys(m map[string]bool) []string {
	var out []string
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Request is a staff request the model knows is open: someone waits.
type Request struct {
	Session  string
	Reason   string
	Children []string          // the children at stake (nil: unknown to the driver)
	Target   map[string]string // child -> the action asked for
	Waiting  *Visit            // who waits (nil: nobody any more)
	Opened   time.Time
	Step     int
	Reported bool // a failure about it was reported already
}

// Failure is one broken invariant.
type Failure struct {
	Seed  uint64
	Step  int
	Item  string // the issue 14 item or invariant it belongs to
	Scene string
	Msg   string
}

func (f Failure) String() string {
	return fmt.Sprintf("seed %d step %d [%s] (%s): %s", f.Seed, f.Step, f.Item, f.Scene, f.Msg)
}

// Invariant and issue-14 item names of failures.
const (
	ItemMixed    = "#1 mixed family"
	ItemUndo     = "#2 repeated tap undoes"
	ItemPanel    = "#3 staff panel on the glass"
	ItemNames    = "#4 confirmed pickup names no child"
	ItemRequest  = "#5 request never closes / stale confirm"
	ItemPartly   = "#6 partly announced"
	ItemRelease  = "#7 release to whom"
	ItemAge      = "#8 unknown age"
	ItemSeq      = "#9 seq/resync"
	ItemPresence = "presence != physical"
	ItemEvents   = "event without decision"
	ItemPrivacy  = "staff-only data public"
	ItemCrash    = "panic/goroutines"
)

func names(ids []string) string { return strings.Join(ids, ",") }
