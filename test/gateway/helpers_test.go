// Package gateway holds the gateway's end-to-end tests: the real stack of
// test/harness (redis-server, FerretDB, orderapi, gateway replicas, front
// proxy) driven by the real JavaScript socket.io-client 4.8 (test/jsclient)
// over websocket-only, polling-only and default transports, plus raw Go
// websocket clients where thousands of connections are needed.
//
// Users come from orderapi's real internal API. Order parties, and agents
// that orderapi cannot approve yet, come from a small fake of that API in
// front of orderapi (fakeDirectory), which the gateways use as ORDERAPI_URL.
package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/shared/bus"
	"github.com/friendspizzahut/platform/shared/event"
	"github.com/friendspizzahut/platform/test/harness"
	"github.com/friendspizzahut/platform/test/jsclient"
)

const wait = 15 * time.Second

// fakeDirectory serves orderapi's internal API: order parties and
// overridden users from maps, every other user from the real orderapi.
type fakeDirectory struct {
	srv      *httptest.Server
	upstream atomic.Pointer[string]

	mu      sync.Mutex
	users   map[string]map[string]any
	parties map[string]map[string]any
}

func startFakeDirectory(t *testing.T) *fakeDirectory {
	t.Helper()
	d := &fakeDirectory{users: map[string]map[string]any{}, parties: map[string]map[string]any{}}
	d.srv = httptest.NewServer(http.HandlerFunc(d.serve))
	t.Cleanup(d.srv.Close)
	return d
}

func (d *fakeDirectory) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Internal-Token") != harness.InternalToken {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	path := r.URL.Path
	d.mu.Lock()
	var body map[string]any
	if id, ok := strings.CutPrefix(path, "/internal/v1/orders/"); ok {
		body = d.parties[strings.TrimSuffix(id, "/parties")]
		d.mu.Unlock()
		if body == nil {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"message":"Order not found"}`)
			return
		}
	} else {
		body = d.users[strings.TrimPrefix(path, "/internal/v1/users/")]
		d.mu.Unlock()
	}
	if body != nil {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
		return
	}
	up := d.upstream.Load()
	if up == nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, *up+path, nil)
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	defer func() { _ = resp.Body.Close() }()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

func (d *fakeDirectory) addAgent(id, name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.users[id] = map[string]any{"id": id, "name": name, "email": id + "@agents.test", "role": "delivery", "isActive": true, "isApproved": true}
}

func (d *fakeDirectory) addOrder(id, customerID, agentID, agentName string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.parties[id] = map[string]any{"orderId": id, "orderNumber": "ORD-" + id[len(id)-4:], "customerId": customerID,
		"deliveryAgentId": agentID, "deliveryAgentName": agentName, "status": "out_for_delivery"}
}

// env is one running stack plus a JS driver.
type env struct {
	st  *harness.Stack
	dir *fakeDirectory
	js  *jsclient.Driver
	bus *bus.Bus
}

func startEnv(t *testing.T, gateways int, gatewayEnv map[string]string) *env {
	t.Helper()
	dir := startFakeDirectory(t)
	genv := map[string]string{"ORDERAPI_URL": dir.srv.URL}
	for k, v := range gatewayEnv {
		genv[k] = v
	}
	st := harness.Start(t, harness.Options{Gateways: gateways, GatewayEnv: genv})
	up := st.OrderAPIURL()
	dir.upstream.Store(&up)
	b, err := bus.New(bus.Config{URL: st.RedisURL}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return &env{st: st, dir: dir, js: jsclient.Start(t), bus: b}
}

// user is an account created through orderapi's REST API.
type user struct {
	ID    string
	Token string
}

var userSeq atomic.Int64

// registerUser signs up a customer (or a delivery agent, who stays pending
// approval) through POST /api/v1/auth/register.
func (e *env) registerUser(t *testing.T, role string) user {
	t.Helper()
	n := userSeq.Add(1)
	body := map[string]any{
		"name": "Test User", "email": fmt.Sprintf("u%d-%d@e2e.test", n, time.Now().UnixNano()),
		"phone": fmt.Sprintf("9%09d", (time.Now().UnixNano()+n)%1_000_000_000), "password": "Passw0rd1", "role": role,
	}
	var out struct {
		Data struct {
			User        struct{ ID string } `json:"user"`
			AccessToken string              `json:"accessToken"`
		} `json:"data"`
	}
	e.postJSON(t, "/api/v1/auth/register", body, http.StatusCreated, &out)
	if out.Data.User.ID == "" {
		t.Fatalf("register %s: no user id", role)
	}
	return user{ID: out.Data.User.ID, Token: out.Data.AccessToken}
}

// admin returns an admin known to the directory, with an access token.
// (orderapi cannot create admins through REST: they are seeded.)
func (e *env) admin(t *testing.T) user {
	t.Helper()
	id := hexID('a', userSeq.Add(1))
	e.dir.mu.Lock()
	e.dir.users[id] = map[string]any{"id": id, "name": "Admin", "email": id + "@admins.test", "role": "admin", "isActive": true, "isApproved": true}
	e.dir.mu.Unlock()
	tok, err := e.st.Signer().IssueAccess(id, id+"@admins.test", "admin")
	if err != nil {
		t.Fatal(err)
	}
	return user{ID: id, Token: tok}
}

func (e *env) postJSON(t *testing.T, path string, body any, want int, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(e.st.URL()+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("POST %s: got %d %s, want %d", path, resp.StatusCode, raw, want)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("POST %s: %v in %s", path, err, raw)
	}
}

// publish sends a domain event on the bus, as orderapi's relay would.
func (e *env) publish(t *testing.T, p event.Payload) {
	t.Helper()
	env, err := event.New(p, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.bus.Publish(context.Background(), env); err != nil {
		t.Fatal(err)
	}
}

// connect opens a JS socket through the front proxy and waits for it.
func (e *env) connect(t *testing.T, tr jsclient.Transport, opts jsclient.Options) *jsclient.Socket {
	t.Helper()
	opts.Transports = tr
	s := e.js.Connect(t, e.st.URL(), opts)
	s.WaitConnect(t)
	return s
}

// connectTo opens a JS socket straight to gateway replica i.
func (e *env) connectTo(t *testing.T, i int, tr jsclient.Transport) *jsclient.Socket {
	t.Helper()
	s := e.js.Connect(t, e.st.GatewayURL(i), jsclient.Options{Transports: tr})
	s.WaitConnect(t)
	return s
}

// obj decodes one event argument as an object.
func obj(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("arg %s is not an object: %v", raw, err)
	}
	return m
}

// register emits register and returns the registered reply.
func register(t *testing.T, s *jsclient.Socket, userID, role string) map[string]any {
	t.Helper()
	s.Emit("register", map[string]any{"userId": userID, "role": role})
	return obj(t, s.WaitEvent(t, "registered", wait, nil)[0])
}

// waitError waits for an error event with message msg.
func waitError(t *testing.T, s *jsclient.Socket, msg string) {
	t.Helper()
	s.WaitEvent(t, "error", wait, func(args []json.RawMessage) bool {
		return len(args) > 0 && obj(t, args[0])["message"] == msg
	})
}

// hexID returns a 24-hex id with the given prefix digit and number.
func hexID(prefix byte, n int64) string {
	return fmt.Sprintf("%c%023x", prefix, n)
}
