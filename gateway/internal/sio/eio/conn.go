package eio

import (
	"errors"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Handler receives one session's messages. OnMessage calls come one at a
// time in arrival order, on a goroutine that exists only while messages
// are waiting, so a handler may block. OnClose runs once, on a goroutine
// of its own, after the messages received before the close were handled
// (as in Node: a client's "41" then "1" is a namespace disconnect).
type Handler interface {
	OnMessage(data []byte, binary bool)
	OnClose(reason string)
}

// Upgrader is a Handler that wants to know when its session moved from
// polling to websocket (the sio layer counts sessions by transport).
type Upgrader interface {
	OnUpgrade()
}

// Close reasons (Node's names, plus ReasonSlow and ReasonServerClose).
const (
	ReasonTransportClose = "transport close"
	ReasonTransportError = "transport error"
	ReasonPingTimeout    = "ping timeout"
	ReasonParseError     = "parse error"
	ReasonForcedClose    = "forced close"
	ReasonSlow           = "slow consumer"
	ReasonServerClose    = "server shutting down"
)

// Send errors.
var (
	ErrClosed    = errors.New("eio: session is closed")
	ErrQueueFull = errors.New("eio: send queue full, session cut as slow")
)

type connState uint8

const (
	stateOpen connState = iota
	stateClosing
	stateClosed
)

// Conn is one Engine.IO session, over polling, websocket, or polling
// upgraded to websocket. An idle Conn holds no goroutine and no buffer:
// its websocket is watched by the server's pollers, written by its
// writers, and its heartbeat is one runtime timer.
type Conn struct {
	srv *Server
	id  string
	h   Handler

	query      url.Values
	header     http.Header
	remoteAddr string

	mu          sync.Mutex
	state       connState
	dirty       bool // waiting for a writer, or being written
	waitingPong bool
	running     bool          // a goroutine is delivering in
	inboxDone   chan struct{} // closed when that goroutine ends, if OnClose waits for it
	shouldClose bool          // polling: a graceful close waits for the next poll
	posting     bool          // polling: a POST is being read

	q      []*Message
	qBytes int
	in     []inbound

	ws   *wsConn // the websocket transport (nil while polling)
	upg  *wsConn // a websocket probing an upgrade
	poll *pollWaiter

	timer *time.Timer // heartbeat: next ping, or the pong deadline
	due   time.Time
}

type inbound struct {
	data   []byte
	binary bool
}

// pollWaiter is a parked long-polling GET.
type pollWaiter struct {
	kick   chan struct{}
	reply  []byte // a set answer (noop, close), else the queue is written
	status int    // non-zero: answer with this error status
}

// ID returns the session id.
func (c *Conn) ID() string { return c.id }

// Query returns the query of the handshake request.
func (c *Conn) Query() url.Values { return c.query }

// Header returns the headers of the handshake request.
func (c *Conn) Header() http.Header { return c.header }

// RemoteAddr returns the client's address as seen on the handshake.
func (c *Conn) RemoteAddr() string { return c.remoteAddr }

// Transport returns "polling" or "websocket".
func (c *Conn) Transport() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ws != nil {
		return transportWebsocket
	}
	return transportPolling
}

// Send queues messages to be written together, in order. A session whose
// queue would exceed its bounds is cut (ErrQueueFull).
func (c *Conn) Send(msgs ...*Message) error {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return ErrClosed
	}
	size := 0
	for _, m := range msgs {
		size += m.size()
	}
	if len(c.q)+len(msgs) > c.srv.cfg.MaxQueue || c.qBytes+size > c.srv.cfg.MaxQueueBytes {
		c.mu.Unlock()
		c.srv.logger.Warn("engine.io: cutting slow session", "sid", c.id, "queued", len(c.q))
		c.terminate(ReasonSlow, msgClose.Packet())
		return ErrQueueFull
	}
	c.enqueueLocked(msgs...)
	c.mu.Unlock()
	return nil
}

// SendUnbounded is Send without the queue bounds, for a one-off burst the
// client asked for (a recovery replay): cutting it as slow would only have
// it reconnect and ask for the same burst again.
func (c *Conn) SendUnbounded(msgs ...*Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateOpen {
		return ErrClosed
	}
	c.enqueueLocked(msgs...)
	return nil
}

// enqueueLocked queues and wakes the transport's writer.
func (c *Conn) enqueueLocked(msgs ...*Message) {
	c.q = append(c.q, msgs...)
	for _, m := range msgs {
		c.qBytes += m.size()
	}
	c.wakeLocked()
}

func (c *Conn) wakeLocked() {
	switch {
	case c.ws != nil:
		if !c.dirty {
			c.dirty = true
			c.srv.writers.add(c)
		}
	case c.poll != nil:
		c.poll.wake()
	}
}

func (p *pollWaiter) wake() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// Close closes the session once what is queued is written, like Node's
// socket.close(): the client gets a close packet (polling) or a websocket
// close frame, after and apart from the queued packets (socket.io-client
// would handle a close in the same payload before the packets).
func (c *Conn) Close() {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return
	}
	c.state = stateClosing
	switch {
	case c.ws != nil:
		c.wakeLocked() // the writer ends with the close frame
		c.mu.Unlock()
	case c.poll != nil && len(c.q) == 0:
		c.poll.reply = msgClose.Packet()
		c.poll.wake()
		c.mu.Unlock()
		c.terminate(ReasonForcedClose, nil)
	default: // the next poll takes the queue, the one after it the close
		c.shouldClose = true
		c.wakeLocked()
		c.mu.Unlock()
		time.AfterFunc(c.srv.cfg.PingInterval+c.srv.cfg.PingTimeout, func() { c.terminate(ReasonForcedClose, nil) })
	}
}

// terminate ends the session: a parked poll gets pollReply (unless it has
// an answer already), the websocket a close frame, the handler OnClose.
func (c *Conn) terminate(reason string, pollReply []byte) {
	c.mu.Lock()
	if c.state == stateClosed {
		c.mu.Unlock()
		return
	}
	c.state = stateClosed
	if c.timer != nil {
		c.timer.Stop()
	}
	clear(c.q)
	c.q, c.qBytes = nil, 0 // messages received before the close are still delivered
	ws, upg := c.ws, c.upg
	c.upg = nil
	if p := c.poll; p != nil {
		if p.reply == nil && p.status == 0 {
			p.reply = pollReply
		}
		p.wake()
	}
	c.mu.Unlock()
	c.srv.logger.Debug("engine.io: session closed", "sid", c.id, "reason", reason, "websocket", ws != nil)
	c.srv.remove(c)
	if ws != nil {
		ws.shutdown()
	}
	if upg != nil {
		upg.shutdown()
	}
	if c.h != nil {
		c.srv.closers.Go(func() {
			c.waitInbox()
			c.h.OnClose(reason)
		})
	}
}

// waitInbox returns once the messages received so far were handled; on a
// closed session no more arrive.
func (c *Conn) waitInbox() {
	c.mu.Lock()
	if !c.running {
		c.mu.Unlock()
		return
	}
	if c.inboxDone == nil {
		c.inboxDone = make(chan struct{})
	}
	done := c.inboxDone
	c.mu.Unlock()
	<-done
}

// takePayloadLocked encodes the queue as a polling payload.
func (c *Conn) takePayloadLocked() []byte {
	n := 0
	for _, m := range c.q {
		n += len(m.Packet()) + 1
		if m.binary {
			n += len(m.Packet())/3 + 4
		}
	}
	b := make([]byte, 0, n+2)
	for _, m := range c.q {
		b = appendPayloadRecord(b, m)
	}
	clear(c.q)
	c.q, c.qBytes = c.q[:0], 0
	if cap(c.q) > 64 {
		c.q = nil
	}
	return b
}

// onPacket handles a packet from the client's current transport.
func (c *Conn) onPacket(p Packet) {
	switch p.Type {
	case PacketMessage:
		c.deliver(p.Data, p.Binary)
	case PacketPong:
		c.mu.Lock()
		if c.waitingPong && c.state != stateClosed {
			c.waitingPong = false
			c.due = time.Now().Add(c.srv.cfg.PingInterval)
			c.timer.Reset(c.srv.cfg.PingInterval)
		}
		c.mu.Unlock()
	case PacketPing: // the v4 heartbeat goes server → client
		c.terminate(ReasonTransportError, msgClose.Packet())
	case PacketClose:
		c.terminate(ReasonTransportClose, msgNoop.Packet())
	}
}

// deliver hands a message to the handler, in order, on a goroutine that
// lives while messages wait.
func (c *Conn) deliver(data []byte, binary bool) {
	cp := make([]byte, len(data))
	copy(cp, data)
	c.mu.Lock()
	if c.state == stateClosed {
		c.mu.Unlock()
		return
	}
	c.in = append(c.in, inbound{cp, binary})
	if c.running {
		c.mu.Unlock()
		return
	}
	c.running = true
	c.mu.Unlock()
	go c.drainInbox()
}

func (c *Conn) drainInbox() {
	for {
		c.mu.Lock()
		if len(c.in) == 0 {
			c.running = false
			c.in = nil
			if c.inboxDone != nil {
				close(c.inboxDone)
				c.inboxDone = nil
			}
			c.mu.Unlock()
			return
		}
		batch := c.in
		c.in = nil
		c.mu.Unlock()
		for i, m := range batch {
			c.h.OnMessage(m.data, m.binary)
			batch[i] = inbound{}
		}
	}
}

// startHeartbeat arms the first ping.
func (c *Conn) startHeartbeat() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.due = time.Now().Add(c.srv.cfg.PingInterval)
	c.timer = time.AfterFunc(c.srv.cfg.PingInterval, c.onTimer)
}

// pongOverdueLocked reports a pong deadline already passed whose timer
// has not run yet (timers can fire late on a busy machine): a request
// then finds the session timed out, as it would have been on time.
func (c *Conn) pongOverdueLocked() bool {
	return c.waitingPong && !time.Now().Before(c.due)
}

// onTimer sends a ping, or ends the session when the pong is late. A
// Reset racing with a firing timer shows up as an early call: it re-arms.
func (c *Conn) onTimer() {
	c.mu.Lock()
	if c.state == stateClosed {
		c.mu.Unlock()
		return
	}
	now := time.Now()
	if d := c.due.Sub(now); d > time.Millisecond {
		c.timer.Reset(d)
		c.mu.Unlock()
		return
	}
	if c.waitingPong {
		c.mu.Unlock()
		c.terminate(ReasonPingTimeout, msgClose.Packet())
		return
	}
	c.waitingPong = true
	c.due = now.Add(c.srv.cfg.PingTimeout)
	c.timer.Reset(c.srv.cfg.PingTimeout)
	if c.state == stateOpen {
		c.enqueueLocked(msgPing)
	}
	c.mu.Unlock()
}
