// Package events holds the end-to-end tests of issue 3: domain events from
// the bus (or from orderapi's outbox) reach exactly the sockets the routing
// matrix (DESIGN §4) names, on every gateway replica, once each, across a
// Redis restart and an orderapi crash.
//
// The stack is test/harness (redis-server, FerretDB, orderapi, two gateway
// processes, front proxy); the clients are the real socket.io-client 4.8
// (test/jsclient) connected directly to each replica. Customers are real
// orderapi users; admins, agents and order parties come from a small fake
// of orderapi's internal API (orderapi cannot approve agents or take orders
// yet), which the gateways use as ORDERAPI_URL and which forwards every
// other lookup to the real orderapi.
package events

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
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

const wait = 20 * time.Second

// directory fakes orderapi's internal API for the users and orders it
// knows, and forwards everything else to the real orderapi.
type directory struct {
	srv      *httptest.Server
	upstream atomic.Pointer[string]

	mu      sync.Mutex
	users   map[string]map[string]any
	parties map[string]map[string]any
}

func startDirectory(t *testing.T) *directory {
	t.Helper()
	d := &directory{users: map[string]map[string]any{}, parties: map[string]map[string]any{}}
	d.srv = httptest.NewServer(http.HandlerFunc(d.serve))
	t.Cleanup(d.srv.Close)
	return d
}

func (d *directory) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Internal-Token") != harness.InternalToken {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	d.mu.Lock()
	var body map[string]any
	if id, ok := strings.CutPrefix(r.URL.Path, "/internal/v1/orders/"); ok {
		body = d.parties[strings.TrimSuffix(id, "/parties")]
	} else {
		body = d.users[strings.TrimPrefix(r.URL.Path, "/internal/v1/users/")]
	}
	d.mu.Unlock()
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
	req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, *up+r.URL.Path, nil)
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

// env is a running stack, the fake directory, a JS driver and a bus
// client that publishes like orderapi's relay.
type env struct {
	st  *harness.Stack
	dir *directory
	js  *jsclient.Driver
	bus *bus.Bus
}

func startEnv(t *testing.T, orderapiEnv map[string]string) *env {
	t.Helper()
	dir := startDirectory(t)
	st := harness.Start(t, harness.Options{Gateways: 2, OrderAPIEnv: orderapiEnv,
		GatewayEnv: map[string]string{"ORDERAPI_URL": dir.srv.URL}})
	up := st.OrderAPIURL()
	dir.upstream.Store(&up)
	b, err := bus.New(bus.Config{URL: st.RedisURL}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return &env{st: st, dir: dir, js: jsclient.Start(t), bus: b}
}

// user is someone a socket registers as.
type user struct {
	ID    string
	Role  string
	Name  string
	Token string
}

var seq atomic.Int64

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// customer signs up a real customer through POST /api/v1/auth/register.
func (e *env) customer(t *testing.T, name string) user {
	t.Helper()
	n := seq.Add(1)
	body := map[string]any{
		"name": name, "email": fmt.Sprintf("c%d-%d@events.test", n, time.Now().UnixNano()),
		"phone": fmt.Sprintf("8%09d", (time.Now().UnixNano()+n)%1_000_000_000), "password": "Passw0rd1",
	}
	var out struct {
		Data struct {
			User        struct{ ID string } `json:"user"`
			AccessToken string              `json:"accessToken"`
		} `json:"data"`
	}
	e.post(t, "/api/v1/auth/register", "", body, http.StatusCreated, &out)
	if out.Data.User.ID == "" || out.Data.AccessToken == "" {
		t.Fatalf("register customer: no id or token")
	}
	return user{ID: out.Data.User.ID, Role: "customer", Name: name, Token: out.Data.AccessToken}
}

// fakeUser adds an active, approved user of role to the fake directory.
func (e *env) fakeUser(t *testing.T, role, name string) user {
	t.Helper()
	id := newID()
	e.dir.mu.Lock()
	e.dir.users[id] = map[string]any{"id": id, "name": name, "email": id + "@events.test", "role": role, "isActive": true, "isApproved": true}
	e.dir.mu.Unlock()
	tok, err := e.st.Signer().IssueAccess(id, id+"@events.test", role)
	if err != nil {
		t.Fatal(err)
	}
	return user{ID: id, Role: role, Name: name, Token: tok}
}

// fakeOrder makes an order known to the directory (for join:order and
// delivery:location) and returns its id.
func (e *env) fakeOrder(customer, agent user) string {
	id := newID()
	e.dir.mu.Lock()
	defer e.dir.mu.Unlock()
	e.dir.parties[id] = map[string]any{"orderId": id, "orderNumber": "ORD-" + strings.ToUpper(id[18:]), "customerId": customer.ID,
		"deliveryAgentId": agent.ID, "deliveryAgentName": agent.Name, "status": "out_for_delivery"}
	return id
}

func (e *env) post(t *testing.T, path, token string, body any, want int, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, e.st.URL()+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("POST %s: got %d %s, want %d", path, resp.StatusCode, raw, want)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("POST %s: %v in %s", path, err, raw)
		}
	}
}

// at returns a fresh event time, unique to the millisecond within this
// test binary: payloads carry it as timestamp, which tells the sockets'
// events of one published envelope from all others.
var atBase = time.Now().UTC().Truncate(time.Millisecond)

func nextAt() time.Time { return atBase.Add(time.Duration(seq.Add(1)) * time.Millisecond) }

func iso(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// publish wraps p in a fresh envelope and publishes it as the relay would.
func (e *env) publish(t *testing.T, p event.Payload) event.Envelope {
	t.Helper()
	env, err := event.New(p, nextAt())
	if err != nil {
		t.Fatalf("event.New: %v", err)
	}
	e.publishEnvelope(t, env)
	return env
}

func (e *env) publishEnvelope(t *testing.T, env event.Envelope) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.bus.Publish(ctx, env); err != nil {
		t.Fatalf("publish: %v", err)
	}
}

// connect opens a socket straight to gateway replica gw.
func (e *env) connect(t *testing.T, gw int, tr jsclient.Transport, token string) *jsclient.Socket {
	t.Helper()
	opts := jsclient.Options{Transports: tr}
	if token != "" {
		opts.Auth = map[string]any{"token": token}
	}
	s := e.js.Connect(t, e.st.GatewayURL(gw), opts)
	s.WaitConnect(t)
	return s
}

// register emits register like the apps (no token) and waits for success.
func register(t *testing.T, s *jsclient.Socket, u user) {
	t.Helper()
	s.Emit("register", map[string]any{"userId": u.ID, "role": u.Role})
	args := s.WaitEvent(t, "registered", wait, nil)
	var r struct {
		Success bool   `json:"success"`
		Message string `json:"message"`
	}
	if len(args) == 0 || json.Unmarshal(args[0], &r) != nil || !r.Success {
		t.Fatalf("register %s %s: got %s, want success", u.Role, u.ID, raw(args))
	}
}

func joinOrder(t *testing.T, s *jsclient.Socket, orderID string) {
	t.Helper()
	ack := s.EmitWithAck(t, wait, "join:order", orderID)
	var r struct {
		Success bool `json:"success"`
	}
	if len(ack) == 0 || json.Unmarshal(ack[0], &r) != nil || !r.Success {
		t.Fatalf("join:order %s: got %s, want success", orderID, raw(ack))
	}
}

// fieldIs matches events whose first arg has key == want.
func fieldIs(key, want string) func([]json.RawMessage) bool {
	return func(args []json.RawMessage) bool { return field(args, key) == want }
}

func field(args []json.RawMessage, key string) string {
	if len(args) == 0 {
		return ""
	}
	var m map[string]any
	if json.Unmarshal(args[0], &m) != nil {
		return ""
	}
	s, _ := m[key].(string)
	return s
}

// countWith counts the socket's events named name whose key == want.
func countWith(s *jsclient.Socket, name, key, want string) int {
	n := 0
	for _, args := range s.Events(name) {
		if field(args, key) == want {
			n++
		}
	}
	return n
}

func raw(args []json.RawMessage) string {
	var parts []string
	for _, a := range args {
		parts = append(parts, string(a))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// barrier publishes an event every socket receives (business:status:update
// to room "all") and waits until each of socks has it. Each replica routes
// in publish order and each socket's queue is FIFO, so afterwards every
// event published before the barrier has reached these sockets, or never
// will: negative checks need no fixed sleep.
func (e *env) barrier(t *testing.T, socks ...*jsclient.Socket) {
	t.Helper()
	env := e.publish(t, &event.BusinessStatus{IsOpen: true, BusinessName: "barrier"})
	ts := iso(env.At)
	for _, s := range socks {
		s.WaitEvent(t, "business:status:update", wait, fieldIs("timestamp", ts))
	}
}
