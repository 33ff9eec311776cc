package events

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/shared/event"
	"github.com/friendspizzahut/platform/test/jsclient"
	"github.com/friendspizzahut/platform/test/testapi"
)

// Socket kinds of the matrix test, and the replica each one is on.
const (
	sAdmin      = "admin"          // registered admin
	sAgent      = "assigned agent" // registered agent assigned to the order; also joined order:<id>
	sOtherAgent = "other agent"    // registered agent, not assigned
	sCustomer   = "customer"       // registered customer of the order
	sOtherCust  = "other customer" // registered customer, someone else
	sAnon       = "unregistered"   // connected, never registered
	sMember     = "order member"   // the customer's token socket that joined order:<id> without registering
)

var replicaOf = map[string]int{sAdmin: 0, sAgent: 1, sOtherAgent: 0, sCustomer: 1, sOtherCust: 0, sAnon: 1, sMember: 0}

// socketEvents are all socket events the matrix can emit.
var socketEvents = []string{
	"business:status:update", "order:new", "order:status:update", "order:status:changed", "order:delivered",
	"order:assigned", "order:delivery:assigned", "order:cancelled", "delivery:status:update",
	"delivery:agent:status:update", "delivery:location:update", "payment:received", "payment:status:update",
	"notification:new", "offer:new",
}

type parties struct {
	order, number                      string
	admin, agent, otherAgent, customer testapi.User
}

func snapshot(p parties, status string, assigned bool) event.OrderSnapshot {
	o := event.OrderSnapshot{
		OrderID: p.order, OrderNumber: p.number,
		Customer: event.Party{ID: p.customer.ID, Name: p.customer.Name, Phone: p.customer.Phone, Email: p.customer.Email},
		Items: []event.OrderItem{{ProductSnapshot: event.ProductSnapshot{Name: "Margherita", BasePrice: 199},
			Quantity: 1, Size: "medium", SelectedPrice: 249, Subtotal: 249}},
		Subtotal: 249, Tax: 21.17, DeliveryFee: 40, TotalAmount: 310.17,
		DeliveryAddress: event.Address{Street: "1 Main St", City: "Pune", State: "MH", Pincode: "411001"},
		PaymentMethod:   "cash", PaymentStatus: "pending", Status: status, EstimatedDeliveryTime: 30, CreatedAt: time.Now().UTC(),
	}
	if assigned {
		o.DeliveryAgent = &event.Party{ID: p.agent.ID, Name: p.agent.Name, Phone: p.agent.Phone}
		o.DeliveryAgentDetails = &event.AgentDetails{Name: p.agent.Name, Phone: p.agent.Phone, VehicleNumber: "MH12AB1234"}
	}
	return o
}

// matrixCase is one domain event and, per socket kind, the socket events
// DESIGN §4 gives it (absent kind: nothing at all).
type matrixCase struct {
	name    string
	payload func(parties) event.Payload
	want    map[string][]string
}

func matrixCases() []matrixCase {
	all := []string{"business:status:update"}
	return []matrixCase{
		{"business.status_changed", func(p parties) event.Payload {
			return &event.BusinessStatus{IsOpen: false, BusinessName: "Friends Pizza Hut"}
		}, map[string][]string{sAdmin: all, sAgent: all, sOtherAgent: all, sCustomer: all, sOtherCust: all, sAnon: all, sMember: all}},

		{"order.created", func(p parties) event.Payload {
			return &event.OrderCreatedData{Order: snapshot(p, "pending", false)}
		}, map[string][]string{sAdmin: {"order:new"}, sAgent: {"order:new"}, sOtherAgent: {"order:new"}}},

		{"order.status_changed accepted", func(p parties) event.Payload {
			return &event.OrderStatusChangedData{OrderID: p.order, OrderNumber: "ORD", CustomerID: p.customer.ID, Status: "accepted", PreviousStatus: "pending"}
		}, map[string][]string{sAdmin: {"order:status:update", "order:status:changed"}, sCustomer: {"order:status:update"},
			sMember: {"order:status:update"}, sAgent: {"order:status:update"}}}, // the agent is in order:<id>

		{"order.status_changed out_for_delivery", func(p parties) event.Payload {
			return &event.OrderStatusChangedData{OrderID: p.order, OrderNumber: "ORD", CustomerID: p.customer.ID, DeliveryAgentID: p.agent.ID, Status: "out_for_delivery"}
		}, map[string][]string{sAdmin: {"order:status:update", "order:status:changed"}, sCustomer: {"order:status:update"},
			sMember: {"order:status:update"}, sAgent: {"order:status:update"}}},

		{"order.status_changed delivered", func(p parties) event.Payload {
			return &event.OrderStatusChangedData{OrderID: p.order, OrderNumber: "ORD", CustomerID: p.customer.ID, DeliveryAgentID: p.agent.ID, Status: "delivered", PaymentStatus: "completed"}
		}, map[string][]string{sAdmin: {"order:status:update", "order:status:changed"}, sCustomer: {"order:status:update"},
			sMember: {"order:status:update"}, sAgent: {"order:status:update", "order:delivered"}}},

		{"order.assigned", func(p parties) event.Payload {
			return &event.OrderAssignedData{Order: snapshot(p, "assigned", true), AssignedAt: time.Now().UTC()}
		}, map[string][]string{sAdmin: {"order:assigned"}, sAgent: {"order:assigned"}, sCustomer: {"order:delivery:assigned"}}},

		{"order.cancelled", func(p parties) event.Payload {
			return &event.OrderCancelledData{OrderID: p.order, OrderNumber: "ORD", CustomerID: p.customer.ID, DeliveryAgentID: p.agent.ID, Reason: "Rejected by admin"}
		}, map[string][]string{sAdmin: {"order:cancelled"}, sAgent: {"order:cancelled"}, sCustomer: {"order:cancelled"}, sMember: {"order:cancelled"}}},

		{"delivery.agent_status_changed", func(p parties) event.Payload {
			return &event.AgentStatus{DeliveryAgentID: p.agent.ID, Name: p.agent.Name, IsOnline: true, State: "free"}
		}, map[string][]string{sAdmin: {"delivery:agent:status:update"}, sAgent: {"delivery:agent:status:update"}, sOtherAgent: {"delivery:agent:status:update"}}},

		{"delivery.status_changed", func(p parties) event.Payload {
			return &event.DeliveryStatus{DeliveryAgentID: p.agent.ID, Name: p.agent.Name, Status: "busy", CurrentOrderID: p.order}
		}, map[string][]string{sAdmin: {"delivery:status:update"}}},

		{"delivery.location_reported", func(p parties) event.Payload {
			return &event.LocationReport{OrderID: p.order, CustomerID: p.customer.ID, DeliveryAgentID: p.agent.ID, DeliveryAgentName: p.agent.Name,
				Location: event.Location{Latitude: 18.52, Longitude: 73.85}, ReportedAt: time.Now().UTC()}
		}, map[string][]string{sAdmin: {"delivery:location:update"}, sCustomer: {"delivery:location:update"}, sMember: {"delivery:location:update"}}},

		{"payment.received", func(p parties) event.Payload {
			return &event.PaymentReceivedData{PaymentID: testapi.NewID(), OrderID: p.order, CustomerID: p.customer.ID, CollectedBy: p.agent.ID,
				Amount: 310.17, PaymentMethod: "cod", PaymentStatus: "completed"}
		}, map[string][]string{sAdmin: {"payment:received"}, sCustomer: {"payment:received", "payment:status:update"}}},

		{"notification.created for the customer", func(p parties) event.Payload {
			return &event.NotificationData{NotificationID: testapi.NewID(), UserID: p.customer.ID, Type: "order", Title: "Order accepted", Message: "m", Priority: "high", CreatedAt: time.Now().UTC()}
		}, map[string][]string{sCustomer: {"notification:new"}}},

		{"notification.created for the admin", func(p parties) event.Payload {
			return &event.NotificationData{NotificationID: testapi.NewID(), UserID: p.admin.ID, Type: "order", Title: "New order", Message: "m", Priority: "high", CreatedAt: time.Now().UTC()}
		}, map[string][]string{sAdmin: {"notification:new"}}},

		{"offer.created", func(p parties) event.Payload {
			return &event.OfferData{OfferID: testapi.NewID(), Code: "PIZZA10", Title: "10% off", DiscountType: "percentage", DiscountValue: 10}
		}, map[string][]string{sCustomer: {"offer:new"}, sOtherCust: {"offer:new"}}},
	}
}

// TestMatrix publishes every event type and checks, for sockets of every
// role spread over two replicas, exactly which socket events each one gets:
// the expected ones once, nothing else. It runs under each transport.
func TestMatrix(t *testing.T) {
	e := sharedEnv(t)
	admin := e.Admin
	agent := e.API.OnlineAgent(t, admin, "Dev Agent")
	otherAgent := e.API.RegisterApprovedAgent(t, admin, "Oli Agent")
	customer := e.API.RegisterCustomer(t, "Cora Customer")
	otherCustomer := e.API.RegisterCustomer(t, "Carl Customer")

	for _, tr := range jsclient.Transports() {
		t.Run(string(tr), func(t *testing.T) {
			// A real order of customer, assigned to agent: the gateways
			// look its parties up for join:order.
			o := e.API.AssignedOrder(t, admin, customer, agent)
			p := parties{order: o.ID, number: o.Number, admin: admin, agent: agent, otherAgent: otherAgent, customer: customer}
			socks := map[string]*jsclient.Socket{}
			for _, kind := range []string{sAdmin, sAgent, sOtherAgent, sCustomer, sOtherCust, sAnon, sMember} {
				token := ""
				switch kind {
				case sMember:
					token = customer.Token
				case sAdmin: // an admin needs proof (GATEWAY_TOKENLESS_ROLES)
					token = admin.Token
				}
				socks[kind] = e.connect(t, replicaOf[kind], tr, token)
			}
			testapi.MustRegister(t, socks[sAdmin], admin)
			testapi.MustRegister(t, socks[sAgent], agent)
			testapi.MustRegister(t, socks[sOtherAgent], otherAgent)
			testapi.MustRegister(t, socks[sCustomer], customer)
			testapi.MustRegister(t, socks[sOtherCust], otherCustomer)
			testapi.JoinOrder(t, socks[sAgent], p.order)
			testapi.JoinOrder(t, socks[sMember], p.order)
			all := make([]*jsclient.Socket, 0, len(socks))
			for _, s := range socks {
				all = append(all, s)
			}
			// Every socket is subscribed on its replica once it has a barrier.
			e.Bus.Barrier(t, all...)

			cases := matrixCases()
			stamps := make([]string, len(cases))
			for i, c := range cases {
				stamps[i] = testapi.ISO(e.Bus.Publish(t, c.payload(p)).At)
			}
			for i, c := range cases {
				for kind, names := range c.want {
					for _, name := range names {
						socks[kind].WaitEvent(t, name, wait, testapi.FieldIs("timestamp", stamps[i]))
					}
				}
			}
			e.Bus.Barrier(t, all...)
			for i, c := range cases {
				for kind, s := range socks {
					for _, name := range socketEvents {
						want := 0
						for _, w := range c.want[kind] {
							if w == name {
								want++
							}
						}
						if got := testapi.CountWith(s, name, "timestamp", stamps[i]); got != want {
							t.Errorf("%s: %s on replica %d got %d × %s, want %d", c.name, kind, replicaOf[kind]+1, got, name, want)
						}
					}
				}
			}
			checkWirePayloads(t, socks, p, stamps, cases)
		})
	}
}

// checkWirePayloads spot-checks what the apps read on the real wire
// (CONTRACT §1.3 and §5); routing's unit tests cover every field.
func checkWirePayloads(t *testing.T, socks map[string]*jsclient.Socket, p parties, stamps []string, cases []matrixCase) {
	t.Helper()
	stampOf := func(name string) string {
		i := slices.IndexFunc(cases, func(c matrixCase) bool { return c.name == name })
		return stamps[i]
	}
	get := func(kind, ev, caseName string) map[string]any {
		for _, args := range socks[kind].Events(ev) {
			if testapi.Field(args, "timestamp") == stampOf(caseName) {
				var m map[string]any
				_ = json.Unmarshal(args[0], &m)
				return m
			}
		}
		t.Fatalf("%s: no %s for %s", kind, ev, caseName)
		return nil
	}
	path := func(m map[string]any, keys ...any) any {
		var cur any = m
		for _, k := range keys {
			switch k := k.(type) {
			case string:
				mm, _ := cur.(map[string]any)
				cur = mm[k]
			case int:
				a, _ := cur.([]any)
				if k >= len(a) {
					return nil
				}
				cur = a[k]
			}
		}
		return cur
	}
	checks := []struct {
		kind, ev, caseName string
		keys               []any
		want               any
	}{
		{sAdmin, "order:new", "order.created", []any{"orderId"}, p.order},
		{sAdmin, "order:new", "order.created", []any{"_id"}, p.order},
		{sAdmin, "order:new", "order.created", []any{"customerId"}, p.customer.ID},
		{sAdmin, "order:new", "order.created", []any{"user", "name"}, p.customer.Name},
		{sAdmin, "order:new", "order.created", []any{"items", 0, "productSnapshot", "name"}, "Margherita"},
		{sAdmin, "order:new", "order.created", []any{"paymentMethod"}, "cash"},
		{sAdmin, "order:new", "order.created", []any{"status"}, "pending"},
		{sAgent, "order:assigned", "order.assigned", []any{"customer", "name"}, p.customer.Name},
		{sAgent, "order:assigned", "order.assigned", []any{"paymentMethod"}, "cash"},
		{sAgent, "order:assigned", "order.assigned", []any{"paymentStatus"}, "pending"},
		{sAgent, "order:assigned", "order.assigned", []any{"status"}, "assigned"},
		{sAdmin, "order:assigned", "order.assigned", []any{"deliveryAgent", "_id"}, p.agent.ID},
		{sCustomer, "order:delivery:assigned", "order.assigned", []any{"deliveryAgent", "name"}, p.agent.Name},
		{sAdmin, "order:status:changed", "order.status_changed accepted", []any{"status"}, "accepted"},
		{sAgent, "order:delivered", "order.status_changed delivered", []any{"orderId"}, p.order},
		{sAdmin, "delivery:agent:status:update", "delivery.agent_status_changed", []any{"deliveryAgentId"}, p.agent.ID},
		{sAdmin, "delivery:agent:status:update", "delivery.agent_status_changed", []any{"state"}, "free"},
		{sCustomer, "delivery:location:update", "delivery.location_reported", []any{"location", "latitude"}, 18.52},
		{sAdmin, "payment:received", "payment.received", []any{"status"}, "completed"},
		{sCustomer, "payment:status:update", "payment.received", []any{"paymentMethod"}, "cod"},
		{sOtherCust, "offer:new", "offer.created", []any{"code"}, "PIZZA10"},
		{sAnon, "business:status:update", "business.status_changed", []any{"isOpen"}, false},
	}
	for _, c := range checks {
		if got := path(get(c.kind, c.ev, c.caseName), c.keys...); got != c.want {
			t.Errorf("%s %s %v: got %v, want %v", c.kind, c.ev, c.keys, got, c.want)
		}
	}
}
