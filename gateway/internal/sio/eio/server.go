package eio

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/logging"

	"github.com/friendspizzahut/platform/gateway/internal/tasks"
)

// quietNBIO: nbio logs to stdout through a process-wide logger; its
// start/stop lines are noise, and the errors it logs are reported to us
// as errors anyway. Set once, before the first engine starts.
var quietNBIO sync.Once

// Error codes of Node's engine.io (Server.errors) and their messages.
const (
	errUnknownTransport = 0
	errUnknownSID       = 1
	errBadHandshake     = 2
	errBadRequest       = 3
	errForbidden        = 4
	errUnsupportedProto = 5
	transportPolling    = "polling"
	transportWebsocket  = "websocket"
	protocolVersion     = "4"
	sidRandomBytes      = 16
)

var errorMessages = [...]string{
	"Transport unknown", "Session ID unknown", "Bad handshake method",
	"Bad request", "Forbidden", "Unsupported protocol version",
}

// Server is an Engine.IO v4 server; mount it as an http.Handler.
type Server struct {
	cfg    Config
	logger *slog.Logger
	onOpen func(*Conn) Handler

	mu       sync.RWMutex
	sessions map[string]*Conn

	closing atomic.Bool
	nb      *nbio.Engine
	writers *writers
	closers tasks.Group // OnClose calls running
	stop    sync.Once
}

// NewServer returns a server that calls onOpen for every new session
// (before its first message) to get the session's handler.
func NewServer(cfg Config, onOpen func(*Conn) Handler, logger *slog.Logger) (*Server, error) {
	cfg.defaults()
	if err := ValidateSIDPrefix(cfg.SIDPrefix); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, logger: logger, onOpen: onOpen, sessions: map[string]*Conn{}}
	quietNBIO.Do(func() { logging.SetLevel(logging.LevelNone) })
	s.nb = nbio.NewEngine(nbio.Config{
		Name:               "eio",
		NPoller:            cfg.Pollers,
		ReadBufferSize:     32 << 10,
		MaxWriteBufferSize: cfg.MaxQueueBytes,
	})
	s.nb.OnData(onNetData)
	s.nb.OnClose(onNetClose)
	if err := s.nb.Start(); err != nil {
		return nil, fmt.Errorf("engine.io: start pollers: %w", err)
	}
	s.writers = startWriters(cfg.Writers)
	return s, nil
}

// Has reports whether sid is a session of this server.
func (s *Server) Has(sid string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.sessions[sid]
	return ok
}

// Refuse answers new handshakes 503 "Server shutting down" from now on,
// so the load balancer sends them to another replica (a drain); existing
// sessions are served as before.
func (s *Server) Refuse() { s.closing.Store(true) }

// Close refuses new sessions, closes every session ("server shutting
// down"), waits for their OnClose calls and stops the pollers and writers.
func (s *Server) Close() {
	s.stop.Do(func() {
		s.closing.Store(true)
		s.mu.RLock()
		all := make([]*Conn, 0, len(s.sessions))
		for _, c := range s.sessions {
			all = append(all, c)
		}
		s.mu.RUnlock()
		for _, c := range all {
			c.terminate(ReasonServerClose, msgClose.Packet())
		}
		s.closers.Wait()
		s.writers.stop()
		// nbio v1.6.8 can miss a Stop that follows Start closely (each
		// poller clears its shutdown flag when its loop begins), so the
		// wait is bounded: a stuck poller must not hang shutdown.
		stopped := make(chan struct{})
		go func() { s.nb.Stop(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(pollerStopTimeout):
			s.logger.Warn("engine.io: pollers did not stop in time; leaving them")
		}
	})
}

// pollerStopTimeout bounds Close's wait for nbio's pollers.
const pollerStopTimeout = 3 * time.Second

func (s *Server) get(sid string) *Conn {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.sessions[sid]
}

func (s *Server) remove(c *Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions[c.id] == c {
		delete(s.sessions, c.id)
	}
}

func (s *Server) newSID() string {
	var b [sidRandomBytes]byte
	_, _ = rand.Read(b[:])
	return s.cfg.SIDPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// ServeHTTP serves the Engine.IO endpoint: handshakes, polls, posts and
// websocket upgrades, with Node's checks in Node's order.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		s.preflight(w, r)
		return
	}
	s.cors(w, r)
	q := r.URL.Query()
	transport := q.Get("transport")
	upgrade := isWebsocketUpgrade(r)
	if transport != transportPolling && transport != transportWebsocket {
		s.abort(w, upgrade, errUnknownTransport)
		return
	}
	if invalidHeaderValue(r.Header.Get("Origin")) {
		s.abort(w, upgrade, errBadRequest)
		return
	}
	sid := q.Get("sid")
	var c *Conn
	if sid != "" {
		if c = s.get(sid); c == nil {
			s.abort(w, upgrade, errUnknownSID)
			return
		}
		if !upgrade && c.Transport() != transport {
			s.abort(w, upgrade, errBadRequest)
			return
		}
	} else {
		if r.Method != http.MethodGet {
			s.abort(w, upgrade, errBadHandshake)
			return
		}
		if transport == transportWebsocket && !upgrade {
			s.abort(w, upgrade, errBadRequest)
			return
		}
		if s.closing.Load() { // a new session goes to another replica
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"code":5,"message":"Server shutting down"}`)
			return
		}
		if q.Get("EIO") != protocolVersion {
			s.abort(w, upgrade, errUnsupportedProto)
			return
		}
	}
	if upgrade {
		if transport != transportWebsocket {
			s.abort(w, true, errBadRequest)
			return
		}
		s.serveWebsocket(w, r, q, c)
		return
	}
	if c == nil {
		s.handshakePolling(w, r, q)
		return
	}
	switch r.Method {
	case http.MethodGet:
		c.servePoll(w, r)
	case http.MethodPost:
		c.servePost(w, r)
	default:
		w.WriteHeader(http.StatusInternalServerError)
	}
}

// abort answers an invalid request like Node's abortRequest (JSON) or
// abortUpgrade (400 with the message as text).
func (s *Server) abort(w http.ResponseWriter, upgrade bool, code int) {
	msg := errorMessages[code]
	if upgrade {
		w.Header().Set("Connection", "close")
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Length", strconv.Itoa(len(msg)))
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, msg)
		return
	}
	abortRequest(w, code)
}

func abortRequest(w http.ResponseWriter, code int) {
	status := http.StatusBadRequest
	if code == errForbidden {
		status = http.StatusForbidden
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"code":%d,"message":%q}`, code, errorMessages[code])
}

// invalidHeaderValue mirrors Node's checkInvalidHeaderChar.
func invalidHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '\t' && (c < 0x20 || c == 0x7f) {
			return true
		}
	}
	return false
}

// newConn registers a new session with its handler and queues the open
// packet.
func (s *Server) newConn(r *http.Request, q url.Values, ws *wsConn) *Conn {
	c := &Conn{srv: s, id: s.newSID(), query: q, header: compactHeader(r.Header), remoteAddr: r.RemoteAddr}
	upgrades := `["websocket"]`
	if ws != nil {
		ws.c = c
		c.ws = ws
		upgrades = `[]`
	}
	open := fmt.Sprintf(`{"sid":"%s","upgrades":%s,"pingInterval":%d,"pingTimeout":%d,"maxPayload":%d}`,
		c.id, upgrades, s.cfg.PingInterval.Milliseconds(), s.cfg.PingTimeout.Milliseconds(), s.cfg.MaxPayload)
	c.q = append(c.q, newPacket(PacketOpen, []byte(open)))
	c.h = s.onOpen(c) // before the session is visible: Close reads c.h
	s.mu.Lock()
	s.sessions[c.id] = c
	s.mu.Unlock()
	c.startHeartbeat()
	return c
}

func (s *Server) handshakePolling(w http.ResponseWriter, r *http.Request, q url.Values) {
	c := s.newConn(r, q, nil)
	c.mu.Lock()
	body := c.takePayloadLocked()
	c.mu.Unlock()
	writePayload(w, body)
}

// cors sets the CORS headers of a polling response: the request's origin
// is echoed when allowed, with credentials.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	origin := r.Header.Get("Origin")
	h.Add("Vary", "Origin")
	if origin != "" && s.originAllowed(origin) {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	}
}

func (s *Server) preflight(w http.ResponseWriter, r *http.Request) {
	s.cors(w, r)
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET,POST")
	if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
		h.Set("Access-Control-Allow-Headers", rh)
		h.Add("Vary", "Access-Control-Request-Headers")
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) originAllowed(origin string) bool {
	if s.cfg.AllOrigins() {
		return true
	}
	for _, o := range s.cfg.CORSOrigins {
		if strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// handshakeOnly are request headers of the websocket handshake itself,
// of no use once the session is open.
var handshakeOnly = [...]string{"Connection", "Upgrade", "Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Extensions"}

// compactHeader copies the handshake's headers, without the websocket
// handshake's own, into one right-sized map and one backing array: the
// session keeps them for its lifetime (the Socket.IO connect hook reads
// them), the request's larger map is released.
func compactHeader(h http.Header) http.Header {
	n, nv := 0, 0
	for k, vv := range h {
		if !isHandshakeOnly(k) {
			n++
			nv += len(vv)
		}
	}
	out := make(http.Header, n)
	values := make([]string, nv)
	for k, vv := range h {
		if isHandshakeOnly(k) {
			continue
		}
		n := copy(values, vv)
		out[k] = values[:n:n]
		values = values[n:]
	}
	return out
}

func isHandshakeOnly(k string) bool {
	for _, h := range handshakeOnly {
		if k == h {
			return true
		}
	}
	return false
}
