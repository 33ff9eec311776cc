// Package events holds the end-to-end tests of issue 3: domain events from
// the bus (or from orderapi's outbox) reach exactly the sockets the routing
// matrix (DESIGN §4) names, on every gateway replica, once each, across a
// Redis restart and an orderapi crash.
//
// The stack is test/harness (redis-server, FerretDB, orderapi, two gateway
// processes, front proxy); the clients are the real socket.io-client 4.8
// (test/jsclient) connected directly to each replica. Users, agents and
// orders are created through orderapi's REST API (test/testapi), and the
// gateways look them up through orderapi's real internal API. Tests that
// do not restart anything share one stack (TestMain); the others start
// their own.
package events

import (
	"os"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/test/harness"
	"github.com/friendspizzahut/platform/test/jsclient"
	"github.com/friendspizzahut/platform/test/testapi"
)

const wait = 20 * time.Second

var shared = testapi.NewShared(harness.Options{Gateways: 2})

func TestMain(m *testing.M) { os.Exit(shared.Run(m)) }

// env is a stack (see testapi.Env) and this test's JS driver.
type env struct {
	*testapi.Env
	js *jsclient.Driver
}

// sharedEnv is the package's shared stack, for tests that change nothing
// but their own users and orders.
func sharedEnv(t *testing.T) *env {
	t.Helper()
	return &env{Env: shared.Env(t), js: jsclient.Start(t)}
}

// ownEnv starts a stack for this test alone (it restarts parts of it).
func ownEnv(t *testing.T) *env {
	t.Helper()
	return &env{Env: testapi.StartEnv(t, harness.Options{Gateways: 2}), js: jsclient.Start(t)}
}

// connect opens a socket straight to gateway replica gw; it is closed when
// the test ends.
func (e *env) connect(t *testing.T, gw int, tr jsclient.Transport, token string) *jsclient.Socket {
	t.Helper()
	opts := jsclient.Options{Transports: tr}
	if token != "" {
		opts.Auth = map[string]any{"token": token}
	}
	s := e.js.Connect(t, e.Stack.GatewayURL(gw), opts)
	t.Cleanup(s.Disconnect)
	s.WaitConnect(t)
	return s
}
