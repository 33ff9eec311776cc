package events

import (
	"encoding/json"
	"testing"

	"github.com/friendspizzahut/platform/test/jsclient"
	"github.com/friendspizzahut/platform/test/testapi"
)

// TestLifecycleViaREST drives an order through orderapi's real REST API
// (CONTRACT §5 scenarios 6–14) and checks the matrix on real sockets over
// two replicas: order:new to admins and agents but never customers,
// accept → status events, assign → full/short order:assigned and
// order:delivery:assigned, pickup, COD payment, delivery → order:delivered.
// The events come from orderapi's outbox, not from the test.
func TestLifecycleViaREST(t *testing.T) {
	e := sharedEnv(t)
	admin := e.Admin
	agent := e.API.OnlineAgent(t, admin, "Dev Agent") // online: orders can be assigned to it
	otherAgent := e.API.RegisterApprovedAgent(t, admin, "Oli Agent")
	customer := e.API.RegisterCustomer(t, "Cora Customer")
	otherCustomer := e.API.RegisterCustomer(t, "Carl Customer")

	socks := map[string]*jsclient.Socket{
		sAdmin:      e.connect(t, 0, jsclient.WebSocketOnly, admin.Token),
		sAgent:      e.connect(t, 1, jsclient.Default, ""),
		sOtherAgent: e.connect(t, 0, jsclient.PollingOnly, ""),
		sCustomer:   e.connect(t, 1, jsclient.WebSocketOnly, ""),
		sOtherCust:  e.connect(t, 0, jsclient.WebSocketOnly, ""),
		sAnon:       e.connect(t, 1, jsclient.PollingOnly, ""),
	}
	testapi.MustRegister(t, socks[sAdmin], admin)
	testapi.MustRegister(t, socks[sAgent], agent)
	testapi.MustRegister(t, socks[sOtherAgent], otherAgent)
	testapi.MustRegister(t, socks[sCustomer], customer)
	testapi.MustRegister(t, socks[sOtherCust], otherCustomer)
	all := make([]*jsclient.Socket, 0, len(socks))
	for _, s := range socks {
		all = append(all, s)
	}

	// Place an order from the cart.
	placed := e.API.PlaceOrder(t, customer)
	order := placed.ID
	isOrder := testapi.FieldIs("orderId", order)
	for _, kind := range []string{sAdmin, sAgent, sOtherAgent} {
		args := socks[kind].WaitEvent(t, "order:new", wait, isOrder)
		if testapi.Field(args, "_id") != order || testapi.Field(args, "customerId") != customer.ID || testapi.Field(args, "paymentMethod") != "cash" {
			t.Errorf("%s: order:new got %s", kind, testapi.Raw(args))
		}
	}

	// Admin accepts.
	e.API.Accept(t, admin, order)
	accepted := func(args []json.RawMessage) bool { return isOrder(args) && testapi.Field(args, "status") == "accepted" }
	socks[sAdmin].WaitEvent(t, "order:status:changed", wait, accepted)
	socks[sAdmin].WaitEvent(t, "order:status:update", wait, accepted)
	socks[sCustomer].WaitEvent(t, "order:status:update", wait, accepted)

	// Admin assigns the agent.
	e.API.Assign(t, admin, order, agent.ID)
	full := socks[sAgent].WaitEvent(t, "order:assigned", wait, isOrder)
	if testapi.Field(full, "paymentMethod") == "" || testapi.Field(full, "paymentStatus") == "" {
		t.Errorf("agent's order:assigned lacks paymentMethod/paymentStatus: %s", testapi.Raw(full))
	}
	short := socks[sAdmin].WaitEvent(t, "order:assigned", wait, isOrder)
	var s struct {
		DeliveryAgent struct {
			ID string `json:"_id"`
		} `json:"deliveryAgent"`
	}
	if json.Unmarshal(short[0], &s) != nil || s.DeliveryAgent.ID != agent.ID {
		t.Errorf("admin's order:assigned: got %s, want deliveryAgent._id %s", testapi.Raw(short), agent.ID)
	}
	socks[sCustomer].WaitEvent(t, "order:delivery:assigned", wait, isOrder)

	// Agent picks up, collects cash, delivers.
	e.API.SetStatus(t, agent, order, "out_for_delivery")
	out := func(args []json.RawMessage) bool {
		return isOrder(args) && testapi.Field(args, "status") == "out_for_delivery"
	}
	for _, kind := range []string{sAdmin, sAgent, sCustomer} {
		socks[kind].WaitEvent(t, "order:status:update", wait, out)
	}
	e.API.RecordCOD(t, agent, placed)
	socks[sAdmin].WaitEvent(t, "payment:received", wait, isOrder)
	socks[sCustomer].WaitEvent(t, "payment:status:update", wait, isOrder)
	e.API.SetStatus(t, agent, order, "delivered")
	socks[sAgent].WaitEvent(t, "order:delivered", wait, isOrder)

	// Negatives, once everything before the barrier has been delivered.
	e.Bus.Barrier(t, all...)
	never := map[string][]string{
		sCustomer:   {"order:new", "order:assigned", "order:status:changed", "order:delivered"},
		sOtherCust:  {"order:new", "order:status:update", "order:assigned", "order:delivery:assigned", "payment:received", "payment:status:update"},
		sAnon:       {"order:new", "order:status:update", "order:status:changed", "order:assigned", "payment:received", "notification:new"},
		sOtherAgent: {"order:assigned", "order:status:update", "order:delivered", "order:delivery:assigned", "payment:received"},
		sAgent:      {"order:status:changed", "order:delivery:assigned", "payment:received", "payment:status:update"},
		sAdmin:      {"order:delivery:assigned", "order:delivered", "payment:status:update"},
	}
	for kind, names := range never {
		for _, name := range names {
			if n := testapi.CountWith(socks[kind], name, "orderId", order); n != 0 {
				t.Errorf("%s: got %d × %s for the order, want none", kind, n, name)
			}
		}
	}
	// Exactly once: the order row events the apps insert without a duplicate check.
	if n := testapi.CountWith(socks[sAgent], "order:assigned", "orderId", order); n != 1 {
		t.Errorf("assigned agent: got %d × order:assigned, want 1", n)
	}
	if n := testapi.CountWith(socks[sAdmin], "order:new", "orderId", order); n != 1 {
		t.Errorf("admin: got %d × order:new, want 1", n)
	}
}
