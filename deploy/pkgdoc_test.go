package deploy

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestPackageDocs checks that every package in the module says what it is
// for: a "// Package x ..." comment (a command: "// Command x ...") on its
// package clause in at least one of its non-test files (STYLE.md, item 12;
// like Tailscale's pkgdoc_test.go).
func TestPackageDocs(t *testing.T) {
	root := ".."
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root: %v", err)
	}
	documented := map[string]bool{} // by directory
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && path != root {
				return filepath.SkipDir // another module
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		dir := filepath.Dir(path)
		want := "Package " + f.Name.Name + " "
		if f.Name.Name == "main" {
			want = "Command " + filepath.Base(dir) + " "
		}
		documented[dir] = documented[dir] || f.Doc != nil && strings.HasPrefix(f.Doc.Text(), want)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(documented) < 10 {
		t.Fatalf("found only %d packages under %s: is the walk wrong?", len(documented), root)
	}
	var missing []string
	for dir, ok := range documented {
		if !ok {
			rel, _ := filepath.Rel(root, dir)
			missing = append(missing, filepath.ToSlash(rel))
		}
	}
	slices.Sort(missing)
	for _, dir := range missing {
		t.Errorf("%s: no package doc comment (\"// Package x ...\", or \"// Command x ...\" for a main)", dir)
	}
}
