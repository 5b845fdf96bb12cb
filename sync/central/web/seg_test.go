package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestFormPathsEscapeIDs: every id put into a link or form path of a
// portal page goes through seg, so an id from a staff-edited roster
// ("../../x") cannot move a parent's button to another route.
func TestFormPathsEscapeIDs(t *testing.T) {
	attr := regexp.MustCompile(`(?:action|href)="(/[^"]*)"`)
	action := regexp.MustCompile(`{{[^}]*}}`)
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil || len(names) == 0 {
		t.Fatalf("templates: %v %v", names, err)
	}
	for _, n := range names {
		b, err := fs.ReadFile(assets, n)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range attr.FindAllStringSubmatch(string(b), -1) {
			path, _, _ := strings.Cut(m[1], "?") // html/template escapes query values itself
			for _, x := range action.FindAllString(path, -1) {
				if !strings.Contains(x, "| seg") && !strings.Contains(x, "urlquery") {
					t.Errorf("%s: %q puts %s into a path without seg", n, m[1], x)
				}
			}
		}
	}
}
