package api

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/friendspizzahut/platform/orderapi/internal/metrics"
	"github.com/friendspizzahut/platform/shared/apperr"
	"github.com/friendspizzahut/platform/shared/auth"
)

// Per-client rate limits for /api/v1. The original's limits (100 requests
// per 15 minutes per IP) are hit by real app traffic (CONTRACT §6.21);
// these defaults are far above what one phone does and still stop a
// runaway client. A client is its user when the request carries a valid
// access token, otherwise its IP address.

// RateLimit configures the limits. Zero values mean the defaults noted.
type RateLimit struct {
	// Disabled turns every limit off (RATE_LIMIT_ENABLED=false).
	Disabled bool
	// Window is the sliding window of Max, PaymentWrites and Uploads
	// (RATE_LIMIT_WINDOW, default 1m).
	Window time.Duration
	// Max is the requests per client per Window (RATE_LIMIT_MAX, default 1200).
	Max int
	// PaymentWrites is the non-GET /api/v1/payments requests per client per
	// Window (RATE_LIMIT_PAYMENT_WRITES, default 120).
	PaymentWrites int
	// Uploads is the POST /api/v1/upload/* requests per client per Window
	// (RATE_LIMIT_UPLOADS, default 30): each may store up to 5 MB on disk.
	Uploads int
	// AuthFailures is the failed (401) /api/v1/auth/* requests per client
	// IP and login email (or IP and path, for the other auth routes) per
	// AuthWindow before further attempts get 429 (RATE_LIMIT_AUTH_FAILURES,
	// default 30; RATE_LIMIT_AUTH_WINDOW, default 15m). Keying by email too
	// means clients pooled behind one address never lock each other out.
	AuthFailures int
	AuthWindow   time.Duration
	// MaxClients bounds the clients tracked per limit (RATE_LIMIT_MAX_CLIENTS,
	// default 100000); beyond it new clients pass untracked until the window
	// turns, so memory stays bounded.
	MaxClients int
	// TrustProxy says when the client IP is taken from the last
	// X-Forwarded-For entry (the address our front proxy saw) instead of the
	// connection's peer (RATE_LIMIT_TRUST_PROXY): ProxyPrivate (default)
	// when the peer is a loopback or private address, i.e. our own proxy;
	// ProxyAll always; ProxyNone never.
	TrustProxy string
}

// The TrustProxy modes.
const (
	ProxyPrivate = "private"
	ProxyAll     = "all"
	ProxyNone    = "none"
)

func (c *RateLimit) defaults() {
	if c.Window <= 0 {
		c.Window = time.Minute
	}
	if c.Max <= 0 {
		c.Max = 1200
	}
	if c.PaymentWrites <= 0 {
		c.PaymentWrites = 120
	}
	if c.Uploads <= 0 {
		c.Uploads = 30
	}
	if c.AuthFailures <= 0 {
		c.AuthFailures = 30
	}
	if c.AuthWindow <= 0 {
		c.AuthWindow = 15 * time.Minute
	}
	if c.MaxClients <= 0 {
		c.MaxClients = 100_000
	}
	if c.TrustProxy == "" {
		c.TrustProxy = ProxyPrivate
	}
}

// windowLimiter counts events per key over a sliding window, estimated
// from two fixed windows (the previous one weighted by how much of it
// still overlaps). Memory: at most maxKeys keys per fixed window, two
// windows. Safe for concurrent use.
type windowLimiter struct {
	window  time.Duration
	max     int
	maxKeys int

	mu        sync.Mutex
	start     time.Time // start of the current fixed window
	cur, prev map[string]int
}

func newWindowLimiter(window time.Duration, max, maxKeys int) *windowLimiter {
	return &windowLimiter{window: window, max: max, maxKeys: maxKeys, cur: map[string]int{}, prev: map[string]int{}}
}

// rotate moves the fixed windows forward to now. Callers hold mu.
func (l *windowLimiter) rotate(now time.Time) {
	if l.start.IsZero() {
		l.start = now.Truncate(l.window)
		return
	}
	switch n := now.Sub(l.start) / l.window; {
	case n <= 0:
	case n == 1:
		l.prev, l.cur = l.cur, make(map[string]int, len(l.cur))
		l.start = l.start.Add(l.window)
	default:
		l.prev, l.cur = map[string]int{}, map[string]int{}
		l.start = now.Truncate(l.window)
	}
}

// estimate is the sliding count of key at now. Callers hold mu.
func (l *windowLimiter) estimate(key string, now time.Time) float64 {
	frac := float64(now.Sub(l.start)) / float64(l.window)
	return float64(l.prev[key])*(1-frac) + float64(l.cur[key])
}

// retryAfter is how long until one more event fits.
func (l *windowLimiter) retryAfter(now time.Time) time.Duration {
	return max(l.start.Add(l.window).Sub(now), time.Second)
}

// allow counts one event of key and reports whether it is within the
// limit; when it is not, nothing is counted and retry says when to retry.
func (l *windowLimiter) allow(key string, now time.Time) (ok bool, retry time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rotate(now)
	if l.estimate(key, now)+1 > float64(l.max) {
		return false, l.retryAfter(now)
	}
	l.add(key)
	return true, 0
}

// over reports whether key already reached the limit, without counting.
func (l *windowLimiter) over(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rotate(now)
	if l.estimate(key, now) >= float64(l.max) {
		return true, l.retryAfter(now)
	}
	return false, 0
}

// record counts one event of key.
func (l *windowLimiter) record(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rotate(now)
	l.add(key)
}

func (l *windowLimiter) add(key string) {
	if _, seen := l.cur[key]; !seen && len(l.cur) >= l.maxKeys {
		return // full: fail open rather than grow
	}
	l.cur[key]++
}

// What the limits of rateLimit apply to.
func anyRequest(*http.Request) bool { return true }

func isPaymentWrite(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, v1+"/payments") && r.Method != http.MethodGet
}

func isUpload(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, v1+"/upload/") && r.Method == http.MethodPost
}

// clientIP is the request's client address: the last X-Forwarded-For hop
// when the peer is a trusted proxy (see RateLimit.TrustProxy), else the
// connection's peer. Only the last hop is used: the ones before it are
// whatever the client chose to send.
func clientIP(r *http.Request, trust string) string {
	if fromTrustedProxy(r, trust) {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			if ip := strings.TrimSpace(parts[len(parts)-1]); ip != "" {
				return ip
			}
		}
	}
	return peerIP(r)
}

// fromTrustedProxy reports whether r's X-Forwarded-* headers are believed:
// its peer is a proxy the mode trusts (RateLimit.TrustProxy; "" is
// ProxyPrivate). Anyone else could send them.
func fromTrustedProxy(r *http.Request, mode string) bool {
	switch mode {
	case ProxyAll:
		return true
	case ProxyNone:
		return false
	}
	ip := net.ParseIP(peerIP(r))
	return ip != nil && (ip.IsLoopback() || ip.IsPrivate())
}

// peerIP is the address of the connection's peer.
func peerIP(r *http.Request) string {
	peer, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return peer
}

// authFailureKey is the key failed authentications are counted under: the
// client IP with the login email (read from a copy of the body), or with
// the path for the other auth routes.
func authFailureKey(r *http.Request, ip string) string {
	if r.URL.Path != v1+"/auth/login" || r.Body == nil {
		return ip + "|" + r.URL.Path
	}
	body, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
	var in struct {
		Email string `json:"email"`
	}
	_ = json.Unmarshal(body, &in) // a bad body fails in the handler, not here
	return ip + "|" + strings.ToLower(strings.TrimSpace(in.Email))
}

// errReader replays a read error after the bytes that were read.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	return 0, io.EOF
}

// rateLimit returns the middleware enforcing cfg on /api/v1. It only
// verifies the token's signature (no database) to key by user; the route's
// own authentication still decides access. onLimited is told which limiter
// refused a request (metrics).
func rateLimit(cfg RateLimit, signer *auth.Signer, now func() time.Time, onLimited func(limiter string)) func(http.Handler) http.Handler {
	if cfg.Disabled {
		return func(h http.Handler) http.Handler { return h }
	}
	cfg.defaults()
	// A request counts against every limit it falls under, in this
	// order; the first that refuses answers.
	limits := []struct {
		applies func(r *http.Request) bool
		limiter *windowLimiter
		label   string // metrics.Limiter*
		message string
	}{
		{anyRequest, newWindowLimiter(cfg.Window, cfg.Max, cfg.MaxClients),
			metrics.LimiterGeneral, "Too many requests from this client, please try again later."},
		{isPaymentWrite, newWindowLimiter(cfg.Window, cfg.PaymentWrites, cfg.MaxClients),
			metrics.LimiterPayments, "Too many payment requests, please try again later."},
		{isUpload, newWindowLimiter(cfg.Window, cfg.Uploads, cfg.MaxClients),
			metrics.LimiterUploads, "Too many uploads, please try again later."},
	}
	authFails := newWindowLimiter(cfg.AuthWindow, cfg.AuthFailures, cfg.MaxClients)

	tooMany := func(w http.ResponseWriter, r *http.Request, retry time.Duration, limiter, msg string) {
		onLimited(limiter)
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
		writeError(w, r, apperr.New(apperr.TooManyRequests, "%s", msg))
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			path := r.URL.Path
			if !strings.HasPrefix(path, v1+"/") {
				next.ServeHTTP(w, r)
				return
			}
			t := now()
			ip := "ip:" + clientIP(r, cfg.TrustProxy)
			client := ip
			if raw := bearerToken(r); raw != "" && signer != nil {
				if c, err := signer.VerifyAccess(raw); err == nil && c.UserID != "" {
					client = "user:" + c.UserID
				}
			}
			for _, l := range limits {
				if !l.applies(r) {
					continue
				}
				if ok, retry := l.limiter.allow(client, t); !ok {
					tooMany(w, r, retry, l.label, l.message)
					return
				}
			}
			if !strings.HasPrefix(path, v1+"/auth/") {
				next.ServeHTTP(w, r)
				return
			}
			// Authentication: only failures (401) count (a guessing client
			// has no valid token to be keyed by).
			key := authFailureKey(r, ip)
			if over, retry := authFails.over(key, t); over {
				tooMany(w, r, retry, metrics.LimiterAuthFailures, "Too many failed authentication attempts, please try again later.")
				return
			}
			rec := &statusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			if rec.status == http.StatusUnauthorized {
				authFails.record(key, now())
			}
		})
	}
}
