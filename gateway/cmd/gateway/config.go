package main

import (
	"net"
	"os"
	"slices"
	"time"

	"github.com/friendspizzahut/platform/gateway/internal/sio"
	"github.com/friendspizzahut/platform/gateway/internal/socket"
	"github.com/friendspizzahut/platform/shared/auth"
	"github.com/friendspizzahut/platform/shared/config"
	"github.com/friendspizzahut/platform/shared/event"
)

// cfg is the gateway's configuration, read once from the environment.
type cfg struct {
	Port          int    // PORT, default 5002 (0 picks a free port)
	RedisURL      string // REDIS_URL, required
	JWTSecret     string // JWT_SECRET, dev default with a warning
	OrderAPIURL   string // ORDERAPI_URL, default http://127.0.0.1:5001 (internal API)
	InternalToken string // INTERNAL_TOKEN, dev default with a warning
	GatewayID     string // GATEWAY_ID, default the host name
	RequireToken  bool   // GATEWAY_REQUIRE_TOKEN, default false; true means no tokenless roles
	// TokenlessRoles: GATEWAY_TOKENLESS_ROLES, comma-separated, default
	// "customer,delivery"; "none" means none.
	TokenlessRoles []string
	CORSOrigins    []string // CORS_ORIGINS, comma-separated, default "*"
	EventsChannel  string   // EVENTS_CHANNEL, default "fph:events"

	PingInterval      time.Duration // PING_INTERVAL, default 25s
	PingTimeout       time.Duration // PING_TIMEOUT, default 20s
	MaxHTTPBufferSize int           // MAX_HTTP_BUFFER_SIZE, default 1000000
	ConnectTimeout    time.Duration // CONNECT_TIMEOUT, default 45s
	SocketQueue       int           // SOCKET_QUEUE, packets queued per socket before it is cut, default 1000
	Engine            string        // GATEWAY_ENGINE eio|zishang, the Engine.IO server, default eio (ours)
	EventRate         int           // SOCKET_EVENT_RATE, client events per second per socket, default 20
	EventBurst        int           // SOCKET_EVENT_BURST, default 60
	PresenceInterval  time.Duration // PRESENCE_INTERVAL, Redis refresh, default 10s

	RecoveryWindow time.Duration // GATEWAY_RECOVERY_WINDOW, how long a dropped session can be recovered, default 2m; 0 turns recovery off
	DrainDelay     time.Duration // GATEWAY_DRAIN_DELAY, not ready but still serving after SIGTERM, default 5s
	DrainWindow    time.Duration // GATEWAY_DRAIN_WINDOW, sockets are closed spread over it, default 10s
	InternalURL    string        // GATEWAY_INTERNAL_URL, where other replicas reach this one, default http://<first non-loopback IPv4>:PORT

	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT, default 10s
	LogFormat       string        // LOG_FORMAT text|json, default text
	LogLevel        string        // LOG_LEVEL debug|info|warn|error, default info

	warnings []string // defaults worth shouting about
}

// loadConfig reads the environment through getenv and reports every bad
// value at once.
func loadConfig(getenv func(string) string) (cfg, error) {
	r := config.NewReader(getenv)
	host, _ := os.Hostname()
	if host == "" {
		host = "gateway"
	}
	c := cfg{
		Port:           r.Port("PORT", 5002),
		RedisURL:       r.Redis("REDIS_URL"),
		JWTSecret:      r.String("JWT_SECRET", ""),
		OrderAPIURL:    r.URL("ORDERAPI_URL", "http://127.0.0.1:5001", "http", "https"),
		InternalToken:  r.String("INTERNAL_TOKEN", ""),
		GatewayID:      r.String("GATEWAY_ID", host),
		RequireToken:   r.Bool("GATEWAY_REQUIRE_TOKEN", false),
		TokenlessRoles: tokenlessRoles(r),
		CORSOrigins:    r.List("CORS_ORIGINS", []string{"*"}),
		EventsChannel:  r.String("EVENTS_CHANNEL", event.DefaultChannel),

		PingInterval:      r.Duration("PING_INTERVAL", 25*time.Second),
		PingTimeout:       r.Duration("PING_TIMEOUT", 20*time.Second),
		MaxHTTPBufferSize: r.Int("MAX_HTTP_BUFFER_SIZE", 1_000_000, 1024, 100_000_000),
		ConnectTimeout:    r.Duration("CONNECT_TIMEOUT", 45*time.Second),
		SocketQueue:       r.Int("SOCKET_QUEUE", 1000, 16, 1_000_000),
		Engine:            r.OneOf("GATEWAY_ENGINE", sio.EngineOurs, sio.EngineOurs, sio.EngineZishang),
		EventRate:         r.Int("SOCKET_EVENT_RATE", 20, 1, 100_000),
		EventBurst:        r.Int("SOCKET_EVENT_BURST", 60, 1, 100_000),
		PresenceInterval:  r.Duration("PRESENCE_INTERVAL", 10*time.Second),

		RecoveryWindow: r.Duration("GATEWAY_RECOVERY_WINDOW", 2*time.Minute),
		DrainDelay:     r.Duration("GATEWAY_DRAIN_DELAY", 5*time.Second),
		DrainWindow:    r.Duration("GATEWAY_DRAIN_WINDOW", 10*time.Second),
		InternalURL:    r.URL("GATEWAY_INTERNAL_URL", "", "http", "https"),

		ShutdownTimeout: r.Duration("SHUTDOWN_TIMEOUT", 10*time.Second),
		LogFormat:       r.OneOf("LOG_FORMAT", "text", "text", "json"),
		LogLevel:        r.OneOf("LOG_LEVEL", "info", "debug", "info", "warn", "error"),
	}
	if _, set := r.Lookup("REDIS_URL"); !set {
		r.Fail("REDIS_URL", "required (e.g. redis://127.0.0.1:6379/0)")
	}
	if c.JWTSecret == "" {
		c.JWTSecret = config.DevJWTSecret
		c.warnings = append(c.warnings, "JWT_SECRET is not set: using the public development secret; anyone can forge tokens. Set JWT_SECRET in production.")
	}
	if c.InternalToken == "" {
		c.InternalToken = config.DevInternalToken
		c.warnings = append(c.warnings, "INTERNAL_TOKEN is not set: using the public development token for orderapi's internal API. Set INTERNAL_TOKEN in production.")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"PING_INTERVAL", c.PingInterval}, {"PING_TIMEOUT", c.PingTimeout}, {"CONNECT_TIMEOUT", c.ConnectTimeout}, {"PRESENCE_INTERVAL", c.PresenceInterval}} {
		if d.v < 100*time.Millisecond {
			r.Fail(d.name, "must be at least 100ms")
		}
	}
	if c.RequireToken {
		c.TokenlessRoles = []string{}
	}
	if c.RecoveryWindow != 0 && c.RecoveryWindow < time.Second {
		r.Fail("GATEWAY_RECOVERY_WINDOW", "must be 0 (off) or at least 1s")
	}
	if len(c.GatewayID) > 64 {
		r.Fail("GATEWAY_ID", "must be at most 64 characters")
	}
	return c, r.Err()
}

// tokenlessRoles reads GATEWAY_TOKENLESS_ROLES: roles from the fixed set,
// or "none" for none (unset: socket.DefaultTokenlessRoles).
func tokenlessRoles(r *config.Reader) []string {
	roles := r.List("GATEWAY_TOKENLESS_ROLES", socket.DefaultTokenlessRoles)
	out := []string{}
	for _, role := range roles {
		switch role {
		case "none":
		case auth.RoleCustomer, auth.RoleDelivery, auth.RoleAdmin:
			if !slices.Contains(out, role) {
				out = append(out, role)
			}
		default:
			r.Fail("GATEWAY_TOKENLESS_ROLES", "%q is not a role: use customer, delivery, admin or none", role)
		}
	}
	return out
}

// hostIP is the first non-loopback IPv4 address of this host (a
// container's address on its network), else 127.0.0.1.
func hostIP() string {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}
