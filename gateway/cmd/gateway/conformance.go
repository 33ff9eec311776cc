package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/friendspizzahut/platform/gateway/internal/sio"
	"github.com/friendspizzahut/platform/gateway/internal/sio/eio"
	"github.com/friendspizzahut/platform/shared/config"
	"github.com/friendspizzahut/platform/shared/logging"
)

// runConformance serves what the official protocol test suites expect
// (socketio/engine.io-protocol and socketio/socket.io-protocol, folder
// test-suite/): an echoing bare Engine.IO server at /engine.io/, and at
// /socket.io/ our Socket.IO layer with the namespaces "/" and "/custom",
// each emitting "auth" with the handshake payload after connecting, and on
// "/" echoing "message" as "message-back" and acking "message-with-ack"
// (plus, for test/gateway, "disconnect-me": a server-side disconnect).
// Ping interval 300ms and timeout 200ms, as the suites require. No Redis,
// no orderapi.
//
// PORT (default 3000, the suites' address), CONFORMANCE_AUTH_DELAY
// (default 20ms: the suites' client loses a frame that arrives in the same
// read as the CONNECT reply), CONFORMANCE_CONNECT_TIMEOUT (default 1500ms)
// and CONFORMANCE_PING_INTERVAL / CONFORMANCE_PING_TIMEOUT tune it.
func runConformance(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	r := config.NewReader(getenv)
	port := r.Port("PORT", 3000)
	authDelay := r.Duration("CONFORMANCE_AUTH_DELAY", 20*time.Millisecond)
	connectTimeout := r.Duration("CONFORMANCE_CONNECT_TIMEOUT", 1500*time.Millisecond)
	// The suites need 300/200 ms; test/gateway's feature test raises them,
	// since a loaded -race run can miss a 200 ms pong deadline.
	pingInterval := r.Duration("CONFORMANCE_PING_INTERVAL", 300*time.Millisecond)
	pingTimeout := r.Duration("CONFORMANCE_PING_TIMEOUT", 200*time.Millisecond)
	logger := logging.New(stderr, r.OneOf("LOG_FORMAT", "text", "text", "json"), r.OneOf("LOG_LEVEL", "info", "debug", "info", "warn", "error"))
	if err := r.Err(); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}

	cfg := sio.Config{
		PingInterval:      pingInterval,
		PingTimeout:       pingTimeout,
		MaxHTTPBufferSize: 1e6,
		ConnectTimeout:    connectTimeout,
		Namespaces:        []string{"/", "/custom"},
	}
	echo, err := eio.NewServer(sio.EngineConfig(cfg), func(c *eio.Conn) eio.Handler { return echoHandler{c} }, logger)
	if err != nil {
		return err
	}
	server := sio.New(cfg, func(s *sio.Socket) (sio.Session, error) {
		return &fixtureSession{sock: s, authDelay: authDelay}, nil
	}, logger)

	mux := http.NewServeMux()
	mux.Handle("/engine.io/", echo)
	mux.Handle("/socket.io/", server.Handler())
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		return fmt.Errorf("listen on port %d: %w", port, err)
	}
	// Idle keep-alive connections close after 5s like Node's default
	// keepAliveTimeout; the suites' client process waits for them to end.
	srv := &http.Server{Handler: mux, IdleTimeout: 5 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	logger.Info("conformance fixture listening", "addr", ln.Addr().String(), "auth_delay", authDelay.String(), "connect_timeout", connectTimeout.String())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	server.Close()
	echo.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// echoHandler echoes every message of a bare Engine.IO session: text
// stays text, binary stays binary.
type echoHandler struct{ c *eio.Conn }

func (e echoHandler) OnMessage(data []byte, binary bool) {
	if binary {
		_ = e.c.Send(eio.BinaryMessage(data))
		return
	}
	_ = e.c.Send(eio.TextMessage(data))
}

func (echoHandler) OnClose(string) {}

// fixtureSession is the suites' expected server behaviour.
type fixtureSession struct {
	sock      *sio.Socket
	authDelay time.Duration
}

func (f *fixtureSession) OnConnect() {
	auth := f.sock.Handshake().Auth
	time.AfterFunc(f.authDelay, func() {
		_ = f.sock.EmitRaw("auth", []json.RawMessage{auth}, nil)
	})
}

func (f *fixtureSession) OnEvent(e *sio.Event) {
	if f.sock.Handshake().Namespace != sio.MainNamespace {
		return
	}
	switch e.Name {
	case "message":
		_ = f.sock.EmitRaw("message-back", e.Args, e.Attachments)
	case "message-with-ack":
		_ = e.AckRaw(e.Args, e.Attachments)
	case "disconnect-me": // not used by the suites: our end-to-end tests
		f.sock.Disconnect()
	}
}

func (f *fixtureSession) OnDisconnect(sio.DisconnectReason) {}
