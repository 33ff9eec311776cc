package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/friendspizzahut/platform/gateway/internal/cluster"
	"github.com/friendspizzahut/platform/gateway/internal/directory"
	"github.com/friendspizzahut/platform/gateway/internal/fanout"
	"github.com/friendspizzahut/platform/gateway/internal/location"
	"github.com/friendspizzahut/platform/gateway/internal/metrics"
	"github.com/friendspizzahut/platform/gateway/internal/presence"
	"github.com/friendspizzahut/platform/gateway/internal/recovery"
	"github.com/friendspizzahut/platform/gateway/internal/routing"
	"github.com/friendspizzahut/platform/gateway/internal/sio"
	"github.com/friendspizzahut/platform/gateway/internal/socket"
	"github.com/friendspizzahut/platform/shared/auth"
	"github.com/friendspizzahut/platform/shared/bus"
	"github.com/friendspizzahut/platform/shared/logging"
)

// run is the whole program: config → logger → clients → socket server,
// fanout and presence → wait for a signal → shutdown in reverse order.
//
// Arguments: "healthcheck" probes GET /healthz of a running instance on
// PORT; "--conformance" serves the protocol test suites' fixture instead.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 1 && args[1] == "healthcheck" {
		return healthcheck(ctx, getenv)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if slices.Contains(args[1:], "--conformance") {
		return runConformance(ctx, getenv, stderr)
	}

	c, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	logger := logging.New(stderr, c.LogFormat, c.LogLevel).With("gateway_id", c.GatewayID)
	for _, w := range c.warnings {
		logger.Warn("!!! INSECURE DEFAULT !!! " + w)
	}

	eventBus, err := bus.New(bus.Config{URL: c.RedisURL, Channel: c.EventsChannel}, logger.With("component", "bus"))
	if err != nil {
		return fmt.Errorf("REDIS_URL: %w", err)
	}
	defer eventBus.Close()

	signer := auth.NewSigner(c.JWTSecret, nil)
	tracker := presence.NewTracker()
	m := metrics.New(metrics.Config{ClientEvents: socket.ClientEvents(), SocketEvents: routing.SocketEvents()})
	handlers := socket.New(socket.Config{
		RequireToken:   c.RequireToken,
		TokenlessRoles: c.TokenlessRoles,
		EventRate:      float64(c.EventRate),
		EventBurst:     c.EventBurst,
	}, socket.Deps{
		Tokens:    signer,
		Directory: directory.New(directory.Config{BaseURL: c.OrderAPIURL, Token: c.InternalToken, OnLookup: m.Lookup}),
		Locations: location.New(eventBus.Redis(), 0),
		Publisher: eventBus,
		Router:    routing.New(),
		Presence:  tracker,
		Observer:  m,
	}, logger.With("component", "socket"))
	// Listen before serving: a busy port fails here, at once.
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(c.Port))
	if err != nil {
		return fmt.Errorf("listen on port %d: %w", c.Port, err)
	}
	defer ln.Close()
	if c.InternalURL == "" {
		c.InternalURL = "http://" + net.JoinHostPort(hostIP(), strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	}
	peers, err := cluster.New(cluster.Config{URL: c.InternalURL, Token: c.InternalToken}, eventBus.Redis(), logger.With("component", "cluster"))
	if err != nil {
		return fmt.Errorf("GATEWAY_INTERNAL_URL: %w", err)
	}

	// Our engine prefixes session ids with the replica id, so any replica
	// can forward a request to the session's owner; zishang's cannot, so
	// there every request must reach the owner (a sticky load balancer).
	sidPrefix := peers.SIDPrefix()
	if c.Engine == sio.EngineZishang {
		sidPrefix = ""
	}
	var fan *fanout.Fanout
	var recov *recovery.Store
	var sioRecovery sio.Recovery
	if c.RecoveryWindow > 0 {
		// The fanout is made below; the store only calls it once sockets
		// connect, which is after Serve starts.
		recov = recovery.New(recovery.Config{Window: c.RecoveryWindow}, eventBus.Redis(), eventBus,
			syncFunc(func(fn func(string)) { fan.Sync(fn) }),
			recovery.Hooks{Attempt: m.RecoveryAttempted, Recovered: func(int) { m.Recovered() }}, logger.With("component", "recovery"))
		sioRecovery = recov
	}
	server := sio.New(sio.Config{
		PingInterval:      c.PingInterval,
		PingTimeout:       c.PingTimeout,
		MaxHTTPBufferSize: int64(c.MaxHTTPBufferSize),
		CORSOrigins:       c.CORSOrigins,
		ConnectTimeout:    c.ConnectTimeout,
		MaxQueue:          c.SocketQueue,
		Observer:          m,
		Engine:            c.Engine,
		Recovery:          sioRecovery,
		SIDPrefix:         sidPrefix,
	}, handlers.Connect, logger.With("component", "sio"))
	fan = fanout.New(fanout.Config{OnDelivered: m.Delivered}, eventBus, server, logger.With("component", "fanout"))
	m.WatchBus(func() metrics.BusStats {
		s := fan.Stats()
		return metrics.BusStats{Received: s.Received, Invalid: s.Invalid, Duplicate: s.Duplicates}
	})
	pres := presence.New(presence.Config{GatewayID: c.GatewayID, Interval: c.PresenceInterval,
		Events: func() uint64 { return fan.Stats().Routed }},
		tracker, server, eventBus.Redis(), signer, logger.With("component", "presence"))

	var draining atomic.Bool
	// ready is /readyz and the readiness gauge: "" when ready, else what is not.
	ready := func(ctx context.Context) (status string, redisErr error) {
		if draining.Load() || !fanReady(fan) {
			return "draining", nil
		}
		if err := eventBus.Ping(ctx); err != nil {
			return "unavailable", err
		}
		return "", nil
	}
	m.WatchReady(func() bool {
		pctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		status, _ := ready(pctx)
		return status == ""
	})
	mux := http.NewServeMux()
	// The cookie is checked once, by the replica that serves the request:
	// a request for a session on another replica is forwarded untouched
	// (Host kept) and checked there.
	guarded := socket.CookieGuard(c.CORSOrigins, logger.With("component", "socket"))(server.Handler())
	mux.Handle("/socket.io/", peers.Handler(guarded, server.Has))
	mux.Handle("GET /presence", pres.Handler())
	mux.Handle("GET /metrics", m.Handler()) // on this port only: the front proxy never forwards it
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "gatewayId": c.GatewayID, "sockets": server.SocketCount()})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		pctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		switch status, err := ready(pctx); {
		case err != nil:
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": status, "redis": err.Error()})
		case status != "":
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": status})
		default:
			writeJSON(w, http.StatusOK, map[string]any{"status": "ready"})
		}
	})

	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("gateway listening", "addr", ln.Addr().String(), "events_channel", eventBus.Channel(),
		"orderapi", c.OrderAPIURL, "require_token", c.RequireToken, "tokenless_roles", c.TokenlessRoles, "cors_origins", c.CORSOrigins,
		"ping_interval", c.PingInterval.String(), "ping_timeout", c.PingTimeout.String(), "engine", c.Engine,
		"replica", peers.ID(), "internal_url", c.InternalURL, "recovery_window", c.RecoveryWindow.String())

	// The background parts run on their own context: they keep delivering
	// while the replica drains, and stop after it.
	bgCtx, stopBG := context.WithCancel(context.Background())
	defer stopBG()
	g, gctx := errgroup.WithContext(bgCtx)
	g.Go(func() error {
		defer stopBG()
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ln) }()
		select {
		case err := <-served:
			return fmt.Errorf("http server: %w", err)
		case <-gctx.Done():
		case <-ctx.Done():
		}
		drain(ctx, c, logger, server, &draining)
		sctx, cancel := context.WithTimeout(context.Background(), c.ShutdownTimeout)
		defer cancel()
		err := srv.Shutdown(sctx)
		if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		return err
	})
	g.Go(func() error { return fan.Run(gctx) })
	g.Go(func() error { return pres.Run(gctx) })
	g.Go(func() error { return peers.Run(gctx) })
	if recov != nil {
		g.Go(func() error { return recov.Run(gctx) })
	}
	err = g.Wait()
	logger.Info("gateway stopped", "err", err)
	return err
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// healthcheck probes a running instance's /healthz on PORT.
func healthcheck(ctx context.Context, getenv func(string) string) error {
	port := getenv("PORT")
	if port == "" {
		port = "5002"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/healthz", nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer func() { _ = res.Body.Close() }()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: status %d", res.StatusCode)
	}
	return nil
}

// drain takes the replica out of service after SIGTERM: /readyz answers 503
// at once, sockets keep being served for GATEWAY_DRAIN_DELAY (the load
// balancer notices), then they are closed spread over GATEWAY_DRAIN_WINDOW
// so the other replicas are not stampeded; clients reconnect there and
// recover. It returns once no socket is left, or a little after the window.
func drain(signalled context.Context, c cfg, logger *slog.Logger, server *sio.Server, draining *atomic.Bool) {
	draining.Store(true)
	if signalled.Err() == nil { // the server failed: nothing to wait for
		server.Close()
		return
	}
	start := time.Now()
	logger.Info("draining: not ready, still serving", "sockets", server.SocketCount(), "delay", c.DrainDelay.String(), "window", c.DrainWindow.String())
	time.Sleep(c.DrainDelay)
	n := server.SocketCount()
	logger.Info("draining: closing sockets", "sockets", n, "window", c.DrainWindow.String())
	ctx, cancel := context.WithTimeout(context.Background(), c.DrainWindow+2*time.Second)
	closed := server.Drain(ctx, c.DrainWindow)
	cancel()
	left := server.SocketCount()
	server.Close()
	logger.Info("draining: done", "closed", closed, "left_at_deadline", left, "took", time.Since(start).Round(time.Millisecond).String())
}

// syncFunc adapts a function to recovery.Syncer.
type syncFunc func(fn func(string))

func (f syncFunc) Sync(fn func(string)) { f(fn) }

// fanReady reports whether the fanout follows the log, so that offsets
// handed to clients are real.
func fanReady(f *fanout.Fanout) bool {
	select {
	case <-f.Ready():
		return true
	default:
		return false
	}
}
