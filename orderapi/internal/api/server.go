// Package api is orderapi's HTTP surface: the REST API the unchanged apps
// use (/api/v1), health and readiness probes, the admin dashboard's static
// files and the internal API of the gateway. routes.go lists all of it in
// one table; each handler is a maker taking only the stores it uses.
//
// Responses follow CONTRACT §3.2 (respond.go); every error goes through
// writeError, the only place errors are logged.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/friendspizzahut/platform/orderapi/internal/metrics"
	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/orderapi/internal/upload"
	"github.com/friendspizzahut/platform/shared/auth"
)

// Deps is what the HTTP layer needs. Zero values mean the defaults noted.
type Deps struct {
	Logger *slog.Logger
	Signer *auth.Signer
	Stores *store.Stores
	// Checks are the readiness checks of /readyz by name ("mongo", "redis");
	// the dashboard's systemStatus reports them too.
	Checks map[string]func(context.Context) error
	// GatewaysAlive tells the dashboard's systemStatus.socket whether any
	// gateway replica is up. May be nil (reported inactive).
	GatewaysAlive func(context.Context) error
	// Draining reports that shutdown has begun (/readyz answers 503). May be nil.
	Draining func() bool
	// InternalToken guards /internal/v1 (X-Internal-Token).
	InternalToken string
	// AdminDir holds the admin dashboard's static files; "" disables /admin.
	AdminDir string
	// MaxBodyBytes caps request bodies (default 1 MiB).
	MaxBodyBytes int64
	// StartedAt is when the process started (/health uptime).
	StartedAt time.Time
	// Now is the clock (default time.Now).
	Now func() time.Time
	// RateLimit sets the per-client limits of /api/v1 (ratelimit.go).
	RateLimit RateLimit
	// SecureCookie marks the session cookie Secure on every response, not
	// only on those to requests that came over TLS (SESSION_COOKIE_SECURE).
	SecureCookie bool
	// IdempotencyTTL is how long an Idempotency-Key is remembered
	// (default DefaultIdempotencyTTL).
	IdempotencyTTL time.Duration
	// Metrics records requests and rate limits and serves /metrics. May be
	// nil (no metrics; /metrics answers 404).
	Metrics *metrics.API
	// Dashboard configures /dashboard/* (time zone, cache).
	Dashboard DashboardConfig
	// Uploads stores uploaded images; nil makes /upload/* answer 503.
	Uploads upload.Storage
	// PublicURL is the origin in uploaded images' URLs (PUBLIC_URL); ""
	// takes it from each request (X-Forwarded-Proto/-Host from a proxy
	// RateLimit.TrustProxy believes, else Host).
	PublicURL string
}

// NewServer returns the HTTP handler of orderapi.
func NewServer(d Deps) http.Handler {
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = 1 << 20
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.StartedAt.IsZero() {
		d.StartedAt = d.Now()
	}
	if d.Draining == nil {
		d.Draining = func() bool { return false }
	}
	if d.IdempotencyTTL <= 0 {
		d.IdempotencyTTL = DefaultIdempotencyTTL
	}

	r := chi.NewRouter()
	r.Use(logRequests(d.Logger, d.Metrics), recoverPanics, limitBody(d.MaxBodyBytes, uploadBodyLimit),
		rateLimit(d.RateLimit, d.Signer, d.Now, d.Metrics.RateLimited))
	r.NotFound(notFoundRoute)
	r.MethodNotAllowed(notFoundRoute) // Express answers an unknown method with the same 404
	for _, rt := range routes(d) {
		r.Method(rt.method, rt.pattern, guard(d, rt.who)(rt.h))
	}
	return r
}

// sessions issues the session cookie with d's settings.
func (d Deps) sessions() sessions {
	return sessions{signer: d.Signer, secure: d.SecureCookie, now: d.Now}
}

// guard returns the middleware that enforces who may call a route.
func guard(d Deps, who access) func(http.Handler) http.Handler {
	switch who.kind {
	case accessPublic:
		return func(h http.Handler) http.Handler { return h }
	case accessOptionalUser:
		return authenticateOptional(d.Stores.Users, d.Signer)
	case accessInternal:
		return requireInternalToken(d.InternalToken)
	}
	authn := authenticate(d.Stores.Users, d.sessions())
	if len(who.roles) == 0 {
		return authn
	}
	authz := requireRole(who.roles...)
	return func(h http.Handler) http.Handler { return authn(authz(h)) }
}

type accessKind int

const (
	accessPublic       accessKind = iota
	accessUser                    // any active, authenticated user (maybe restricted to roles)
	accessOptionalUser            // user if a valid token came, anonymous otherwise
	accessInternal                // the gateway, with X-Internal-Token
)

// access says who may call a route.
type access struct {
	kind  accessKind
	roles []string
}

// The access levels used in the route table.
var (
	public       = access{kind: accessPublic}
	anyUser      = access{kind: accessUser}
	optionalUser = access{kind: accessOptionalUser}
	internal     = access{kind: accessInternal}
	admin        = roles(auth.RoleAdmin)
	customer     = roles(auth.RoleCustomer)
	delivery     = roles(auth.RoleDelivery)
)

// roles lets in authenticated users with one of the given stored roles.
func roles(rs ...string) access { return access{kind: accessUser, roles: rs} }

// route is one row of the table in routes.go.
type route struct {
	method  string
	pattern string
	who     access
	h       http.Handler
}
