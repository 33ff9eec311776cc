package sio

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/servers/engine/v3"
)

// engineHandler wraps the engine's handler with what the library gets
// wrong or lacks:
//   - during shutdown, new sessions are refused (503) so the load balancer
//     sends the client to another replica;
//   - a websocket upgrade is accepted from any Origin, like Node: with a
//     CORS allow-list the library would answer 400 to origins outside it;
//   - an invalid packet in a polling POST closes the session, like Node
//     (the library ignores the undecodable rest of the body);
//   - requests of one polling session are handled in the order Node's
//     single thread would see them where it matters (settle).
func engineHandler(eng engine.Server, cfg Config, closing *atomic.Bool) http.Handler {
	allOrigins := cfg.allOrigins()
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
// settleWait, because net/http serves concurrent requests of one session
// in no particular order, where Node serves them in arrival order:
//   - a close packet waits for the session's pending GET to be parked, so
//     that GET is answered (with a noop) instead of finding the session
//     gone (socket.io-client posts its close while its GET is pending, so
//     it never waits);
//   - a GET waits for an upgrade in progress to finish, so a poll sent
//     after the client's upgrade packet is refused like in Node (a real
//     client has stopped polling by then).
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
