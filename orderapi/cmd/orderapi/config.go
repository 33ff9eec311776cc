package main

import (
	"time"

	"github.com/friendspizzahut/platform/orderapi/internal/api"
	"github.com/friendspizzahut/platform/orderapi/internal/dashboard"
	"github.com/friendspizzahut/platform/shared/config"
	"github.com/friendspizzahut/platform/shared/event"
)

// cfg is orderapi's configuration, read once from the environment.
type cfg struct {
	Port          int    // PORT, default 5001 (0 picks a free port)
	MongoURI      string // MONGODB_URI, required
	MongoDatabase string // MONGODB_DATABASE, default "friendspizzahut"
	MongoPoolSize int    // MONGODB_POOL_SIZE, default 1: see connectMongo
	RedisURL      string // REDIS_URL, required
	JWTSecret     string // JWT_SECRET, dev default with a warning
	InternalToken string // INTERNAL_TOKEN, dev default with a warning
	EventsChannel string // EVENTS_CHANNEL, default "fph:events"
	AdminDir      string // ADMIN_DIR, unset: /admin answers 404

	Seed              bool   // SEED, default false
	SeedAdminEmail    string // SEED_ADMIN_EMAIL, default admin@friendspizzahut.test
	SeedAdminPassword string // SEED_ADMIN_PASSWORD, default Admin12345

	OutboxRelay        bool          // OUTBOX_RELAY, default true; false leaves events pending (ops/tests)
	OutboxPollInterval time.Duration // OUTBOX_POLL_INTERVAL, default 5s

	RateLimit      api.RateLimit // RATE_LIMIT_*: see rateLimitConfig
	IdempotencyTTL time.Duration // IDEMPOTENCY_TTL, default 24h: how long an Idempotency-Key is remembered
	SecureCookie   bool          // SESSION_COOKIE_SECURE, default false: Secure on every response, not only TLS ones

	DashboardTimeZone *time.Location // DASHBOARD_TIMEZONE, default Asia/Kolkata: the shop's "today"
	DashboardCacheTTL time.Duration  // DASHBOARD_CACHE_TTL, default 30s
	UploadDir         string         // UPLOAD_DIR, unset: image uploads answer 503
	PublicURL         string         // PUBLIC_URL, origin of uploaded images' URLs; unset: from each request

	MaxBodyBytes    int           // MAX_BODY_BYTES, default 1 MiB
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT, default 10s
	LogFormat       string        // LOG_FORMAT text|json, default text
	LogLevel        string        // LOG_LEVEL debug|info|warn|error, default info

	warnings []string // defaults worth shouting about
}

// loadConfig reads the environment through getenv and reports every bad
// value at once.
func loadConfig(getenv func(string) string) (cfg, error) {
	r := config.NewReader(getenv)
	c := cfg{
		Port:          r.Port("PORT", 5001),
		MongoURI:      r.URL("MONGODB_URI", "", "mongodb", "mongodb+srv"),
		MongoDatabase: r.String("MONGODB_DATABASE", "friendspizzahut"),
		MongoPoolSize: r.Int("MONGODB_POOL_SIZE", 1, 1, 1000),
		RedisURL:      r.Redis("REDIS_URL"),
		JWTSecret:     r.String("JWT_SECRET", ""),
		InternalToken: r.String("INTERNAL_TOKEN", ""),
		EventsChannel: r.String("EVENTS_CHANNEL", event.DefaultChannel),
		AdminDir:      r.String("ADMIN_DIR", ""),

		Seed:              r.Bool("SEED", false),
		SeedAdminEmail:    r.String("SEED_ADMIN_EMAIL", "admin@friendspizzahut.test"),
		SeedAdminPassword: r.String("SEED_ADMIN_PASSWORD", "Admin12345"),

		OutboxRelay:        r.Bool("OUTBOX_RELAY", true),
		OutboxPollInterval: r.Duration("OUTBOX_POLL_INTERVAL", 5*time.Second),

		RateLimit:      rateLimitConfig(r),
		IdempotencyTTL: r.Duration("IDEMPOTENCY_TTL", api.DefaultIdempotencyTTL),
		SecureCookie:   r.Bool("SESSION_COOKIE_SECURE", false),

		DashboardCacheTTL: r.Duration("DASHBOARD_CACHE_TTL", api.DefaultDashboardCacheTTL),
		UploadDir:         r.String("UPLOAD_DIR", ""),
		PublicURL:         r.URL("PUBLIC_URL", "", "http", "https"),

		MaxBodyBytes:    r.Int("MAX_BODY_BYTES", 1<<20, 1024, 64<<20),
		ShutdownTimeout: r.Duration("SHUTDOWN_TIMEOUT", 10*time.Second),
		LogFormat:       r.OneOf("LOG_FORMAT", "text", "text", "json"),
		LogLevel:        r.OneOf("LOG_LEVEL", "info", "debug", "info", "warn", "error"),
	}
	if _, set := r.Lookup("MONGODB_URI"); !set {
		r.Fail("MONGODB_URI", "required (e.g. mongodb://127.0.0.1:27017)")
	}
	if _, set := r.Lookup("REDIS_URL"); !set {
		r.Fail("REDIS_URL", "required (e.g. redis://127.0.0.1:6379/0)")
	}
	if c.JWTSecret == "" {
		c.JWTSecret = config.DevJWTSecret
		c.warnings = append(c.warnings, "JWT_SECRET is not set: using the public development secret; anyone can forge tokens. Set JWT_SECRET in production.")
	} else if len(c.JWTSecret) < 16 {
		c.warnings = append(c.warnings, "JWT_SECRET is shorter than 16 characters; use a long random secret.")
	}
	if c.InternalToken == "" {
		c.InternalToken = config.DevInternalToken
		c.warnings = append(c.warnings, "INTERNAL_TOKEN is not set: using the public development token for /internal/v1. Set INTERNAL_TOKEN in production.")
	}
	if c.OutboxPollInterval < 100*time.Millisecond {
		r.Fail("OUTBOX_POLL_INTERVAL", "must be at least 100ms")
	}
	if c.IdempotencyTTL < time.Minute {
		r.Fail("IDEMPOTENCY_TTL", "must be at least 1m")
	}
	tz := r.String("DASHBOARD_TIMEZONE", dashboard.DefaultTimeZone)
	if loc, err := time.LoadLocation(tz); err != nil || tz == "" || tz == "Local" {
		r.Fail("DASHBOARD_TIMEZONE", "must be an IANA time zone name such as Asia/Kolkata")
	} else {
		c.DashboardTimeZone = loc
	}
	if c.DashboardCacheTTL < time.Second || c.DashboardCacheTTL > time.Hour {
		r.Fail("DASHBOARD_CACHE_TTL", "must be between 1s and 1h")
	}
	if len(c.SeedAdminPassword) < 6 {
		r.Fail("SEED_ADMIN_PASSWORD", "must be at least 6 characters")
	}
	return c, r.Err()
}

// rateLimitConfig reads the per-client limits of /api/v1. The defaults are
// far above what the apps send, so real traffic never meets them.
func rateLimitConfig(r *config.Reader) api.RateLimit {
	rl := api.RateLimit{
		Disabled:      !r.Bool("RATE_LIMIT_ENABLED", true),
		Window:        r.Duration("RATE_LIMIT_WINDOW", time.Minute),
		Max:           r.Int("RATE_LIMIT_MAX", 1200, 1, 1_000_000),
		PaymentWrites: r.Int("RATE_LIMIT_PAYMENT_WRITES", 120, 1, 1_000_000),
		Uploads:       r.Int("RATE_LIMIT_UPLOADS", 30, 1, 1_000_000),
		AuthFailures:  r.Int("RATE_LIMIT_AUTH_FAILURES", 30, 1, 1_000_000),
		AuthWindow:    r.Duration("RATE_LIMIT_AUTH_WINDOW", 15*time.Minute),
		MaxClients:    r.Int("RATE_LIMIT_MAX_CLIENTS", 100_000, 100, 10_000_000),
		TrustProxy:    r.OneOf("RATE_LIMIT_TRUST_PROXY", api.ProxyPrivate, api.ProxyPrivate, api.ProxyAll, api.ProxyNone),
	}
	if rl.Window < time.Second {
		r.Fail("RATE_LIMIT_WINDOW", "must be at least 1s")
	}
	if rl.AuthWindow < time.Second {
		r.Fail("RATE_LIMIT_AUTH_WINDOW", "must be at least 1s")
	}
	return rl
}
