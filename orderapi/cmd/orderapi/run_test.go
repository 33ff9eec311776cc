package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/shared/bus"
	"github.com/friendspizzahut/platform/shared/config"
	"github.com/friendspizzahut/platform/test/infra"
)

// startRun runs the real program against fresh FerretDB and Redis servers
// and returns its base URL once /healthz answers. It stops with the test.
func startRun(t *testing.T, extra map[string]string) (string, <-chan error) {
	t.Helper()
	f := infra.StartFerret(t)
	r := infra.StartRedis(t)
	addr, err := infra.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	port := addr[strings.LastIndex(addr, ":")+1:]
	env := map[string]string{
		"PORT": port, "MONGODB_URI": f.URI(), "MONGODB_DATABASE": infra.NewDatabaseName(t),
		"REDIS_URL": r.URL(), "JWT_SECRET": "test-secret-0123456789", "INTERNAL_TOKEN": "internal-test",
		"LOG_LEVEL": "warn",
	}
	for k, v := range extra {
		env[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"orderapi"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("run did not return within 15s of cancel")
		}
	})
	base := "http://127.0.0.1:" + port
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return base, done
			}
		}
		select {
		case err := <-done:
			t.Fatalf("run returned before serving: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("orderapi did not answer /healthz within 20s (last error %v)", err)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition against a deadline
	}
}

func TestRunServesProbes(t *testing.T) {
	base, _ := startRun(t, nil)
	for _, tc := range []struct {
		path       string
		wantStatus int
		wantField  string
		wantValue  any
	}{
		{"/health", 200, "status", "success"},
		{"/healthz", 200, "status", "ok"},
		{"/readyz", 200, "status", "ready"},
		{"/admin", 404, "success", false},
		{"/api/v1/nope", 404, "message", "Route GET /api/v1/nope not found"},
		{"/internal/v1/users/0123456789abcdef01234567", 401, "message", "Invalid or missing internal token"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			res, err := http.Get(base + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var body map[string]any
			if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if res.StatusCode != tc.wantStatus || body[tc.wantField] != tc.wantValue {
				t.Fatalf("got %d %v, want %d with %s=%v", res.StatusCode, body, tc.wantStatus, tc.wantField, tc.wantValue)
			}
		})
	}
}

func TestLoadConfigReportsEveryProblem(t *testing.T) {
	env := map[string]string{"PORT": "99999", "LOG_FORMAT": "xml", "SEED": "maybe"}
	_, err := loadConfig(func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("got nil error, want one listing every bad variable")
	}
	for _, name := range []string{"PORT", "LOG_FORMAT", "SEED", "MONGODB_URI", "REDIS_URL"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not mention %s", err, name)
		}
	}
}

func TestLoadConfigDefaultsWarn(t *testing.T) {
	env := map[string]string{"MONGODB_URI": "mongodb://127.0.0.1:1", "REDIS_URL": "redis://127.0.0.1:1"}
	c, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.JWTSecret != config.DevJWTSecret || c.InternalToken != config.DevInternalToken || len(c.warnings) != 2 {
		t.Fatalf("got secret %q token %q warnings %q, want dev defaults with 2 warnings", c.JWTSecret, c.InternalToken, c.warnings)
	}
	if c.Port != 5001 || c.MongoPoolSize != 1 || !c.OutboxRelay || c.MongoDatabase != "friendspizzahut" {
		t.Fatalf("unexpected defaults %+v", c)
	}
}

// TestGatewaysAlive: one presence key among many others is found, though
// SCAN's first page may hold none of it.
func TestGatewaysAlive(t *testing.T) {
	t.Parallel()
	r := infra.StartRedis(t)
	b, err := bus.New(bus.Config{URL: r.URL()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	ctx := context.Background()
	if err := gatewaysAlive(ctx, b); err == nil {
		t.Fatal("no presence key: got nil, want an error")
	}
	pipe := b.Redis().Pipeline()
	for i := range 2000 {
		pipe.Set(ctx, fmt.Sprintf("fph:loc:%d", i), "x", 0)
	}
	pipe.HSet(ctx, "fph:presence:g1", "sockets", 1)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := gatewaysAlive(ctx, b); err != nil {
		t.Fatalf("one presence key among 2 000: %v", err)
	}
}
