// Package presence counts who is connected: sockets, and users by role, on
// this replica and across the cluster. Each replica writes its numbers to
// Redis (hash fph:presence:<gatewayId> plus one set of user ids per role)
// with a short expiry it keeps refreshing, so a dead replica drops out by
// itself. GET /presence (admin token) serves both views; the numbers are
// also logged periodically.
//
// Registered sockets are counted proven (a token or the session cookie)
// and claimed (the legacy path: an identity taken on its word, checked
// against orderapi) apart, so ops see when the legacy path can be closed
// (GATEWAY_TOKENLESS_ROLES, docs/sockets.md).
package presence

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/friendspizzahut/platform/shared/auth"
)

// KeyPrefix starts every presence key.
const KeyPrefix = "fph:presence:"

// Roles counted.
var roles = []string{auth.RoleAdmin, auth.RoleDelivery, auth.RoleCustomer}

// Tracker records which sockets registered as whom. Safe for concurrent use.
type Tracker struct {
	mu      sync.Mutex
	members map[string]member // socket id →
}

type member struct {
	userID, role string
	proven       bool
}

// NewTracker returns an empty Tracker.
func NewTracker() *Tracker { return &Tracker{members: map[string]member{}} }

// Registered records that socket sid speaks for userID with role, proven
// or only claimed.
func (t *Tracker) Registered(sid, userID, role string, proven bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.members[sid] = member{userID, role, proven}
}

// Unregistered forgets socket sid.
func (t *Tracker) Unregistered(sid string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.members, sid)
}

// users returns the distinct user ids per role and the sockets per role
// (with Proven and Claimed filled in; Users is left to the caller).
func (t *Tracker) users() (map[string][]string, map[string]RoleStats) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sets := map[string]map[string]struct{}{}
	sockets := map[string]RoleStats{}
	for _, m := range t.members {
		if sets[m.role] == nil {
			sets[m.role] = map[string]struct{}{}
		}
		sets[m.role][m.userID] = struct{}{}
		rs := sockets[m.role]
		rs.Sockets++
		if m.proven {
			rs.Proven++
		} else {
			rs.Claimed++
		}
		sockets[m.role] = rs
	}
	out := map[string][]string{}
	for r, set := range sets {
		for id := range set {
			out[r] = append(out[r], id)
		}
	}
	return out, sockets
}

// Stats are one replica's numbers. Proven and Claimed split the
// registered sockets by how their identity was established.
type Stats struct {
	GatewayID    string               `json:"gatewayId"`
	Sockets      int                  `json:"sockets"`
	Unregistered int                  `json:"unregisteredSockets"`
	Proven       int                  `json:"provenSockets"`
	Claimed      int                  `json:"claimedSockets"`
	Roles        map[string]RoleStats `json:"roles"`
	UpdatedAt    time.Time            `json:"updatedAt"`
	// EventsPerSecond is the rate of domain events this replica routed to
	// its sockets over the last refresh interval.
	EventsPerSecond float64 `json:"eventsPerSecond"`
}

// RoleStats counts the sockets registered with a role (proven and claimed
// apart) and their distinct users.
type RoleStats struct {
	Sockets int `json:"sockets"`
	Proven  int `json:"provenSockets"`
	Claimed int `json:"claimedSockets"`
	Users   int `json:"users"`
}

// Cluster are the numbers of every live replica; users are distinct across
// replicas.
type Cluster struct {
	Gateways     []Stats              `json:"gateways"`
	Sockets      int                  `json:"sockets"`
	Unregistered int                  `json:"unregisteredSockets"`
	Proven       int                  `json:"provenSockets"`
	Claimed      int                  `json:"claimedSockets"`
	Roles        map[string]RoleStats `json:"roles"`
	// EventsPerSecond is the platform's event rate: every replica routes
	// every event of the bus, so this is the highest replica's rate, not a
	// sum.
	EventsPerSecond float64 `json:"eventsPerSecond"`
}

// SocketCounter reports the connected sockets (*sio.Server).
type SocketCounter interface{ SocketCount() int }

// Verifier checks access tokens (*auth.Signer).
type Verifier interface {
	VerifyAccess(raw string) (auth.Claims, error)
}

// Config configures a Service. Zero values mean the defaults.
type Config struct {
	GatewayID string        // GATEWAY_ID
	Interval  time.Duration // Redis refresh period, default 10s
	TTL       time.Duration // expiry of this replica's keys, default 3×Interval
	LogEvery  time.Duration // period of the log line, default 1m
	// Events counts the domain events routed so far (fanout's Routed); nil
	// reports a rate of 0.
	Events func() uint64
}

// Service publishes and serves presence.
type Service struct {
	cfg     Config
	tracker *Tracker
	sockets SocketCounter
	rdb     redis.UniversalClient
	tokens  Verifier
	logger  *slog.Logger
	now     func() time.Time

	rateMu     sync.Mutex
	rate       float64   // events per second over the last interval
	lastEvents uint64    // Events() at lastAt
	lastAt     time.Time // zero before the first sample
}

// New returns a Service.
func New(cfg Config, tracker *Tracker, sockets SocketCounter, rdb redis.UniversalClient, tokens Verifier, logger *slog.Logger) *Service {
	if cfg.Interval == 0 {
		cfg.Interval = 10 * time.Second
	}
	if cfg.TTL == 0 {
		cfg.TTL = 3 * cfg.Interval
	}
	if cfg.LogEvery == 0 {
		cfg.LogEvery = time.Minute
	}
	return &Service{cfg: cfg, tracker: tracker, sockets: sockets, rdb: rdb, tokens: tokens, logger: logger, now: time.Now}
}

// Local returns this replica's numbers now.
func (s *Service) Local() Stats {
	st, _ := s.local()
	return st
}

func (s *Service) local() (Stats, map[string][]string) {
	users, sockets := s.tracker.users()
	s.rateMu.Lock()
	rate := s.rate
	s.rateMu.Unlock()
	st := Stats{GatewayID: s.cfg.GatewayID, Sockets: s.sockets.SocketCount(), Roles: map[string]RoleStats{}, UpdatedAt: s.now().UTC(), EventsPerSecond: rate}
	registered := 0
	for _, r := range roles {
		rs := sockets[r]
		rs.Users = len(users[r])
		st.Roles[r] = rs
		registered += rs.Sockets
		st.Proven += rs.Proven
		st.Claimed += rs.Claimed
	}
	st.Unregistered = max(0, st.Sockets-registered)
	return st, users
}

func (s *Service) hashKey() string             { return KeyPrefix + s.cfg.GatewayID }
func (s *Service) usersKey(role string) string { return s.hashKey() + ":users:" + role }

// Run refreshes this replica's keys every Interval and logs every LogEvery
// until ctx ends, then deletes them (a clean shutdown leaves no ghost).
func (s *Service) Run(ctx context.Context) error {
	tick := time.NewTicker(s.cfg.Interval)
	defer tick.Stop()
	lastLog := time.Time{}
	for {
		s.sampleRate()
		st, users := s.local()
		if err := s.publish(ctx, st, users); err != nil && ctx.Err() == nil {
			s.logger.Warn("presence: refresh failed", "err", err)
		}
		if now := s.now(); now.Sub(lastLog) >= s.cfg.LogEvery {
			lastLog = now
			s.logger.Info("presence", "sockets", st.Sockets, "unregistered", st.Unregistered,
				"proven", st.Proven, "claimed", st.Claimed,
				"admins", st.Roles[auth.RoleAdmin].Users, "agents", st.Roles[auth.RoleDelivery].Users,
				"customers", st.Roles[auth.RoleCustomer].Users,
				"claimed_admins", st.Roles[auth.RoleAdmin].Claimed, "claimed_agents", st.Roles[auth.RoleDelivery].Claimed,
				"claimed_customers", st.Roles[auth.RoleCustomer].Claimed)
		}
		select {
		case <-ctx.Done():
			cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			keys := []string{s.hashKey()}
			for _, r := range roles {
				keys = append(keys, s.usersKey(r))
			}
			_ = s.rdb.Del(cleanup, keys...).Err()
			cancel()
			return nil
		case <-tick.C:
		}
	}
}

// sampleRate updates the event rate from the Events counter.
func (s *Service) sampleRate() {
	if s.cfg.Events == nil {
		return
	}
	n, now := s.cfg.Events(), s.now()
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	if el := now.Sub(s.lastAt).Seconds(); !s.lastAt.IsZero() && el > 0 && n >= s.lastEvents {
		s.rate = math.Round(float64(n-s.lastEvents)/el*100) / 100
	}
	s.lastEvents, s.lastAt = n, now
}

func (s *Service) publish(ctx context.Context, st Stats, users map[string][]string) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.hashKey(), "stats", b)
		p.PExpire(ctx, s.hashKey(), s.cfg.TTL)
		for _, r := range roles {
			k := s.usersKey(r)
			p.Del(ctx, k)
			if ids := users[r]; len(ids) > 0 {
				members := make([]any, len(ids))
				for i, id := range ids {
					members[i] = id
				}
				p.SAdd(ctx, k, members...)
				p.PExpire(ctx, k, s.cfg.TTL)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("publish presence: %w", err)
	}
	return nil
}

// ClusterStats reads every live replica's numbers from Redis.
func (s *Service) ClusterStats(ctx context.Context) (Cluster, error) {
	c := Cluster{Roles: map[string]RoleStats{}}
	var gateways []string
	iter := s.rdb.Scan(ctx, 0, KeyPrefix+"*", 200).Iterator()
	for iter.Next(ctx) {
		if k := iter.Val(); !strings.Contains(strings.TrimPrefix(k, KeyPrefix), ":users:") {
			gateways = append(gateways, k)
		}
	}
	if err := iter.Err(); err != nil {
		return c, fmt.Errorf("scan presence keys: %w", err)
	}
	slices.Sort(gateways)
	for _, k := range gateways {
		raw, err := s.rdb.HGet(ctx, k, "stats").Bytes()
		if errors.Is(err, redis.Nil) {
			continue // expired between scan and read
		}
		if err != nil {
			return c, fmt.Errorf("read %s: %w", k, err)
		}
		var st Stats
		if json.Unmarshal(raw, &st) != nil {
			continue
		}
		c.Gateways = append(c.Gateways, st)
		c.Sockets += st.Sockets
		c.Unregistered += st.Unregistered
		c.EventsPerSecond = max(c.EventsPerSecond, st.EventsPerSecond)
		c.Proven += st.Proven
		c.Claimed += st.Claimed
	}
	for _, r := range roles {
		keys := make([]string, len(gateways))
		var rs RoleStats
		for i, k := range gateways {
			keys[i] = k + ":users:" + r
		}
		for _, g := range c.Gateways {
			rs.Sockets += g.Roles[r].Sockets
			rs.Proven += g.Roles[r].Proven
			rs.Claimed += g.Roles[r].Claimed
		}
		users := 0
		if len(keys) > 0 {
			ids, err := s.rdb.SUnion(ctx, keys...).Result()
			if err != nil {
				return c, fmt.Errorf("union presence users: %w", err)
			}
			users = len(ids)
		}
		rs.Users = users
		c.Roles[r] = rs
	}
	return c, nil
}

// Response is GET /presence.
type Response struct {
	Gateway Stats   `json:"gateway"`
	Cluster Cluster `json:"cluster"`
}

// Handler serves GET /presence to admins (Authorization: Bearer <access
// token> with role admin): 401 without a valid token, 403 for other roles.
func (s *Service) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw := auth.StripBearer(r.Header.Get("Authorization"))
		if raw == "" {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"success": false, "message": "No token provided. Please authenticate."})
			return
		}
		claims, err := s.tokens.VerifyAccess(raw)
		if err != nil {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"success": false, "message": err.Error()})
			return
		}
		if claims.Role != auth.RoleAdmin {
			writeJSON(w, http.StatusForbidden, map[string]any{"success": false, "message": "Access denied. Admin privileges required."})
			return
		}
		cluster, err := s.ClusterStats(r.Context())
		if err != nil {
			s.logger.Warn("presence: cluster view unavailable", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"success": false, "message": "Cluster presence unavailable", "gateway": s.Local()})
			return
		}
		writeJSON(w, http.StatusOK, Response{Gateway: s.Local(), Cluster: cluster})
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
