package events

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/shared/event"
	"github.com/friendspizzahut/platform/test/jsclient"
)

// TestRedisRestartMidStream restarts redis-server while a stream of order
// changes is being published (retrying, like the outbox relay): every
// event reaches the customer, the order room and the admins on both
// replicas exactly once.
func TestRedisRestartMidStream(t *testing.T) {
	e := startEnv(t, nil)
	admin := e.fakeUser(t, "admin", "Ada Admin")
	agent := e.fakeUser(t, "delivery", "Dev Agent")
	customer := e.customer(t, "Cora Customer")
	order := e.fakeOrder(customer, agent)

	socks := map[string]*jsclient.Socket{
		"admin on replica 1":    e.connect(t, 0, jsclient.WebSocketOnly, ""),
		"admin on replica 2":    e.connect(t, 1, jsclient.PollingOnly, ""),
		"customer on replica 2": e.connect(t, 1, jsclient.Default, ""),
		"agent on replica 1":    e.connect(t, 0, jsclient.WebSocketOnly, ""),
	}
	register(t, socks["admin on replica 1"], admin)
	register(t, socks["admin on replica 2"], admin)
	register(t, socks["customer on replica 2"], customer)
	register(t, socks["agent on replica 1"], agent)
	all := []*jsclient.Socket{socks["admin on replica 1"], socks["admin on replica 2"], socks["customer on replica 2"], socks["agent on replica 1"]}
	e.barrier(t, all...)

	const n = 60
	stamps := make([]string, n)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	halfway := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		for i := range n {
			if i == n/2 {
				close(halfway)
			}
			env, err := event.New(&event.OrderStatusChangedData{OrderID: order, OrderNumber: "ORD", CustomerID: customer.ID,
				DeliveryAgentID: agent.ID, Status: "out_for_delivery", Message: fmt.Sprintf("step %d", i)}, nextAt())
			if err != nil {
				done <- err
				return
			}
			stamps[i] = iso(env.At)
			// An error may hide a publish that went through: the retry then
			// repeats the same envelope, and the gateways must drop the copy.
			for e.bus.Publish(ctx, env) != nil {
				select {
				case <-ctx.Done():
					done <- fmt.Errorf("publish step %d: %w", i, ctx.Err())
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
		}
		done <- nil
	}()
	<-halfway
	e.st.Redis().Restart(t)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for i := range n {
		for _, s := range all {
			s.WaitEvent(t, "order:status:update", wait, fieldIs("timestamp", stamps[i]))
		}
	}
	e.barrier(t, all...)
	for i := range n {
		for name, s := range socks {
			want := map[string]int{"order:status:update": 1, "order:status:changed": 0}
			if name == "admin on replica 1" || name == "admin on replica 2" {
				want["order:status:changed"] = 1
			}
			for ev, w := range want {
				if got := countWith(s, ev, "timestamp", stamps[i]); got != w {
					t.Errorf("step %d: %s got %d × %s, want %d", i, name, got, ev, w)
				}
			}
		}
	}
}

// TestSameEnvelopeTwice publishes one envelope (same id) twice: every
// socket gets it once, on both replicas.
func TestSameEnvelopeTwice(t *testing.T) {
	e := startEnv(t, nil)
	admin := e.fakeUser(t, "admin", "Ada Admin")
	a1 := e.connect(t, 0, jsclient.WebSocketOnly, "")
	a2 := e.connect(t, 1, jsclient.PollingOnly, "")
	register(t, a1, admin)
	register(t, a2, admin)
	e.barrier(t, a1, a2)

	env, err := event.New(&event.DeliveryStatus{DeliveryAgentID: newID(), Name: "Dev", Status: "busy"}, nextAt())
	if err != nil {
		t.Fatal(err)
	}
	e.publishEnvelope(t, env)
	e.publishEnvelope(t, env)
	e.barrier(t, a1, a2)
	for i, s := range []*jsclient.Socket{a1, a2} {
		if got := countWith(s, "delivery:status:update", "timestamp", iso(env.At)); got != 1 {
			t.Errorf("admin on replica %d: got %d deliveries, want 1", i+1, got)
		}
	}
}

// TestLocationAcrossReplicas: a delivery:location from the assigned agent
// on replica 1 reaches the customer, the admin and the order room on
// replica 2 (and the admin on replica 1), through Redis; never an agent,
// not even the sender.
func TestLocationAcrossReplicas(t *testing.T) {
	e := startEnv(t, nil)
	admin := e.fakeUser(t, "admin", "Ada Admin")
	agent := e.fakeUser(t, "delivery", "Dev Agent")
	otherAgent := e.fakeUser(t, "delivery", "Oli Agent")
	customer := e.customer(t, "Cora Customer")
	order := e.fakeOrder(customer, agent)

	sender := e.connect(t, 0, jsclient.WebSocketOnly, "")
	register(t, sender, agent)
	joinOrder(t, sender, order)
	recv := map[string]*jsclient.Socket{
		"customer on replica 2": e.connect(t, 1, jsclient.WebSocketOnly, ""),
		"admin on replica 2":    e.connect(t, 1, jsclient.PollingOnly, ""),
		"admin on replica 1":    e.connect(t, 0, jsclient.Default, ""),
		"member on replica 2":   e.connect(t, 1, jsclient.WebSocketOnly, customer.Token),
	}
	never := map[string]*jsclient.Socket{
		"sending agent":            sender,
		"other agent on replica 2": e.connect(t, 1, jsclient.WebSocketOnly, ""),
		"agent's second socket":    e.connect(t, 1, jsclient.PollingOnly, ""),
		"other customer":           e.connect(t, 1, jsclient.WebSocketOnly, ""),
	}
	register(t, recv["customer on replica 2"], customer)
	register(t, recv["admin on replica 2"], admin)
	register(t, recv["admin on replica 1"], admin)
	joinOrder(t, recv["member on replica 2"], order)
	register(t, never["other agent on replica 2"], otherAgent)
	register(t, never["agent's second socket"], agent)
	register(t, never["other customer"], e.customer(t, "Carl Customer"))

	ack := sender.EmitWithAck(t, wait, "delivery:location", map[string]any{"orderId": order, "latitude": 18.5204, "longitude": 73.8567})
	if len(ack) == 0 || field(ack, "message") != "" {
		t.Fatalf("delivery:location ack: got %s, want success", raw(ack))
	}
	for name, s := range recv {
		args := s.WaitEvent(t, "delivery:location:update", wait, fieldIs("orderId", order))
		var got struct {
			OrderID       string         `json:"orderId"`
			DeliveryBoyID string         `json:"deliveryBoyId"`
			Location      event.Location `json:"location"`
			Timestamp     string         `json:"timestamp"`
		}
		if err := json.Unmarshal(args[0], &got); err != nil || got.DeliveryBoyID != agent.ID || got.Location.Latitude != 18.5204 || got.Timestamp == "" {
			t.Errorf("%s: got %s, want the agent's location with a timestamp", name, raw(args))
		}
	}
	socks := []*jsclient.Socket{}
	for _, s := range recv {
		socks = append(socks, s)
	}
	for _, s := range never {
		socks = append(socks, s)
	}
	e.barrier(t, socks...)
	for name, s := range recv {
		if got := countWith(s, "delivery:location:update", "orderId", order); got != 1 {
			t.Errorf("%s: got %d location updates, want 1", name, got)
		}
	}
	for name, s := range never {
		if got := len(s.Events("delivery:location:update")); got != 0 {
			t.Errorf("%s: got %d location updates, want 0", name, got)
		}
	}
}

// TestOrderAPIKilledBeforePublish: orderapi commits a change with its
// outbox relay off (so the event is written, not published), is SIGKILLed,
// and starts again with the relay on: the event then reaches the sockets,
// once.
func TestOrderAPIKilledBeforePublish(t *testing.T) {
	e := startEnv(t, nil)
	admin := e.seededAdmin(t)

	agent := e.realAgent(t, admin, "Dev Agent")
	agentID := agent.ID

	adminSock := e.connect(t, 1, jsclient.WebSocketOnly, "")
	agentSock := e.connect(t, 0, jsclient.PollingOnly, "")
	register(t, adminSock, admin)
	register(t, agentSock, agent)

	e.st.RestartOrderAPI(t, map[string]string{"OUTBOX_RELAY": "off"})
	if st := e.do(t, http.MethodPatch, "/api/v1/delivery-agent/status", agent.Token, map[string]any{"isOnline": true}, nil); st != http.StatusOK {
		t.Fatalf("agent goes online: got %d, want 200", st)
	}
	// Committed but not published: nothing reached the sockets yet.
	e.barrier(t, adminSock, agentSock)
	online := func(args []json.RawMessage) bool {
		var p struct {
			ID       string `json:"deliveryAgentId"`
			IsOnline bool   `json:"isOnline"`
		}
		return len(args) > 0 && json.Unmarshal(args[0], &p) == nil && p.ID == agentID && p.IsOnline
	}
	count := func(s *jsclient.Socket) int {
		c := 0
		for _, args := range s.Events("delivery:agent:status:update") {
			if online(args) {
				c++
			}
		}
		return c
	}
	if c := count(adminSock); c != 0 {
		t.Fatalf("with the relay off the admin got %d agent online events, want 0", c)
	}

	e.st.KillOrderAPI()
	e.st.StartOrderAPI(t, nil)
	adminSock.WaitEvent(t, "delivery:agent:status:update", wait, online)
	agentSock.WaitEvent(t, "delivery:agent:status:update", wait, online)
	e.barrier(t, adminSock, agentSock)
	for name, s := range map[string]*jsclient.Socket{"admin": adminSock, "agent": agentSock} {
		if c := count(s); c != 1 {
			t.Errorf("%s: got %d agent online events, want 1", name, c)
		}
	}
}

// realAgent signs up a delivery agent through REST, has admin approve it
// (PATCH /users/{id}) and logs it in.
func (e *env) realAgent(t *testing.T, admin user, name string) user {
	t.Helper()
	n := seq.Add(1)
	email := fmt.Sprintf("d%d-%d@events.test", n, time.Now().UnixNano())
	var reg loginData
	if st := e.do(t, http.MethodPost, "/api/v1/auth/register", "", map[string]any{"name": name, "email": email,
		"phone": fmt.Sprintf("7%09d", (time.Now().UnixNano()+n)%1_000_000_000), "password": "Passw0rd1", "role": "delivery",
		"vehicleInfo": map[string]any{"type": "bike"}}, &reg); st != http.StatusCreated {
		t.Fatalf("agent register: got %d, want 201", st)
	}
	id := reg.Data.User.ID
	if st := e.do(t, http.MethodPatch, "/api/v1/users/"+id, admin.Token, map[string]any{"isApproved": true, "isRejected": false,
		"rejectionReason": nil, "isActive": true}, nil); st != http.StatusOK {
		t.Fatalf("approve agent: got %d, want 200", st)
	}
	var login loginData
	if st := e.do(t, http.MethodPost, "/api/v1/auth/login", "", map[string]any{"email": email, "password": "Passw0rd1"}, &login); st != http.StatusOK {
		t.Fatalf("agent login: got %d, want 200", st)
	}
	return user{ID: id, Role: "delivery", Name: name, Token: login.Data.AccessToken}
}

// seededAdmin logs in as the admin orderapi seeds (SEED=true); it skips
// the test while orderapi does not seed yet.
func (e *env) seededAdmin(t *testing.T) user {
	t.Helper()
	email, password := e.st.AdminCredentials()
	var login loginData
	st := e.do(t, http.MethodPost, "/api/v1/auth/login", "", map[string]any{"email": email, "password": password}, &login)
	if st == http.StatusUnauthorized && strings.Contains(e.st.Log("orderapi"), "seeding is not implemented") {
		t.Skip("orderapi does not seed the admin yet (SEED=true not implemented)")
	}
	if st != http.StatusOK {
		t.Fatalf("admin login: got %d, want 200", st)
	}
	return user{ID: login.Data.User.ID, Role: "admin", Token: login.Data.AccessToken}
}

type loginData struct {
	Data struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		AccessToken string `json:"accessToken"`
	} `json:"data"`
}

// do sends a JSON request through the front proxy and returns the status;
// out (if not nil) gets the decoded body of a 2xx answer. A route orderapi
// does not serve yet skips the test (the contract is ahead of the code).
func (e *env) do(t *testing.T, method, path, token string, body, out any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, e.st.URL()+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusNotFound && bytes.Contains(raw, []byte(`"Route `)) {
		t.Skipf("orderapi does not serve %s %s yet", method, path)
	}
	if resp.StatusCode/100 == 2 && out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	if resp.StatusCode/100 != 2 {
		t.Logf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode
}
