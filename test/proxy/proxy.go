// Package proxy is the development front proxy: one origin (the dev stack's
// PORT, 5000) in front of orderapi and several gateway replicas. It plays
// the part nginx plays in docker-compose.yml: plain round-robin over the
// gateway replicas, which forward each other the requests of sessions they
// do not hold, so long-polling needs no stickiness.
//
// It is not a production load balancer: no TLS, no rate limits.
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
	"sync/atomic"
	"time"
)

// Config configures a Proxy. Zero values mean the defaults.
type Config struct {
	OrderAPI string        // base URL of orderapi, e.g. http://127.0.0.1:5001
	Gateways []string      // base URLs of the gateway replicas (at least one)
	Logger   *slog.Logger  // default: discard
	DownFor  time.Duration // how long a gateway that refused a connection is skipped, default 2s
}

// upstream names where a route sends its requests.
type upstream int

const (
	blocked    upstream = iota // answered here with 404
	gatewayAny                 // any healthy replica, round-robin
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
		{prefix("/socket.io/"), gatewayAny},    // Socket.IO: replicas forward to a session's owner
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
		case gatewayAny:
			p.gateways.ServeHTTP(w, r)
		default:
			p.orderapi.ServeHTTP(w, r)
		}
		return
	}
}

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

// pool is the http.RoundTripper for the gateways: plain round-robin over
// the replicas not known to be down. No stickiness: a replica forwards a
// request of a session it does not hold to the one that does.
type pool struct {
	transport *http.Transport
	backends  []*backend
	next      atomic.Uint64
	downFor   time.Duration
	logger    *slog.Logger
}

// maxRetryBody bounds the request bodies kept in memory so that a request
// can move to another replica (polling bodies are at most 1 MB).
const maxRetryBody = 2 << 20

func (p *pool) RoundTrip(req *http.Request) (*http.Response, error) {
	// Nothing has been sent when a dial fails, so the request can move to
	// the next replica (with a body kept for that): with round-robin, a
	// polling POST of a live session may well meet a dead replica first. A
	// new session refused by a draining replica (503) moves on too, like
	// nginx's proxy_next_upstream http_503.
	body, retry, err := keepBody(req)
	if err != nil {
		return nil, err
	}
	handshake := req.URL.Query().Get("sid") == ""
	order := p.order()
	var lastErr error
	for k, i := range order {
		if body != nil {
			req.Body = io.NopCloser(bytes.NewReader(body))
		}
		resp, err := p.send(req, i)
		if err == nil {
			if retry && handshake && resp.StatusCode == http.StatusServiceUnavailable && k < len(order)-1 {
				_ = resp.Body.Close()
				continue
			}
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

// keepBody reads a small request body into memory, so that the request
// can be sent again; retry is false for a body too big to keep.
func keepBody(req *http.Request) (body []byte, retry bool, err error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, true, nil
	}
	if req.ContentLength < 0 || req.ContentLength > maxRetryBody {
		return nil, false, nil
	}
	body, err = io.ReadAll(io.LimitReader(req.Body, maxRetryBody+1))
	_ = req.Body.Close()
	if err != nil {
		return nil, false, fmt.Errorf("read request body: %w", err)
	}
	if len(body) > maxRetryBody {
		return nil, false, errors.New("request body longer than its Content-Length")
	}
	return body, true, nil
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

func (p *pool) send(req *http.Request, i int) (*http.Response, error) {
	b := p.backends[i]
	out := req.Clone(req.Context())
	out.URL.Scheme = b.url.Scheme
	out.URL.Host = b.url.Host
	return p.transport.RoundTrip(out)
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
