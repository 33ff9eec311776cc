package api

import "net/http"

// v1 prefixes the REST API the apps call.
const v1 = "/api/v1"

// routes is the whole HTTP surface of orderapi, grouped by resource: method,
// path, who may call it, and the handler with exactly the stores it uses.
// Adding an endpoint is adding a row.
func routes(d Deps) []route {
	s := d.Stores
	return []route{
		// Probes and the admin dashboard (outside /api/v1).
		{http.MethodGet, "/health", public, handleHealth(d.StartedAt, d.Now)},
		{http.MethodGet, "/healthz", public, handleHealthz()},
		{http.MethodGet, "/readyz", public, handleReadyz(d.Checks, d.Draining)},
		{http.MethodGet, "/admin", public, handleAdmin(d.AdminDir)},
		{http.MethodGet, "/admin/*", public, handleAdmin(d.AdminDir)},

		// Internal API of the gateway (never forwarded by the front proxy).
		{http.MethodGet, "/internal/v1/users/{id}", internal, handleInternalUser(s.Users)},
		{http.MethodGet, "/internal/v1/orders/{id}/parties", internal, handleInternalParties(s.Orders)},
	}
}
