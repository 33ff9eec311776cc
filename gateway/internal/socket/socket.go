// Package socket is what the gateway does with a connected client: it
// authenticates the handshake, then handles the client events register,
// join:order, leave:order, delivery:location and ping. Each event is a small
// function with typed input (decoded in args.go) and a typed error
// (shared/apperr); replyError is the one place errors become socket replies
// and get logged.
//
// It does not deliver domain events to sockets: that is the fanout's job
// (gateway/internal/fanout). Even a location report is only published on
// the bus, so every replica's fanout delivers it the same way.
package socket

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/friendspizzahut/platform/gateway/internal/directory"
	"github.com/friendspizzahut/platform/gateway/internal/routing"
	"github.com/friendspizzahut/platform/gateway/internal/sio"
	"github.com/friendspizzahut/platform/shared/apperr"
	"github.com/friendspizzahut/platform/shared/auth"
	"github.com/friendspizzahut/platform/shared/event"
)

// Socket event names, in and out.
const (
	EvRegister       = "register"
	EvRegistered     = "registered"
	EvJoinOrder      = "join:order"
	EvLeaveOrder     = "leave:order"
	EvLocation       = "delivery:location"
	EvLocationUpdate = routing.EvLocationUpdate
	EvPing           = "ping"
	EvPong           = "pong"
	EvError          = "error"
)

// Verifier checks access tokens (*auth.Signer).
type Verifier interface {
	VerifyAccess(raw string) (auth.Claims, error)
}

// Directory answers who users and order parties are (*directory.Client).
type Directory interface {
	User(ctx context.Context, id string) (directory.User, error)
	OrderParties(ctx context.Context, id string) (directory.Parties, error)
}

// Locations keeps last known agent positions (*location.Store).
type Locations interface {
	Save(ctx context.Context, rep event.LocationReport) error
	Last(ctx context.Context, orderID string) (event.LocationReport, bool, error)
}

// Publisher sends domain events on the bus (*bus.Bus).
type Publisher interface {
	Publish(ctx context.Context, env event.Envelope) error
}

// Router maps a domain event to socket deliveries (*routing.Table); used to
// render a replayed last location exactly like a live one.
type Router interface {
	Route(env event.Envelope, p event.Payload) []routing.Delivery
}

// Presence is told which sockets are registered as whom.
type Presence interface {
	Registered(socketID, userID, role string)
	Unregistered(socketID string)
}

// Config tunes the handlers. Zero values mean the defaults.
type Config struct {
	RequireToken     bool          // GATEWAY_REQUIRE_TOKEN: refuse sockets without a token
	EventRate        float64       // sustained client events per second per socket, default 20
	EventBurst       int           // burst of client events per socket, default 60
	LocationInterval time.Duration // minimum gap between reports for one order, default 1s (with 10% slack)
	LookupTimeout    time.Duration // directory/Redis calls per event, default 5s
}

func (c *Config) defaults() {
	if c.EventRate == 0 {
		c.EventRate = 20
	}
	if c.EventBurst == 0 {
		c.EventBurst = 60
	}
	if c.LocationInterval == 0 {
		c.LocationInterval = time.Second
	}
	if c.LookupTimeout == 0 {
		c.LookupTimeout = 5 * time.Second
	}
}

// Deps are the handlers' collaborators.
type Deps struct {
	Tokens    Verifier
	Directory Directory
	Locations Locations
	Publisher Publisher
	Router    Router
	Presence  Presence
	Now       func() time.Time // nil: time.Now
}

// Handlers creates a session for every socket. Safe for concurrent use.
type Handlers struct {
	cfg    Config
	deps   Deps
	logger *slog.Logger
}

// New returns Handlers; pass h.Connect to sio.New.
func New(cfg Config, deps Deps, logger *slog.Logger) *Handlers {
	cfg.defaults()
	if deps.Now == nil {
		deps.Now = time.Now
	}
	return &Handlers{cfg: cfg, deps: deps, logger: logger}
}

// Identity is who a socket speaks for.
type Identity struct {
	UserID string
	Role   string
}

// Connect authenticates a new socket (sio.ConnectFunc). A present token
// must be a valid access token; without one the socket is allowed unless
// tokens are required.
func (h *Handlers) Connect(s *sio.Socket) (sio.Session, error) {
	hs := s.Handshake()
	raw, err := TokenFrom(hs.Auth, hs.Query, hs.Header)
	var tok *Identity
	switch {
	case err != nil:
		return nil, refuse(err)
	case raw != "":
		claims, err := h.deps.Tokens.VerifyAccess(raw)
		if err != nil {
			return nil, refuse(err)
		}
		tok = &Identity{UserID: claims.UserID, Role: claims.Role}
	case h.cfg.RequireToken:
		return nil, &sio.ConnectError{Message: "Authentication required: no token provided.", Data: map[string]string{"code": "NO_TOKEN"}}
	}
	var restored *Identity
	if data, ok := s.Restored(); ok {
		var saved savedIdentity
		if json.Unmarshal(data, &saved) == nil && saved.mayRecover(tok) {
			restored = saved.Registered
		} else {
			h.logger.Debug("recovery refused: credentials do not match the session", "socket_id", s.ID())
			s.RefuseRecovery()
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	logger := h.logger.With("socket_id", s.ID())
	if tok != nil {
		logger = logger.With("user_id", tok.UserID)
	}
	sess := &session{
		h:          h,
		sock:       s,
		log:        logger,
		token:      tok,
		registered: restored,
		ctx:        ctx,
		cancel:     cancel,
		limiter:    newBucket(h.cfg.EventRate, h.cfg.EventBurst, h.deps.Now()),
		lastLoc:    map[string]time.Time{},
	}
	sess.saveIdentity()
	return sess, nil
}

// savedIdentity is what a recoverable session keeps of its socket's
// identity (sio.Socket.SetData).
type savedIdentity struct {
	Token      *Identity `json:"token,omitempty"`      // proven by the handshake
	Registered *Identity `json:"registered,omitempty"` // set by register
}

// mayRecover reports whether a reconnect proving tok (nil: no proof) may
// take over the session: a session proven by a token needs the same proof
// again, and any proof presented must name the session's user.
func (v savedIdentity) mayRecover(tok *Identity) bool {
	if v.Token != nil {
		return tok != nil && *tok == *v.Token
	}
	if tok != nil && v.Registered != nil {
		return *tok == *v.Registered
	}
	return true
}

// saveIdentity stores the identity with the socket, for recovery.
func (s *session) saveIdentity() {
	s.mu.Lock()
	v := savedIdentity{Token: s.token, Registered: s.registered}
	s.mu.Unlock()
	if b, err := json.Marshal(v); err == nil {
		s.sock.SetData(b)
	}
}

// refuse turns a token error into the connect_error the client sees.
func refuse(err error) error {
	code := "INVALID_TOKEN"
	if errors.Is(err, auth.ErrExpired) {
		code = "TOKEN_EXPIRED"
	} else if !errors.Is(err, auth.ErrInvalid) {
		err = auth.ErrInvalid
	}
	return &sio.ConnectError{Message: "Authentication failed: " + err.Error(), Data: map[string]string{"code": code}}
}

// session is one socket's state.
type session struct {
	h      *Handlers
	sock   *sio.Socket
	log    *slog.Logger
	token  *Identity // from the handshake token; nil without one
	ctx    context.Context
	cancel context.CancelFunc

	mu           sync.Mutex
	registered   *Identity
	limiter      bucket
	throttledAt  time.Time
	lastLoc      map[string]time.Time // order id → last accepted report
	disconnected bool
}

func (s *session) OnConnect() {
	if id := s.identity(); id != nil && s.sock.Recovered() && s.h.deps.Presence != nil {
		s.h.deps.Presence.Registered(s.sock.ID(), id.UserID, id.Role)
	}
	s.log.Debug("socket connected", "authenticated", s.token != nil, "recovered", s.sock.Recovered())
}

func (s *session) OnDisconnect(reason sio.DisconnectReason) {
	s.cancel()
	s.mu.Lock()
	s.disconnected = true
	s.mu.Unlock()
	if s.h.deps.Presence != nil && !s.sock.Replaced() {
		s.h.deps.Presence.Unregistered(s.sock.ID())
	}
	s.log.Debug("socket disconnected", "reason", string(reason))
}

// identity is the registered identity, else the token's, else nil.
func (s *session) identity() *Identity {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.registered != nil {
		return s.registered
	}
	return s.token
}

// OnEvent dispatches one client event.
func (s *session) OnEvent(e *sio.Event) {
	now := s.h.deps.Now()
	if !s.allow(now) {
		s.throttled(e, now)
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.h.cfg.LookupTimeout)
	defer cancel()
	switch e.Name {
	case EvRegister:
		s.onRegister(ctx, e)
	case EvJoinOrder:
		s.onJoinOrder(ctx, e)
	case EvLeaveOrder:
		s.onLeaveOrder(e)
	case EvLocation:
		s.onLocation(ctx, e)
	case EvPing:
		s.onPing(e)
	default:
		s.replyError(e, apperr.Invalidf("Unknown event %q", truncate(e.Name, 64)))
	}
}

func (s *session) allow(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limiter.take(now)
}

// throttled answers a dropped event, at most once a second, so a flooding
// client does not get a reply per packet.
func (s *session) throttled(e *sio.Event, now time.Time) {
	s.mu.Lock()
	quiet := now.Sub(s.throttledAt) < time.Second
	if !quiet {
		s.throttledAt = now
	}
	s.mu.Unlock()
	if quiet && !e.WantsAck() {
		return
	}
	s.replyError(e, apperr.New(apperr.TooManyRequests, "Too many events: slow down"))
}

// replyError is the one place a handler error reaches the client and the
// log: an error ack when the client asked for one, else an error event.
func (s *session) replyError(e *sio.Event, err error) {
	kind, msg := apperr.KindOf(err), apperr.MessageOf(err)
	switch kind {
	case apperr.Internal:
		s.log.Error("socket event failed", "event", truncate(e.Name, 64), "err", err)
	case apperr.Unavailable:
		s.log.Warn("socket event failed", "event", truncate(e.Name, 64), "err", err)
	default:
		s.log.Debug("socket event refused", "event", truncate(e.Name, 64), "kind", string(kind), "err", msg)
	}
	if e.WantsAck() {
		_ = e.Ack(ErrorReply{Success: false, Message: msg})
		return
	}
	_ = s.sock.Emit(EvError, ErrorReply{Message: msg, Event: truncate(e.Name, 64)})
}

// ErrorReply is the error event's payload and an error ack's argument.
type ErrorReply struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
	Event   string `json:"event,omitempty"`
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
