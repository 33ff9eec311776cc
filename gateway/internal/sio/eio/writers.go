package eio

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lesismal/nbio"
)

// maxIovecs bounds the buffers of one writev (Linux IOV_MAX is 1024).
const maxIovecs = 512

// writers is the pool of goroutines that write websockets. A session
// with something queued is listed once; a writer takes it and writes
// everything queued in one writev, so under load the frames queued
// between two visits cost one syscall, and the broadcaster never waits
// for a socket.
type writers struct {
	mu      sync.Mutex
	cond    *sync.Cond
	list    []*Conn
	stopped bool
	paused  bool // tests: let sessions accumulate queued frames
	// tests: runs after a writer took a session's frames, before it
	// writes them
	beforeWrite func(*Conn)
	done        sync.WaitGroup
	calls       atomic.Int64 // write and writev calls made
}

func startWriters(n int) *writers {
	w := &writers{}
	w.cond = sync.NewCond(&w.mu)
	w.done.Add(n)
	for range n {
		go w.run()
	}
	return w
}

func (w *writers) add(c *Conn) {
	w.mu.Lock()
	w.list = append(w.list, c)
	first := len(w.list) == 1
	w.mu.Unlock()
	if first { // a writer that takes a share of a longer list wakes the next
		w.cond.Signal()
	}
}

// pause stops or resumes taking sessions off the list.
func (w *writers) pause(on bool) {
	w.mu.Lock()
	w.paused = on
	w.mu.Unlock()
	w.cond.Broadcast()
}

func (w *writers) stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
	w.cond.Broadcast()
	w.done.Wait()
}

func (w *writers) run() {
	defer w.done.Done()
	var batch []*Conn
	var bufs [][]byte
	for {
		w.mu.Lock()
		for (len(w.list) == 0 || w.paused) && !w.stopped {
			w.cond.Wait()
		}
		if w.stopped {
			w.mu.Unlock()
			return
		}
		// Take a share of the list, leaving the rest to other writers.
		n := len(w.list)
		k := min(n, max(64, n/2))
		batch = append(batch[:0], w.list[n-k:]...)
		clear(w.list[n-k:])
		w.list = w.list[:n-k]
		more := len(w.list) > 0
		w.mu.Unlock()
		if more {
			w.cond.Signal()
		}
		for i, c := range batch {
			bufs = c.flush(bufs[:0])
			batch[i] = nil
		}
		clear(bufs)
	}
}

// flush writes everything queued on c's websocket, then its close frame
// when the session is closing. c stays dirty until its queue is empty
// after a write, so no other writer takes it meanwhile: two writers on
// one session could put a later frame on the wire before an earlier one.
func (c *Conn) flush(bufs [][]byte) [][]byte {
	for {
		c.mu.Lock()
		ws := c.ws
		if c.state == stateClosed || ws == nil || !ws.ready.Load() ||
			(len(c.q) == 0 && (c.state != stateClosing || ws.closeSent)) {
			c.dirty = false
			c.mu.Unlock()
			return bufs
		}
		bufs = bufs[:0]
		n := min(len(c.q), maxIovecs)
		for _, m := range c.q[:n] {
			bufs = append(bufs, m.frame)
		}
		rest := copy(c.q, c.q[n:])
		clear(c.q[rest:])
		c.q = c.q[:rest]
		c.qBytes = 0
		for _, m := range c.q {
			c.qBytes += m.size()
		}
		if rest == 0 && cap(c.q) > 64 {
			c.q = nil
		}
		closing := c.state == stateClosing && rest == 0 && !ws.closeSent
		if closing {
			ws.closeSent = true
		}
		c.mu.Unlock()

		if hook := c.srv.writers.beforeWrite; hook != nil {
			hook(c)
		}
		if len(bufs) > 0 {
			c.srv.writers.calls.Add(1)
			var err error
			if len(bufs) == 1 {
				_, err = ws.nc.Write(bufs[0])
			} else {
				_, err = ws.nc.Writev(bufs)
			}
			switch {
			case errors.Is(err, nbio.ErrOverflow):
				c.terminate(ReasonSlow, nil)
				return bufs
			case errors.Is(err, net.ErrClosed):
				return bufs // onNetClose ends the session, with the cause
			case err != nil:
				c.terminate(ReasonTransportError, nil)
				return bufs
			}
		}
		if closing {
			// In a write of its own, like Node's close after "drain".
			c.srv.writers.calls.Add(1)
			_, _ = ws.nc.Write(wsCloseFrame)
			// The client answers with its close frame; if it does not,
			// close anyway.
			time.AfterFunc(wsCloseWait, func() { c.terminate(ReasonForcedClose, nil) })
		}
	}
}
