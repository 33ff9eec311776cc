package api

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/friendspizzahut/platform/shared/auth"
)

// The OpenAPI 3 description of orderapi, served at GET /api/v1/openapi.json.
// Paths, methods, path parameters and security come from the route table
// itself (routes.go), so the description cannot drift from what is routed;
// summaries, query parameters and request bodies come from apiDocs
// (openapi_docs.go). A test walks the chi router and fails for a route
// without a row there.

// pathParam matches a chi URL parameter such as {id}.
var pathParam = regexp.MustCompile(`\{([^}/:]+)(:[^}]*)?\}`)

// docKey is the apiDocs key of a route: method and pattern with parameter
// names blanked, so a renamed parameter does not orphan its row.
func docKey(method, pattern string) string {
	return method + " " + pathParam.ReplaceAllString(pattern, "{}")
}

// documented reports whether a route belongs in the description (not the
// static file wildcard of /admin).
func documented(pattern string) bool { return !strings.Contains(pattern, "*") }

// handleOpenAPI: GET /api/v1/openapi.json (P). The document is built once,
// from the same route table the server was built from.
func handleOpenAPI(d Deps) http.Handler {
	var (
		once sync.Once
		body []byte
		err  error
	)
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		once.Do(func() { body, err = json.Marshal(openAPISpec(routes(d))) })
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(body)
		return nil
	})
}

// openAPISpec builds the description of rs.
func openAPISpec(rs []route) map[string]any {
	paths := map[string]map[string]any{}
	ids := map[string]int{}
	for _, rt := range rs {
		if !documented(rt.pattern) {
			continue
		}
		item := paths[rt.pattern]
		if item == nil {
			item = map[string]any{}
			paths[rt.pattern] = item
		}
		op := operation(rt)
		id := op["operationId"].(string)
		if ids[id]++; ids[id] > 1 { // e.g. the doubled-prefix alias of refresh
			op["operationId"] = id + strconv.Itoa(ids[id])
		}
		item[strings.ToLower(rt.method)] = op
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":   "Friends Pizza Hut orderapi",
			"version": "1.0.0",
			"description": "REST API of the pizza shop's order platform, compatible with the existing apps. " +
				"Success envelope {success, statusCode, message, data}; errors {success:false, statusCode, message, timestamp, path}; " +
				"validation errors {success:false, message, errors[]}; 429 {status:'fail', code:'TOO_MANY_REQUESTS', message, timestamp}. " +
				"Some routes keep the original's exceptions (noted per operation).",
		},
		"servers": []any{map[string]any{"url": "/"}},
		"paths":   paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"bearerAuth":    map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
				"internalToken": map[string]any{"type": "apiKey", "in": "header", "name": "X-Internal-Token"},
			},
			"schemas":   apiSchemas(),
			"responses": apiResponses(),
		},
	}
}

// operation describes one route.
func operation(rt route) map[string]any {
	doc, ok := apiDocs[docKey(rt.method, rt.pattern)]
	op := map[string]any{
		"operationId": operationID(rt.method, rt.pattern),
		"tags":        []string{tagOf(rt.pattern)},
	}
	if ok {
		op["summary"] = doc.Summary
		if doc.Notes != "" {
			op["description"] = doc.Notes
		}
	} else {
		op["summary"] = rt.method + " " + rt.pattern
		op["x-undocumented"] = true
	}
	var params []any
	for _, m := range pathParam.FindAllStringSubmatch(rt.pattern, -1) {
		params = append(params, map[string]any{"name": m[1], "in": "path", "required": true,
			"schema": map[string]any{"type": "string", "pattern": "^[0-9a-fA-F]{24}$"}})
	}
	for _, q := range doc.Query {
		name, typ, _ := strings.Cut(q, ":")
		if typ == "" {
			typ = "string"
		}
		params = append(params, map[string]any{"name": name, "in": "query", "required": false, "schema": map[string]any{"type": typ}})
	}
	if doc.Idempotent {
		params = append(params, map[string]any{"name": "Idempotency-Key", "in": "header", "required": false,
			"description": "Replays the first response for a repeated key of the same user (24 h); a different request with the same key → 409.",
			"schema":      map[string]any{"type": "string", "maxLength": 255}})
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if doc.Body != "" {
		op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
			"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + doc.Body}}}}
	}
	status := doc.Status
	if status == "" {
		status = "200"
	}
	success := map[string]any{"description": "Success", "content": map[string]any{
		"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Envelope"}}}}
	if h := cookieHeader(doc.Cookie, rt.who.kind); h != "" {
		success["headers"] = map[string]any{"Set-Cookie": map[string]any{"description": h, "schema": map[string]any{"type": "string"}}}
	}
	resp := map[string]any{status: success}
	if doc.Body != "" || len(doc.Query) > 0 || len(params) > 0 {
		resp["400"] = map[string]any{"$ref": "#/components/responses/BadRequest"}
	}
	switch rt.who.kind {
	case accessUser:
		op["security"] = []any{map[string]any{"bearerAuth": []string{}}}
		resp["401"] = map[string]any{"$ref": "#/components/responses/Unauthorized"}
		resp["403"] = map[string]any{"$ref": "#/components/responses/Forbidden"}
		if len(rt.who.roles) > 0 {
			op["x-roles"] = rt.who.roles
		}
	case accessOptionalUser:
		op["security"] = []any{map[string]any{"bearerAuth": []string{}}, map[string]any{}}
	case accessInternal:
		op["security"] = []any{map[string]any{"internalToken": []string{}}}
		resp["401"] = map[string]any{"description": "Missing or wrong internal token"}
	}
	if strings.Contains(rt.pattern, "{") {
		resp["404"] = map[string]any{"$ref": "#/components/responses/NotFound"}
	}
	if strings.HasPrefix(rt.pattern, v1+"/") {
		resp["429"] = map[string]any{"$ref": "#/components/responses/TooManyRequests"}
	}
	op["responses"] = resp
	return op
}

// cookieHeader describes what a route's success does to the session
// cookie (cookie.go), or "" when nothing.
func cookieHeader(effect string, kind accessKind) string {
	const what = auth.SocketCookie + ": HttpOnly; Path=/; SameSite=Strict; Secure over TLS; Max-Age = the access token's lifetime. " +
		"A socket-session token that authenticates Socket.IO handshakes only, never REST."
	switch {
	case effect == cookieSets:
		return "Sets " + what
	case effect == cookieClears:
		return "Clears " + auth.SocketCookie + " (Max-Age=0)."
	case kind == accessUser:
		return "Sets " + what + " Only when the request's cookie is missing or not this user's."
	}
	return ""
}

// tagOf groups an operation by resource: the first segment after /api/v1
// (or the probe/internal prefix).
func tagOf(pattern string) string {
	p := strings.TrimPrefix(pattern, v1)
	p = strings.TrimPrefix(p, v1) // the doubled prefix alias
	if strings.HasPrefix(p, "/internal/") {
		return "internal"
	}
	seg := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 2)[0]
	switch seg {
	case "health", "healthz", "readyz", "metrics", "openapi.json":
		return "meta"
	case "":
		return "meta"
	}
	return seg
}

var nonWord = regexp.MustCompile(`[^A-Za-z0-9]+`)

// operationID is a stable identifier: method and path words.
func operationID(method, pattern string) string {
	words := nonWord.Split(pathParam.ReplaceAllString(pattern, "by $1"), -1)
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, w := range words {
		if w == "" || w == "api" || w == "v1" {
			continue
		}
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String()
}
