package infra_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/friendspizzahut/platform/test/infra"
)

func TestRedisStartRestartStop(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	r := infra.StartRedis(t)
	opts, err := redis.ParseURL(r.URL())
	if err != nil {
		t.Fatalf("parse %s: %v", r.URL(), err)
	}
	if opts.Addr != r.Addr() {
		t.Fatalf("URL addr %s, want %s", opts.Addr, r.Addr())
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}

	addr := r.Addr()
	r.Restart(t)
	if r.Addr() != addr {
		t.Fatalf("restarted on %s, want same %s", r.Addr(), addr)
	}
	// go-redis reconnects on its own; the restarted server keeps nothing.
	got, err := rdb.Exists(ctx, "k").Result()
	if err != nil {
		t.Fatalf("EXISTS after restart: %v", err)
	}
	if got != 0 {
		t.Fatalf("key survived restart: EXISTS = %d, want 0", got)
	}

	r.Stop()
	if err := rdb.Ping(ctx).Err(); err == nil {
		t.Fatal("PING after Stop succeeded, want error")
	}
	r.Stop() // idempotent
}
