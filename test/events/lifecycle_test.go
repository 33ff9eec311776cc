package events

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/friendspizzahut/platform/test/jsclient"
)

// TestLifecycleViaREST drives an order through orderapi's real REST API
// (CONTRACT §5 scenarios 6–14) and checks the matrix on real sockets over
// two replicas: order:new to admins and agents but never customers,
// accept → status events, assign → full/short order:assigned and
// order:delivery:assigned, pickup, COD payment, delivery → order:delivered.
// The events come from orderapi's outbox, not from the test. It skips at
// the first route orderapi does not serve yet.
func TestLifecycleViaREST(t *testing.T) {
	e := startEnv(t, nil)
	admin := e.seededAdmin(t)
	agent := e.realAgent(t, admin, "Dev Agent")
	otherAgent := e.realAgent(t, admin, "Oli Agent")
	customer := e.customer(t, "Cora Customer")
	otherCustomer := e.customer(t, "Carl Customer")

	socks := map[string]*jsclient.Socket{
		sAdmin:      e.connect(t, 0, jsclient.WebSocketOnly, ""),
		sAgent:      e.connect(t, 1, jsclient.Default, ""),
		sOtherAgent: e.connect(t, 0, jsclient.PollingOnly, ""),
		sCustomer:   e.connect(t, 1, jsclient.WebSocketOnly, ""),
		sOtherCust:  e.connect(t, 0, jsclient.WebSocketOnly, ""),
		sAnon:       e.connect(t, 1, jsclient.PollingOnly, ""),
	}
	register(t, socks[sAdmin], admin)
	register(t, socks[sAgent], agent)
	register(t, socks[sOtherAgent], otherAgent)
	register(t, socks[sCustomer], customer)
	register(t, socks[sOtherCust], otherCustomer)
	all := make([]*jsclient.Socket, 0, len(socks))
	for _, s := range socks {
		all = append(all, s)
	}

	// Place an order from the cart.
	var products struct {
		Data []struct {
			ID      string          `json:"_id"`
			Pricing json.RawMessage `json:"pricing"`
		} `json:"data"`
	}
	e.do(t, http.MethodGet, "/api/v1/products?limit=1&isAvailable=true", "", nil, &products)
	if len(products.Data) == 0 {
		t.Skip("no products: orderapi does not seed a menu yet")
	}
	item := map[string]any{"productId": products.Data[0].ID, "quantity": 1}
	var sizes map[string]float64
	if json.Unmarshal(products.Data[0].Pricing, &sizes) == nil {
		for _, size := range []string{"medium", "small", "large"} {
			if _, ok := sizes[size]; ok {
				item["size"] = size
				break
			}
		}
	}
	if st := e.do(t, http.MethodPost, "/api/v1/cart/items", customer.Token, item, nil); st/100 != 2 {
		t.Fatalf("add to cart: got %d", st)
	}
	var placed struct {
		Data struct {
			ID          string `json:"_id"`
			OrderNumber string `json:"orderNumber"`
		} `json:"data"`
	}
	if st := e.do(t, http.MethodPost, "/api/v1/orders/from-cart", customer.Token, map[string]any{
		"deliveryAddress": map[string]any{"street": "1 Main St", "city": "Pune", "state": "MH", "pincode": "411001"},
		"contactPhone":    "8000000001", "paymentMethod": "cash"}, &placed); st != http.StatusCreated {
		t.Fatalf("place order: got %d, want 201", st)
	}
	order := placed.Data.ID
	isOrder := fieldIs("orderId", order)
	for _, kind := range []string{sAdmin, sAgent, sOtherAgent} {
		args := socks[kind].WaitEvent(t, "order:new", wait, isOrder)
		if field(args, "_id") != order || field(args, "customerId") != customer.ID || field(args, "paymentMethod") != "cash" {
			t.Errorf("%s: order:new got %s", kind, raw(args))
		}
	}

	// Admin accepts.
	if st := e.do(t, http.MethodPost, "/api/v1/orders/"+order+"/accept", admin.Token, nil, nil); st != http.StatusOK {
		t.Fatalf("accept: got %d, want 200", st)
	}
	accepted := func(args []json.RawMessage) bool { return isOrder(args) && field(args, "status") == "accepted" }
	socks[sAdmin].WaitEvent(t, "order:status:changed", wait, accepted)
	socks[sAdmin].WaitEvent(t, "order:status:update", wait, accepted)
	socks[sCustomer].WaitEvent(t, "order:status:update", wait, accepted)

	// Admin assigns the agent.
	if st := e.do(t, http.MethodPatch, "/api/v1/orders/"+order+"/assign-delivery", admin.Token, map[string]any{"deliveryAgentId": agent.ID}, nil); st != http.StatusOK {
		t.Fatalf("assign: got %d, want 200", st)
	}
	full := socks[sAgent].WaitEvent(t, "order:assigned", wait, isOrder)
	if field(full, "paymentMethod") == "" || field(full, "paymentStatus") == "" {
		t.Errorf("agent's order:assigned lacks paymentMethod/paymentStatus: %s", raw(full))
	}
	short := socks[sAdmin].WaitEvent(t, "order:assigned", wait, isOrder)
	var s struct {
		DeliveryAgent struct {
			ID string `json:"_id"`
		} `json:"deliveryAgent"`
	}
	if json.Unmarshal(short[0], &s) != nil || s.DeliveryAgent.ID != agent.ID {
		t.Errorf("admin's order:assigned: got %s, want deliveryAgent._id %s", raw(short), agent.ID)
	}
	socks[sCustomer].WaitEvent(t, "order:delivery:assigned", wait, isOrder)

	// Agent picks up, collects cash, delivers.
	if st := e.do(t, http.MethodPatch, "/api/v1/orders/"+order+"/status", agent.Token, map[string]any{"status": "out_for_delivery"}, nil); st != http.StatusOK {
		t.Fatalf("pickup: got %d, want 200", st)
	}
	out := func(args []json.RawMessage) bool { return isOrder(args) && field(args, "status") == "out_for_delivery" }
	for _, kind := range []string{sAdmin, sAgent, sCustomer} {
		socks[kind].WaitEvent(t, "order:status:update", wait, out)
	}
	var got struct {
		Data struct {
			Order struct {
				TotalAmount float64 `json:"totalAmount"`
			} `json:"order"`
		} `json:"data"`
	}
	e.do(t, http.MethodGet, "/api/v1/orders/"+order, admin.Token, nil, &got)
	if st := e.do(t, http.MethodPost, "/api/v1/payments", agent.Token, map[string]any{"order": order, "user": agent.ID, "amount": got.Data.Order.TotalAmount,
		"paymentMethod": "cod", "collectionMethod": "cash", "paymentStatus": "completed"}, nil); st != http.StatusCreated {
		t.Fatalf("payment: got %d, want 201", st)
	}
	socks[sAdmin].WaitEvent(t, "payment:received", wait, isOrder)
	socks[sCustomer].WaitEvent(t, "payment:status:update", wait, isOrder)
	if st := e.do(t, http.MethodPatch, "/api/v1/orders/"+order+"/status", agent.Token, map[string]any{"status": "delivered"}, nil); st != http.StatusOK {
		t.Fatalf("deliver: got %d, want 200", st)
	}
	socks[sAgent].WaitEvent(t, "order:delivered", wait, isOrder)

	// Negatives, once everything before the barrier has been delivered.
	e.barrier(t, all...)
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
			if n := countWith(socks[kind], name, "orderId", order); n != 0 {
				t.Errorf("%s: got %d × %s for the order, want none", kind, n, name)
			}
		}
	}
	// Exactly once: the order row events the apps insert without a duplicate check.
	if n := countWith(socks[sAgent], "order:assigned", "orderId", order); n != 1 {
		t.Errorf("assigned agent: got %d × order:assigned, want 1", n)
	}
	if n := countWith(socks[sAdmin], "order:new", "orderId", order); n != 1 {
		t.Errorf("admin: got %d × order:new, want 1", n)
	}
}
