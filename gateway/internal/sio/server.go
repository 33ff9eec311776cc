package sio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zishang520/socket.io/servers/engine/v3"
	econfig "github.com/zishang520/socket.io/servers/engine/v3/config"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// RoomAll is the room every socket of the main namespace joins on connect,
// so an event for everyone (registered or not) is a broadcast to it.
const RoomAll = "all"

// MainNamespace is the default namespace; Broadcast targets it.
const MainNamespace = "/"

// Config configures a Server. Zero values mean the defaults.
type Config struct {
	PingInterval      time.Duration // default 25s
	PingTimeout       time.Duration // default 20s
	MaxHTTPBufferSize int64         // largest message or polling body, default 1e6
	// CORSOrigins lists the origins allowed by CORS on HTTP long-polling.
	// Empty or containing "*" allows every origin. WebSocket upgrades are
	// accepted from any origin either way, like Node (browsers do not apply
	// CORS to websockets, and React Native sends an Origin of its own).
	CORSOrigins    []string
	ConnectTimeout time.Duration // time to send a CONNECT after the handshake, default 45s
	// MaxQueue is how many packets may wait to be written to one socket;
	// beyond it the socket is cut as slow (it reconnects). Default 1000.
	MaxQueue int
	// Namespaces accepted besides none; default just "/".
	Namespaces []string
	// CloseGrace bounds how long a server disconnect waits for the
	// DISCONNECT packet to be written before closing anyway. Default 2s.
	CloseGrace time.Duration
	// Recovery enables connection state recovery (nil: off, and the
	// CONNECT reply carries no pid).
	Recovery Recovery
	// SIDPrefix starts every Engine.IO session id, so that any replica can
	// tell which one holds a session (gateway/internal/cluster).
	SIDPrefix string
}

func (c *Config) defaults() {
	if c.PingInterval == 0 {
		c.PingInterval = 25 * time.Second
	}
	if c.PingTimeout == 0 {
		c.PingTimeout = 20 * time.Second
	}
	if c.MaxHTTPBufferSize == 0 {
		c.MaxHTTPBufferSize = 1e6
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = 45 * time.Second
	}
	if c.MaxQueue == 0 {
		c.MaxQueue = 1000
	}
	if len(c.Namespaces) == 0 {
		c.Namespaces = []string{MainNamespace}
	}
	if c.CloseGrace == 0 {
		c.CloseGrace = 2 * time.Second
	}
}

func (c *Config) allOrigins() bool {
	if len(c.CORSOrigins) == 0 {
		return true
	}
	for _, o := range c.CORSOrigins {
		if o == "*" {
			return true
		}
	}
	return false
}

// Session is what the application attaches to a connected socket. Its
// methods run on the connection's goroutines: OnConnect and OnEvent one at
// a time in packet order; OnDisconnect may run concurrently with a
// long OnEvent.
type Session interface {
	// OnConnect runs right after the CONNECT reply is queued, before any
	// later packet of this socket is handled.
	OnConnect()
	// OnEvent handles one client event.
	OnEvent(e *Event)
	// OnDisconnect runs once when the socket is gone.
	OnDisconnect(reason DisconnectReason)
}

// ConnectFunc authorizes a socket during its CONNECT and returns its
// session. Returning an error refuses the socket: the client gets
// connect_error with the error's message (and data, for a *ConnectError).
type ConnectFunc func(s *Socket) (Session, error)

// ConnectError refuses a connection with a message and optional data, like
// next(err) with err.data in a Node middleware.
type ConnectError struct {
	Message string
	Data    any
}

func (e *ConnectError) Error() string { return e.Message }

// DisconnectReason says why a socket went away.
type DisconnectReason string

// Disconnect reasons (the Node names where Node has one).
const (
	ReasonTransportClose   DisconnectReason = "transport close"
	ReasonTransportError   DisconnectReason = "transport error"
	ReasonPingTimeout      DisconnectReason = "ping timeout"
	ReasonParseError       DisconnectReason = "parse error"
	ReasonForcedClose      DisconnectReason = "forced close"
	ReasonServerDisconnect DisconnectReason = "server namespace disconnect"
	ReasonClientDisconnect DisconnectReason = "client namespace disconnect"
	ReasonServerShutdown   DisconnectReason = "server shutting down"
	// DisconnectSlow: the socket's write queue overflowed.
	DisconnectSlow DisconnectReason = "slow consumer"
)

// Server is a Socket.IO server. It is safe for concurrent use.
type Server struct {
	cfg       Config
	logger    *slog.Logger
	eng       engine.Server
	onConnect ConnectFunc

	mu   sync.RWMutex
	nsps map[string]*namespace

	closing   atomic.Bool
	closeOnce sync.Once
	tasks     sync.WaitGroup // asynchronous closes
}

// namespace holds the connected sockets of one namespace and their rooms.
// Guarded by Server.mu.
type namespace struct {
	name    string
	sockets map[string]*Socket
	rooms   map[string]map[*Socket]struct{}
}

// New returns a Server that calls onConnect for every socket that connects.
func New(cfg Config, onConnect ConnectFunc, logger *slog.Logger) *Server {
	cfg.defaults()
	s := &Server{cfg: cfg, logger: logger, onConnect: onConnect, nsps: map[string]*namespace{}}
	for _, name := range cfg.Namespaces {
		s.nsps[name] = &namespace{name: name, sockets: map[string]*Socket{}, rooms: map[string]map[*Socket]struct{}{}}
	}

	s.eng = NewEngine(cfg)
	_ = s.eng.On("connection", func(args ...any) {
		if len(args) > 0 {
			if conn, ok := args[0].(engine.Socket); ok {
				s.onEngineConnection(conn)
			}
		}
	})
	return s
}

// NewEngine returns an Engine.IO server configured from cfg (ping
// settings, buffer size, CORS, polling and websocket). Serve it through
// WrapEngine.
func NewEngine(cfg Config) engine.Server {
	cfg.defaults()
	opts := econfig.DefaultServerOptions()
	opts.SetPingInterval(cfg.PingInterval)
	opts.SetPingTimeout(cfg.PingTimeout)
	opts.SetMaxHttpBufferSize(cfg.MaxHTTPBufferSize)
	opts.SetTransports(types.NewSet[transports.TransportCtor](engine.Polling, engine.WebSocket))
	var origin any = "*"
	if !cfg.allOrigins() {
		origin = cfg.CORSOrigins
	}
	opts.SetCors(&types.Cors{Origin: origin, Credentials: true, Methods: []string{http.MethodGet, http.MethodPost}})
	eng := engine.MakeServer()
	if cfg.SIDPrefix != "" {
		// The engine calls GenerateId through its prototype: overriding it
		// there is the library's documented way to customise ids.
		eng.Prototype(&prefixedIDs{Server: eng, prefix: cfg.SIDPrefix})
	}
	eng.Construct(opts)
	return eng
}

// prefixedIDs is an engine whose session ids start with prefix.
type prefixedIDs struct {
	engine.Server
	prefix string
}

func (p *prefixedIDs) GenerateId(*types.HttpContext) string { return p.prefix + newID() }

// Has reports whether the Engine.IO session sid is held by this server.
func (s *Server) Has(sid string) bool {
	_, ok := s.eng.Clients().Load(sid)
	return ok
}

// Drain refuses new sessions, then closes the connected sockets one by one
// spread evenly over window ("server shutting down": clients reconnect,
// through the load balancer, to another replica, and recover there). It
// returns once no socket is left or ctx ends, with how many it closed.
func (s *Server) Drain(ctx context.Context, window time.Duration) int {
	s.closing.Store(true)
	s.mu.RLock()
	var clients []*client
	for _, ns := range s.nsps {
		for _, sock := range ns.sockets {
			clients = append(clients, sock.client)
		}
	}
	s.mu.RUnlock()
	closed := 0
	var gap time.Duration
	if len(clients) > 1 {
		gap = window / time.Duration(len(clients))
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for _, c := range clients {
		select {
		case <-ctx.Done():
			return closed
		case <-t.C:
		}
		c.close(ReasonServerShutdown)
		closed++
		t.Reset(gap)
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for s.SocketCount() > 0 {
		select {
		case <-ctx.Done():
			return closed
		case <-tick.C:
		}
	}
	return closed
}

// WrapEngine returns the HTTP handler of a bare Engine.IO server made by
// NewEngine, with the same fixes as Server.Handler.
func WrapEngine(eng engine.Server, cfg Config) http.Handler {
	cfg.defaults()
	return engineHandler(eng, cfg, new(atomic.Bool))
}

// Engine returns the underlying Engine.IO server (for the conformance
// fixture's bare engine endpoint and for tests).
func (s *Server) Engine() engine.Server { return s.eng }

// Handler returns the http.Handler to mount at /socket.io/.
func (s *Server) Handler() http.Handler {
	return engineHandler(s.eng, s.cfg, &s.closing)
}

// Close disconnects every socket ("server shutting down": clients
// reconnect, possibly to another replica) and stops accepting connections.
func (s *Server) Close() {
	s.closing.Store(true)
	s.closeOnce.Do(func() {
		s.eng.Close()
		s.tasks.Wait()
	})
}

// SocketCount returns the number of connected sockets in the main namespace.
func (s *Server) SocketCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.nsps[MainNamespace].sockets)
}

// Broadcast sends event with payload to every socket of the main namespace
// that is in at least one of rooms and in none of except, once each. The
// payload is JSON-encoded once (nil means no argument). It never blocks on a
// slow socket and returns the number of sockets the event was queued for.
func (s *Server) Broadcast(rooms, except []string, event string, payload any) int {
	return s.BroadcastAt("", rooms, except, event, payload)
}

// targets snapshots the recipients under the read lock; sending happens
// after it is released.
func (s *Server) targets(rooms, except []string) []*Socket {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ns := s.nsps[MainNamespace]
	if ns == nil {
		return nil
	}
	if len(rooms) == 1 && len(except) == 0 {
		members := ns.rooms[rooms[0]]
		out := make([]*Socket, 0, len(members))
		for sock := range members {
			out = append(out, sock)
		}
		return out
	}
	seen := make(map[*Socket]struct{})
	var out []*Socket
	for _, r := range rooms {
		for sock := range ns.rooms[r] {
			if _, dup := seen[sock]; dup {
				continue
			}
			seen[sock] = struct{}{}
			if !inAny(sock, except) {
				out = append(out, sock)
			}
		}
	}
	return out
}

func inAny(sock *Socket, rooms []string) bool {
	for _, r := range rooms {
		if _, ok := sock.rooms[r]; ok {
			return true
		}
	}
	return false
}

// add registers a connected socket with its initial rooms. A recovered
// socket may find its former self still here (the old connection not yet
// timed out): that one leaves every room and is closed.
func (s *Server) add(sock *Socket, rooms ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := sock.nsp.sockets[sock.id]; old != nil && old != sock {
		for r := range old.rooms {
			members := old.nsp.rooms[r]
			delete(members, old)
			if len(members) == 0 {
				delete(old.nsp.rooms, r)
			}
		}
		old.rooms = map[string]struct{}{}
		old.replaced.Store(true)
		s.async(func() { old.client.close(ReasonForcedClose) })
	}
	sock.nsp.sockets[sock.id] = sock
	for _, r := range rooms {
		s.joinLocked(sock, r)
	}
}

// remove unregisters a socket and leaves all its rooms. It reports whether
// the socket was registered.
func (s *Server) remove(sock *Socket) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sock.nsp.sockets[sock.id] != sock {
		return false
	}
	delete(sock.nsp.sockets, sock.id)
	for r := range sock.rooms {
		members := sock.nsp.rooms[r]
		delete(members, sock)
		if len(members) == 0 {
			delete(sock.nsp.rooms, r)
		}
	}
	sock.rooms = nil
	return true
}

func (s *Server) join(sock *Socket, rooms ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sock.nsp.sockets[sock.id] != sock { // already gone: do not leak a room entry
		return
	}
	for _, r := range rooms {
		s.joinLocked(sock, r)
	}
}

func (s *Server) joinLocked(sock *Socket, room string) {
	members := sock.nsp.rooms[room]
	if members == nil {
		members = map[*Socket]struct{}{}
		sock.nsp.rooms[room] = members
	}
	members[sock] = struct{}{}
	sock.rooms[room] = struct{}{}
}

func (s *Server) leave(sock *Socket, rooms ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rooms {
		if _, ok := sock.rooms[r]; !ok {
			continue
		}
		delete(sock.rooms, r)
		members := sock.nsp.rooms[r]
		delete(members, sock)
		if len(members) == 0 {
			delete(sock.nsp.rooms, r)
		}
	}
}

func (s *Server) roomsOf(sock *Socket) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(sock.rooms))
	for r := range sock.rooms {
		out = append(out, r)
	}
	return out
}

// RoomSize returns how many local sockets of the main namespace are in room.
func (s *Server) RoomSize(room string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.nsps[MainNamespace].rooms[room])
}

func (s *Server) namespace(name string) *namespace {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.nsps[name]
}

// async runs f on a goroutine the server waits for in Close.
func (s *Server) async(f func()) {
	s.tasks.Add(1)
	go func() {
		defer s.tasks.Done()
		f()
	}()
}

// errNotConnected is returned by emits on a socket that is gone.
var errNotConnected = errors.New("socket is not connected")

func errReserved(name string) error { return fmt.Errorf("%q is a reserved event name", name) }
