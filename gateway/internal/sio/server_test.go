package sio

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// echoSession echoes "echo" events back and acks "ack" events.
type echoSession struct {
	sock  *Socket
	gone  chan DisconnectReason
	onEvt func(e *Event)
}

func (s *echoSession) OnConnect() {}
func (s *echoSession) OnEvent(e *Event) {
	if s.onEvt != nil {
		s.onEvt(e)
		return
	}
	switch e.Name {
	case "echo":
		_ = s.sock.EmitRaw("echo", e.Args, e.Attachments)
	case "ack":
		_ = e.AckRaw(e.Args, e.Attachments)
	case "join":
		var room string
		_ = json.Unmarshal(e.Args[0], &room)
		s.sock.Join(room)
		_ = e.Ack("joined")
	case "kick":
		s.sock.Disconnect()
	}
}
func (s *echoSession) OnDisconnect(r DisconnectReason) {
	if s.gone != nil {
		s.gone <- r
	}
}

type testServer struct {
	srv  *Server
	http *httptest.Server
	gone chan DisconnectReason
}

func newTestServer(t *testing.T, cfg Config, connect ConnectFunc) *testServer {
	t.Helper()
	ts := &testServer{gone: make(chan DisconnectReason, 100)}
	if connect == nil {
		connect = func(s *Socket) (Session, error) {
			return &echoSession{sock: s, gone: ts.gone}, nil
		}
	}
	if strings.Contains(t.Name(), "zishang_") {
		cfg.Engine = EngineZishang
	}
	ts.srv = New(cfg, connect, slog.New(slog.NewTextHandler(io.Discard, nil)))
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", ts.srv.Handler())
	ts.http = httptest.NewServer(mux)
	t.Cleanup(func() {
		ts.srv.Close()
		ts.http.Close()
	})
	return ts
}

type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
}

func (ts *testServer) dial(t *testing.T, header http.Header) *wsClient {
	t.Helper()
	u := "ws" + strings.TrimPrefix(ts.http.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	conn, resp, err := websocket.DefaultDialer.Dial(u, header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial: %v (status %d)", err, status)
	}
	t.Cleanup(func() { _ = conn.Close() })
	c := &wsClient{t: t, conn: conn}
	if open := c.read(); !strings.HasPrefix(open, "0{") {
		t.Fatalf("got open %q, want 0{...}", open)
	}
	return c
}

// read returns the next text message, answering engine pings.
func (c *wsClient) read() string {
	c.t.Helper()
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		mt, b, err := c.conn.ReadMessage()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if mt == websocket.TextMessage && string(b) == "2" {
			c.send("3")
			continue
		}
		if mt == websocket.BinaryMessage {
			return "BIN:" + string(b)
		}
		return string(b)
	}
}

// readClosed waits until the server closes the connection and returns
// the messages received before.
func (c *wsClient) readUntilClosed() []string {
	c.t.Helper()
	var got []string
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, b, err := c.conn.ReadMessage()
		if err != nil {
			if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
				c.t.Fatalf("connection not closed; got %q", got)
			}
			return got
		}
		got = append(got, string(b))
	}
}

func (c *wsClient) send(s string) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *wsClient) sendBinary(b []byte) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.BinaryMessage, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *wsClient) connect(nsp string) string {
	c.t.Helper()
	if nsp == "/" {
		c.send("40")
	} else {
		c.send("40" + nsp + ",")
	}
	return c.read()
}

func TestConnectAndEvents(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, nil)
	c := ts.dial(t, nil)
	reply := c.connect("/")
	if !strings.HasPrefix(reply, `40{"sid":"`) {
		t.Fatalf("got %q, want CONNECT reply", reply)
	}
	c.send(`42["echo",{"a":1},"x"]`)
	if got, want := c.read(), `42["echo",{"a":1},"x"]`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	c.send(`4212["ack",1,2]`)
	if got, want := c.read(), `4312[1,2]`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := ts.srv.SocketCount(); got != 1 {
		t.Fatalf("got %d sockets, want 1", got)
	}
}

func TestBinaryEcho(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, nil)
	c := ts.dial(t, nil)
	c.connect("/")
	c.send(`451-["echo",{"_placeholder":true,"num":0}]`)
	c.sendBinary([]byte{1, 2, 3})
	if got, want := c.read(), `451-["echo",{"_placeholder":true,"num":0}]`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got, want := c.read(), "BIN:\x01\x02\x03"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestInvalidNamespace(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, nil)
	c := ts.dial(t, nil)
	if got, want := c.connect("/random"), `44/random,{"message":"Invalid namespace"}`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestConnectError(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, func(s *Socket) (Session, error) {
		return nil, &ConnectError{Message: "Invalid token.", Data: map[string]string{"code": "INVALID_TOKEN"}}
	})
	c := ts.dial(t, nil)
	if got, want := c.connect("/"), `44{"message":"Invalid token.","data":{"code":"INVALID_TOKEN"}}`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestInvalidPacketsClose(t *testing.T) {
	t.Parallel()
	for _, pkt := range []string{"4abc", `42{}`, `42abc["x"]`, `42["connect"]`, "9", `41["x"]`, `2["before connect"]`} {
		t.Run(pkt, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, Config{}, nil)
			c := ts.dial(t, nil)
			if !strings.HasPrefix(pkt, "2") {
				c.connect("/")
			}
			c.send("4" + strings.TrimPrefix(pkt, "4"))
			c.readUntilClosed()
		})
	}
}

func TestServerDisconnectDeliversPacket(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, nil)
	for range 20 {
		c := ts.dial(t, nil)
		c.connect("/")
		c.send(`42["kick"]`)
		got := c.readUntilClosed()
		if len(got) == 0 || got[len(got)-1] != "41" {
			t.Fatalf("got %q before close, want 41 last", got)
		}
	}
}

func TestBroadcastRoomsUnionExcept(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, nil)
	join := func(rooms ...string) *wsClient {
		c := ts.dial(t, nil)
		c.connect("/")
		for i, r := range rooms {
			c.send(`42` + string(rune('1'+i)) + `["join","` + r + `"]`)
			if got := c.read(); !strings.HasSuffix(got, `["joined"]`) {
				t.Fatalf("got %q, want joined ack", got)
			}
		}
		return c
	}
	a := join("r1", "r2")
	b := join("r2", "x")
	c := join("r3")
	n := ts.srv.Broadcast([]string{"r1", "r2"}, []string{"x"}, "ev", map[string]int{"n": 1})
	if n != 1 {
		t.Fatalf("got %d recipients, want 1", n)
	}
	if got, want := a.read(), `42["ev",{"n":1}]`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	// Everyone is in RoomAll; a's next message proves b and c got nothing
	// before it.
	if n := ts.srv.Broadcast([]string{RoomAll}, nil, "all", nil); n != 3 {
		t.Fatalf("got %d recipients, want 3", n)
	}
	for _, cl := range []*wsClient{a, b, c} {
		if got, want := cl.read(), `42["all"]`; got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

func TestWebsocketFromForeignOriginWithAllowList(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{CORSOrigins: []string{"https://admin.example"}}, nil)
	c := ts.dial(t, http.Header{"Origin": {"http://localhost:8081"}})
	if got := c.connect("/"); !strings.HasPrefix(got, "40{") {
		t.Fatalf("got %q, want CONNECT reply", got)
	}
}

func TestSlowSocketIsCut(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{MaxQueue: 5}, nil)
	c := ts.dial(t, nil)
	c.connect("/")
	// The client never reads: queue far more than the limit in one go.
	big := strings.Repeat("x", 1<<16)
	for range 200 {
		ts.srv.Broadcast([]string{RoomAll}, nil, "big", big)
	}
	select {
	case r := <-ts.gone:
		if r != DisconnectSlow {
			t.Fatalf("got reason %q, want %q", r, DisconnectSlow)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("slow socket not cut")
	}
}

func TestConnectTimeout(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{ConnectTimeout: 100 * time.Millisecond}, nil)
	c := ts.dial(t, nil)
	c.readUntilClosed()
}

func TestServerAck(t *testing.T) {
	t.Parallel()
	got := make(chan string, 1)
	ts := newTestServer(t, Config{}, nil)
	ts.srv.onConnect = func(s *Socket) (Session, error) {
		return &echoSession{sock: s, onEvt: func(e *Event) {
			_ = s.EmitWithAck("q", time.Second, func(args []json.RawMessage, err error) {
				if err != nil {
					got <- err.Error()
					return
				}
				got <- string(args[0])
			}, "question")
		}}, nil
	}
	c := ts.dial(t, nil)
	c.connect("/")
	c.send(`42["go"]`)
	if p, want := c.read(), `420["q","question"]`; p != want {
		t.Fatalf("got %q, want %q", p, want)
	}
	c.send(`430["answer"]`)
	if a := <-got; a != `"answer"` {
		t.Fatalf("got %q, want answer", a)
	}
}

// TestOnZishangEngine runs the Socket.IO tests again on zishang520's
// engine (GATEWAY_ENGINE=zishang).
func TestOnZishangEngine(t *testing.T) {
	for name, test := range map[string]func(*testing.T){
		"ConnectAndEvents": TestConnectAndEvents, "BinaryEcho": TestBinaryEcho, "InvalidNamespace": TestInvalidNamespace,
		"ConnectError": TestConnectError, "InvalidPacketsClose": TestInvalidPacketsClose,
		"ServerDisconnectDeliversPacket": TestServerDisconnectDeliversPacket, "BroadcastRoomsUnionExcept": TestBroadcastRoomsUnionExcept,
		"WebsocketFromForeignOriginWithAllowList": TestWebsocketFromForeignOriginWithAllowList, "SlowSocketIsCut": TestSlowSocketIsCut,
		"ConnectTimeout": TestConnectTimeout, "ServerAck": TestServerAck,
		"RecoveryOnTheWire": TestRecoveryOnTheWire, "RefuseRecovery": TestRefuseRecovery,
		"RecoveryOffMeansNodeWithoutIt": TestRecoveryOffMeansNodeWithoutIt, "Drain": TestDrain,
	} {
		t.Run("zishang_"+name, test)
	}
}
