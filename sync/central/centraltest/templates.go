package centraltest

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

var (
	pathAttr = regexp.MustCompile(`(?:action|href)="(/[^"]*)"`)
	tmplExpr = regexp.MustCompile(`{{[^}]*}}`)
)

// CheckPathsEscaped fails t for every template under templates/ in assets
// that puts a value into a link's or form's path without the seg
// function: ids come from rosters and devices that others name, and "../"
// in one must not move a button to another route. Query values are left
// to html/template, which escapes them itself.
func CheckPathsEscaped(t *testing.T, assets fs.FS) {
	t.Helper()
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil || len(names) == 0 {
		t.Fatalf("templates: %v %v", names, err)
	}
	for _, n := range names {
		b, err := fs.ReadFile(assets, n)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range pathAttr.FindAllStringSubmatch(string(b), -1) {
			path, _, _ := strings.Cut(m[1], "?")
			for _, x := range tmplExpr.FindAllString(path, -1) {
				if !strings.Contains(x, "| seg") {
					t.Errorf("%s: %q puts %s into a path without seg", n, m[1], x)
				}
			}
		}
	}
}
