package api_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

// TestOpenAPIMatchesRouter walks the real chi router and checks that every
// route is in the served description, every described operation is routed,
// and every operation is documented (a row in openapi_docs.go).
func TestOpenAPIMatchesRouter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do("GET", "/api/v1/openapi.json", "", nil).want(t, 200)
	if r.body["openapi"] != "3.0.3" {
		t.Fatalf("got openapi %v, want 3.0.3", r.body["openapi"])
	}
	paths, _ := r.body["paths"].(map[string]any)
	if len(paths) == 0 {
		t.Fatalf("no paths in %s", r.raw)
	}

	routes, ok := e.srv.Config.Handler.(chi.Routes)
	if !ok {
		t.Fatalf("NewServer returned %T, want a chi router", e.srv.Config.Handler)
	}
	routed := map[string]bool{}
	err := chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = strings.TrimSuffix(route, "/") // chi.Walk spells "/x/*" routes and sub-routers with a trailing "/"
		if route == "" {
			route = "/"
		}
		if strings.Contains(route, "*") {
			return nil // static-file wildcard (/admin/*), not an API operation
		}
		routed[method+" "+route] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	described := map[string]bool{}
	var undocumented []string
	for p, item := range paths {
		for m, op := range item.(map[string]any) {
			key := strings.ToUpper(m) + " " + p
			described[key] = true
			o := op.(map[string]any)
			if o["x-undocumented"] == true {
				undocumented = append(undocumented, key)
			}
			if s, _ := o["summary"].(string); s == "" {
				t.Errorf("%s has no summary", key)
			}
		}
	}
	for k := range routed {
		if !described[k] {
			t.Errorf("route %s is not in /api/v1/openapi.json", k)
		}
	}
	for k := range described {
		if !routed[k] {
			t.Errorf("described operation %s is not routed", k)
		}
	}
	sort.Strings(undocumented)
	for _, k := range undocumented {
		t.Errorf("route %s has no row in apiDocs (orderapi/internal/api/openapi_docs.go): add one", k)
	}

	// Path parameters are declared, operation ids are unique, and
	// Idempotency-Key is advertised where it is honoured.
	ids := map[string]string{}
	param := regexp.MustCompile(`\{([^}]+)\}`)
	for p, item := range paths {
		for m, op := range item.(map[string]any) {
			o := op.(map[string]any)
			key := strings.ToUpper(m) + " " + p
			id, _ := o["operationId"].(string)
			if prev, dup := ids[id]; dup || id == "" {
				t.Errorf("operationId %q of %s is empty or also used by %s", id, key, prev)
			}
			ids[id] = key
			declared := map[string]bool{}
			params, _ := o["parameters"].([]any)
			for _, pp := range params {
				pm := pp.(map[string]any)
				declared[pm["in"].(string)+":"+pm["name"].(string)] = true
			}
			for _, mm := range param.FindAllStringSubmatch(p, -1) {
				if !declared["path:"+mm[1]] {
					t.Errorf("%s does not declare path parameter %s", key, mm[1])
				}
			}
			if key == "POST /api/v1/payments" && !declared["header:Idempotency-Key"] {
				t.Errorf("%s does not advertise Idempotency-Key", key)
			}
		}
	}
	if b, _ := json.Marshal(r.body["components"]); !strings.Contains(string(b), "bearerAuth") {
		t.Errorf("no bearerAuth security scheme in components")
	}
}
