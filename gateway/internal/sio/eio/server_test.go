package eio

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// wait bounds every blocking read of these tests; it only guards against
// hanging, nothing is asserted about time.
const wait = 5 * time.Second

type recorder struct {
	c      *Conn
	echo   bool
	msgs   chan string
	closed chan string
}

func (r *recorder) OnMessage(data []byte, binary bool) {
	if r.echo {
		if binary {
			_ = r.c.Send(BinaryMessage(data))
		} else {
			_ = r.c.Send(TextMessage(data))
		}
	}
	r.msgs <- string(data)
}

func (r *recorder) OnClose(reason string) { r.closed <- reason }

type testEngine struct {
	srv   *Server
	http  *httptest.Server
	conns chan *recorder
}

func newTestEngine(t *testing.T, cfg Config, echo bool) *testEngine {
	t.Helper()
	te := &testEngine{conns: make(chan *recorder, 16)}
	srv, err := NewServer(cfg, func(c *Conn) Handler {
		r := &recorder{c: c, echo: echo, msgs: make(chan string, 1000), closed: make(chan string, 1)}
		te.conns <- r
		return r
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	te.srv = srv
	te.http = httptest.NewServer(srv)
	t.Cleanup(func() {
		te.http.Close()
		srv.Close()
	})
	return te
}

func (te *testEngine) url(query string) string { return te.http.URL + "/engine.io/?" + query }

func (te *testEngine) session(t *testing.T) *recorder {
	t.Helper()
	select {
	case r := <-te.conns:
		return r
	case <-time.After(wait):
		t.Fatal("no session opened")
		return nil
	}
}

func recv(t *testing.T, ch chan string) string {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(wait):
		t.Fatal("nothing received")
		return ""
	}
}

func do(t *testing.T, method, url, body string, header map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

type openPacket struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

func parseOpen(t *testing.T, s string) openPacket {
	t.Helper()
	if !strings.HasPrefix(s, "0{") {
		t.Fatalf("open packet: got %q", s)
	}
	var o openPacket
	if err := json.Unmarshal([]byte(s[1:]), &o); err != nil {
		t.Fatal(err)
	}
	return o
}

func (te *testEngine) openPolling(t *testing.T) string {
	t.Helper()
	status, _, body := do(t, "GET", te.url("EIO=4&transport=polling"), "", nil)
	if status != 200 {
		t.Fatalf("handshake: %d %s", status, body)
	}
	return parseOpen(t, body).SID
}

func TestHandshakeErrors(t *testing.T) {
	te := newTestEngine(t, Config{}, false)
	sid := te.openPolling(t)
	for _, tc := range []struct {
		name, method, query string
		header              map[string]string
		status              int
		body                string
	}{
		{"unknown transport", "GET", "EIO=4&transport=foo", nil, 400, `{"code":0,"message":"Transport unknown"}`},
		{"no transport", "GET", "EIO=4", nil, 400, `{"code":0,"message":"Transport unknown"}`},
		{"unknown sid", "GET", "EIO=4&transport=polling&sid=nope", nil, 400, `{"code":1,"message":"Session ID unknown"}`},
		{"handshake by POST", "POST", "EIO=4&transport=polling", nil, 400, `{"code":2,"message":"Bad handshake method"}`},
		{"websocket without upgrade", "GET", "EIO=4&transport=websocket", nil, 400, `{"code":3,"message":"Bad request"}`},
		{"transport mismatch", "GET", "EIO=4&transport=websocket&sid=" + sid, nil, 400, `{"code":3,"message":"Bad request"}`},
		{"EIO 3", "GET", "EIO=3&transport=polling", nil, 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"no EIO", "GET", "transport=polling", nil, 400, `{"code":5,"message":"Unsupported protocol version"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := do(t, tc.method, te.url(tc.query), "", tc.header)
			if status != tc.status || body != tc.body || h.Get("Content-Type") != "application/json" {
				t.Fatalf("got %d %q (%s), want %d %q", status, body, h.Get("Content-Type"), tc.status, tc.body)
			}
		})
	}
	// A websocket upgrade with a bad EIO gets Node's abortUpgrade answer.
	_, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(te.url("EIO=3&transport=websocket"), "http"), nil)
	if err == nil || res == nil || res.StatusCode != 400 {
		t.Fatalf("websocket with EIO=3: err %v, response %v", err, res)
	}
	if b, _ := io.ReadAll(res.Body); string(b) != "Unsupported protocol version" {
		t.Fatalf("websocket with EIO=3: body %q", b)
	}
}

func TestOpenPacketAndSIDPrefix(t *testing.T) {
	te := newTestEngine(t, Config{SIDPrefix: "r2-", PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond, MaxPayload: 1234}, false)
	status, h, body := do(t, "GET", te.url("EIO=4&transport=polling"), "", nil)
	if status != 200 || h.Get("Content-Type") != "text/plain; charset=UTF-8" || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("handshake: %d %v", status, h)
	}
	o := parseOpen(t, body)
	if !strings.HasPrefix(o.SID, "r2-") || len(o.SID) != 3+22 || o.PingInterval != 300 || o.PingTimeout != 200 || o.MaxPayload != 1234 ||
		len(o.Upgrades) != 1 || o.Upgrades[0] != "websocket" {
		t.Fatalf("open packet %+v", o)
	}
	if !te.srv.Has(o.SID) || te.srv.Has("r2-other") {
		t.Fatal("Has does not report the sessions held")
	}
	if _, err := NewServer(Config{SIDPrefix: "a/b"}, nil, nil); err == nil {
		t.Fatal("a sid prefix with '/' was accepted")
	}
}

func TestPollingFraming(t *testing.T) {
	te := newTestEngine(t, Config{}, true)
	sid := te.openPolling(t)
	r := te.session(t)
	status, h, body := do(t, "POST", te.url("EIO=4&transport=polling&sid="+sid), "4hello\x1e4wörld\x1ebAQIDBA==", nil)
	if status != 200 || body != "ok" || h.Get("Content-Type") != "text/html" {
		t.Fatalf("post: %d %q %v", status, body, h)
	}
	for _, want := range []string{"hello", "wörld", "\x01\x02\x03\x04"} {
		if got := recv(t, r.msgs); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	// The echoes come back in one payload, binary as base64.
	status, _, body = do(t, "GET", te.url("EIO=4&transport=polling&sid="+sid), "", nil)
	if status != 200 || body != "4hello\x1e4wörld\x1ebAQIDBA==" {
		t.Fatalf("poll: %d %q", status, body)
	}
}

func TestPollingInvalidPayloadClosesSession(t *testing.T) {
	te := newTestEngine(t, Config{}, false)
	sid := te.openPolling(t)
	r := te.session(t)
	status, _, _ := do(t, "POST", te.url("EIO=4&transport=polling&sid="+sid), "4ok\x1eabc", nil)
	if status != 400 {
		t.Fatalf("invalid payload: status %d", status)
	}
	if got := recv(t, r.msgs); got != "ok" {
		t.Fatalf("the packet before the bad one: got %q", got)
	}
	if reason := recv(t, r.closed); reason != ReasonParseError {
		t.Fatalf("close reason %q", reason)
	}
	if status, _, _ := do(t, "GET", te.url("EIO=4&transport=polling&sid="+sid), "", nil); status != 400 {
		t.Fatalf("poll after close: %d", status)
	}
}

func TestMaxHTTPBufferSize(t *testing.T) {
	te := newTestEngine(t, Config{MaxPayload: 100}, false)
	sid := te.openPolling(t)
	r := te.session(t)
	if status, _, _ := do(t, "POST", te.url("EIO=4&transport=polling&sid="+sid), "4"+strings.Repeat("x", 99), nil); status != 200 {
		t.Fatalf("payload at the limit: %d", status)
	}
	recv(t, r.msgs)
	if status, _, _ := do(t, "POST", te.url("EIO=4&transport=polling&sid="+sid), "4"+strings.Repeat("x", 100), nil); status != 413 {
		t.Fatalf("payload over the limit: %d", status)
	}
	recv(t, r.closed)

	// Over websocket, a message over the limit closes the session.
	ws := dialWS(t, te, "")
	r = te.session(t)
	if err := ws.WriteMessage(websocket.TextMessage, []byte("4"+strings.Repeat("y", 100))); err != nil {
		t.Fatal(err)
	}
	recv(t, r.closed)
}

func TestCORS(t *testing.T) {
	te := newTestEngine(t, Config{CORSOrigins: []string{"https://shop.example"}}, false)
	_, h, _ := do(t, "GET", te.url("EIO=4&transport=polling"), "", map[string]string{"Origin": "https://shop.example"})
	if h.Get("Access-Control-Allow-Origin") != "https://shop.example" || h.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("allowed origin: %v", h)
	}
	_, h, _ = do(t, "GET", te.url("EIO=4&transport=polling"), "", map[string]string{"Origin": "https://evil.example"})
	if h.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("foreign origin allowed: %v", h)
	}
	status, h, _ := do(t, "OPTIONS", te.url("EIO=4&transport=polling"), "", map[string]string{
		"Origin": "https://shop.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
	if status != 204 || h.Get("Access-Control-Allow-Origin") != "https://shop.example" || h.Get("Access-Control-Allow-Methods") != "GET,POST" ||
		h.Get("Access-Control-Allow-Headers") != "content-type" {
		t.Fatalf("preflight: %d %v", status, h)
	}
	// Websockets are accepted from any origin, like Node.
	hdr := http.Header{"Origin": {"https://evil.example"}}
	conn, _, err := websocket.DefaultDialer.Dial(wsURL(te, ""), hdr)
	if err != nil {
		t.Fatalf("websocket from a foreign origin: %v", err)
	}
	conn.Close()

	all := newTestEngine(t, Config{}, false)
	_, h, _ = do(t, "GET", all.url("EIO=4&transport=polling"), "", map[string]string{"Origin": "https://any.example"})
	if h.Get("Access-Control-Allow-Origin") != "https://any.example" {
		t.Fatalf("all origins: %v", h)
	}
}

func wsURL(te *testEngine, sid string) string {
	u := "ws" + strings.TrimPrefix(te.url("EIO=4&transport=websocket"), "http")
	if sid != "" {
		u += "&sid=" + sid
	}
	return u
}

func dialWS(t *testing.T, te *testEngine, sid string) *websocket.Conn {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial(wsURL(te, sid), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func readWS(t *testing.T, conn *websocket.Conn) (int, string) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	typ, b, err := conn.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return typ, string(b)
}

func TestWebsocketEcho(t *testing.T) {
	te := newTestEngine(t, Config{}, true)
	ws := dialWS(t, te, "")
	_, open := readWS(t, ws)
	if o := parseOpen(t, open); len(o.Upgrades) != 0 {
		t.Fatalf("websocket open packet lists upgrades: %+v", o)
	}
	r := te.session(t)
	big := strings.Repeat("z", 70000) // a 64-bit length frame
	for _, m := range []string{"4hello", "4" + big} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
		if typ, got := readWS(t, ws); typ != websocket.TextMessage || got != m {
			t.Fatalf("echo of %d bytes: got %d bytes", len(m), len(got))
		}
	}
	if err := ws.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if typ, got := readWS(t, ws); typ != websocket.BinaryMessage || got != "\x01\x02\x03" {
		t.Fatalf("binary echo: %d %q", typ, got)
	}
	recv(t, r.msgs)
	// A close packet from the client ends the session with a close frame.
	if err := ws.WriteMessage(websocket.TextMessage, []byte("1")); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(wait))
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			if !websocket.IsCloseError(err, websocket.CloseNoStatusReceived) {
				t.Fatalf("want a close frame, got %v", err)
			}
			break
		}
	}
	for {
		if reason := recv(t, r.closed); reason == ReasonTransportClose {
			break
		}
	}
}

func TestWebsocketInvalidPacketCloses(t *testing.T) {
	te := newTestEngine(t, Config{}, false)
	ws := dialWS(t, te, "")
	readWS(t, ws)
	r := te.session(t)
	if err := ws.WriteMessage(websocket.TextMessage, []byte("abc")); err != nil {
		t.Fatal(err)
	}
	if reason := recv(t, r.closed); reason != ReasonParseError {
		t.Fatalf("close reason %q", reason)
	}
}

func TestUpgrade(t *testing.T) {
	te := newTestEngine(t, Config{}, true)
	sid := te.openPolling(t)
	r := te.session(t)
	ws := dialWS(t, te, sid)
	if err := ws.WriteMessage(websocket.TextMessage, []byte("2probe")); err != nil {
		t.Fatal(err)
	}
	if _, got := readWS(t, ws); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	// The paused poll is ended with a noop.
	if status, _, body := do(t, "GET", te.url("EIO=4&transport=polling&sid="+sid), "", nil); status != 200 || body != "6" {
		t.Fatalf("poll during upgrade: %d %q", status, body)
	}
	// A second websocket for the same session is closed.
	ws2 := dialWS(t, te, sid)
	_ = ws2.SetReadDeadline(time.Now().Add(wait))
	if _, _, err := ws2.ReadMessage(); err == nil {
		t.Fatal("second websocket of an upgrading session was not closed")
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte("5")); err != nil {
		t.Fatal(err)
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte("4after")); err != nil {
		t.Fatal(err)
	}
	if _, got := readWS(t, ws); got != "4after" {
		t.Fatalf("after upgrade: %q", got)
	}
	recv(t, r.msgs)
	if status, _, _ := do(t, "GET", te.url("EIO=4&transport=polling&sid="+sid), "", nil); status != 400 {
		t.Fatalf("poll after upgrade: %d", status)
	}
	if r.c.Transport() != "websocket" {
		t.Fatalf("transport %q", r.c.Transport())
	}
}

func TestPingPongAndTimeout(t *testing.T) {
	te := newTestEngine(t, Config{PingInterval: 30 * time.Millisecond, PingTimeout: 30 * time.Millisecond}, false)
	// A websocket client that answers pings stays connected.
	ws := dialWS(t, te, "")
	readWS(t, ws)
	r := te.session(t)
	for range 3 {
		if _, got := readWS(t, ws); got != "2" {
			t.Fatalf("want a ping, got %q", got)
		}
		if err := ws.WriteMessage(websocket.TextMessage, []byte("3")); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case reason := <-r.closed:
		t.Fatalf("a session answering pings was closed: %s", reason)
	default:
	}
	// A polling client that never answers is closed for ping timeout.
	sid := te.openPolling(t)
	p := te.session(t)
	if reason := recv(t, p.closed); reason != ReasonPingTimeout {
		t.Fatalf("close reason %q", reason)
	}
	if te.srv.Has(sid) {
		t.Fatal("timed-out session still held")
	}
}

func TestWritevBatching(t *testing.T) {
	te := newTestEngine(t, Config{}, false)
	ws := dialWS(t, te, "")
	readWS(t, ws)
	r := te.session(t)
	te.srv.writers.pause(true)
	before := te.srv.writers.calls.Load()
	shared := TextMessage([]byte("broadcast"))
	for range 50 {
		if err := r.c.Send(shared); err != nil {
			t.Fatal(err)
		}
	}
	te.srv.writers.pause(false)
	for i := range 50 {
		if _, got := readWS(t, ws); got != "4broadcast" {
			t.Fatalf("message %d: %q", i, got)
		}
	}
	if calls := te.srv.writers.calls.Load() - before; calls != 1 {
		t.Fatalf("50 queued frames took %d write calls, want 1", calls)
	}
}

func TestSlowSocketCut(t *testing.T) {
	// Queue bound in packets.
	te := newTestEngine(t, Config{MaxQueue: 5}, false)
	ws := dialWS(t, te, "")
	readWS(t, ws)
	r := te.session(t)
	te.srv.writers.pause(true)
	for i := range 5 {
		if err := r.c.Send(TextMessage([]byte("x"))); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if err := r.c.Send(TextMessage([]byte("x"))); err != ErrQueueFull {
		t.Fatalf("send over the bound: %v", err)
	}
	te.srv.writers.pause(false)
	if reason := recv(t, r.closed); reason != ReasonSlow {
		t.Fatalf("close reason %q", reason)
	}

	// Bytes the kernel does not take: a client that never reads is cut.
	te = newTestEngine(t, Config{MaxQueueBytes: 256 << 10}, false)
	ws = dialWS(t, te, "")
	readWS(t, ws)
	r = te.session(t)
	chunk := TextMessage(bytes.Repeat([]byte("y"), 64<<10))
	for i := 0; i < 1000; i++ {
		if r.c.Send(chunk) != nil {
			break
		}
		select {
		case reason := <-r.closed:
			if reason != ReasonSlow {
				t.Fatalf("close reason %q", reason)
			}
			return
		default:
		}
		time.Sleep(time.Millisecond) // let the writer meet the full socket
	}
	if reason := recv(t, r.closed); reason != ReasonSlow {
		t.Fatalf("close reason %q", reason)
	}
}

func TestServerCloseAndGracefulClose(t *testing.T) {
	te := newTestEngine(t, Config{}, false)
	ws := dialWS(t, te, "")
	readWS(t, ws)
	r := te.session(t)
	// Close writes what is queued, then the close frame.
	_ = r.c.Send(TextMessage([]byte("last")))
	r.c.Close()
	if _, got := readWS(t, ws); got != "4last" {
		t.Fatalf("got %q", got)
	}
	_ = ws.SetReadDeadline(time.Now().Add(wait))
	if _, _, err := ws.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNoStatusReceived) {
		t.Fatalf("want a close frame, got %v", err)
	}
	recv(t, r.closed)

	// Polling: a graceful close answers the next poll with the queue and a close packet.
	sid := te.openPolling(t)
	p := te.session(t)
	_ = p.c.Send(TextMessage([]byte("bye")))
	p.c.Close()
	if status, _, body := do(t, "GET", te.url("EIO=4&transport=polling&sid="+sid), "", nil); status != 200 || body != "4bye" {
		t.Fatalf("poll after close: %d %q", status, body)
	}
	if status, _, body := do(t, "GET", te.url("EIO=4&transport=polling&sid="+sid), "", nil); status != 200 || body != "1" {
		t.Fatalf("second poll after close: %d %q", status, body)
	}
	recv(t, p.closed)

	// Shutting down refuses new sessions.
	te.srv.Close()
	if status, _, _ := do(t, "GET", te.url("EIO=4&transport=polling"), "", nil); status != 503 {
		t.Fatalf("handshake while closing: %d", status)
	}
}

// orderedHandler records its calls in one channel, in the order they ran.
type orderedHandler struct{ calls chan string }

func (h *orderedHandler) OnMessage(data []byte, _ bool) {
	time.Sleep(300 * time.Millisecond) // slower than closeSettle: the close is handled meanwhile
	h.calls <- "message " + string(data)
}

func (h *orderedHandler) OnClose(reason string) { h.calls <- "close " + reason }

// TestCloseAfterPendingMessages: a message received before the client's
// close packet is handled before OnClose, as in Node (socket.io-client's
// disconnect sends "41" then "1").
func TestCloseAfterPendingMessages(t *testing.T) {
	h := &orderedHandler{calls: make(chan string, 4)}
	srv, err := NewServer(Config{}, func(*Conn) Handler { return h }, nil)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	te := &testEngine{srv: srv, http: hs}
	sid := te.openPolling(t)
	for _, body := range []string{"4bye", "1"} {
		if status, _, resp := do(t, "POST", te.url("EIO=4&transport=polling&sid="+sid), body, nil); status != 200 {
			t.Fatalf("POST %q: %d %s", body, status, resp)
		}
	}
	for _, want := range []string{"message bye", "close " + ReasonTransportClose} {
		if got := recv(t, h.calls); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

// TestSendOrderAcrossWriters sends numbered messages one at a time to
// several websocket sessions while many writers run: a session must never
// be written by two writers at once, or a later frame can overtake an
// earlier one (a client once got its register reply before the CONNECT
// reply).
func TestSendOrderAcrossWriters(t *testing.T) {
	const sessions, perSession = 64, 5000
	te := newTestEngine(t, Config{Writers: 8, MaxQueue: perSession, MaxQueueBytes: 1 << 20}, false)
	type sess struct {
		ws *websocket.Conn
		r  *recorder
	}
	all := make([]sess, sessions)
	for i := range all {
		ws := dialWS(t, te, "")
		readWS(t, ws)
		all[i] = sess{ws, te.session(t)}
	}
	errs := make(chan error, sessions)
	for _, s := range all {
		go func() {
			for i := range perSession {
				if err := s.r.c.Send(TextMessage([]byte(strconv.Itoa(i)))); err != nil {
					errs <- err
					return
				}
			}
		}()
		go func() {
			_ = s.ws.SetReadDeadline(time.Now().Add(4 * wait))
			for i := range perSession {
				_, b, err := s.ws.ReadMessage()
				if err != nil {
					errs <- fmt.Errorf("read: %w", err)
					return
				}
				if want := "4" + strconv.Itoa(i); string(b) != want {
					errs <- fmt.Errorf("message %d: got %q, want %q", i, b, want)
					return
				}
			}
			errs <- nil
		}()
	}
	for range sessions {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestNoSecondWriterWhileWriting holds a writer between taking a frame
// and writing it, then sends another: no other writer may take the
// session and write the second frame first.
func TestNoSecondWriterWhileWriting(t *testing.T) {
	te := newTestEngine(t, Config{Writers: 4}, false)
	taken := make(chan struct{}, 2)
	release := make(chan struct{})
	var armed atomic.Bool
	var once sync.Once
	te.srv.writers.beforeWrite = func(*Conn) { // set before any writer runs
		if armed.Load() {
			taken <- struct{}{}
			once.Do(func() { <-release })
		}
	}
	ws := dialWS(t, te, "")
	readWS(t, ws)
	r := te.session(t)
	armed.Store(true)
	if err := r.c.Send(TextMessage([]byte("first"))); err != nil {
		t.Fatal(err)
	}
	<-taken // a writer holds "first"
	if err := r.c.Send(TextMessage([]byte("second"))); err != nil {
		t.Fatal(err)
	}
	select {
	case <-taken:
		t.Error("a second writer took the session while the first was writing it")
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	for _, want := range []string{"4first", "4second"} {
		if _, got := readWS(t, ws); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}
