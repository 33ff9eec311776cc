package events

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/shared/event"
	"github.com/friendspizzahut/platform/test/jsclient"
	"github.com/friendspizzahut/platform/test/testapi"
)

// TestRedisRestartMidStream restarts redis-server while a stream of order
// changes is being published (retrying, like the outbox relay): every
// event reaches the customer, the order room and the admins on both
// replicas exactly once.
func TestRedisRestartMidStream(t *testing.T) {
	e := ownEnv(t) // restarts Redis
	admin := e.Admin
	agent := e.API.OnlineAgent(t, admin, "Dev Agent")
	customer := e.API.RegisterCustomer(t, "Cora Customer")
	order := e.API.AssignedOrder(t, admin, customer, agent).ID

	socks := map[string]*jsclient.Socket{
		"admin on replica 1":    e.connect(t, 0, jsclient.WebSocketOnly, admin.Token),
		"admin on replica 2":    e.connect(t, 1, jsclient.PollingOnly, admin.Token),
		"customer on replica 2": e.connect(t, 1, jsclient.Default, ""),
		"agent on replica 1":    e.connect(t, 0, jsclient.WebSocketOnly, ""),
	}
	testapi.MustRegister(t, socks["admin on replica 1"], admin)
	testapi.MustRegister(t, socks["admin on replica 2"], admin)
	testapi.MustRegister(t, socks["customer on replica 2"], customer)
	testapi.MustRegister(t, socks["agent on replica 1"], agent)
	all := []*jsclient.Socket{socks["admin on replica 1"], socks["admin on replica 2"], socks["customer on replica 2"], socks["agent on replica 1"]}
	e.Bus.Barrier(t, all...)

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
				DeliveryAgentID: agent.ID, Status: "out_for_delivery", Message: fmt.Sprintf("step %d", i)}, testapi.NextAt())
			if err != nil {
				done <- err
				return
			}
			stamps[i] = testapi.ISO(env.At)
			// An error may hide a publish that went through: the retry then
			// repeats the same envelope, and the gateways must drop the copy.
			for e.Bus.Client().Publish(ctx, env) != nil {
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
	e.Stack.Redis().Restart(t)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for i := range n {
		for _, s := range all {
			s.WaitEvent(t, "order:status:update", wait, testapi.FieldIs("timestamp", stamps[i]))
		}
	}
	e.Bus.Barrier(t, all...)
	for i := range n {
		for name, s := range socks {
			want := map[string]int{"order:status:update": 1, "order:status:changed": 0}
			if name == "admin on replica 1" || name == "admin on replica 2" {
				want["order:status:changed"] = 1
			}
			for ev, w := range want {
				if got := testapi.CountWith(s, ev, "timestamp", stamps[i]); got != w {
					t.Errorf("step %d: %s got %d × %s, want %d", i, name, got, ev, w)
				}
			}
		}
	}
}

// TestSameEnvelopeTwice publishes one envelope (same id) twice: every
// socket gets it once, on both replicas.
func TestSameEnvelopeTwice(t *testing.T) {
	e := sharedEnv(t)
	admin := e.Admin
	a1 := e.connect(t, 0, jsclient.WebSocketOnly, admin.Token)
	a2 := e.connect(t, 1, jsclient.PollingOnly, admin.Token)
	testapi.MustRegister(t, a1, admin)
	testapi.MustRegister(t, a2, admin)
	e.Bus.Barrier(t, a1, a2)

	env, err := event.New(&event.DeliveryStatus{DeliveryAgentID: testapi.NewID(), Name: "Dev", Status: "busy"}, testapi.NextAt())
	if err != nil {
		t.Fatal(err)
	}
	e.Bus.PublishEnvelope(t, env)
	e.Bus.PublishEnvelope(t, env)
	e.Bus.Barrier(t, a1, a2)
	for i, s := range []*jsclient.Socket{a1, a2} {
		if got := testapi.CountWith(s, "delivery:status:update", "timestamp", testapi.ISO(env.At)); got != 1 {
			t.Errorf("admin on replica %d: got %d deliveries, want 1", i+1, got)
		}
	}
}

// TestLocationAcrossReplicas: a delivery:location from the assigned agent
// on replica 1 reaches the customer, the admin and the order room on
// replica 2 (and the admin on replica 1), through Redis; never an agent,
// not even the sender.
func TestLocationAcrossReplicas(t *testing.T) {
	e := sharedEnv(t)
	admin := e.Admin
	agent := e.API.OnlineAgent(t, admin, "Dev Agent")
	otherAgent := e.API.RegisterApprovedAgent(t, admin, "Oli Agent")
	customer := e.API.RegisterCustomer(t, "Cora Customer")
	otherCustomer := e.API.RegisterCustomer(t, "Carl Customer")
	order := e.API.AssignedOrder(t, admin, customer, agent).ID

	sender := e.connect(t, 0, jsclient.WebSocketOnly, "")
	testapi.MustRegister(t, sender, agent)
	testapi.JoinOrder(t, sender, order)
	recv := map[string]*jsclient.Socket{
		"customer on replica 2": e.connect(t, 1, jsclient.WebSocketOnly, ""),
		"admin on replica 2":    e.connect(t, 1, jsclient.PollingOnly, admin.Token),
		"admin on replica 1":    e.connect(t, 0, jsclient.Default, admin.Token),
		"member on replica 2":   e.connect(t, 1, jsclient.WebSocketOnly, customer.Token),
	}
	never := map[string]*jsclient.Socket{
		"sending agent":            sender,
		"other agent on replica 2": e.connect(t, 1, jsclient.WebSocketOnly, ""),
		"agent's second socket":    e.connect(t, 1, jsclient.PollingOnly, ""),
		"other customer":           e.connect(t, 1, jsclient.WebSocketOnly, ""),
	}
	testapi.MustRegister(t, recv["customer on replica 2"], customer)
	testapi.MustRegister(t, recv["admin on replica 2"], admin)
	testapi.MustRegister(t, recv["admin on replica 1"], admin)
	testapi.JoinOrder(t, recv["member on replica 2"], order)
	testapi.MustRegister(t, never["other agent on replica 2"], otherAgent)
	testapi.MustRegister(t, never["agent's second socket"], agent)
	testapi.MustRegister(t, never["other customer"], otherCustomer)

	ack := sender.EmitWithAck(t, wait, "delivery:location", map[string]any{"orderId": order, "latitude": 18.5204, "longitude": 73.8567})
	if len(ack) == 0 || testapi.Field(ack, "message") != "" {
		t.Fatalf("delivery:location ack: got %s, want success", testapi.Raw(ack))
	}
	for name, s := range recv {
		args := s.WaitEvent(t, "delivery:location:update", wait, testapi.FieldIs("orderId", order))
		var got struct {
			OrderID       string         `json:"orderId"`
			DeliveryBoyID string         `json:"deliveryBoyId"`
			Location      event.Location `json:"location"`
			Timestamp     string         `json:"timestamp"`
		}
		if err := json.Unmarshal(args[0], &got); err != nil || got.DeliveryBoyID != agent.ID || got.Location.Latitude != 18.5204 || got.Timestamp == "" {
			t.Errorf("%s: got %s, want the agent's location with a timestamp", name, testapi.Raw(args))
		}
	}
	socks := []*jsclient.Socket{}
	for _, s := range recv {
		socks = append(socks, s)
	}
	for _, s := range never {
		socks = append(socks, s)
	}
	e.Bus.Barrier(t, socks...)
	for name, s := range recv {
		if got := testapi.CountWith(s, "delivery:location:update", "orderId", order); got != 1 {
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
	e := ownEnv(t) // kills and restarts orderapi
	admin := e.Admin
	agent := e.API.RegisterApprovedAgent(t, admin, "Dev Agent")
	agentID := agent.ID

	adminSock := e.connect(t, 1, jsclient.WebSocketOnly, admin.Token)
	agentSock := e.connect(t, 0, jsclient.PollingOnly, "")
	testapi.MustRegister(t, adminSock, admin)
	testapi.MustRegister(t, agentSock, agent)

	e.Stack.RestartOrderAPI(t, map[string]string{"OUTBOX_RELAY": "off"})
	e.API.AgentOnline(t, agent, true)
	// Committed but not published: nothing reached the sockets yet.
	e.Bus.Barrier(t, adminSock, agentSock)
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

	e.Stack.KillOrderAPI()
	e.Stack.StartOrderAPI(t, nil)
	adminSock.WaitEvent(t, "delivery:agent:status:update", wait, online)
	agentSock.WaitEvent(t, "delivery:agent:status:update", wait, online)
	e.Bus.Barrier(t, adminSock, agentSock)
	for name, s := range map[string]*jsclient.Socket{"admin": adminSock, "agent": agentSock} {
		if c := count(s); c != 1 {
			t.Errorf("%s: got %d agent online events, want 1", name, c)
		}
	}
}
