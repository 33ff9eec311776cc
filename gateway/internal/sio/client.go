package sio

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/friendspizzahut/platform/gateway/internal/sio/eio"
)

// client is one Engine.IO connection and the namespace sockets on it.
type client struct {
	srv  *Server
	conn engineConn

	// Captured during the Engine.IO handshake, while the request is live.
	query      url.Values
	header     http.Header
	remoteAddr string

	// mu serializes packet handling: packets are decoded and dispatched one
	// at a time, in order, whatever goroutine the engine delivers them on.
	mu      sync.Mutex
	pending *Packet // a binary packet waiting for attachments

	// nspMu guards sockets; it is never held while calling out.
	nspMu     sync.Mutex
	sockets   map[string]*Socket
	connected bool // a namespace has connected at least once
	closed    bool

	connectTimer *time.Timer
	closeReason  atomic.Pointer[DisconnectReason] // overrides the engine's reason
	transport    string                           // as counted by the Observer; guarded by nspMu
}

// onEngineConnection makes the client of a new Engine.IO session; the
// engine delivers the session's messages and close to it.
func (s *Server) onEngineConnection(conn *eio.Conn) eio.Handler { return s.newClient(conn) }

func (s *Server) newClient(conn engineConn) *client {
	c := &client{srv: s, conn: conn, sockets: map[string]*Socket{}}
	// The engine keeps the handshake's query and headers for the session.
	c.query = conn.Query()
	c.header = conn.Header()
	c.remoteAddr = conn.RemoteAddr()
	c.transport = conn.Transport()
	s.cfg.Observer.ConnOpened(c.transport)
	// Like Node: a connection that joins no namespace in time is closed.
	c.connectTimer = time.AfterFunc(s.cfg.ConnectTimeout, func() {
		c.nspMu.Lock()
		idle := !c.connected && !c.closed
		c.nspMu.Unlock()
		if idle {
			c.conn.Close()
		}
	})
	return c
}

// OnMessage implements eio.Handler.
func (c *client) OnMessage(data []byte, binary bool) { c.onData(data, binary) }

// OnClose implements eio.Handler.
func (c *client) OnClose(reason string) { c.onClose(DisconnectReason(reason)) }

// onData handles one Engine.IO message: a packet, or one attachment of a
// binary packet. Any protocol violation closes the connection, like Node.
func (c *client) onData(data []byte, binary bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	if !binary {
		err = c.onText(string(data))
	} else {
		err = c.onBinary(data) // the engine hands over a copy
	}
	if err != nil {
		c.srv.logger.Debug("socket.io: closing connection on invalid packet", "engine_id", c.conn.ID(), "err", err)
		c.close(ReasonParseError)
	}
}

func (c *client) onText(s string) error {
	if c.pending != nil {
		return invalid("got text while reconstructing a binary packet")
	}
	p, err := DecodePacket(s)
	if err != nil {
		return err
	}
	if p.Pending() > 0 {
		c.pending = &p
		return nil
	}
	return c.dispatch(&p)
}

func (c *client) onBinary(b []byte) error {
	if c.pending == nil {
		return invalid("got binary data when not reconstructing a packet")
	}
	if err := c.pending.AddAttachment(b); err != nil {
		return err
	}
	if c.pending.Pending() > 0 {
		return nil
	}
	p := c.pending
	c.pending = nil
	return c.dispatch(p)
}

func (c *client) dispatch(p *Packet) error {
	c.nspMu.Lock()
	sock := c.sockets[p.Nsp]
	closed := c.closed
	c.nspMu.Unlock()
	if closed {
		return nil
	}
	switch {
	case sock == nil && p.Type == PacketConnect:
		c.connect(p)
		return nil
	case sock != nil && p.Type != PacketConnect && p.Type != PacketConnectError:
		sock.onPacket(p)
		return nil
	}
	return invalid("packet type %d in the wrong state for namespace %q", p.Type, p.Nsp)
}

// connect runs the connect hook, then registers the socket and queues the
// CONNECT reply while holding the socket's write lock, so nothing (not even
// a concurrent broadcast) can reach the client before the reply, and no
// later packet of the client can find the socket missing.
func (c *client) connect(p *Packet) {
	ns := c.srv.namespace(p.Nsp)
	if ns == nil {
		c.srv.cfg.Observer.SocketRefused("invalid_namespace")
		c.write(encodeObject(PacketConnectError, p.Nsp, noID, json.RawMessage(`{"message":"Invalid namespace"}`)))
		return
	}
	if c.srv.closing.Load() {
		return
	}
	auth := p.Data
	if auth == nil {
		auth = json.RawMessage("{}")
	}
	sock := newSocket(c, ns, Handshake{
		Namespace:  p.Nsp,
		Auth:       auth,
		Query:      c.query,
		Header:     c.header,
		RemoteAddr: c.remoteAddr,
		Time:       time.Now(),
	})
	rec := c.srv.cfg.Recovery
	if rec != nil && ns.name == MainNamespace {
		sock.pid = newID() + newID() // 240 random bits
		if pid, offset := recoveryAuth(auth); pid != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			saved, ok := rec.Find(ctx, pid, offset)
			cancel()
			if ok {
				sock.id, sock.pid, sock.restored, sock.data = saved.SID, saved.PID, &saved, saved.Data
			}
		}
	}
	session, err := c.srv.onConnect(sock)
	if err != nil {
		c.srv.cfg.Observer.SocketRefused(refusalReason(err))
		c.write(encodeObject(PacketConnectError, p.Nsp, noID, connectErrorPayload(err)))
		return
	}
	sock.session = session

	c.nspMu.Lock()
	if c.closed {
		c.nspMu.Unlock()
		return
	}
	c.sockets[p.Nsp] = sock
	c.connected = true
	c.nspMu.Unlock()
	c.connectTimer.Stop()

	// Registering the socket and queueing the reply happen between two
	// delivered events, so the replay of a recovered socket ends exactly
	// where its live events start.
	var upTo string
	attach := func(offset string) {
		upTo = offset
		sock.writeMu.Lock()
		defer sock.writeMu.Unlock()
		initial := []string{}
		if ns.name == MainNamespace {
			initial = append(initial, RoomAll)
		}
		sock.since = offset
		if sock.restored != nil {
			initial = append(initial, sock.restored.Rooms...)
			sock.since = sock.restored.Offset
			sock.holding, sock.skipTo = true, sock.restored.Offset
		}
		c.srv.add(sock, initial...)
		reply, _ := json.Marshal(struct {
			SID string `json:"sid"`
			PID string `json:"pid,omitempty"`
		}{sock.id, sock.pid})
		sock.sendLocked(eio.TextMessage(encodeObject(PacketConnect, p.Nsp, noID, reply)))
	}
	if rec != nil && sock.pid != "" {
		rec.Sync(attach)
		sock.tracked.Store(true)
		sock.saveState()
	} else {
		attach("")
	}
	c.srv.cfg.Observer.SocketConnected()

	session.OnConnect()
	if sock.restored != nil {
		sock.resume(upTo)
	}
}

func connectErrorPayload(err error) json.RawMessage {
	body := struct {
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
	}{Message: err.Error()}
	if ce, ok := err.(*ConnectError); ok {
		body.Data = ce.Data
	}
	b, mErr := json.Marshal(body)
	if mErr != nil {
		b, _ = json.Marshal(struct {
			Message string `json:"message"`
		}{err.Error()})
	}
	return b
}

// write queues one raw engine message outside any socket (CONNECT_ERROR).
func (c *client) write(b []byte) { _ = c.conn.Send(eio.TextMessage(b)) }

// removeSocket forgets a namespace socket; once none is left after a
// server disconnect the connection itself is closed.
func (c *client) removeSocket(sock *Socket) (empty bool) {
	c.nspMu.Lock()
	defer c.nspMu.Unlock()
	if c.sockets[sock.hs.Namespace] == sock {
		delete(c.sockets, sock.hs.Namespace)
	}
	return len(c.sockets) == 0
}

// close closes the Engine.IO connection once what is queued is written,
// like Node's client.close(); reason is reported to sessions.
func (c *client) close(reason DisconnectReason) {
	c.closeReason.CompareAndSwap(nil, &reason)
	c.conn.Close()
}

// OnUpgrade is told by the engine that the session moved to websocket
// (eio.Upgrader).
func (c *client) OnUpgrade() { c.upgraded(c.conn.Transport()) }

// upgraded moves the connection's count to its new transport.
func (c *client) upgraded(to string) {
	c.nspMu.Lock()
	defer c.nspMu.Unlock()
	if c.closed || c.transport == to {
		return
	}
	c.srv.cfg.Observer.ConnUpgraded(c.transport, to)
	c.transport = to
}

// onClose runs once when the Engine.IO connection is gone.
func (c *client) onClose(engineReason DisconnectReason) {
	c.connectTimer.Stop()
	reason := engineReason
	if r := c.closeReason.Load(); r != nil {
		reason = *r
	}
	if c.srv.closing.Load() {
		reason = ReasonServerShutdown
	}
	if reason == DisconnectSlow {
		// Once per connection, whichever bound cut it: the queue's (Send)
		// or the network buffer's (a client that stopped reading).
		c.srv.cfg.Observer.SlowSocketCut()
	}
	c.nspMu.Lock()
	c.closed = true
	c.srv.cfg.Observer.ConnClosed(c.transport)
	socks := make([]*Socket, 0, len(c.sockets))
	for _, s := range c.sockets {
		socks = append(socks, s)
	}
	clear(c.sockets)
	c.nspMu.Unlock()
	for _, s := range socks {
		s.onClose(reason)
	}
}
