package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"go.mongodb.org/mongo-driver/event"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"golang.org/x/sync/errgroup"

	"github.com/friendspizzahut/platform/orderapi/internal/api"
	"github.com/friendspizzahut/platform/orderapi/internal/metrics"
	"github.com/friendspizzahut/platform/orderapi/internal/notify"
	"github.com/friendspizzahut/platform/orderapi/internal/outbox"
	"github.com/friendspizzahut/platform/orderapi/internal/push"
	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/orderapi/internal/upload"
	"github.com/friendspizzahut/platform/shared/auth"
	"github.com/friendspizzahut/platform/shared/bus"
	"github.com/friendspizzahut/platform/shared/config"
	"github.com/friendspizzahut/platform/shared/logging"
)

// run is the whole program: config → logger → clients → stores → server and
// outbox relay → wait for a signal → shutdown in reverse order. Tests call
// it directly.
//
// args[1] == "healthcheck" instead probes GET /healthz of a running
// instance on PORT (for container health checks) and returns its verdict.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 1 && args[1] == "healthcheck" {
		return healthcheck(ctx, getenv)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	c, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	logger := logging.New(stderr, c.LogFormat, c.LogLevel)
	for _, w := range c.warnings {
		logger.Warn("!!! INSECURE DEFAULT !!! " + w)
	}

	m := metrics.New(metrics.Config{Collections: store.Collections()})
	mc, err := connectMongo(c, m.MongoMonitor())
	if err != nil {
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = mc.Disconnect(dctx)
	}()
	db := mc.Database(c.MongoDatabase)

	eventBus, err := bus.New(bus.Config{URL: c.RedisURL, Channel: c.EventsChannel}, logger.With("component", "bus"))
	if err != nil {
		return fmt.Errorf("REDIS_URL: %w", err)
	}
	defer eventBus.Close()

	relay := outbox.NewRelay(db, store.EventCollections(), m.Publisher(eventBus), logger.With("component", "outbox"),
		outbox.Config{PollInterval: c.OutboxPollInterval})
	m.WatchOutbox(relay.Pending, 3*time.Second, time.Now, func(err error) {
		logger.Warn("metrics: outbox pending count unavailable", "err", err)
	})
	stores := store.New(db, relay, nil)
	// Follow-ups of published events, idempotent (they run at least once):
	// an order follows its completed payment; notifications are derived.
	relay.OnPublished(stores.Orders.OnPaymentPublished)
	relay.OnPublished(notify.New(stores.Users, stores.Notifications).OnPublished)
	// Stored notifications go to the user's devices through a sender that
	// only logs: pushing needs FCM/Expo credentials we do not have.
	relay.OnPublished(push.NewNotifier(stores.DeviceTokens, push.Log{Logger: logger.With("component", "push")}).OnPublished)

	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = stores.EnsureIndexes(startCtx)
	cancel()
	if err != nil {
		return fmt.Errorf("mongodb at %s: %w", config.Redact(c.MongoURI), err)
	}
	if c.Seed {
		if err := seed(ctx, stores, c, logger); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}

	var uploads upload.Storage
	if c.UploadDir != "" {
		dir, err := upload.NewDir(c.UploadDir)
		if err != nil {
			return fmt.Errorf("UPLOAD_DIR: %w", err)
		}
		uploads = dir
	} else {
		logger.Warn("UPLOAD_DIR is not set: POST /api/v1/upload/* answers 503")
	}

	var draining atomic.Bool
	handler := api.NewServer(api.Deps{
		Logger: logger,
		Signer: auth.NewSigner(c.JWTSecret, nil),
		Stores: stores,
		Checks: map[string]func(context.Context) error{
			"mongo": func(ctx context.Context) error { return mc.Ping(ctx, nil) },
			"redis": eventBus.Ping,
		},
		GatewaysAlive: func(ctx context.Context) error { return gatewaysAlive(ctx, eventBus) },
		Draining:      draining.Load,
		InternalToken: c.InternalToken,
		AdminDir:      c.AdminDir,
		MaxBodyBytes:  int64(c.MaxBodyBytes),

		RateLimit:      c.RateLimit,
		IdempotencyTTL: c.IdempotencyTTL,
		SecureCookie:   c.SecureCookie,
		Metrics:        m,
		Dashboard:      api.DashboardConfig{Location: c.DashboardTimeZone, CacheTTL: c.DashboardCacheTTL},
		Uploads:        uploads,
		PublicURL:      c.PublicURL,
	})

	// Listen before serving: a busy port fails here, at once.
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(c.Port))
	if err != nil {
		return fmt.Errorf("listen on port %d: %w", c.Port, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("orderapi listening", "addr", ln.Addr().String(), "database", c.MongoDatabase,
		"events_channel", eventBus.Channel(), "outbox_relay", c.OutboxRelay, "mongo_pool_size", c.MongoPoolSize)

	g, gctx := errgroup.WithContext(ctx)
	// The relay outlives the HTTP server so that the events of the last
	// requests still go out; it is stopped once the server has drained.
	relayCtx, stopRelay := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRelay()
	g.Go(func() error {
		defer stopRelay()
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ln) }()
		select {
		case err := <-served:
			return fmt.Errorf("http server: %w", err)
		case <-gctx.Done():
		}
		draining.Store(true)
		logger.Info("shutting down", "timeout", c.ShutdownTimeout.String())
		sctx, cancel := context.WithTimeout(context.Background(), c.ShutdownTimeout)
		defer cancel()
		err := srv.Shutdown(sctx)
		if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		return err
	})
	g.Go(func() error { // FerretDB has no TTL index: expired Idempotency-Keys are purged here
		return stores.Idempotency.RunPurger(gctx, time.Hour, func(err error) {
			logger.Warn("purging expired idempotency keys failed; retrying in an hour", "err", err)
		})
	})
	if c.OutboxRelay {
		g.Go(func() error { return relay.Run(relayCtx) })
	} else {
		logger.Warn("OUTBOX_RELAY=off: domain events are stored but NOT published until a process with the relay on starts")
	}
	err = g.Wait()
	logger.Info("orderapi stopped", "err", err)
	return err
}

// connectMongo returns a client for MONGODB_URI.
//
// The pool is forced to MONGODB_POOL_SIZE connections, 1 by default,
// whatever the URI says: FerretDB v1 executes a conditional update
// (filter on status or rev, then $set) as read-then-write inside one
// connection, so two connections can both "win" the same transition
// (measured: 99 wins for 50 documents with 8 connections, 50/50 with one).
// One connection serialises all our reads and writes, which makes every
// store.update atomic. On a real MongoDB, raise MONGODB_POOL_SIZE.
func connectMongo(c cfg, monitor *event.CommandMonitor) (*mongo.Client, error) {
	opts := options.Client().ApplyURI(c.MongoURI).
		SetMonitor(monitor).
		SetMaxPoolSize(uint64(c.MongoPoolSize)).
		SetServerSelectionTimeout(20 * time.Second).
		SetAppName("orderapi")
	mc, err := mongo.Connect(context.Background(), opts)
	if err != nil {
		return nil, fmt.Errorf("mongodb at %s: %w", config.Redact(c.MongoURI), err)
	}
	return mc, nil
}

// presenceKeys matches the keys each gateway replica keeps alive in Redis
// while it runs (gateway/internal/presence.KeyPrefix).
const presenceKeys = "fph:presence:*"

// gatewaysAlive succeeds when at least one gateway replica has reported its
// presence recently (its keys expire when it stops).
func gatewaysAlive(ctx context.Context, b *bus.Bus) error {
	// SCAN filters after it walks a slice of the keyspace: a page may come
	// back empty while later ones match.
	iter := b.Redis().Scan(ctx, 0, presenceKeys, 100).Iterator()
	if iter.Next(ctx) {
		return nil
	}
	if err := iter.Err(); err != nil {
		return err
	}
	return errors.New("no gateway replica reported its presence")
}

// healthcheck probes a running instance's /healthz on PORT.
func healthcheck(ctx context.Context, getenv func(string) string) error {
	port := getenv("PORT")
	if port == "" {
		port = "5001"
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
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: status %d", res.StatusCode)
	}
	return nil
}
