package eio

import (
	"errors"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/lesismal/nbio"
)

// wsCloseWait bounds how long a closing websocket waits for the client's
// close frame after sending its own.
const wsCloseWait = 2 * time.Second

// wsConn is one websocket: the session's transport, or a websocket
// probing an upgrade. Its reader is used on its poller goroutine only.
type wsConn struct {
	c     *Conn
	nc    *nbio.Conn
	ready atomic.Bool // nc is with the pollers: it may be written
	// handed is set right before nc goes to the pollers; their callbacks
	// load it first, which orders our setup before them (the epoll
	// registration does too, but the race detector cannot see that).
	handed atomic.Bool
	r      wsReader

	// guarded by c.mu
	probed       bool
	closeSent    bool
	upgradeTimer *time.Timer
}

// serveWebsocket completes the websocket handshake, hands the connection
// to the pollers (net/http's goroutine and buffers are released) and
// starts a session (c == nil) or probes the upgrade of session c.
func (s *Server) serveWebsocket(w http.ResponseWriter, r *http.Request, q url.Values, c *Conn) {
	key := r.Header.Get("Sec-WebSocket-Key")
	if r.Header.Get("Sec-WebSocket-Version") != "13" || !validKey(key) {
		s.abort(w, true, errBadRequest)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		s.abort(w, true, errBadRequest)
		return
	}
	netConn, brw, err := hj.Hijack()
	if err != nil {
		s.logger.Debug("engine.io: hijack", "err", err)
		return
	}
	var early []byte // frames sent before our 101 reached the client
	if n := brw.Reader.Buffered(); n > 0 {
		early, _ = brw.Reader.Peek(n)
		early = append([]byte(nil), early...)
	}
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptKey(key) + "\r\n\r\n"
	if _, err := netConn.Write([]byte(resp)); err != nil {
		_ = netConn.Close()
		return
	}
	ws := &wsConn{}
	if len(early) > 0 {
		ws.r.partial = early
	}
	if c != nil {
		c.mu.Lock()
		if c.state != stateOpen || c.ws != nil || c.upg != nil {
			c.mu.Unlock()
			// Node: an upgrade of an upgraded, upgrading or closed
			// session gets its websocket closed.
			_, _ = netConn.Write(wsCloseFrame)
			_ = netConn.Close()
			return
		}
		ws.c = c
		c.upg = ws
		c.mu.Unlock()
	}
	nc, err := nbio.NBConn(netConn)
	if err != nil {
		_ = netConn.Close()
		s.logger.Warn("engine.io: websocket to poller", "err", err)
		if c != nil {
			c.mu.Lock()
			if c.upg == ws {
				c.upg = nil
			}
			c.mu.Unlock()
		}
		return
	}
	nc.SetSession(ws)
	if c == nil {
		ws.nc = nc
		c = s.newConn(r, q, ws)
	} else {
		c.mu.Lock()
		ws.nc = nc
		ws.upgradeTimer = time.AfterFunc(s.cfg.UpgradeTimeout, func() { c.abortUpgrade(ws) })
		c.mu.Unlock()
	}
	ws.handed.Store(true)
	if _, err := s.nb.AddConn(nc); err != nil {
		s.logger.Warn("engine.io: websocket to poller", "err", err)
		_ = nc.Close()
		onNetClose(nc, err)
		return
	}
	// Writing needs the poller: only now may the open packet go out, and
	// a close that came meanwhile be done.
	ws.ready.Store(true)
	c.mu.Lock()
	if c.state == stateClosed || ws.closeSent || (c.ws != ws && c.upg != ws) {
		c.mu.Unlock()
		_, _ = nc.Write(wsCloseFrame)
		_ = nc.Close()
		return
	}
	if c.ws == ws && len(c.q) > 0 {
		c.wakeLocked()
	}
	c.mu.Unlock()
}

func onNetData(nc *nbio.Conn, data []byte) {
	ws, ok := nc.Session().(*wsConn)
	if !ok || !ws.handed.Load() || ws.c == nil {
		_ = nc.Close()
		return
	}
	if err := ws.r.feed(data, ws.c.srv.cfg.MaxPayload, ws.onFrame); err != nil {
		ws.c.onWSError(ws, err)
	}
}

func onNetClose(nc *nbio.Conn, err error) {
	ws, ok := nc.Session().(*wsConn)
	if !ok || !ws.handed.Load() || ws.c == nil {
		return
	}
	c := ws.c
	c.mu.Lock()
	current, probing := c.ws == ws, c.upg == ws
	if probing {
		c.upg = nil
		stopTimer(ws.upgradeTimer)
	}
	c.mu.Unlock()
	if current {
		reason := ReasonTransportClose
		if errors.Is(err, nbio.ErrOverflow) {
			reason = ReasonSlow
		}
		c.terminate(reason, nil)
	}
}

func stopTimer(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}

// onWSError ends the session on a protocol violation of its websocket.
func (c *Conn) onWSError(ws *wsConn, err error) {
	c.mu.Lock()
	current := c.ws == ws
	c.mu.Unlock()
	if !current {
		c.abortUpgrade(ws)
		return
	}
	c.terminate(ReasonTransportError, nil)
}

// onFrame handles one websocket message or control frame.
func (ws *wsConn) onFrame(op byte, payload []byte) error {
	c := ws.c
	switch op {
	case opPing:
		pong := appendFrameHeader(make([]byte, 0, 2+len(payload)), opPong, len(payload))
		_, _ = ws.nc.Write(append(pong, payload...))
		return nil
	case opPong:
		return nil
	case opClose:
		c.mu.Lock()
		sent := ws.closeSent
		ws.closeSent = true
		current := c.ws == ws
		c.mu.Unlock()
		if !sent {
			_, _ = ws.nc.Write(wsCloseFrame)
		}
		_ = ws.nc.Close()
		if current {
			reason := ReasonTransportClose
			if sent {
				reason = ReasonForcedClose
			}
			c.terminate(reason, nil)
		}
		return nil
	}
	var p Packet
	if op == opBinary {
		p = Packet{Type: PacketMessage, Data: payload, Binary: true}
	} else {
		var err error
		if p, err = DecodePacket(payload); err != nil {
			c.mu.Lock()
			current := c.ws == ws
			c.mu.Unlock()
			if current {
				c.terminate(ReasonParseError, nil)
			} else {
				c.abortUpgrade(ws)
			}
			return nil
		}
	}
	c.mu.Lock()
	switch {
	case c.ws == ws:
		c.mu.Unlock()
		c.onPacket(p)
	case c.upg == ws:
		c.mu.Unlock()
		c.onUpgradePacket(ws, p)
	default:
		c.mu.Unlock()
	}
	return nil
}

// onUpgradePacket runs Node's _maybeUpgrade: a probe ping is answered on
// the new websocket, the upgrade packet switches transports, anything
// else abandons the upgrade.
func (c *Conn) onUpgradePacket(ws *wsConn, p Packet) {
	switch {
	case p.Type == PacketPing && string(p.Data) == "probe":
		_, _ = ws.nc.Write(msgPongProbe.frame)
		c.mu.Lock()
		ws.probed = true
		if c.poll != nil && c.upg == ws {
			c.armUpgradeNoopLocked(c.poll)
		}
		c.mu.Unlock()
	case p.Type == PacketUpgrade:
		c.mu.Lock()
		if c.upg != ws || c.state == stateClosed {
			c.mu.Unlock()
			return
		}
		stopTimer(ws.upgradeTimer)
		c.upg = nil
		c.ws = ws
		if p := c.poll; p != nil { // a poll that came after the upgrade packet
			p.status = http.StatusBadRequest
			p.wake()
		}
		closing := c.state == stateClosing || c.shouldClose
		if closing {
			c.state = stateClosing
		}
		if len(c.q) > 0 || closing {
			c.wakeLocked()
		}
		c.mu.Unlock()
		if u, ok := c.h.(Upgrader); ok {
			u.OnUpgrade()
		}
	default:
		c.abortUpgrade(ws)
	}
}

// abortUpgrade closes a websocket that was probing an upgrade.
func (c *Conn) abortUpgrade(ws *wsConn) {
	c.mu.Lock()
	if c.upg != ws {
		c.mu.Unlock()
		return
	}
	c.upg = nil
	stopTimer(ws.upgradeTimer)
	c.mu.Unlock()
	ws.shutdown()
}

// shutdown sends a close frame if none was sent and closes the socket.
func (ws *wsConn) shutdown() {
	ws.c.mu.Lock()
	sent, nc := ws.closeSent, ws.nc
	ws.closeSent = true
	ws.c.mu.Unlock()
	if !ws.ready.Load() {
		return // not with the pollers yet: serveWebsocket closes it
	}
	if !sent {
		_, _ = nc.Write(wsCloseFrame)
	}
	_ = nc.Close()
}
