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
	"strings"
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

// Verifier checks access tokens and socket-session tokens (*auth.Signer).
type Verifier interface {
	VerifyAccess(raw string) (auth.Claims, error)
	VerifySocket(raw string) (auth.Claims, error)
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

// Presence is told which sockets are registered as whom, and whether the
// identity was proven (token or cookie) or only claimed.
type Presence interface {
	Registered(socketID, userID, role string, proven bool)
	Unregistered(socketID string)
}

// DefaultTokenlessRoles are the roles a socket may claim without proof
// unless configured otherwise: the unchanged apps' customers and agents.
var DefaultTokenlessRoles = []string{auth.RoleCustomer, auth.RoleDelivery}

// Config tunes the handlers. Zero values mean the defaults.
type Config struct {
	RequireToken bool // GATEWAY_REQUIRE_TOKEN: refuse sockets without proof (then no role is tokenless)
	// TokenlessRoles (GATEWAY_TOKENLESS_ROLES) are the roles a socket
	// without proof may claim on register, checked against orderapi. nil
	// means DefaultTokenlessRoles; an empty, non-nil list means none.
	TokenlessRoles   []string
	EventRate        float64       // sustained client events per second per socket, default 20
	EventBurst       int           // burst of client events per socket, default 60
	LocationInterval time.Duration // minimum gap between reports for one order, default 1s (with 10% slack)
	LookupTimeout    time.Duration // directory/Redis calls per event, default 5s
}

func (c *Config) defaults() {
	if c.TokenlessRoles == nil {
		c.TokenlessRoles = DefaultTokenlessRoles
	}
	if c.RequireToken {
		c.TokenlessRoles = []string{}
	}
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
	Observer  Observer         // nil: none
	Now       func() time.Time // nil: time.Now
}

// Handlers creates a session for every socket. Safe for concurrent use.
type Handlers struct {
	cfg       Config
	deps      Deps
	logger    *slog.Logger
	tokenless map[string]bool // cfg.TokenlessRoles
}

// New returns Handlers; pass h.Connect to sio.New.
func New(cfg Config, deps Deps, logger *slog.Logger) *Handlers {
	cfg.defaults()
	if deps.Now == nil {
		deps.Now = time.Now
	}
	tokenless := map[string]bool{}
	for _, r := range cfg.TokenlessRoles {
		tokenless[r] = true
	}
	if deps.Observer == nil {
		deps.Observer = nopObserver{}
	}
	return &Handlers{cfg: cfg, deps: deps, logger: logger, tokenless: tokenless}
}

// Identity is who a socket speaks for, and how it showed it.
type Identity struct {
	UserID string
	Role   string
	Proof  Proof
}

// Proof is how a socket proved its identity. Its values are a fixed set,
// fit for log fields and metric labels.
type Proof string

const (
	// ProofNone: nothing. The identity is claimed on register and checked
	// against orderapi (only for the tokenless roles).
	ProofNone Proof = "none"
	// ProofToken: an access token in auth.token, the Authorization header
	// or the token query parameter.
	ProofToken Proof = "token"
	// ProofCookie: the session cookie orderapi sets at sign-in.
	ProofCookie Proof = "cookie"
)

// Proven reports whether the identity was proven rather than claimed.
func (p Proof) Proven() bool { return p == ProofToken || p == ProofCookie }

// Kind is "proven" or "claimed".
func (p Proof) Kind() string {
	if p.Proven() {
		return "proven"
	}
	return "claimed"
}

// Connect authenticates a new socket (sio.ConnectFunc). The first proof
// found (ProofFrom) must be valid: a bad one is refused, never ignored.
// Without proof the socket is allowed unless proof is required.
func (h *Handlers) Connect(s *sio.Socket) (sio.Session, error) {
	hs := s.Handshake()
	proof, raw, err := ProofFrom(hs.Auth, hs.Query, hs.Header)
	var proven *Identity
	switch {
	case err != nil:
		return nil, refuse(proof, err)
	case proof != ProofNone:
		verify := h.deps.Tokens.VerifyAccess
		if proof == ProofCookie {
			verify = h.deps.Tokens.VerifySocket
		}
		claims, err := verify(raw)
		if err != nil {
			h.logger.Debug("handshake proof refused", "proof", string(proof), "err", err)
			return nil, refuse(proof, err)
		}
		proven = &Identity{UserID: claims.UserID, Role: claims.Role, Proof: proof}
	case h.cfg.RequireToken:
		return nil, &sio.ConnectError{Message: "Authentication required: no token provided.", Data: map[string]string{"code": "NO_TOKEN"}, Reason: "no_token"}
	}
	var restored *Identity
	if data, ok := s.Restored(); ok {
		var saved savedIdentity
		if json.Unmarshal(data, &saved) == nil && saved.mayRecover(proven) {
			restored = saved.Registered
			if restored != nil && proven != nil {
				restored.Proof = proven.Proof // the same user, shown again, maybe another way
			}
		} else {
			h.logger.Debug("recovery refused: credentials do not match the session", "socket_id", s.ID())
			s.RefuseRecovery()
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	logger := h.logger.With("socket_id", s.ID())
	if proven != nil {
		logger = logger.With("user_id", proven.UserID, "proof", string(proven.Proof))
	}
	sess := &session{
		h:          h,
		sock:       s,
		log:        logger,
		proven:     proven,
		registered: restored,
		ctx:        ctx,
		cancel:     cancel,
		limiter:    newBucket(h.cfg.EventRate, h.cfg.EventBurst, h.deps.Now()),
		lastLoc:    map[string]time.Time{},
	}
	sess.sock.SetData(sess.identityData())
	return sess, nil
}

// savedIdentity is what a recoverable session keeps of its socket's
// identity (sio.Socket.SetData).
type savedIdentity struct {
	Proven     *Identity `json:"proven,omitempty"`     // by the handshake's token or cookie
	Registered *Identity `json:"registered,omitempty"` // set by register
}

// mayRecover reports whether a reconnect proving p (nil: no proof) may
// take over the session: a proven session needs a proof again (a token or
// the cookie), and any proof presented must name the session's user and
// role.
func (v savedIdentity) mayRecover(p *Identity) bool {
	if v.Proven != nil {
		return p != nil && sameUser(*p, *v.Proven)
	}
	if p != nil && v.Registered != nil {
		return sameUser(*p, *v.Registered)
	}
	return true
}

// sameUser compares identities whatever the way they were shown.
func sameUser(a, b Identity) bool { return a.UserID == b.UserID && a.Role == b.Role }

// identityData is the session's identity as the socket's recovery data
// (nil if it cannot be encoded: the data stored before is kept).
func (s *session) identityData() json.RawMessage {
	s.mu.Lock()
	v := savedIdentity{Proven: s.proven, Registered: s.registered}
	s.mu.Unlock()
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// refuse turns a proof's error into the connect_error the client sees.
func refuse(proof Proof, err error) error {
	expired := errors.Is(err, auth.ErrExpired)
	code, msg := "INVALID_TOKEN", auth.ErrInvalid.Error()
	switch {
	case proof == ProofCookie && expired:
		code, msg = "SESSION_EXPIRED", "Your session has expired. Please sign in again."
	case proof == ProofCookie:
		code, msg = "INVALID_SESSION", "Your session is not valid. Please sign in again."
	case expired:
		code, msg = "TOKEN_EXPIRED", auth.ErrExpired.Error()
	}
	return &sio.ConnectError{Message: "Authentication failed: " + msg, Data: map[string]string{"code": code}, Reason: strings.ToLower(code)}
}

// session is one socket's state.
type session struct {
	h      *Handlers
	sock   *sio.Socket
	log    *slog.Logger
	proven *Identity // from the handshake's proof; nil without one
	ctx    context.Context
	cancel context.CancelFunc

	mu           sync.Mutex
	registered   *Identity
	limiter      bucket
	throttledAt  time.Time
	lastLoc      map[string]time.Time // order id → last accepted report
	disconnected bool
	counted      *Identity // the registration the Observer counts
	outcome      string    // of the event being handled (events run one at a time)
}

func (s *session) OnConnect() {
	proof := ProofNone
	if s.proven != nil {
		proof = s.proven.Proof
	}
	if s.sock.Recovered() {
		// The restored rooms came with the session; count and announce its
		// registration as register would have.
		s.mu.Lock()
		id := s.registered
		if id != nil && !s.disconnected {
			s.countAs(id)
		}
		s.mu.Unlock()
		if id != nil && s.h.deps.Presence != nil {
			s.h.deps.Presence.Registered(s.sock.ID(), id.UserID, id.Role, id.Proof.Proven())
		}
	}
	s.log.Debug("socket connected", "proof", string(proof), "recovered", s.sock.Recovered())
}

func (s *session) OnDisconnect(reason sio.DisconnectReason) {
	s.cancel()
	s.mu.Lock()
	s.disconnected = true
	s.countAs(nil)
	s.mu.Unlock()
	if s.h.deps.Presence != nil && !s.sock.Replaced() {
		s.h.deps.Presence.Unregistered(s.sock.ID())
	}
	s.log.Debug("socket disconnected", "reason", string(reason))
}

// identity is the registered identity, else the proven one, else nil.
func (s *session) identity() *Identity {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.registered != nil {
		return s.registered
	}
	return s.proven
}

// OnEvent dispatches one client event.
func (s *session) OnEvent(e *sio.Event) {
	s.outcome = OutcomeOK
	defer func() { s.h.deps.Observer.ClientEvent(eventLabel(e.Name), s.outcome) }()
	now := s.h.deps.Now()
	if !s.allow(now) {
		s.throttled(e, now)
		s.outcome = OutcomeRateLimited
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
	s.outcome = outcomeOf(kind)
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
