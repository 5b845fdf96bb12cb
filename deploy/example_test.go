package deploy

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/hw/readers"
)

// flatten lists a JSON document's key paths: "central.url", "readers"
// and "readers[].spi".
func flatten(t *testing.T, doc map[string]any) []string {
	t.Helper()
	keys := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, sub := range v {
				walk(prefix+k+".", sub)
			}
		case []any:
			name := strings.TrimSuffix(prefix, ".")
			keys[name] = true
			for _, el := range v {
				if obj, ok := el.(map[string]any); ok {
					for k, sub := range obj {
						walk(name+"[]."+k+".", sub)
					}
				}
			}
		default:
			keys[strings.TrimSuffix(prefix, ".")] = true
		}
	}
	walk("", doc)
	out := make([]string, 0, len(keys))
	for k := range keys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var docKey = regexp.MustCompile("^\\| `([a-z_\\[\\].]+)` \\|")

// documentedKeys reads the keys of the configuration table in README.md.
func documentedKeys(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	start := bytes.Index(b, []byte("<!-- config-keys"))
	end := bytes.Index(b, []byte("<!-- /config-keys -->"))
	if start < 0 || end < start {
		t.Fatal("README.md has no <!-- config-keys --> ... <!-- /config-keys --> table")
	}
	var keys []string
	for _, line := range strings.Split(string(b[start:end]), "\n") {
		if m := docKey.FindStringSubmatch(line); m != nil {
			keys = append(keys, m[1])
		}
	}
	sort.Strings(keys)
	return keys
}

func readExample(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("kioskd.example.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestExampleDocumented: every key of the example is in the README's
// reference and every documented key is in the example.
func TestExampleDocumented(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(readExample(t), &doc); err != nil {
		t.Fatalf("kioskd.example.json: %v", err)
	}
	if diff := cmp.Diff(documentedKeys(t), flatten(t, doc)); diff != "" {
		t.Errorf("README.md config keys vs kioskd.example.json (-documented +example):\n%s", diff)
	}
}

// TestExampleReadersParse runs the example's readers through the parser
// kioskd uses (hw/readers), with its defaults and validation.
func TestExampleReadersParse(t *testing.T) {
	var doc struct {
		Readers json.RawMessage `json:"readers"`
	}
	if err := json.Unmarshal(readExample(t), &doc); err != nil {
		t.Fatal(err)
	}
	in, err := json.Marshal(map[string]json.RawMessage{"readers": doc.Readers})
	if err != nil {
		t.Fatal(err)
	}
	got, err := readers.ParseConfig(bytes.NewReader(in))
	if err != nil {
		t.Fatalf("readers.ParseConfig(example) = %v", err)
	}
	var names []string
	for _, r := range got {
		names = append(names, r.Name+"/"+r.Kind+"/"+string(r.Role))
	}
	want := []string{"entrance/rc522/in", "exit/rc522/out", "staff-desk/hid/both"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("example readers (-want +got):\n%s", diff)
	}
}
