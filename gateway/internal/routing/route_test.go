package routing

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/shared/event"
)

const (
	orderID    = "650000000000000000000001"
	customerID = "650000000000000000000c01"
	agentID    = "650000000000000000000d01"
	userID     = "650000000000000000000a01"
)

var at = time.Date(2026, 11, 26, 15, 4, 5, 123_000_000, time.UTC)

func snapshot(status string, withAgent bool) event.OrderSnapshot {
	o := event.OrderSnapshot{
		OrderID: orderID, OrderNumber: "ORD-TEST-0001",
		Customer: event.Party{ID: customerID, Name: "Cora", Phone: "9876543210", Email: "cora@example.test"},
		Items: []event.OrderItem{{
			ProductSnapshot: event.ProductSnapshot{Name: "Margherita", BasePrice: 199},
			Quantity:        2, Size: "large", SelectedPrice: 299, Subtotal: 598,
		}},
		Subtotal: 598, Tax: 50.83, DeliveryFee: 40, Discount: 0, TotalAmount: 688.83,
		DeliveryAddress: event.Address{Street: "1 Main St", City: "Pune", State: "MH", Pincode: "411001"},
		PaymentMethod:   "cash", PaymentStatus: "pending", Status: status, EstimatedDeliveryTime: 30,
		CreatedAt: at.Add(-time.Minute),
	}
	if withAgent {
		o.DeliveryAgent = &event.Party{ID: agentID, Name: "Dev", Phone: "9000000001"}
		o.DeliveryAgentDetails = &event.AgentDetails{Name: "Dev", Phone: "9000000001", VehicleNumber: "MH12AB1234"}
	}
	return o
}

// samples returns one valid payload per event type, named for the cases.
func samples() map[string]event.Payload {
	return map[string]event.Payload{
		"business":            &event.BusinessStatus{IsOpen: true, BusinessName: "Friends Pizza Hut"},
		"created":             &event.OrderCreatedData{Order: snapshot("pending", false)},
		"status accepted":     &event.OrderStatusChangedData{OrderID: orderID, OrderNumber: "ORD-TEST-0001", CustomerID: customerID, Status: "accepted", PreviousStatus: "pending"},
		"status out, agent":   &event.OrderStatusChangedData{OrderID: orderID, OrderNumber: "ORD-TEST-0001", CustomerID: customerID, DeliveryAgentID: agentID, Status: "out_for_delivery"},
		"status delivered":    &event.OrderStatusChangedData{OrderID: orderID, OrderNumber: "ORD-TEST-0001", CustomerID: customerID, DeliveryAgentID: agentID, Status: "delivered"},
		"delivered, no agent": &event.OrderStatusChangedData{OrderID: orderID, OrderNumber: "ORD-TEST-0001", CustomerID: customerID, Status: "delivered"},
		"assigned":            &event.OrderAssignedData{Order: snapshot("assigned", true), AssignedAt: at},
		"cancelled":           &event.OrderCancelledData{OrderID: orderID, OrderNumber: "ORD-TEST-0001", CustomerID: customerID, Reason: "Rejected by admin"},
		"cancelled, agent":    &event.OrderCancelledData{OrderID: orderID, OrderNumber: "ORD-TEST-0001", CustomerID: customerID, DeliveryAgentID: agentID, Reason: "x"},
		"delivery status":     &event.DeliveryStatus{DeliveryAgentID: agentID, Name: "Dev", Status: "busy", CurrentOrderID: orderID},
		"agent status":        &event.AgentStatus{DeliveryAgentID: agentID, Name: "Dev", IsOnline: true, State: "free"},
		"location":            &event.LocationReport{OrderID: orderID, CustomerID: customerID, DeliveryAgentID: agentID, DeliveryAgentName: "Dev", Location: event.Location{Latitude: 18.52, Longitude: 73.85}, ReportedAt: at},
		"payment":             &event.PaymentReceivedData{PaymentID: "pay1", OrderID: orderID, CustomerID: customerID, CollectedBy: agentID, Amount: 688.83, PaymentMethod: "cod", PaymentStatus: "completed"},
		"notification":        &event.NotificationData{NotificationID: "n1", UserID: userID, Type: "order", Title: "New order", Message: "m", Priority: "high", CreatedAt: at},
		"offer":               &event.OfferData{OfferID: "off1", Code: "PIZZA10", Title: "10% off", DiscountType: "percentage", DiscountValue: 10},
	}
}

type want struct {
	event  string
	rooms  []string
	except []string
}

var (
	u = UserRoom
	o = OrderRoom
)

// TestMatrix mirrors DESIGN §4 row by row: an event and its parties in,
// socket events and rooms out.
func TestMatrix(t *testing.T) {
	cases := map[string][]want{
		"business": {{event: "business:status:update", rooms: []string{"all"}}},
		"created":  {{event: "order:new", rooms: []string{"role:admin", "role:delivery"}}},
		"status accepted": {
			{event: "order:status:update", rooms: []string{u(customerID), o(orderID), "role:admin"}},
			{event: "order:status:changed", rooms: []string{"role:admin"}},
		},
		"status out, agent": {
			{event: "order:status:update", rooms: []string{u(customerID), o(orderID), "role:admin", u(agentID)}},
			{event: "order:status:changed", rooms: []string{"role:admin"}},
		},
		"status delivered": {
			{event: "order:status:update", rooms: []string{u(customerID), o(orderID), "role:admin", u(agentID)}},
			{event: "order:status:changed", rooms: []string{"role:admin"}},
			{event: "order:delivered", rooms: []string{u(agentID)}},
		},
		"delivered, no agent": {
			{event: "order:status:update", rooms: []string{u(customerID), o(orderID), "role:admin"}},
			{event: "order:status:changed", rooms: []string{"role:admin"}},
		},
		"assigned": {
			{event: "order:assigned", rooms: []string{u(agentID)}},
			{event: "order:assigned", rooms: []string{"role:admin"}},
			{event: "order:delivery:assigned", rooms: []string{u(customerID)}},
		},
		"cancelled":        {{event: "order:cancelled", rooms: []string{u(customerID), o(orderID), "role:admin"}}},
		"cancelled, agent": {{event: "order:cancelled", rooms: []string{u(customerID), o(orderID), "role:admin", u(agentID)}}},
		"delivery status":  {{event: "delivery:status:update", rooms: []string{"role:admin"}}},
		"agent status":     {{event: "delivery:agent:status:update", rooms: []string{"role:admin", "role:delivery"}}},
		"location":         {{event: "delivery:location:update", rooms: []string{o(orderID), u(customerID), "role:admin"}, except: []string{"role:delivery"}}},
		"payment": {
			{event: "payment:received", rooms: []string{"role:admin", u(customerID)}},
			{event: "payment:status:update", rooms: []string{u(customerID)}},
		},
		"notification": {{event: "notification:new", rooms: []string{u(userID)}}},
		"offer":        {{event: "offer:new", rooms: []string{"role:customer"}}},
	}
	tbl := New()
	all := samples()
	if len(cases) != len(all) {
		t.Fatalf("got %d cases, want one per sample (%d)", len(cases), len(all))
	}
	for name, wants := range cases {
		t.Run(name, func(t *testing.T) {
			p := all[name]
			got := tbl.Route(envelope(t, p), p)
			if len(got) != len(wants) {
				t.Fatalf("got %d deliveries %v, want %d", len(got), events(got), len(wants))
			}
			for i, w := range wants {
				d := got[i]
				if d.Event != w.event || !sameSet(d.Rooms, w.rooms) || !sameSet(d.Except, w.except) {
					t.Errorf("delivery %d: got %s → %v except %v, want %s → %v except %v", i, d.Event, d.Rooms, d.Except, w.event, w.rooms, w.except)
				}
			}
		})
	}
}

// TestAudiences plays each event against sockets of every kind and checks
// who receives what, with the union/except semantics of Broadcast. It holds
// the negatives of DESIGN §4 (order:new never to customers, locations never
// to agents, notifications only to their user).
func TestAudiences(t *testing.T) {
	sockets := map[string][]string{
		"admin":          {"all", "role:admin", u(userID)},
		"assigned agent": {"all", "role:delivery", u(agentID), o(orderID)},
		"other agent":    {"all", "role:delivery", u("650000000000000000000d02")},
		"customer":       {"all", "role:customer", u(customerID)},
		"other customer": {"all", "role:customer", u("650000000000000000000c02")},
		"unregistered":   {"all"},
		"order member":   {"all", o(orderID)},
	}
	cases := map[string]map[string][]string{
		"business": {"admin": {"business:status:update"}, "assigned agent": {"business:status:update"}, "other agent": {"business:status:update"},
			"customer": {"business:status:update"}, "other customer": {"business:status:update"}, "unregistered": {"business:status:update"}, "order member": {"business:status:update"}},
		"created": {"admin": {"order:new"}, "assigned agent": {"order:new"}, "other agent": {"order:new"}},
		"status out, agent": {"admin": {"order:status:update", "order:status:changed"}, "assigned agent": {"order:status:update"},
			"customer": {"order:status:update"}, "order member": {"order:status:update"}},
		"status delivered": {"admin": {"order:status:update", "order:status:changed"}, "assigned agent": {"order:status:update", "order:delivered"},
			"customer": {"order:status:update"}, "order member": {"order:status:update"}},
		"assigned": {"admin": {"order:assigned"}, "assigned agent": {"order:assigned"}, "customer": {"order:delivery:assigned"}},
		"cancelled, agent": {"admin": {"order:cancelled"}, "assigned agent": {"order:cancelled"}, "customer": {"order:cancelled"},
			"order member": {"order:cancelled"}},
		"delivery status": {"admin": {"delivery:status:update"}},
		"agent status":    {"admin": {"delivery:agent:status:update"}, "assigned agent": {"delivery:agent:status:update"}, "other agent": {"delivery:agent:status:update"}},
		"location":        {"admin": {"delivery:location:update"}, "customer": {"delivery:location:update"}, "order member": {"delivery:location:update"}},
		"payment":         {"admin": {"payment:received"}, "customer": {"payment:received", "payment:status:update"}},
		"notification":    {"admin": {"notification:new"}},
		"offer":           {"customer": {"offer:new"}, "other customer": {"offer:new"}},
	}
	tbl := New()
	for name, wantBySocket := range cases {
		t.Run(name, func(t *testing.T) {
			p := samples()[name]
			deliveries := tbl.Route(envelope(t, p), p)
			for sock, rooms := range sockets {
				var got []string
				for _, d := range deliveries {
					if intersects(rooms, d.Rooms) && !intersects(rooms, d.Except) {
						got = append(got, d.Event)
					}
				}
				if w := wantBySocket[sock]; !slices.Equal(got, w) {
					t.Errorf("%s: got %v, want %v", sock, got, w)
				}
			}
		})
	}
}

// TestPayloadFields checks each socket payload against the field names of
// CONTRACT.md (§1.3, §2.5, §5) plus timestamp.
func TestPayloadFields(t *testing.T) {
	ts := "2026-11-26T15:04:05.123Z"
	cases := []struct {
		sample, event string
		nth           int // which delivery of that socket event
		fields        []string
		values        map[string]any
	}{
		{"business", "business:status:update", 0, []string{"isOpen", "businessName", "message", "timestamp"}, map[string]any{"isOpen": true}},
		{"created", "order:new", 0, []string{"orderId", "_id", "id", "orderNumber", "customerId", "customerName", "user._id", "user.name", "user.phone",
			"items", "subtotal", "tax", "deliveryFee", "discount", "totalAmount", "deliveryAddress.street", "deliveryAddress.city",
			"deliveryAddress.state", "deliveryAddress.pincode", "paymentMethod", "paymentStatus", "status", "createdAt", "message", "timestamp"},
			map[string]any{"orderId": orderID, "_id": orderID, "customerId": customerID, "customerName": "Cora", "paymentMethod": "cash", "status": "pending", "timestamp": ts}},
		{"status accepted", "order:status:update", 0, []string{"orderId", "orderNumber", "status", "message", "timestamp"}, map[string]any{"status": "accepted", "previousStatus": "pending"}},
		{"status accepted", "order:status:changed", 0, []string{"orderId", "orderNumber", "status", "message", "timestamp"}, map[string]any{"status": "accepted"}},
		{"status delivered", "order:delivered", 0, []string{"orderId", "orderNumber", "status", "timestamp"}, map[string]any{"status": "delivered"}},
		{"assigned", "order:assigned", 0, []string{"orderId", "_id", "orderNumber", "customer.name", "customer.phone", "customer.email",
			"deliveryAddress.street", "deliveryAddress.pincode", "items", "totalAmount", "subtotal", "tax", "deliveryFee", "discount",
			"status", "assignedAt", "paymentMethod", "paymentStatus", "deliveryAgent._id", "deliveryAgent.name", "deliveryAgent.phone", "timestamp"},
			map[string]any{"status": "assigned", "paymentMethod": "cash", "paymentStatus": "pending", "assignedAt": ts}},
		{"assigned", "order:assigned", 1, []string{"orderId", "orderNumber", "deliveryAgent._id", "deliveryAgent.name", "deliveryAgent.phone", "assignedAt", "timestamp"},
			map[string]any{"deliveryAgent.vehicleNumber": "MH12AB1234"}},
		{"assigned", "order:delivery:assigned", 0, []string{"orderId", "orderNumber", "deliveryAgent.name", "message", "timestamp"}, nil},
		{"cancelled", "order:cancelled", 0, []string{"orderId", "orderNumber", "reason", "message", "timestamp"}, map[string]any{"reason": "Rejected by admin"}},
		{"delivery status", "delivery:status:update", 0, []string{"deliveryBoyId", "deliveryBoyName", "status", "currentOrder", "message", "timestamp"}, map[string]any{"deliveryBoyId": agentID}},
		{"agent status", "delivery:agent:status:update", 0, []string{"deliveryAgentId", "name", "isOnline", "state", "vehicleInfo", "rating", "message", "timestamp"},
			map[string]any{"deliveryAgentId": agentID, "isOnline": true, "state": "free"}},
		{"location", "delivery:location:update", 0, []string{"orderId", "deliveryBoyId", "deliveryBoyName", "location.latitude", "location.longitude", "timestamp"},
			map[string]any{"location.latitude": 18.52}},
		{"payment", "payment:received", 0, []string{"orderId", "paymentId", "amount", "paymentMethod", "status", "message", "timestamp"}, map[string]any{"paymentMethod": "cod", "status": "completed"}},
		{"payment", "payment:status:update", 0, []string{"orderId", "paymentId", "amount", "status", "timestamp"}, nil},
		{"notification", "notification:new", 0, []string{"_id", "notificationId", "title", "message", "type", "relatedEntity", "priority", "isRead", "createdAt", "timestamp"},
			map[string]any{"_id": "n1", "isRead": false}},
		{"offer", "offer:new", 0, []string{"couponId", "code", "discountType", "discountValue", "message", "timestamp"}, map[string]any{"couponId": "off1"}},
	}
	tbl := New()
	for _, c := range cases {
		t.Run(c.event+"/"+c.sample, func(t *testing.T) {
			p := samples()[c.sample]
			var matched []Delivery
			for _, d := range tbl.Route(envelope(t, p), p) {
				if d.Event == c.event {
					matched = append(matched, d)
				}
			}
			if len(matched) <= c.nth {
				t.Fatalf("got %d %s deliveries, want > %d", len(matched), c.event, c.nth)
			}
			obj := toJSON(t, matched[c.nth].Payload)
			for _, f := range c.fields {
				if _, ok := lookup(obj, f); !ok {
					t.Errorf("field %s missing in %v", f, obj)
				}
			}
			for f, w := range c.values {
				if got, _ := lookup(obj, f); got != w {
					t.Errorf("%s: got %v, want %v", f, got, w)
				}
			}
		})
	}
}

func TestOrderRowItems(t *testing.T) {
	p := samples()["created"]
	d := New().Route(envelope(t, p), p)[0]
	items := toJSON(t, d.Payload)["items"].([]any)
	item := items[0].(map[string]any)
	for _, f := range []string{"productSnapshot", "quantity", "subtotal", "name", "price", "customToppings"} {
		if _, ok := item[f]; !ok {
			t.Errorf("item field %s missing: %v", f, item)
		}
	}
	if item["customToppings"] == nil {
		t.Errorf("customToppings is null, want []")
	}
	if got := item["productSnapshot"].(map[string]any)["name"]; got != "Margherita" {
		t.Errorf("productSnapshot.name: got %v, want Margherita", got)
	}
}

// TestEveryTypeHasRows guards "adding an event type is one row": a type in
// shared/event without a row, or a row whose mapper does not take its type,
// fails here.
func TestEveryTypeHasRows(t *testing.T) {
	byType := map[event.Type]event.Payload{}
	for _, p := range samples() {
		byType[p.EventType()] = p
	}
	tbl := New()
	for _, typ := range event.Types() {
		if len(tbl.rows[typ]) == 0 {
			t.Errorf("%s: no row in the matrix", typ)
			continue
		}
		p, ok := byType[typ]
		if !ok {
			t.Errorf("%s: no sample payload in this test", typ)
			continue
		}
		for _, r := range tbl.rows[typ] {
			if _, ok := r.Payload(Meta{}, p); !ok {
				t.Errorf("%s → %s: mapper does not take %T", typ, r.Emit, p)
			}
			for _, a := range append(slices.Clone(r.To), r.Except...) {
				if a.Room(p.Parties()) == "" && !(typ == event.OrderStatusChanged || typ == event.OrderCancelled) {
					t.Errorf("%s → %s: audience %v resolves to no room for a full sample", typ, r.Emit, a)
				}
			}
		}
	}
}

func TestRouteIgnoresNilAndUnknown(t *testing.T) {
	if got := New().Route(event.Envelope{}, nil); got != nil {
		t.Errorf("got %v, want nil", got)
	}
}

func envelope(t *testing.T, p event.Payload) event.Envelope {
	t.Helper()
	env, err := event.New(p, at)
	if err != nil {
		t.Fatalf("event.New: %v", err)
	}
	return env
}

func events(ds []Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Event+"→"+strings.Join(d.Rooms, ","))
	}
	return out
}

func sameSet(a, b []string) bool {
	return len(a) == len(b) && !slices.ContainsFunc(a, func(s string) bool { return !slices.Contains(b, s) })
}

func intersects(a, b []string) bool {
	return slices.ContainsFunc(a, func(s string) bool { return slices.Contains(b, s) })
}

func toJSON(t *testing.T, p Payload) map[string]any {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return obj
}

// lookup reads a dotted path like "user._id".
func lookup(obj map[string]any, path string) (any, bool) {
	var cur any = obj
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}
