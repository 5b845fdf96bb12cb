package central_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/auth"
	"github.com/kinderdeur/kiosk/sync/central/centraltest"
	"github.com/kinderdeur/kiosk/sync/central/portal"
)

type openAPIDoc struct {
	OpenAPI string                                `json:"openapi"`
	Paths   map[string]map[string]openAPIOp       `json:"paths"`
	Hooks   map[string]map[string]json.RawMessage `json:"webhooks"`
}

type openAPIOp struct {
	OperationID string            `json:"operationId"`
	Summary     string            `json:"summary"`
	Permission  string            `json:"x-permission"`
	Security    []json.RawMessage `json:"security"`
	Parameters  []openAPIParam    `json:"parameters"`
}

type openAPIParam struct {
	Name string `json:"name"`
	In   string `json:"in"`
}

func loadOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(central.OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return doc
}

// TestOpenAPIMatchesRoutes: every route central registers under /api (and
// /healthz), the parent API included, is described with its methods, and
// every described operation exists; path parameters are declared.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newEnv(t, centraltest.Backends()[0])
	doc := loadOpenAPI(t)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	registered := central.NewServer(central.Config{DB: e.db}).Routes()
	ps, err := portal.New(portal.Config{DB: e.db, Origin: "http://localhost:8090"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range ps.Routes() {
		registered = append(registered, r.Method+" "+r.Pattern)
	}
	var want []string
	for _, r := range registered {
		method, path, ok := strings.Cut(r, " ")
		if !ok {
			t.Errorf("route %q has no method: describe which", r)
			continue
		}
		if strings.HasPrefix(path, "/api/") || path == "/healthz" {
			want = append(want, strings.ToLower(method)+" "+path)
		}
	}
	var got []string
	ids := map[string]bool{}
	param := regexp.MustCompile(`{(\w+)}`)
	for path, ops := range doc.Paths {
		for method, op := range ops {
			got = append(got, method+" "+path)
			if op.Summary == "" || op.OperationID == "" || ids[op.OperationID] {
				t.Errorf("%s %s: summary %q, operationId %q (unique)", method, path, op.Summary, op.OperationID)
			}
			ids[op.OperationID] = true
			for _, m := range param.FindAllStringSubmatch(path, -1) {
				if !slices.ContainsFunc(op.Parameters, func(p openAPIParam) bool { return p.Name == m[1] && p.In == "path" }) {
					t.Errorf("%s %s: path parameter %s not declared", method, path, m[1])
				}
			}
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("registered routes (-) against openapi.json (+):\n%s", diff)
	}
	for _, typ := range append(central.HookEventTypes, central.HookPing) {
		if doc.Hooks[typ]["post"] == nil {
			t.Errorf("webhook %s not described under webhooks", typ)
		}
	}
}

// TestOpenAPIPermissionsAreTheRealOnes calls every admin operation with
// each role's token: 403 exactly when the documented x-permission is not
// the role's.
func TestOpenAPIPermissionsAreTheRealOnes(t *testing.T) {
	e := newEnv(t, centraltest.Backends()[0])
	srv := httptest.NewServer(central.NewServer(central.Config{DB: e.db, Now: e.clock.Now,
		AdminLimiter: auth.NewLimiter(1e6, 1e6, e.clock.Now)}).Handler())
	defer srv.Close()
	doc := loadOpenAPI(t)
	tokens := map[auth.Role]string{}
	for _, role := range []auth.Role{auth.RoleAdmin, auth.RoleManager, auth.RoleBilling, auth.RoleInspector} {
		tok, _, err := e.db.Users.CreateAPIToken(context.Background(), "t-"+string(role), role)
		if err != nil {
			t.Fatal(err)
		}
		tokens[role] = tok
	}
	n := 0
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if op.Permission == "" {
				if strings.HasPrefix(path, "/api/v1/admin/") {
					t.Errorf("%s %s: admin route without x-permission", method, path)
				}
				continue
			}
			n++
			url := srv.URL + param.ReplaceAllString(path, "x")
			for role, tok := range tokens {
				req, _ := http.NewRequest(strings.ToUpper(method), url, strings.NewReader("{}"))
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if forbidden := resp.StatusCode == http.StatusForbidden; forbidden == auth.Can(role, auth.Permission(op.Permission)) {
					t.Errorf("%s %s as %s: %d, documented permission %s", method, path, role, resp.StatusCode, op.Permission)
				}
			}
		}
	}
	if n < 40 {
		t.Errorf("only %d operations with a permission", n)
	}
}

var param = regexp.MustCompile(`{\w+}`)

func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t, centraltest.Backends()[0])
	code, body := e.do(t, http.MethodGet, "/api/openapi.json", nil, nil)
	if code != http.StatusOK || !json.Valid(body) || !strings.Contains(string(body), `"openapi": "3.1.0"`) {
		t.Errorf("GET /api/openapi.json: %d %.200s", code, body)
	}
}
