package eio

import (
	"io"
	"net/http"
	"strconv"
	"time"
)

// upgradeNoopDelay is how long a poll parked during an upgrade probe
// waits before it gets a noop (Node checks every 100ms). Meanwhile a
// completed upgrade answers it 400, as Node answers a poll that arrives
// after the upgrade packet.
const upgradeNoopDelay = 100 * time.Millisecond

// closeSettle bounds how long a POST carrying a close packet waits for
// the session's GET to be parked, so that GET gets its noop: net/http may
// serve the two requests of a client in either order, where Node serves
// them in arrival order.
const closeSettle = 100 * time.Millisecond

// servePoll answers a long-polling GET with what is queued, waiting for
// something to be queued when nothing is.
func (c *Conn) servePoll(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.poll != nil { // Node: "overlap from client"
		c.mu.Unlock()
		c.terminate(ReasonTransportError, msgClose.Packet())
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if c.state == stateClosed || c.ws != nil {
		c.mu.Unlock()
		abortRequest(w, errBadRequest)
		return
	}
	if c.pongOverdueLocked() {
		c.mu.Unlock()
		c.terminate(ReasonPingTimeout, nil)
		abortRequest(w, errUnknownSID)
		return
	}
	if len(c.q) > 0 || c.shouldClose {
		c.answerLocked(w)
		return
	}
	p := &pollWaiter{kick: make(chan struct{}, 1)}
	c.poll = p
	if c.upg != nil && c.upg.probed {
		c.armUpgradeNoopLocked(p)
	}
	c.mu.Unlock()

	select {
	case <-p.kick:
	case <-r.Context().Done(): // Node: "poll connection closed prematurely"
		c.mu.Lock()
		if c.poll == p {
			c.poll = nil
		}
		c.mu.Unlock()
		c.terminate(ReasonTransportError, nil)
		return
	}
	c.mu.Lock()
	if c.poll == p {
		c.poll = nil
	}
	switch {
	case p.status != 0:
		c.mu.Unlock()
		abortRequest(w, errBadRequest)
	case p.reply != nil:
		c.mu.Unlock()
		writePayload(w, p.reply)
	case len(c.q) > 0 || c.shouldClose:
		c.answerLocked(w)
	default:
		c.mu.Unlock()
		writePayload(w, msgNoop.Packet())
	}
}

// answerLocked answers a poll with the queue, or with the close packet of
// a graceful close once the queue is empty; it unlocks c.mu.
func (c *Conn) answerLocked(w http.ResponseWriter) {
	if len(c.q) > 0 {
		body := c.takePayloadLocked()
		c.mu.Unlock()
		writePayload(w, body)
		return
	}
	c.mu.Unlock()
	writePayload(w, msgClose.Packet())
	c.terminate(ReasonForcedClose, nil)
}

// armUpgradeNoopLocked answers parked poll p with a noop after a while,
// so the client can finish pausing its polling and send the upgrade packet.
func (c *Conn) armUpgradeNoopLocked(p *pollWaiter) {
	time.AfterFunc(upgradeNoopDelay, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.poll == p && p.reply == nil && p.status == 0 && c.ws == nil {
			p.reply = msgNoop.Packet()
			p.wake()
		}
	})
}

func writePayload(w http.ResponseWriter, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// servePost reads the packets a client posts.
func (c *Conn) servePost(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Content-Type") == "application/octet-stream" { // binary payloads are EIO3 only
		c.terminate(ReasonTransportError, msgClose.Packet())
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	if c.posting { // Node: "data request overlap from client"
		c.mu.Unlock()
		c.terminate(ReasonTransportError, msgClose.Packet())
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	c.posting = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.posting = false
		c.mu.Unlock()
	}()

	limit := c.srv.cfg.MaxPayload
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		c.terminate(ReasonTransportError, msgClose.Packet())
		abortRequest(w, errBadRequest)
		return
	}
	if int64(len(body)) > limit {
		c.terminate(ReasonTransportError, msgClose.Packet())
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		_, _ = io.WriteString(w, `{"code":3,"message":"Bad request"}`)
		return
	}
	packets, derr := DecodePayload(body)
	for _, p := range packets {
		if p.Type == PacketClose {
			c.settleClose(r)
			c.onPacket(p)
			writeOK(w)
			return
		}
		c.onPacket(p)
	}
	if derr != nil {
		c.terminate(ReasonParseError, msgClose.Packet())
		abortRequest(w, errBadRequest)
		return
	}
	writeOK(w)
}

// settleClose waits (briefly) for the session's poll to be parked.
func (c *Conn) settleClose(r *http.Request) {
	deadline := time.Now().Add(closeSettle)
	for time.Now().Before(deadline) && r.Context().Err() == nil {
		c.mu.Lock()
		ready := c.poll != nil || c.ws != nil || c.state == stateClosed
		c.mu.Unlock()
		if ready {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func writeOK(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", "2")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "ok")
}
