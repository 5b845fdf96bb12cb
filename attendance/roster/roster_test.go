package roster

import (
	"strings"
	"testing"

	"github.com/kinderdeur/kiosk/attendance"
)

func TestDemoIsValid(t *testing.T) {
	today := attendance.MustDate("2026-03-02")
	r, cards := Demo(today)
	if err := r.Validate(); err != nil {
		t.Fatalf("demo roster invalid: %v", err)
	}
	if len(r.Children) < 12 || len(r.Groups) < 2 || len(r.Staff) < 3 {
		t.Fatalf("demo roster too small: %d children, %d groups, %d staff", len(r.Children), len(r.Groups), len(r.Staff))
	}
	babies := 0
	for _, c := range r.Children {
		if c.BirthDate.AgeOn(today) == 0 {
			babies++
		}
	}
	if babies < 2 {
		t.Errorf("want at least 2 babies, got %d", babies)
	}
	if len(r.Badges) != len(cards)-1 {
		t.Errorf("every card but the unknown one has a badge: %d badges for %d cards", len(r.Badges), len(cards))
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	r, _ := Demo(attendance.MustDate("2026-03-02"))
	r.Children[0].GroupID = "nope"
	r.Badges[0].HolderID = "ghost"
	r.Location.RatioMode = "maybe"
	err := r.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{`unknown group "nope"`, `unknown guardian "ghost"`, `ratio_mode "maybe"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// A guardianship listed twice (central sent it twice) offers the child once:
// found by rules.FuzzDecide, where a doubled child doubled the ratio count.
func TestIndexRepeatedGuardianship(t *testing.T) {
	r, _ := Demo(attendance.MustDate("2026-03-02"))
	r.Guardianships = append(r.Guardianships, Guardianship{ChildID: "c-zoe", PersonID: "p-youssef"})
	ix, err := NewIndex(&r)
	if err != nil {
		t.Fatal(err)
	}
	if got := ix.ChildrenOf("p-youssef"); len(got) != 1 {
		t.Errorf("ChildrenOf = %v, want [c-zoe]", got)
	}
}
