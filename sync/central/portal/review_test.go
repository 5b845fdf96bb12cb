package portal_test

import (
	"net/http"
	"testing"
)

// TestBannedPersonSpellingVariants: a contact ban on "Tom J." (Julia and
// Lucas) cannot be side-stepped by writing the name another way: without
// the dot, in capitals, with a zero-width or bidi character, with the
// surname written out, or with accents.
func TestBannedPersonSpellingVariants(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		for _, name := range []string{"Tom J", "TOM J.", "Tom  J ,", "T\u200bom J.", "Tom\u00a0J.", "\u202eTom J.", "Tom Jansen", "Tom J.-", "Tóm J.", "Tom", "Tom van J."} {
			body := map[string]any{"children": []string{"c-julia"}, "person_name": name, "date": e.today.String()}
			if a := e.do(t, tokIngrid, "POST", "/api/v1/parent/pickups", body); a.status != http.StatusForbidden {
				t.Errorf("%q: %d %s, want 403", name, a.status, a.body)
			}
		}
		// Someone else with the same first name is still welcome.
		body := map[string]any{"children": []string{"c-julia"}, "person_name": "Tom K.", "date": e.today.String()}
		if a := e.do(t, tokIngrid, "POST", "/api/v1/parent/pickups", body); a.status != http.StatusCreated {
			t.Errorf("Tom K.: %d %s, want 201", a.status, a.body)
		}
	})
}
