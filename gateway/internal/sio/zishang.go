package sio

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/servers/engine/v3"
	econfig "github.com/zishang520/socket.io/servers/engine/v3/config"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/friendspizzahut/platform/gateway/internal/sio/eio"
)

// zishangEngine serves the Socket.IO layer on zishang520's Engine.IO
// server (Config.Engine = EngineZishang), the engine the gateway used
// before its own; kept for comparison. No SIDPrefix, no byte bound on the
// queues, no coalesced writes.
type zishangEngine struct {
	eng     engine.Server
	handler http.Handler
}

func newZishangEngine(s *Server) *zishangEngine {
	cfg := s.cfg
	opts := econfig.DefaultServerOptions()
	opts.SetPingInterval(cfg.PingInterval)
	opts.SetPingTimeout(cfg.PingTimeout)
	opts.SetMaxHttpBufferSize(cfg.MaxHTTPBufferSize)
	opts.SetTransports(types.NewSet[transports.TransportCtor](engine.Polling, engine.WebSocket))
	ecfg := EngineConfig(cfg)
	allOrigins := ecfg.AllOrigins()
	var origin any = "*"
	if !allOrigins {
		origin = cfg.CORSOrigins
	}
	opts.SetCors(&types.Cors{Origin: origin, Credentials: true, Methods: []string{http.MethodGet, http.MethodPost}})
	z := &zishangEngine{eng: engine.NewServer(opts)}
	z.handler = zishangHandler(z.eng, cfg, allOrigins, &s.closing)
	_ = z.eng.On("connection", func(args ...any) {
		if len(args) == 0 {
			return
		}
		conn, ok := args[0].(engine.Socket)
		if !ok {
			return
		}
		zc := &zconn{conn: conn, srv: s, remoteAddr: conn.RemoteAddress()}
		if ctx := conn.Request(); ctx != nil {
			if r := ctx.Request(); r != nil {
				zc.query, zc.header = r.URL.Query(), r.Header
			}
		}
		zc.onSent = func(transports.Transport) {
			if zc.inflight.Add(-1) == 0 && zc.closing.Load() {
				zc.closeNow()
			}
		}
		c := s.newClient(zc)
		_ = conn.On("upgrade", func(...any) { c.OnUpgrade() })
		_ = conn.On("message", func(args ...any) {
			if len(args) == 0 {
				return
			}
			switch data := args[0].(type) {
			case *types.StringBuffer:
				c.OnMessage([]byte(data.String()), false)
			case types.BufferInterface:
				c.OnMessage(append([]byte(nil), data.Bytes()...), true)
			}
		})
		_ = conn.Once("close", func(args ...any) {
			reason := string(ReasonTransportClose)
			if len(args) > 0 {
				if r, ok := args[0].(string); ok {
					reason = r
				}
			}
			if zc.slow.Load() {
				reason = string(DisconnectSlow)
			}
			c.OnClose(reason)
		})
	})
	return z
}

func (z *zishangEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) { z.handler.ServeHTTP(w, r) }

func (z *zishangEngine) Has(sid string) bool {
	_, ok := z.eng.Clients().Load(sid)
	return ok
}

// Refuse: the handler already refuses new handshakes once the Server is
// closing.
func (z *zishangEngine) Refuse() {}

func (z *zishangEngine) Close() { z.eng.Close() }

// zconn adapts a zishang520 engine socket to engineConn: a packet-count
// bound on the queue, and a close that waits for the queue to be written
// (the library's own Close(true) can lose the last packets).
type zconn struct {
	conn       engine.Socket
	srv        *Server
	query      url.Values
	header     http.Header
	remoteAddr string

	inflight  atomic.Int64
	onSent    func(transports.Transport)
	slow      atomic.Bool
	closing   atomic.Bool
	closeOnce sync.Once
}

func (z *zconn) ID() string          { return z.conn.Id() }
func (z *zconn) Query() url.Values   { return z.query }
func (z *zconn) Header() http.Header { return z.header }
func (z *zconn) RemoteAddr() string  { return z.remoteAddr }
func (z *zconn) Transport() string   { return z.conn.Transport().Name() }

var errZishangClosed = errors.New("sio: connection is closing")

func (z *zconn) Send(msgs ...*eio.Message) error {
	if z.closing.Load() {
		return errZishangClosed
	}
	if z.inflight.Load()+int64(len(msgs)) > int64(z.srv.cfg.MaxQueue) {
		if z.slow.CompareAndSwap(false, true) {
			z.srv.logger.Warn("socket.io: cutting slow socket", "engine_id", z.conn.Id(), "queued", z.inflight.Load())
			z.srv.async(func() { z.conn.Close(true) })
			return eio.ErrQueueFull // once, like eio: the send that cut it
		}
		return errZishangClosed
	}
	z.send(msgs)
	return nil
}

func (z *zconn) send(msgs []*eio.Message) {
	for _, m := range msgs {
		z.inflight.Add(1)
		var b types.BufferInterface
		if m.Binary() {
			b = types.NewBytesBuffer(m.Payload())
		} else {
			b = types.NewStringBuffer(m.Payload())
		}
		z.conn.Send(b, nil, z.onSent)
	}
}

// SendUnbounded queues msgs past the packet bound.
func (z *zconn) SendUnbounded(msgs ...*eio.Message) error {
	if z.closing.Load() {
		return errZishangClosed
	}
	z.send(msgs)
	return nil
}

func (z *zconn) Close() {
	if z.closing.Swap(true) {
		return
	}
	if z.inflight.Load() == 0 {
		z.closeNow()
		return
	}
	grace := z.srv.cfg.CloseGrace
	z.srv.async(func() {
		time.Sleep(grace)
		z.closeNow()
	})
}

// closeNow closes from a goroutine of its own: onSent runs on the
// engine's write goroutine, whose queue must not be closed under it.
func (z *zconn) closeNow() {
	z.closeOnce.Do(func() { z.srv.async(func() { z.conn.Close(false) }) })
}

// zishangHandler wraps the library's handler with what it gets wrong or
// lacks:
//   - during shutdown, new sessions are refused (503);
//   - a websocket upgrade is accepted from any Origin, like Node;
//   - an invalid packet in a polling POST closes the session, like Node;
//   - requests of one polling session are handled in the order Node's
//     single thread would see them where it matters (settle).
func zishangHandler(eng engine.Server, cfg Config, allOrigins bool, closing *atomic.Bool) http.Handler {
	limit := cfg.MaxHTTPBufferSize
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sid := r.URL.Query().Get("sid")
		if closing.Load() && sid == "" {
			http.Error(w, `{"code":5,"message":"Server shutting down"}`, http.StatusServiceUnavailable)
			return
		}
		if websocket.IsWebSocketUpgrade(r) {
			if !allOrigins && r.Header.Get("Origin") != "" {
				r = r.Clone(r.Context())
				r.Header.Del("Origin")
			}
			eng.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodPost && sid != "" && r.Body != nil && r.Header.Get("Content-Type") != "application/octet-stream" {
			body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
			_ = r.Body.Close()
			if err != nil {
				http.Error(w, `{"code":3,"message":"Bad request"}`, http.StatusBadRequest)
				return
			}
			if int64(len(body)) > limit || !validPayload(body) {
				if conn, ok := eng.Clients().Load(sid); ok {
					conn.Close(true)
				}
				status := http.StatusBadRequest
				if int64(len(body)) > limit {
					status = http.StatusRequestEntityTooLarge
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				_, _ = io.WriteString(w, `{"code":3,"message":"Bad request"}`)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			if hasClose(body) {
				settle(r, eng, sid, func(c engine.Socket) bool { return c.Transport().Writable() })
			}
		} else if r.Method == http.MethodGet && sid != "" {
			settle(r, eng, sid, func(c engine.Socket) bool { return !c.Upgrading() })
		}
		eng.ServeHTTP(w, r)
	})
}

// settleWait bounds how long settle holds a request.
const settleWait = 100 * time.Millisecond

// settle holds a polling request of session sid until ready(session) or
// settleWait: net/http serves concurrent requests of one session in no
// particular order, where Node serves them in arrival order.
func settle(r *http.Request, eng engine.Server, sid string, ready func(engine.Socket) bool) {
	conn, ok := eng.Clients().Load(sid)
	if !ok || conn.Transport().Name() != "polling" || ready(conn) {
		return
	}
	deadline := time.NewTimer(settleWait)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !ready(conn) {
		select {
		case <-tick.C:
		case <-deadline.C:
			return
		case <-r.Context().Done():
			return
		}
	}
}

// hasClose reports whether a polling payload carries a close packet.
func hasClose(body []byte) bool {
	for rec := range strings.SplitSeq(string(body), "\x1e") {
		if rec == "1" {
			return true
		}
	}
	return false
}

// validPayload checks that every record of an Engine.IO v4 polling payload
// starts with a packet type or the base64 marker.
func validPayload(body []byte) bool {
	for rec := range strings.SplitSeq(string(body), "\x1e") {
		if rec == "" {
			continue
		}
		if c := rec[0]; (c < '0' || c > '6') && c != 'b' {
			return false
		}
	}
	return true
}
