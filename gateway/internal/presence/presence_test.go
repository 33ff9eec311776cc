package presence

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/friendspizzahut/platform/shared/auth"
	"github.com/friendspizzahut/platform/test/infra"
)

type count int

func (c count) SocketCount() int { return int(c) }

func TestClusterPresence(t *testing.T) {
	t.Parallel()
	r := infra.StartRedis(t)
	opts, _ := redis.ParseURL(r.URL())
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	signer := auth.NewSigner("secret", nil)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))

	t1, t2 := NewTracker(), NewTracker()
	t1.Registered("s1", "admin1", auth.RoleAdmin, true)
	t1.Registered("s2", "admin1", auth.RoleAdmin, true) // a second screen
	t1.Registered("s3", "agent1", auth.RoleDelivery, false)
	t2.Registered("s4", "admin1", auth.RoleAdmin, true) // same admin on the other replica
	t2.Registered("s5", "cust1", auth.RoleCustomer, false)
	t2.Registered("s5", "cust1", auth.RoleCustomer, true) // registered again, now proven
	t2.Registered("gone", "cust2", auth.RoleCustomer, false)
	t2.Unregistered("gone")
	g1 := New(Config{GatewayID: "g1", Interval: time.Hour}, t1, count(4), rdb, signer, logger)
	g2 := New(Config{GatewayID: "g2", Interval: time.Hour}, t2, count(2), rdb, signer, logger)
	ctx := context.Background()
	for _, g := range []*Service{g1, g2} {
		st, users := g.local()
		if err := g.publish(ctx, st, users); err != nil {
			t.Fatal(err)
		}
	}

	local := g1.Local()
	if local.Sockets != 4 || local.Unregistered != 1 || local.Proven != 2 || local.Claimed != 1 ||
		local.Roles[auth.RoleAdmin] != (RoleStats{Sockets: 2, Proven: 2, Users: 1}) {
		t.Fatalf("got local %+v", local)
	}
	c, err := g1.ClusterStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Gateways) != 2 || c.Sockets != 6 || c.Unregistered != 1 || c.Proven != 4 || c.Claimed != 1 {
		t.Fatalf("got cluster %+v", c)
	}
	want := map[string]RoleStats{
		auth.RoleAdmin:    {Sockets: 3, Proven: 3, Users: 1},
		auth.RoleDelivery: {Sockets: 1, Claimed: 1, Users: 1},
		auth.RoleCustomer: {Sockets: 1, Proven: 1, Users: 1},
	}
	for role, w := range want {
		if got := c.Roles[role]; got != w {
			t.Errorf("%s: got %+v, want %+v", role, got, w)
		}
	}

	h := g1.Handler()
	adminTok, _ := signer.IssueAccess("admin1", "a@x", auth.RoleAdmin)
	custTok, _ := signer.IssueAccess("cust1", "c@x", auth.RoleCustomer)
	for _, tc := range []struct {
		name, header string
		want         int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"bad token", "Bearer nope", http.StatusUnauthorized},
		{"customer", "Bearer " + custTok, http.StatusForbidden},
		{"admin", "Bearer " + adminTok, http.StatusOK},
	} {
		req := httptest.NewRequest(http.MethodGet, "/presence", nil)
		if tc.header != "" {
			req.Header.Set("Authorization", tc.header)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, rec.Code, tc.want)
		}
		if tc.want == http.StatusOK {
			var resp Response
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || resp.Cluster.Roles[auth.RoleAdmin].Users != 1 {
				t.Errorf("got %s (%v)", rec.Body, err)
			}
		}
	}

	// A clean stop removes the replica's keys.
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	if err := g2.Run(stopped); err != nil {
		t.Fatal(err)
	}
	if c, _ := g1.ClusterStats(ctx); len(c.Gateways) != 1 {
		t.Fatalf("got %d gateways after g2 stopped, want 1", len(c.Gateways))
	}
}

// TestEventRate checks eventsPerSecond: the routed-events counter sampled
// once per refresh, and the cluster's rate as the highest replica's (every
// replica routes every event, so a sum would count each one twice).
func TestEventRate(t *testing.T) {
	t.Parallel()
	r := infra.StartRedis(t)
	opts, _ := redis.ParseURL(r.URL())
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()

	var routed [2]uint64
	clock := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	var gs []*Service
	for i, id := range []string{"r1", "r2"} {
		g := New(Config{GatewayID: id, Interval: time.Hour, Events: func() uint64 { return routed[i] }},
			NewTracker(), count(0), rdb, auth.NewSigner("secret", nil), logger)
		g.now = func() time.Time { return clock }
		g.sampleRate()
		gs = append(gs, g)
	}
	if got := gs[0].Local().EventsPerSecond; got != 0 {
		t.Fatalf("before a second sample: got %v, want 0", got)
	}
	routed = [2]uint64{50, 30}
	clock = clock.Add(10 * time.Second)
	for _, g := range gs {
		g.sampleRate()
		st, users := g.local()
		if err := g.publish(ctx, st, users); err != nil {
			t.Fatal(err)
		}
	}
	if got := gs[0].Local().EventsPerSecond; got != 5 {
		t.Errorf("r1: got %v events/s, want 5", got)
	}
	c, err := gs[1].ClusterStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.EventsPerSecond != 5 {
		t.Errorf("cluster: got %v events/s, want 5 (the highest replica's)", c.EventsPerSecond)
	}
}
