// Package directory is the gateway's cached client of orderapi's internal
// lookup API: who a user is (role, active, approved) and who the parties of
// an order are. It is the only way the gateway learns about users and
// orders; it never reads MongoDB. Answers are cached briefly, and
// concurrent lookups of the same id share one request.
package directory

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/friendspizzahut/platform/shared/apperr"
)

// User is GET /internal/v1/users/{id}.
type User struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Email      string `json:"email"`
	Role       string `json:"role"`
	IsActive   bool   `json:"isActive"`
	IsApproved bool   `json:"isApproved"`
	IsRejected bool   `json:"isRejected"` // an agent whose application an admin rejected
}

// Parties is GET /internal/v1/orders/{id}/parties. DeliveryAgentID is ""
// while no agent is assigned.
type Parties struct {
	OrderID           string `json:"orderId"`
	OrderNumber       string `json:"orderNumber"`
	CustomerID        string `json:"customerId"`
	DeliveryAgentID   string `json:"deliveryAgentId"`
	DeliveryAgentName string `json:"deliveryAgentName"`
	Status            string `json:"status"`
}

// Config configures a Client. Zero values mean the defaults.
type Config struct {
	BaseURL     string        // orderapi origin (ORDERAPI_URL)
	Token       string        // X-Internal-Token (INTERNAL_TOKEN)
	UserTTL     time.Duration // how long a found user is cached, default 30s
	PartiesTTL  time.Duration // how long order parties are cached, default 5s (assignments change)
	NotFoundTTL time.Duration // how long a 404 is cached, default 5s
	MaxEntries  int           // per cache, default 20000
	Timeout     time.Duration // per request, default 3s
	// MaxConns bounds the connections to orderapi; all of them are kept
	// idle for reuse (Go's default keeps 2, so a connect ramp opened a new
	// TCP connection for most lookups). Default 64.
	MaxConns int
	// OnLookup, if set, is told how each lookup was answered: LookupHit,
	// LookupMiss or LookupError (metrics). It must be quick.
	OnLookup func(result string)
}

// How a lookup was answered, for Config.OnLookup.
const (
	LookupHit   = "hit"   // from the cache (a cached "not found" too)
	LookupMiss  = "miss"  // asked orderapi, which answered (found or not)
	LookupError = "error" // orderapi did not answer properly
)

func (c *Config) defaults() {
	if c.UserTTL == 0 {
		c.UserTTL = 30 * time.Second
	}
	if c.PartiesTTL == 0 {
		c.PartiesTTL = 5 * time.Second
	}
	if c.NotFoundTTL == 0 {
		c.NotFoundTTL = 5 * time.Second
	}
	if c.MaxEntries == 0 {
		c.MaxEntries = 20000
	}
	if c.Timeout == 0 {
		c.Timeout = 3 * time.Second
	}
	if c.MaxConns <= 0 {
		c.MaxConns = 64
	}
	if c.OnLookup == nil {
		c.OnLookup = func(string) {}
	}
}

// newTransport keeps up to maxConns connections to orderapi open and idle
// between lookups, so a burst of handshakes reuses them instead of paying a
// TCP connect each (and leaving sockets in TIME_WAIT). Beyond maxConns,
// lookups wait for a free connection: orderapi is not stormed either.
func newTransport(maxConns int) *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxConnsPerHost:     maxConns,
		MaxIdleConnsPerHost: maxConns,
		MaxIdleConns:        maxConns,
		IdleConnTimeout:     90 * time.Second,
	}
}

// Client looks users and orders up. It is safe for concurrent use.
type Client struct {
	cfg     Config
	http    *http.Client
	users   *cache[User]
	parties *cache[Parties]
	flight  singleflight.Group
	now     func() time.Time
}

// New returns a Client for cfg.
func New(cfg Config) *Client {
	cfg.defaults()
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	return &Client{
		cfg:     cfg,
		http:    &http.Client{Timeout: cfg.Timeout, Transport: newTransport(cfg.MaxConns)},
		users:   newCache[User](cfg.MaxEntries),
		parties: newCache[Parties](cfg.MaxEntries),
		now:     time.Now,
	}
}

// User returns the user with id. Errors: apperr NotFound (no such user or
// a malformed id), apperr Unavailable (orderapi did not answer properly).
func (c *Client) User(ctx context.Context, id string) (User, error) {
	return lookup(ctx, c, c.users, "user", "/internal/v1/users/", "", id, c.cfg.UserTTL)
}

// OrderParties returns who may see order id. Errors as for User.
func (c *Client) OrderParties(ctx context.Context, id string) (Parties, error) {
	return lookup(ctx, c, c.parties, "order", "/internal/v1/orders/", "/parties", id, c.cfg.PartiesTTL)
}

func lookup[T any](ctx context.Context, c *Client, cc *cache[T], kind, prefix, suffix, id string, ttl time.Duration) (T, error) {
	var zero T
	if !ValidID(id) {
		return zero, apperr.NotFoundf("%s not found", kind)
	}
	now := c.now()
	if v, err, ok := cc.get(id, now); ok {
		c.cfg.OnLookup(LookupHit)
		return v, err
	}
	res, err, _ := c.flight.Do(kind+":"+id, func() (any, error) {
		var v T
		found, err := c.get(ctx, prefix+url.PathEscape(id)+suffix, &v)
		switch {
		case err != nil:
			return v, err // not cached: the next call retries
		case !found:
			nf := apperr.NotFoundf("%s not found", kind)
			cc.put(id, v, nf, c.now().Add(c.cfg.NotFoundTTL))
			return v, nf
		}
		cc.put(id, v, nil, c.now().Add(ttl))
		return v, nil
	})
	v, _ := res.(T)
	if err != nil && !IsNotFound(err) {
		c.cfg.OnLookup(LookupError)
	} else {
		c.cfg.OnLookup(LookupMiss)
	}
	return v, err
}

// get fetches path into out; found is false on 404 or 400 (a malformed id).
func (c *Client) get(ctx context.Context, path string, out any) (found bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.BaseURL+path, nil)
	if err != nil {
		return false, fmt.Errorf("directory request: %w", err)
	}
	req.Header.Set("X-Internal-Token", c.cfg.Token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return false, &apperr.Error{Kind: apperr.Unavailable, Message: "directory unavailable", Extra: map[string]any{"cause": err.Error()}}
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return false, apperr.New(apperr.Unavailable, "directory read failed")
	}
	switch resp.StatusCode {
	case http.StatusOK:
		if err := json.Unmarshal(body, out); err != nil {
			return false, apperr.New(apperr.Unavailable, "directory answered malformed JSON")
		}
		return true, nil
	case http.StatusNotFound, http.StatusBadRequest:
		return false, nil
	}
	return false, apperr.New(apperr.Unavailable, "directory answered HTTP %d", resp.StatusCode)
}

// ValidID reports whether id can be looked up: 1 to 64 letters, digits,
// '-' or '_' (ObjectIds are 24 hex digits).
func ValidID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// cache is a bounded map with per-entry expiry. When full, expired entries
// go first, then arbitrary ones: it is a cache, not a store.
type cache[T any] struct {
	mu      sync.Mutex
	max     int
	entries map[string]entry[T]
}

type entry[T any] struct {
	v       T
	err     error
	expires time.Time
}

func newCache[T any](max int) *cache[T] {
	return &cache[T]{max: max, entries: make(map[string]entry[T])}
}

func (c *cache[T]) get(key string, now time.Time) (T, error, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || now.After(e.expires) {
		var zero T
		return zero, nil, false
	}
	return e.v, e.err, true
}

func (c *cache[T]) put(key string, v T, err error, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.max {
		c.evict(time.Now())
	}
	c.entries[key] = entry[T]{v: v, err: err, expires: expires}
}

func (c *cache[T]) evict(now time.Time) {
	for k, e := range c.entries {
		if now.After(e.expires) {
			delete(c.entries, k)
		}
	}
	// Still full: drop about a tenth, so the scan is not paid on every put.
	target := c.max - c.max/10 - 1
	for k := range c.entries {
		if len(c.entries) <= target {
			return
		}
		delete(c.entries, k)
	}
}

// IsNotFound reports whether err means the user or order does not exist.
func IsNotFound(err error) bool { return apperr.KindOf(err) == apperr.NotFound }
