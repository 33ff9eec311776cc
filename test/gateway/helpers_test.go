// Package gateway holds the gateway's end-to-end tests: the real stack of
// test/harness (redis-server, FerretDB, orderapi, gateway replicas, front
// proxy) driven by the real JavaScript socket.io-client 4.8 (test/jsclient)
// over websocket-only, polling-only and default transports, plus raw Go
// websocket clients where thousands of connections are needed.
//
// Users, agents and orders are created through orderapi's REST API
// (test/testapi); the gateways look them up through orderapi's real
// internal API. Tests that neither restart nor reconfigure a process share
// one stack (TestMain); the others start their own.
package gateway

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/test/harness"
	"github.com/friendspizzahut/platform/test/jsclient"
	"github.com/friendspizzahut/platform/test/testapi"
)

const wait = 15 * time.Second

// shared is the stack of TestSocketBehaviour, TestBarrage and
// TestNoDroppedConnects: two replicas that refresh presence quickly.
var shared = testapi.NewShared(harness.Options{Gateways: 2, GatewayEnv: map[string]string{"PRESENCE_INTERVAL": "300ms"}})

func TestMain(m *testing.M) { os.Exit(shared.Run(m)) }

// env is a stack (see testapi.Env) and this test's JS driver.
type env struct {
	*testapi.Env
	js *jsclient.Driver
}

// sharedEnv is the package's shared stack.
func sharedEnv(t *testing.T) *env {
	t.Helper()
	return &env{Env: shared.Env(t), js: jsclient.Start(t)}
}

// ownEnv starts a stack for this test alone, with gateways replicas
// configured by gatewayEnv.
func ownEnv(t *testing.T, gateways int, gatewayEnv map[string]string) *env {
	t.Helper()
	return &env{Env: testapi.StartEnv(t, harness.Options{Gateways: gateways, GatewayEnv: gatewayEnv}), js: jsclient.Start(t)}
}

// connect opens a JS socket through the front proxy and waits for it; it
// is closed when the test ends.
func (e *env) connect(t *testing.T, tr jsclient.Transport, opts jsclient.Options) *jsclient.Socket {
	t.Helper()
	opts.Transports = tr
	s := e.js.Connect(t, e.Stack.URL(), opts)
	t.Cleanup(s.Disconnect)
	s.WaitConnect(t)
	return s
}

// connectTo opens a JS socket straight to gateway replica i, with token
// as auth.token ("": none).
func (e *env) connectTo(t *testing.T, i int, tr jsclient.Transport, token string) *jsclient.Socket {
	t.Helper()
	opts := jsclient.Options{Transports: tr}
	if token != "" {
		opts.Auth = map[string]any{"token": token}
	}
	s := e.js.Connect(t, e.Stack.GatewayURL(i), opts)
	t.Cleanup(s.Disconnect)
	s.WaitConnect(t)
	return s
}

// obj decodes one event argument as an object.
func obj(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	return testapi.Obj(t, raw)
}

// register emits register and returns the registered reply.
func register(t *testing.T, s *jsclient.Socket, userID, role string) map[string]any {
	t.Helper()
	return testapi.Register(t, s, userID, role)
}

// waitError waits for an error event with message msg.
func waitError(t *testing.T, s *jsclient.Socket, msg string) {
	t.Helper()
	s.WaitEvent(t, "error", wait, func(args []json.RawMessage) bool {
		return len(args) > 0 && obj(t, args[0])["message"] == msg
	})
}
