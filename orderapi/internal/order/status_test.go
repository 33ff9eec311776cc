package order

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/friendspizzahut/platform/shared/apperr"
	"github.com/friendspizzahut/platform/shared/event"
)

func TestCanTransition(t *testing.T) {
	allowed := map[[2]Status]bool{}
	for _, p := range [][2]Status{
		{Pending, Accepted}, {Pending, Cancelled},
		{Accepted, Preparing}, {Accepted, Ready}, {Accepted, Assigned}, {Accepted, Cancelled},
		{Preparing, Ready}, {Preparing, Assigned}, {Preparing, Cancelled},
		{Ready, Assigned}, {Ready, Cancelled},
		{Assigned, OutForDelivery}, {Assigned, Cancelled},
		{OutForDelivery, Delivered}, {OutForDelivery, Cancelled},
		{Delivered, Refunded}, {Cancelled, Refunded},
	} {
		allowed[p] = true
	}
	// Every pair of statuses: exactly the listed moves and staying put.
	for _, from := range Statuses() {
		for _, to := range Statuses() {
			want := from == to || allowed[[2]Status{from, to}]
			if got := CanTransition(from, to); got != want {
				t.Errorf("CanTransition(%s, %s) = %v, want %v", from, to, got, want)
			}
		}
	}
}

func testOrder(status Status) *Order {
	agent := primitive.NewObjectID()
	o := New(Draft{User: primitive.NewObjectID(), Customer: Customer{Name: "C"}, PaymentMethod: "cash"}, time.Now())
	o.Take()
	o.Status = status
	if status == Assigned || status == OutForDelivery {
		o.DeliveryAgent = &agent
		o.DeliveryAgentDetails = &AgentDetails{Name: "D"}
	}
	return o
}

func TestSetStatusRules(t *testing.T) {
	for _, tc := range []struct {
		name     string
		from     Status
		actor    string // admin, agent (the order's), otherAgent, owner, otherCustomer
		to       Status
		payment  string
		wantKind apperr.Kind // "" = allowed
		wantEv   []event.Type
	}{
		{"admin accepts via PATCH", Pending, "admin", Accepted, "", "", []event.Type{event.OrderStatusChanged}},
		{"admin skips to ready", Accepted, "admin", Ready, "", "", []event.Type{event.OrderStatusChanged}},
		{"admin cannot jump to delivered", Accepted, "admin", Delivered, "", apperr.Invalid, nil},
		{"admin cannot assign via PATCH", Accepted, "admin", Assigned, "", apperr.Invalid, nil},
		{"admin cancels", OutForDelivery, "admin", Cancelled, "", "", []event.Type{event.OrderCancelled}},
		{"nothing leaves delivered but refund", Delivered, "admin", Cancelled, "", apperr.Invalid, nil},
		{"agent picks up", Assigned, "agent", OutForDelivery, "", "", []event.Type{event.OrderStatusChanged}},
		{"agent same status with payment", OutForDelivery, "agent", OutForDelivery, "completed", "", []event.Type{event.OrderStatusChanged}},
		{"agent same status, nothing changes", OutForDelivery, "agent", OutForDelivery, "", "", nil},
		{"agent delivers", OutForDelivery, "agent", Delivered, "", "", []event.Type{event.OrderStatusChanged}},
		{"agent cannot skip pickup", Assigned, "agent", Delivered, "", apperr.Invalid, nil},
		{"agent cannot cancel", Assigned, "agent", Cancelled, "", apperr.Forbidden, nil},
		{"other agent refused", Assigned, "otherAgent", OutForDelivery, "", apperr.Forbidden, nil},
		{"owner cancels pending", Pending, "owner", Cancelled, "", "", []event.Type{event.OrderCancelled}},
		{"owner cannot cancel accepted", Accepted, "owner", Cancelled, "", apperr.Invalid, nil},
		{"owner cannot accept", Pending, "owner", Accepted, "", apperr.Forbidden, nil},
		{"other customer refused", Pending, "otherCustomer", Cancelled, "", apperr.Forbidden, nil},
		{"bad payment status", OutForDelivery, "agent", OutForDelivery, "paid", apperr.Invalid, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOrder(tc.from)
			actor := map[string]Actor{
				"admin":         {ID: primitive.NewObjectID().Hex(), Role: "admin"},
				"otherAgent":    {ID: primitive.NewObjectID().Hex(), Role: "delivery"},
				"owner":         {ID: o.User.Hex(), Role: "customer"},
				"otherCustomer": {ID: primitive.NewObjectID().Hex(), Role: "customer"},
			}[tc.actor]
			if tc.actor == "agent" {
				actor = Actor{ID: o.DeliveryAgent.Hex(), Role: "delivery"}
			}
			err := o.SetStatus(actor, tc.to, tc.payment, "", time.Now())
			if tc.wantKind != "" {
				if apperr.KindOf(err) != tc.wantKind {
					t.Fatalf("got error %v, want kind %s", err, tc.wantKind)
				}
				if o.Status != tc.from || len(o.Take()) != 0 {
					t.Fatalf("a refused change modified the order")
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want allowed", err)
			}
			if o.Status != tc.to {
				t.Fatalf("got status %s, want %s", o.Status, tc.to)
			}
			var got []event.Type
			for _, p := range o.Take() {
				got = append(got, p.EventType())
				if err := p.Validate(); err != nil {
					t.Fatalf("event %s invalid: %v", p.EventType(), err)
				}
			}
			if len(got) != len(tc.wantEv) || (len(got) > 0 && got[0] != tc.wantEv[0]) {
				t.Fatalf("got events %v, want %v", got, tc.wantEv)
			}
		})
	}
}

func TestMethodsGuardStatus(t *testing.T) {
	now := time.Now()
	agent := Agent{ID: primitive.NewObjectID(), Name: "D", Phone: "9"}
	for _, tc := range []struct {
		name string
		from Status
		do   func(*Order) error
		ok   bool
	}{
		{"accept pending", Pending, func(o *Order) error { return o.Accept(now) }, true},
		{"accept twice", Accepted, func(o *Order) error { return o.Accept(now) }, false},
		{"ready from accepted", Accepted, func(o *Order) error { return o.MarkReady(now) }, true},
		{"ready from pending", Pending, func(o *Order) error { return o.MarkReady(now) }, false},
		{"assign accepted", Accepted, func(o *Order) error { return o.Assign(agent, now) }, true},
		{"assign ready", Ready, func(o *Order) error { return o.Assign(agent, now) }, true},
		{"assign pending", Pending, func(o *Order) error { return o.Assign(agent, now) }, false},
		{"reject assigned", Assigned, func(o *Order) error { return o.Reject("no", "admin", now) }, true},
		{"reject delivered", Delivered, func(o *Order) error { return o.Reject("no", "admin", now) }, false},
		{"reject cancelled", Cancelled, func(o *Order) error { return o.Reject("no", "admin", now) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOrder(tc.from)
			err := tc.do(o)
			if (err == nil) != tc.ok {
				t.Fatalf("got %v, want ok=%v", err, tc.ok)
			}
			if err != nil && apperr.KindOf(err) != apperr.Invalid {
				t.Fatalf("got kind %s, want invalid (400)", apperr.KindOf(err))
			}
		})
	}
}

func TestAssignEventCarriesParties(t *testing.T) {
	o := testOrder(Accepted)
	agent := Agent{ID: primitive.NewObjectID(), Name: "Dev", Phone: "9876543210", VehicleNumber: "MH12AB1234"}
	if err := o.Assign(agent, time.Now()); err != nil {
		t.Fatal(err)
	}
	evs := o.Take()
	if len(evs) != 1 {
		t.Fatalf("got %d events, want 1", len(evs))
	}
	d, ok := evs[0].(*event.OrderAssignedData)
	if !ok || d.Order.DeliveryAgent.ID != agent.ID.Hex() || d.Order.Customer.ID != o.User.Hex() ||
		d.Order.PaymentMethod != "cash" || d.Order.Status != "assigned" || d.Order.DeliveryAgentDetails.VehicleNumber != "MH12AB1234" {
		t.Fatalf("got %+v", evs[0])
	}
}

func TestPrice(t *testing.T) {
	rules := Rules{TaxRate: 8.5, DeliveryFee: 40, FreeDeliveryThreshold: 2490}
	for _, tc := range []struct {
		sub, disc float64
		want      Totals
	}{
		{299, 0, Totals{Subtotal: 299, Tax: 25.42, DeliveryFee: 40, Discount: 0, Total: 364.42}},
		{2490, 100, Totals{Subtotal: 2490, Tax: 211.65, DeliveryFee: 0, Discount: 100, Total: 2601.65}},
		{100, 500, Totals{Subtotal: 100, Tax: 8.5, DeliveryFee: 40, Discount: 100, Total: 48.5}},
		{0, 0, Totals{}},
	} {
		if got := Price(tc.sub, tc.disc, rules); got != tc.want {
			t.Errorf("Price(%v, %v) = %+v, want %+v", tc.sub, tc.disc, got, tc.want)
		}
	}
}
