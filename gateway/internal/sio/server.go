package sio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/friendspizzahut/platform/gateway/internal/sio/eio"
	"github.com/friendspizzahut/platform/gateway/internal/tasks"
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
	// MaxQueue is how many packets may wait to be written to one
	// connection; beyond it (or beyond MaxQueueBytes) the connection is
	// cut as slow (it reconnects). Default 1000.
	MaxQueue int
	// MaxQueueBytes bounds the bytes waiting to be written to one
	// connection, default 4 MiB.
	MaxQueueBytes int
	// SIDPrefix starts every Engine.IO session id of this server so that
	// a replica can tell which replica owns a sid (see eio.Config). Our
	// engine only.
	SIDPrefix string
	// Engine selects the Engine.IO server: EngineOurs (default) or
	// EngineZishang.
	Engine string
	// Namespaces accepted besides none; default just "/".
	Namespaces []string
	// CloseGrace bounds how long a server disconnect waits for the
	// DISCONNECT to be written on EngineZishang (default 2s); our engine
	// closes only after what was queued before the close is written.
	CloseGrace time.Duration
	// Observer is told about connections, sockets and queues (metrics).
	Observer Observer
	// Recovery enables connection state recovery (nil: off, and the
	// CONNECT reply carries no pid).
	Recovery Recovery
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
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
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
	// Reason is the refusal's metrics label, from a fixed set (never sent).
	Reason string
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
	eng       engineServer
	onConnect ConnectFunc

	mu   sync.RWMutex
	nsps map[string]*namespace

	closing   atomic.Bool
	closeOnce sync.Once
	tasks     tasks.Group // asynchronous closes
}

// namespace holds the connected sockets of one namespace and their rooms.
// Guarded by Server.mu.
type namespace struct {
	name    string
	sockets map[string]*Socket
	rooms   map[string]map[*Socket]struct{}
}

// New returns a Server that calls onConnect for every socket that
// connects. It panics on a SIDPrefix that eio.ValidateSIDPrefix refuses
// (check configuration first).
func New(cfg Config, onConnect ConnectFunc, logger *slog.Logger) *Server {
	cfg.defaults()
	s := &Server{cfg: cfg, logger: logger, onConnect: onConnect, nsps: map[string]*namespace{}}
	for _, name := range cfg.Namespaces {
		s.nsps[name] = &namespace{name: name, sockets: map[string]*Socket{}, rooms: map[string]map[*Socket]struct{}{}}
	}
	if cfg.Engine == EngineZishang {
		s.eng = newZishangEngine(s)
		return s
	}
	eng, err := eio.NewServer(EngineConfig(cfg), s.onEngineConnection, logger)
	if err != nil {
		panic("sio: " + err.Error())
	}
	s.eng = eng
	return s
}

// The Engine.IO servers Config.Engine selects.
const (
	EngineOurs    = "eio"     // ours, gateway/internal/sio/eio: the default
	EngineZishang = "zishang" // zishang520's servers/engine/v3, for comparison
)

// engineConn is what the Socket.IO layer needs of an Engine.IO session.
type engineConn interface {
	ID() string
	Query() url.Values
	Header() http.Header
	RemoteAddr() string
	// Transport is "polling" or "websocket".
	Transport() string
	// Send queues messages together; an error means the session is gone
	// or was just cut as slow.
	Send(msgs ...*eio.Message) error
	// SendUnbounded is Send past the queue bounds, for a one-off burst
	// the client asked for (a recovery replay).
	SendUnbounded(msgs ...*eio.Message) error
	// Close closes the session after what is queued is written.
	Close()
}

// engineServer is an Engine.IO server serving its endpoint.
type engineServer interface {
	http.Handler
	Has(sid string) bool
	// Refuse answers new handshakes 503 from now on (a drain); the
	// sessions it holds keep being served.
	Refuse()
	Close()
}

// EngineConfig returns the Engine.IO settings that cfg implies.
func EngineConfig(cfg Config) eio.Config {
	cfg.defaults()
	return eio.Config{
		PingInterval:  cfg.PingInterval,
		PingTimeout:   cfg.PingTimeout,
		MaxPayload:    cfg.MaxHTTPBufferSize,
		CORSOrigins:   cfg.CORSOrigins,
		SIDPrefix:     cfg.SIDPrefix,
		MaxQueue:      cfg.MaxQueue,
		MaxQueueBytes: cfg.MaxQueueBytes,
	}
}

// Handler returns the http.Handler to mount at /socket.io/.
func (s *Server) Handler() http.Handler { return s.eng }

// Has reports whether the Engine.IO session sid is held by this server.
func (s *Server) Has(sid string) bool { return s.eng.Has(sid) }

// Drain refuses new sessions, then closes the connected sockets one by one
// spread evenly over window ("server shutting down": clients reconnect,
// through the load balancer, to another replica, and recover there). It
// returns once no socket is left or ctx ends, with how many it closed.
func (s *Server) Drain(ctx context.Context, window time.Duration) int {
	s.closing.Store(true)
	s.eng.Refuse()
	s.mu.RLock()
	var clients []*client
	seen := map[*client]bool{} // a client may have sockets in several namespaces
	for _, ns := range s.nsps {
		for _, sock := range ns.sockets {
			if !seen[sock.client] {
				seen[sock.client] = true
				clients = append(clients, sock.client)
			}
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
func (s *Server) async(f func()) { s.tasks.Go(f) }

// errNotConnected is returned by emits on a socket that is gone.
var errNotConnected = errors.New("socket is not connected")

func errReserved(name string) error { return fmt.Errorf("%q is a reserved event name", name) }
