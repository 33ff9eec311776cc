// Package cluster lets a plain round-robin load balancer front several
// gateway replicas. Every replica advertises its internal URL in Redis
// under a short random id (kept alive by a heartbeat), and that id
// prefixes every Engine.IO session id it issues ("<id>.<random>"). A
// polling request or websocket upgrade whose session lives on another
// replica is forwarded there (Handler); the hop carries the internal token
// in a header, so a replica never forwards twice and refuses that header
// from anyone else.
package cluster

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// HeaderForwarded marks a request one replica forwarded to another; its
// value is the internal token.
const HeaderForwarded = "X-Fph-Forwarded"

// sep ends the replica id in a session id: base64url ids never hold it,
// and the engine accepts it in a sid.
const sep = "."

// Config configures a Cluster. Zero values mean the defaults.
type Config struct {
	URL       string        // this replica's internal base URL, e.g. http://10.0.0.5:5002
	Token     string        // INTERNAL_TOKEN, proves a forwarded request
	KeyPrefix string        // Redis key prefix, default "fph:gw:replica:"
	TTL       time.Duration // how long an advertisement lives, default 15s
	Beat      time.Duration // how often it is renewed, default TTL/3
}

func (c *Config) defaults() {
	if c.KeyPrefix == "" {
		c.KeyPrefix = "fph:gw:replica:"
	}
	if c.TTL <= 0 {
		c.TTL = 15 * time.Second
	}
	if c.Beat <= 0 {
		c.Beat = c.TTL / 3
	}
}

// Cluster is this replica's view of the others. Safe for concurrent use.
type Cluster struct {
	cfg    Config
	id     string
	rdb    redis.UniversalClient
	logger *slog.Logger
	proxy  *httputil.ReverseProxy

	mu    sync.Mutex
	cache map[string]cached // replica id → URL, briefly
}

type cached struct {
	url *url.URL
	at  time.Time
}

// New returns a Cluster with a fresh replica id; Run advertises it.
func New(cfg Config, rdb redis.UniversalClient, logger *slog.Logger) (*Cluster, error) {
	cfg.defaults()
	if _, err := parseBase(cfg.URL); err != nil {
		return nil, err
	}
	if cfg.Token == "" {
		return nil, errors.New("cluster: an internal token is required")
	}
	var b [5]byte
	_, _ = rand.Read(b[:])
	c := &Cluster{
		cfg: cfg, id: strings.ToLower(base32.StdEncoding.EncodeToString(b[:])), rdb: rdb, logger: logger,
		cache: map[string]cached{},
	}
	c.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(pr.In.Context().Value(ownerKey{}).(*url.URL))
			pr.Out.Host = pr.In.Host
			pr.Out.Header.Set(HeaderForwarded, c.cfg.Token)
			// Keep the client's forwarding headers as they are (the owner
			// checks the Origin against the front's host, socket.CookieGuard).
			for _, h := range []string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"} {
				pr.Out.Header[h] = pr.In.Header[h]
			}
		},
		FlushInterval: -1, // a long-poll answer goes out at once
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			// The owner is gone: the session is too. The client reconnects
			// (and recovers) on a new handshake.
			c.logger.Debug("cluster: forwarding failed", "err", err)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"code":1,"message":"Session ID unknown"}`)
		},
	}
	return c, nil
}

type ownerKey struct{}

// ID is this replica's id.
func (c *Cluster) ID() string { return c.id }

// SIDPrefix is what every Engine.IO session id of this replica starts with.
func (c *Cluster) SIDPrefix() string { return c.id + sep }

// OwnerID returns the replica id a session id names, if any.
func OwnerID(sid string) (string, bool) {
	id, _, ok := strings.Cut(sid, sep)
	return id, ok && id != "" && len(id) <= 16
}

func (c *Cluster) key(id string) string { return c.cfg.KeyPrefix + id }

// Run advertises this replica until ctx ends, then withdraws it.
func (c *Cluster) Run(ctx context.Context) error {
	t := time.NewTicker(c.cfg.Beat)
	defer t.Stop()
	for {
		if err := c.rdb.Set(ctx, c.key(c.id), c.cfg.URL, c.cfg.TTL).Err(); err != nil && ctx.Err() == nil {
			c.logger.Warn("cluster: advertising failed", "err", err)
		}
		select {
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = c.rdb.Del(dctx, c.key(c.id)).Err()
			return nil
		case <-t.C:
		}
	}
}

// owner returns the internal URL of replica id.
func (c *Cluster) owner(ctx context.Context, id string) (*url.URL, bool) {
	c.mu.Lock()
	e, ok := c.cache[id]
	c.mu.Unlock()
	if ok && time.Since(e.at) < c.cfg.Beat {
		return e.url, e.url != nil
	}
	raw, err := c.rdb.Get(ctx, c.key(id)).Result()
	var u *url.URL
	if err == nil {
		u, _ = parseBase(raw)
	} else if !errors.Is(err, redis.Nil) {
		c.logger.Warn("cluster: owner lookup failed", "replica", id, "err", err)
		return nil, false
	}
	c.mu.Lock()
	if len(c.cache) > 1024 {
		clear(c.cache)
	}
	c.cache[id] = cached{url: u, at: time.Now()}
	c.mu.Unlock()
	return u, u != nil
}

// Handler serves requests of local sessions (and new ones) with next and
// forwards those of sessions on another replica to it. local reports
// whether a session id is held here.
func (c *Cluster) Handler(next http.Handler, local func(sid string) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get(HeaderForwarded); v != "" {
			if subtle.ConstantTimeCompare([]byte(v), []byte(c.cfg.Token)) != 1 {
				http.Error(w, `{"code":4,"message":"Forbidden"}`, http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r) // already forwarded once: served here, whatever the outcome
			return
		}
		sid := r.URL.Query().Get("sid")
		id, named := OwnerID(sid)
		if sid == "" || !named || id == c.id || local(sid) {
			next.ServeHTTP(w, r)
			return
		}
		u, ok := c.owner(r.Context(), id)
		if !ok {
			next.ServeHTTP(w, r) // unknown replica: the engine answers "Session ID unknown"
			return
		}
		c.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ownerKey{}, u)))
	})
}

func parseBase(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("cluster: internal URL must be an http(s) base URL, got " + raw)
	}
	return u, nil
}
