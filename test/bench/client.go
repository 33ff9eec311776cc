package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Roles of the bench's users.
const (
	roleCustomer = iota
	roleAgent
	roleAdmin
)

var roleNames = [...]string{"customer", "delivery", "admin"}

// Id prefixes: a user id is two hex digits naming the role, then its index
// within the role, 24 hex digits in all like a Mongo ObjectId. The fake
// directory decodes them the same way (directory.go).
const (
	prefixCustomer = 0xc1
	prefixAgent    = 0xd1
	prefixAdmin    = 0xa1
	prefixOrder    = 0x0e
)

var rolePrefix = [...]int{prefixCustomer, prefixAgent, prefixAdmin}

func makeID(prefix, idx int) string { return fmt.Sprintf("%02x%022x", prefix, idx) }

// client is one Engine.IO v4 / Socket.IO v5 socket of the load generator.
type client struct {
	idx     int // index in fleet.clients
	role    int
	roleIdx int // index within its role; order k belongs to customer k and agent k
	user    string

	ok   bool        // connected and registered (set by the connecting goroutine before any round)
	live atomic.Bool // still connected
	gone atomic.Bool // closed on purpose by the bench (fleet.retire)
	f    *fleet

	mu sync.Mutex
	ws *wsConn // replaced on a reconnect

	// Owned by the socket's goroutine (connect, then its read loop).
	pid    string // the private session id a CONNECT reply offered for recovery ("" if none)
	offset string // the last offset received (the string an event carries as its last argument)

	lastAll atomic.Int64 // seq of the last broadcast received: broadcasts are published one at a time, so seqs must rise
}

func (c *client) conn() *wsConn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws
}

func (c *client) setConn(ws *wsConn) {
	c.mu.Lock()
	c.ws = ws
	c.mu.Unlock()
}

// fleet is the generator's sockets against one gateway.
type fleet struct {
	addr    string // gateway host:port
	clients []*client
	admins  []*client
	agents  []*client
	custs   []*client

	round   atomic.Pointer[round]
	closing atomic.Bool
	dropped atomic.Int64 // sockets the server closed or broke outside a close
	pids    atomic.Int64 // CONNECT replies that offered recovery (a pid)
	wg      sync.WaitGroup

	// Set during the drain scenario: a socket whose connection ends
	// reconnects there, presenting {pid, offset} like socket.io-client 4.8.
	failover          atomic.Pointer[string]
	recovered         atomic.Int64 // reconnects the server recovered (same pid back)
	notRecovered      atomic.Int64 // reconnects that got a new session
	reconnectFailed   atomic.Int64
	serverDisconnects atomic.Int64 // Socket.IO DISCONNECT from the server: a real client would not reconnect
	lastReconnect     atomic.Int64 // unix ns
}

func newFleet(addr string) *fleet { return &fleet{addr: addr} }

// add appends a socket of role (not yet connected).
func (f *fleet) add(role int) *client {
	c := &client{idx: len(f.clients), role: role, f: f}
	switch role {
	case roleAdmin:
		c.roleIdx = len(f.admins)
		f.admins = append(f.admins, c)
	case roleAgent:
		c.roleIdx = len(f.agents)
		f.agents = append(f.agents, c)
	default:
		c.roleIdx = len(f.custs)
		f.custs = append(f.custs, c)
	}
	c.user = makeID(rolePrefix[role], c.roleIdx)
	f.clients = append(f.clients, c)
	return c
}

// connectAll connects and registers cs with at most conc handshakes in
// flight; it returns how many failed.
func (f *fleet) connectAll(ctx context.Context, cs []*client, conc int) (failed int, firstErr error) {
	var mu sync.Mutex
	sem := make(chan struct{}, max(conc, 1))
	var wg sync.WaitGroup
	for _, c := range cs {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.connect(10 * time.Second)
			<-sem
			if err != nil {
				mu.Lock()
				failed++
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return failed, firstErr
}

// open dials addr, reads the Engine.IO open packet, sends connectPkt (a
// Socket.IO CONNECT) and returns at the CONNECT reply, with the events
// that came before it (Node sends a recovered session's missed events
// first; socket.io-client buffers them). It answers pings meanwhile; a
// CONNECT_ERROR is an error. The read deadline stays set.
func (c *client) open(addr, connectPkt string, timeout time.Duration) (ws *wsConn, reply []byte, early [][]byte, err error) {
	ws, err = dialWS(addr, "/socket.io/?EIO=4&transport=websocket", timeout)
	if err != nil {
		return nil, nil, nil, err
	}
	_ = ws.c.SetReadDeadline(time.Now().Add(timeout))
	fail := func(err error) (*wsConn, []byte, [][]byte, error) { ws.close(); return nil, nil, nil, err }
	msg, err := ws.readText(nil)
	if err != nil || len(msg) == 0 || msg[0] != '0' {
		return fail(fmt.Errorf("open: %q %v", msg, err))
	}
	if err := ws.writeText([]byte(connectPkt)); err != nil {
		return fail(err)
	}
	for {
		msg, err := nextMsg(ws, nil)
		if err != nil {
			return fail(fmt.Errorf("handshake: %w", err))
		}
		switch {
		case bytes.HasPrefix(msg, []byte("44")):
			return fail(fmt.Errorf("connect refused: %s", msg))
		case bytes.HasPrefix(msg, evPrefix):
			early = append(early, msg)
		case bytes.HasPrefix(msg, []byte("40")):
			return ws, msg, early, nil
		}
	}
}

// nextMsg reads the next message that is not a ping; it answers pings.
func nextMsg(ws *wsConn, buf []byte) ([]byte, error) {
	for {
		msg, err := ws.readText(buf)
		if err != nil {
			return nil, err
		}
		if len(msg) != 1 || msg[0] != '2' {
			return msg, nil
		}
		if err := ws.writeText([]byte("3")); err != nil {
			return nil, err
		}
	}
}

// registerMsg is the register event the apps send after every connect.
func (c *client) registerMsg() []byte {
	return []byte(`42["register",{"userId":"` + c.user + `","role":"` + roleNames[c.role] + `"}]`)
}

// connect performs the handshake (open, CONNECT, register → registered)
// and then hands the socket to its read loop.
func (c *client) connect(timeout time.Duration) error {
	ws, reply, _, err := c.open(c.f.addr, "40", timeout)
	if err != nil {
		return err
	}
	fail := func(err error) error { ws.close(); return err }
	c.pid = jsonString(reply, `"pid":"`)
	if c.pid != "" {
		c.f.pids.Add(1)
	}
	if err := ws.writeText(c.registerMsg()); err != nil {
		return fail(err)
	}
	buf := make([]byte, 0, 256)
	for {
		msg, err := nextMsg(ws, buf)
		if err != nil {
			return fail(fmt.Errorf("handshake: %w", err))
		}
		if bytes.HasPrefix(msg, []byte(`42["registered"`)) {
			if !bytes.Contains(msg, []byte(`"success":true`)) {
				return fail(fmt.Errorf("register refused: %s", msg))
			}
			_ = ws.c.SetReadDeadline(time.Time{})
			c.setConn(ws)
			c.ok = true
			c.live.Store(true)
			c.f.wg.Add(1)
			go c.readLoop()
			return nil
		}
	}
}

func (c *client) readLoop() {
	defer c.f.wg.Done()
	buf := make([]byte, 0, 512)
	ws := c.conn()
	for {
		msg, err := ws.readText(buf)
		if err != nil {
			_ = ws.close()
			c.live.Store(false)
			if c.f.closing.Load() || c.gone.Load() {
				return
			}
			if to := c.f.failover.Load(); to != nil && c.pid != "" {
				if ws = c.reconnect(*to); ws != nil {
					continue
				}
				return
			}
			c.f.dropped.Add(1)
			return
		}
		if cap(msg) <= 4096 {
			buf = msg[:0]
		}
		if len(msg) >= 2 && msg[0] == '4' && msg[1] == '1' {
			c.f.serverDisconnects.Add(1)
		}
		c.handle(msg)
	}
}

// reconnect resumes the session on addr after a short random pause (as
// socket.io-client's reconnection delay spreads a crowd), retrying a few
// times. It returns the new connection, or nil when it gave up.
func (c *client) reconnect(addr string) *wsConn {
	time.Sleep(time.Duration(200+rand.IntN(800)) * time.Millisecond)
	for range 5 {
		if c.f.closing.Load() {
			break
		}
		ws, recovered, err := c.resume(addr, 10*time.Second)
		if err == nil {
			c.setConn(ws)
			if c.f.closing.Load() { // closeAll may have missed it
				_ = ws.close()
				return nil
			}
			c.live.Store(true)
			if recovered {
				c.f.recovered.Add(1)
			} else {
				c.f.notRecovered.Add(1)
			}
			c.f.lastReconnect.Store(time.Now().UnixNano())
			return ws
		}
		time.Sleep(time.Duration(500+rand.IntN(1000)) * time.Millisecond)
	}
	c.f.reconnectFailed.Add(1)
	return nil
}

// resume opens a new connection and sends CONNECT with auth {pid, offset};
// the server recovered the session when it answers with the same pid.
// register is sent again, as the apps do on every connect. Events that
// follow the CONNECT reply (the missed ones) are left to the read loop.
func (c *client) resume(addr string, timeout time.Duration) (*wsConn, bool, error) {
	auth := `40{"pid":"` + c.pid + `"`
	if c.offset != "" {
		auth += `,"offset":"` + c.offset + `"`
	}
	ws, reply, early, err := c.open(addr, auth+"}", timeout)
	if err != nil {
		return nil, false, err
	}
	pid := jsonString(reply, `"pid":"`)
	recovered := pid != "" && pid == c.pid
	c.pid = pid
	if err := ws.writeText(c.registerMsg()); err != nil {
		ws.close()
		return nil, false, err
	}
	_ = ws.c.SetReadDeadline(time.Time{})
	for _, m := range early {
		c.handle(m)
	}
	return ws, recovered, nil
}

var (
	evPrefix  = []byte(`42["`)
	ackPrefix = []byte(`43`)
	seqMarker = []byte(`~`)
	accuracy  = []byte(`"accuracy":`)
)

// handle answers pings and accounts events; it parses only what it needs.
func (c *client) handle(msg []byte) {
	if len(msg) == 1 && msg[0] == '2' {
		_ = c.conn().writeText([]byte("3"))
		return
	}
	if bytes.HasPrefix(msg, ackPrefix) {
		c.handleAck(msg[len(ackPrefix):])
		return
	}
	if !bytes.HasPrefix(msg, evPrefix) {
		return
	}
	rest := msg[len(evPrefix):]
	end := bytes.IndexByte(rest, '"')
	if end < 0 {
		return
	}
	name := string(rest[:end])
	if c.pid != "" {
		c.trackOffset(msg)
	}
	r := c.f.round.Load()
	if r == nil {
		return
	}
	now := time.Now()
	var seq int64
	switch name {
	case "business:status:update", "order:status:update", "order:status:changed", "notification:new":
		seq = markerSeq(rest[end:])
	case "delivery:location:update":
		seq = numberAfter(rest[end:], accuracy)
	case "error":
		r.refused.Add(1)
		return
	case "registered", "pong":
		return
	default:
		seq = -1 // an event the bench never causes: misrouted
	}
	r.deliver(c, name, seq, now)
}

// trackOffset keeps the last argument of an event when it is a string:
// with recovery on, that is the event's offset (socket.io-client does the
// same to fill auth.offset on its next connect).
func (c *client) trackOffset(msg []byte) {
	if !bytes.HasSuffix(msg, []byte(`"]`)) {
		return
	}
	body := msg[:len(msg)-2]
	i := bytes.LastIndex(body, []byte(`,"`))
	if i < 0 || bytes.IndexByte(body[i+2:], '"') >= 0 {
		return
	}
	c.offset = string(body[i+2:])
}

// handleAck accounts the ack of a location report (its ack id is its
// seq): a refused report is taken out of what the round expects.
func (c *client) handleAck(b []byte) {
	j := 0
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	seq, err := strconv.ParseInt(string(b[:j]), 10, 64)
	r := c.f.round.Load()
	if err != nil || r == nil {
		return
	}
	if bytes.Contains(b[j:], []byte(`"success":true`)) {
		r.acked.Add(1)
		return
	}
	r.refuse(c.f, seq)
}

// markerSeq finds ~<digits>~ (the bench's marker in a message text).
func markerSeq(b []byte) int64 {
	for {
		i := bytes.Index(b, seqMarker)
		if i < 0 {
			return -1
		}
		b = b[i+1:]
		j := bytes.IndexByte(b, '~')
		if j > 0 {
			if n, err := strconv.ParseInt(string(b[:j]), 10, 64); err == nil {
				return n
			}
		}
	}
}

func numberAfter(b, key []byte) int64 {
	i := bytes.Index(b, key)
	if i < 0 {
		return -1
	}
	b = b[i+len(key):]
	j := 0
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	n, err := strconv.ParseInt(string(b[:j]), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// jsonString returns the string value after key (`"pid":"`), unescaped
// naively (ids hold no escapes).
func jsonString(b []byte, key string) string {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return ""
	}
	b = b[i+len(key):]
	j := bytes.IndexByte(b, '"')
	if j < 0 {
		return ""
	}
	return string(b[:j])
}

// emit sends a Socket.IO event from c.
func (c *client) emit(payload []byte) error {
	if !c.live.Load() {
		return errors.New("socket not connected")
	}
	return c.conn().writeText(payload)
}

// live counts connected sockets.
func (f *fleet) liveCount() int {
	n := 0
	for _, c := range f.clients {
		if c.live.Load() {
			n++
		}
	}
	return n
}

// retire closes cs on purpose: they no longer count anywhere.
func (f *fleet) retire(cs []*client) {
	for _, c := range cs {
		c.gone.Store(true)
		if ws := c.conn(); ws != nil {
			_ = ws.close()
		}
	}
	for _, c := range cs {
		for c.live.Load() {
			time.Sleep(time.Millisecond)
		}
	}
}

// closeAll closes every socket and waits for the read loops.
func (f *fleet) closeAll() {
	f.closing.Store(true)
	for _, c := range f.clients {
		if ws := c.conn(); ws != nil {
			_ = ws.close()
		}
	}
	f.wg.Wait()
}
