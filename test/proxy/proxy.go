// Package proxy is the development front proxy: one origin (the dev stack's
// PORT, 5000) in front of orderapi and several gateway replicas. It plays
// the part nginx plays in docker-compose.yml, with stickiness per
// Engine.IO session instead of per client address, so that one machine's
// HTTP long-polling clients still spread over the replicas.
//
// It is not a production load balancer: no TLS, no rate limits, sessions
// remembered in memory only.
package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Proxy. Zero values mean the defaults.
type Config struct {
	OrderAPI    string        // base URL of orderapi, e.g. http://127.0.0.1:5001
	Gateways    []string      // base URLs of the gateway replicas (at least one)
	Logger      *slog.Logger  // default: discard
	SessionTTL  time.Duration // how long an idle sid stays pinned, default 2m
	MaxSessions int           // bound of the sid table, default 100000
	DownFor     time.Duration // how long a gateway that refused a connection is skipped, default 2s
}

// upstream names where a route sends its requests.
type upstream int

const (
	blocked       upstream = iota // answered here with 404
	gatewaySticky                 // the replica that owns the Engine.IO session
	gatewayAny                    // any healthy replica
	orderAPI
)

// route is one row of the routing table: requests whose path matches go to
// the upstream.
type route struct {
	match func(path string) bool
	to    upstream
}

func prefix(p string) func(string) bool {
	return func(s string) bool { return strings.HasPrefix(s, p) }
}
func exact(p string) func(string) bool { return func(s string) bool { return s == p } }
func pathOrBelow(p string) func(string) bool {
	return func(s string) bool { return s == p || strings.HasPrefix(s, p+"/") }
}

// routeTable is the whole routing table; the first match wins.
func routeTable() []route {
	return []route{
		{prefix("/internal/"), blocked},        // orderapi's internal API never leaves the host
		{pathOrBelow("/metrics"), blocked},     // scraped on each service's own port only
		{prefix("/socket.io/"), gatewaySticky}, // Socket.IO, pinned per Engine.IO session
		{pathOrBelow("/presence"), gatewayAny}, // presence (admin JWT)
		{prefix("/api/v1/"), orderAPI},         // REST API
		{prefix("/uploads/"), orderAPI},        // uploaded images
		{exact("/health"), orderAPI},           // health summary
		{pathOrBelow("/admin"), orderAPI},      // admin dashboard
		{prefix("/"), orderAPI},                // the rest, so unknown routes get orderapi's 404
	}
}

// Proxy is an http.Handler routing by the table above.
type Proxy struct {
	routes   []route
	logger   *slog.Logger
	orderapi http.Handler
	gateways http.Handler
	pool     *pool
}

// New validates cfg and builds the proxy.
func New(cfg Config) (*Proxy, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 2 * time.Minute
	}
	if cfg.MaxSessions == 0 {
		cfg.MaxSessions = 100000
	}
	if cfg.DownFor == 0 {
		cfg.DownFor = 2 * time.Second
	}
	api, err := parseBase(cfg.OrderAPI)
	if err != nil {
		return nil, fmt.Errorf("orderapi url: %w", err)
	}
	if len(cfg.Gateways) == 0 {
		return nil, errors.New("no gateway urls")
	}
	p := &pool{
		transport: http.DefaultTransport.(*http.Transport).Clone(),
		sessions:  newSessions(cfg.MaxSessions, cfg.SessionTTL),
		downFor:   cfg.DownFor,
		logger:    cfg.Logger,
	}
	for _, g := range cfg.Gateways {
		u, err := parseBase(g)
		if err != nil {
			return nil, fmt.Errorf("gateway url: %w", err)
		}
		p.backends = append(p.backends, &backend{url: u})
	}

	errorHandler := func(w http.ResponseWriter, r *http.Request, err error) {
		cfg.Logger.Warn("proxy: upstream failed", "path", r.URL.Path, "err", err)
		writeJSON(w, http.StatusBadGateway, "Upstream unavailable")
	}
	return &Proxy{
		routes: routeTable(),
		logger: cfg.Logger,
		pool:   p,
		orderapi: &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(api)
				pr.SetXForwarded()
				pr.Out.Host = pr.In.Host
			},
			ErrorHandler: errorHandler,
		},
		gateways: &httputil.ReverseProxy{
			// The pool's RoundTrip picks the replica; Rewrite only fills in
			// a placeholder it replaces.
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.Out.URL.Scheme = "http"
				pr.Out.URL.Host = "gateway"
				pr.SetXForwarded()
				pr.Out.Host = pr.In.Host
			},
			Transport:     p,
			FlushInterval: -1, // long-polling responses go out as soon as written
			ErrorHandler:  errorHandler,
		},
	}, nil
}

func parseBase(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http(s) base URL", raw)
	}
	return u, nil
}

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for _, rt := range p.routes {
		if !rt.match(r.URL.Path) {
			continue
		}
		switch rt.to {
		case blocked:
			writeJSON(w, http.StatusNotFound, "Not found")
		case gatewaySticky, gatewayAny:
			p.gateways.ServeHTTP(w, r)
		default:
			p.orderapi.ServeHTTP(w, r)
		}
		return
	}
}

// Sessions returns how many Engine.IO sessions are pinned now.
func (p *Proxy) Sessions() int { return p.pool.sessions.len() }

// Close releases idle upstream connections.
func (p *Proxy) Close() { p.pool.transport.CloseIdleConnections() }

func writeJSON(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": message})
}

// backend is one gateway replica.
type backend struct {
	url       *url.URL
	downUntil atomic.Int64 // unix nanos; skipped by round-robin until then
}

// pool is the http.RoundTripper for the gateways: it sends a request with a
// known sid to the replica that created that session, and anything else
// round-robin to a replica that is not known to be down.
type pool struct {
	transport *http.Transport
	backends  []*backend
	next      atomic.Uint64
	sessions  *sessions
	downFor   time.Duration
	logger    *slog.Logger
}

func (p *pool) RoundTrip(req *http.Request) (*http.Response, error) {
	sid := req.URL.Query().Get("sid")
	if sid != "" {
		if i, ok := p.sessions.get(sid); ok {
			return p.send(req, i, sid)
		}
		// Unknown sid (proxy restarted, session expired here): any replica;
		// the wrong one answers "Session ID unknown" and the client
		// reconnects with a new handshake.
	}
	// Without a body nothing has been sent when a dial fails, so the
	// request can move to the next replica.
	retry := req.Body == nil || req.Body == http.NoBody
	var lastErr error
	for _, i := range p.order() {
		resp, err := p.send(req, i, sid)
		if err == nil {
			return resp, nil
		}
		lastErr = err
		var op *net.OpError
		if !retry || !errors.As(err, &op) || op.Op != "dial" {
			return nil, err
		}
		p.backends[i].downUntil.Store(time.Now().Add(p.downFor).UnixNano())
		p.logger.Warn("proxy: gateway down, trying the next", "gateway", p.backends[i].url.Host, "err", err)
	}
	return nil, lastErr
}

// order returns backend indexes starting at the next round-robin position,
// healthy ones first.
func (p *pool) order() []int {
	n := len(p.backends)
	start := int(p.next.Add(1)-1) % n
	now := time.Now().UnixNano()
	up := make([]int, 0, n)
	var down []int
	for k := range n {
		i := (start + k) % n
		if p.backends[i].downUntil.Load() > now {
			down = append(down, i)
		} else {
			up = append(up, i)
		}
	}
	return append(up, down...)
}

func (p *pool) send(req *http.Request, i int, sid string) (*http.Response, error) {
	b := p.backends[i]
	out := req.Clone(req.Context())
	out.URL.Scheme = b.url.Scheme
	out.URL.Host = b.url.Host
	resp, err := p.transport.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	switch {
	case sid == "" && resp.StatusCode == http.StatusOK && req.URL.Query().Get("transport") == "polling":
		// A polling handshake: its body is the open packet, 0{"sid":...}.
		body, err := readSmall(resp)
		if err != nil {
			return nil, err
		}
		if newSID := openPacketSID(body); newSID != "" {
			p.sessions.put(newSID, i)
		}
	case sid != "" && resp.StatusCode == http.StatusBadRequest:
		body, err := readSmall(resp)
		if err != nil {
			return nil, err
		}
		if bytes.Contains(body, []byte("Session ID unknown")) {
			p.sessions.forget(sid)
		}
	}
	return resp, nil
}

// readSmall reads a handshake or error body (at most 64 KiB, they are
// tiny) and puts it back on resp.
func readSmall(resp *http.Response) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read gateway response: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return body, nil
}

// openPacketSID extracts the sid from an Engine.IO v4 polling open packet,
// or "" if body is not one.
func openPacketSID(body []byte) string {
	if len(body) < 2 || body[0] != '0' {
		return ""
	}
	// A payload may hold several packets separated by 0x1e; the open
	// packet is alone in practice, but be safe.
	pkt, _, _ := bytes.Cut(body[1:], []byte{0x1e})
	var open struct {
		SID string `json:"sid"`
	}
	if json.Unmarshal(pkt, &open) != nil {
		return ""
	}
	return open.SID
}

// sessions maps Engine.IO sids to backend indexes. It is bounded: expired
// entries are swept when it fills, and if none expired an arbitrary one goes.
type sessions struct {
	mu  sync.Mutex
	m   map[string]sessionEntry
	max int
	ttl time.Duration
}

type sessionEntry struct {
	backend int
	expires time.Time
}

func newSessions(max int, ttl time.Duration) *sessions {
	return &sessions{m: map[string]sessionEntry{}, max: max, ttl: ttl}
}

func (s *sessions) get(sid string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[sid]
	if !ok {
		return 0, false
	}
	now := time.Now()
	if now.After(e.expires) {
		delete(s.m, sid)
		return 0, false
	}
	e.expires = now.Add(s.ttl)
	s.m[sid] = e
	return e.backend, true
}

func (s *sessions) put(sid string, backend int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if len(s.m) >= s.max {
		for k, e := range s.m {
			if now.After(e.expires) {
				delete(s.m, k)
			}
		}
		for k := range s.m {
			if len(s.m) < s.max {
				break
			}
			delete(s.m, k)
		}
	}
	s.m[sid] = sessionEntry{backend: backend, expires: now.Add(s.ttl)}
}

func (s *sessions) forget(sid string) {
	s.mu.Lock()
	delete(s.m, sid)
	s.mu.Unlock()
}

func (s *sessions) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// Serve runs the proxy on l until ctx ends, then shuts down (waiting up to
// 5s for requests in flight; hijacked websocket connections are not waited
// for) and returns nil.
func Serve(ctx context.Context, l net.Listener, p *Proxy) error {
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(p.logger.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return fmt.Errorf("proxy serve: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutCtx)
	p.Close()
	<-errc
	return nil
}
