package api_test

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/friendspizzahut/platform/orderapi/internal/order"
	"github.com/friendspizzahut/platform/orderapi/internal/outbox"
	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/auth"
	"github.com/friendspizzahut/platform/shared/event"
)

func codBody(o *order.Order, agent primitive.ObjectID, amount float64) map[string]any {
	return map[string]any{"order": o.ID.Hex(), "user": agent.Hex(), "amount": amount,
		"paymentMethod": "cod", "collectionMethod": "cash", "paymentStatus": "completed"}
}

// TestCreatePayment is CONTRACT §5 scenario 13 plus its authorisation and
// validation rules.
func TestCreatePayment(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, adminTok := e.mustUser(auth.RoleAdmin)
	c, cTok := e.mustUser(auth.RoleCustomer)
	d, dTok := e.mustUser(auth.RoleDelivery, online)
	_, otherTok := e.mustUser(auth.RoleDelivery, online)
	o := e.advanceOrder(e.seedOrder(c, 688.83), d, order.OutForDelivery)
	e.clearOutbox(store.OrdersCollection, o.ID)

	for _, tc := range []struct {
		name string
		tok  string
		body any
		want int
		msg  string
	}{
		{"customer", cTok, codBody(o, c.ID, 688.83), 403, "Required role"},
		{"another agent", otherTok, codBody(o, d.ID, 688.83), 403, "assigned to this order"},
		{"wrong amount", dTok, codBody(o, d.ID, 600), 400, "must equal the order total"},
		{"unknown order", dTok, codBody(&order.Order{ID: primitive.NewObjectID()}, d.ID, 1), 404, "Order not found"},
		{"bad ids and values", dTok, map[string]any{"order": "undefined", "user": "x", "amount": -1, "paymentMethod": "bitcoin", "paymentStatus": "done"}, 400, "Validation failed"},
		{"no body", dTok, nil, 400, "Validation failed"},
		{"anonymous", "", codBody(o, d.ID, 688.83), 401, "No token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.do("POST", "/api/v1/payments", tc.tok, tc.body).want(t, tc.want).wantMessage(t, tc.msg)
		})
	}

	r := e.do("POST", "/api/v1/payments", dTok, codBody(o, d.ID, 688.83)).want(t, 201).wantMessage(t, "Payment recorded successfully")
	pid, err := store.ParseID(str(r.data(), "_id"))
	if err != nil {
		t.Fatalf("no payment id in %s", r)
	}
	if str(r.data(), "order", "orderNumber") != o.OrderNumber || str(r.data(), "user", "_id") != c.ID.Hex() || str(r.data(), "collectedBy", "_id") != d.ID.Hex() {
		t.Fatalf("got %s, want order, customer and collector populated", r)
	}

	// The payment document carries payment.received: the ORDER's customer,
	// collected by the agent.
	evs := e.events(store.PaymentsCollection, pid)
	if len(evs) != 1 || evs[0].Type != string(event.PaymentReceived) {
		t.Fatalf("got %v, want payment.received", eventTypes(evs))
	}
	p := payload[event.PaymentReceivedData](t, evs[0])
	if p.CustomerID != c.ID.Hex() || p.CollectedBy != d.ID.Hex() || p.OrderID != o.ID.Hex() || p.Amount != 688.83 ||
		p.PaymentMethod != "cod" || p.PaymentStatus != "completed" || p.PaymentID != pid.Hex() {
		t.Fatalf("got payload %+v", p)
	}
	// The order follows, with its own event.
	got, _ := e.stores.Orders.OrderByID(context.Background(), o.ID)
	if got.PaymentStatus != order.PaymentCompleted || got.Status != order.OutForDelivery {
		t.Fatalf("got order %s/%s, want out_for_delivery/completed", got.Status, got.PaymentStatus)
	}
	if oe := e.events(store.OrdersCollection, o.ID); len(oe) != 1 || oe[0].Type != string(event.OrderStatusChanged) {
		t.Fatalf("got order events %v, want one order.status_changed", eventTypes(oe))
	}

	t.Run("a second collection is refused", func(t *testing.T) {
		e.do("POST", "/api/v1/payments", dTok, codBody(o, d.ID, 688.83)).want(t, 409).wantMessage(t, "already recorded")
		e.do("POST", "/api/v1/payments", adminTok, codBody(o, d.ID, 688.83)).want(t, 409)
	})
	t.Run("agents collect only from orders they hold", func(t *testing.T) {
		accepted := e.advanceOrder(e.seedOrder(c, 50), d, order.Accepted)
		e.do("POST", "/api/v1/payments", dTok, codBody(accepted, d.ID, 50)).want(t, 403)
		pending := e.seedOrder(c, 60)
		e.do("POST", "/api/v1/payments", adminTok, codBody(pending, d.ID, 60)).want(t, 201) // an admin may record a prepayment
	})
	t.Run("no payment for a cancelled order", func(t *testing.T) {
		x := e.seedOrder(c, 70)
		if _, err := e.stores.Orders.UpdateOrder(context.Background(), x.ID, func(o *order.Order) error {
			return o.Reject("test", auth.RoleAdmin, o.CreatedAt)
		}); err != nil {
			t.Fatal(err)
		}
		e.do("POST", "/api/v1/payments", adminTok, codBody(x, d.ID, 70)).want(t, 400).wantMessage(t, "status: cancelled")
	})
	t.Run("pending and failed payments do not settle the order", func(t *testing.T) {
		x := e.advanceOrder(e.seedOrder(c, 80), d, order.Assigned)
		body := codBody(x, d.ID, 80)
		body["paymentStatus"] = "failed"
		e.do("POST", "/api/v1/payments", dTok, body).want(t, 201)
		got, _ := e.stores.Orders.OrderByID(context.Background(), x.ID)
		if got.PaymentStatus != order.PaymentPending {
			t.Fatalf("got %s, want pending", got.PaymentStatus)
		}
		body["paymentStatus"] = "completed"
		e.do("POST", "/api/v1/payments", dTok, body).want(t, 201)
	})
}

func TestPaymentIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, _ := e.mustUser(auth.RoleCustomer)
	d, dTok := e.mustUser(auth.RoleDelivery, online)
	_, adminTok := e.mustUser(auth.RoleAdmin)
	o := e.advanceOrder(e.seedOrder(c, 120), d, order.OutForDelivery)

	first := e.do("POST", "/api/v1/payments", dTok, codBody(o, d.ID, 120), "Idempotency-Key", "pay-1").want(t, 201)
	again := e.do("POST", "/api/v1/payments", dTok, codBody(o, d.ID, 120), "Idempotency-Key", "pay-1").want(t, 201)
	if string(again.raw) != string(first.raw) {
		t.Fatalf("replay differs:\n%s\n%s", again.raw, first.raw)
	}
	n, err := e.db.Collection(store.PaymentsCollection).CountDocuments(context.Background(), map[string]any{"order": o.ID})
	if err != nil || n != 1 {
		t.Fatalf("got %d payments (%v), want 1", n, err)
	}
	body := codBody(o, d.ID, 120)
	body["collectionMethod"] = "upi"
	e.do("POST", "/api/v1/payments", dTok, body, "Idempotency-Key", "pay-1").want(t, 409).wantMessage(t, "different request")
	// Keys are per user: the admin's "pay-1" is another key (and the order
	// is paid already).
	e.do("POST", "/api/v1/payments", adminTok, codBody(o, d.ID, 120), "Idempotency-Key", "pay-1").want(t, 409).wantMessage(t, "already recorded")
	e.do("POST", "/api/v1/payments", dTok, codBody(o, d.ID, 120), "Idempotency-Key", "bad key with spaces").want(t, 400)
}

// TestPaymentIdempotencyAfterFailure: the first attempt stored the payment
// and then failed (so its 5xx was not kept); the retry with the same key
// finds the payment instead of recording a second one.
func TestPaymentIdempotencyAfterFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, _ := e.mustUser(auth.RoleCustomer)
	d, dTok := e.mustUser(auth.RoleDelivery, online)
	o := e.advanceOrder(e.seedOrder(c, 99), d, order.OutForDelivery)

	r := e.do("POST", "/api/v1/payments", dTok, codBody(o, d.ID, 99), "Idempotency-Key", "k-1").want(t, 201)
	// Forget the stored response, as if the first attempt had answered 500.
	if _, err := e.db.Collection(store.IdempotencyCollection).DeleteMany(context.Background(), map[string]any{}); err != nil {
		t.Fatal(err)
	}
	again := e.do("POST", "/api/v1/payments", dTok, codBody(o, d.ID, 99), "Idempotency-Key", "k-1").want(t, 201)
	if str(again.data(), "_id") != str(r.data(), "_id") {
		t.Fatalf("got payment %s on retry, want the first one %s", str(again.data(), "_id"), str(r.data(), "_id"))
	}
}

// TestPaymentHookRepairsOrder: the process died between storing a payment
// and updating its order; publishing the payment's event fixes the order,
// and doing it twice changes nothing more.
func TestPaymentHookRepairsOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c, _ := e.mustUser(auth.RoleCustomer)
	d, _ := e.mustUser(auth.RoleDelivery, online)
	o := e.advanceOrder(e.seedOrder(c, 150), d, order.OutForDelivery)
	e.clearOutbox(store.OrdersCollection, o.ID)

	p, _, err := e.stores.Payments.RecordPayment(ctx, &store.Payment{Order: o.ID, User: c.ID, Amount: 150,
		PaymentMethod: "cod", CollectionMethod: "cash", PaymentStatus: order.PaymentCompleted, PaymentGateway: "cash"})
	if err != nil {
		t.Fatal(err)
	}
	rec := e.events(store.PaymentsCollection, p.ID)[0]
	pl := recordPayload(t, rec)
	for i := 0; i < 2; i++ {
		if err := e.stores.Orders.OnPaymentPublished(ctx, rec.Envelope(), pl); err != nil {
			t.Fatalf("hook: %v", err)
		}
	}
	got, _ := e.stores.Orders.OrderByID(ctx, o.ID)
	if got.PaymentStatus != order.PaymentCompleted {
		t.Fatalf("got %s, want completed", got.PaymentStatus)
	}
	if evs := e.events(store.OrdersCollection, o.ID); len(evs) != 1 {
		t.Fatalf("got %v, want exactly one order.status_changed after two hook runs", eventTypes(evs))
	}
}

func recordPayload(t *testing.T, rec outbox.Record) event.Payload {
	t.Helper()
	p, err := rec.Envelope().Payload()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPaymentReports(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, adminTok := e.mustUser(auth.RoleAdmin)
	c, cTok := e.mustUser(auth.RoleCustomer)
	d1, d1Tok := e.mustUser(auth.RoleDelivery, online)
	d2, d2Tok := e.mustUser(auth.RoleDelivery, online)

	pay := func(tok string, agent *store.User, total float64, method, collection string) string {
		o := e.advanceOrder(e.seedOrder(c, total), agent, order.OutForDelivery)
		b := codBody(o, agent.ID, total)
		b["paymentMethod"], b["collectionMethod"] = method, collection
		return str(e.do("POST", "/api/v1/payments", tok, b).want(t, 201).data(), "_id")
	}
	pay(d1Tok, d1, 100, "cod", "cash")
	pay(d1Tok, d1, 200.5, "cod", "cash")
	pay(d1Tok, d1, 40, "cod", "upi") // not cash
	last := pay(d2Tok, d2, 300, "cod", "cash")

	t.Run("cash collections by agent", func(t *testing.T) {
		r := e.do("GET", "/api/v1/payments/cash-collections-by-agent", adminTok, nil).want(t, 200)
		rows := r.list()
		if len(rows) != 2 {
			t.Fatalf("got %s, want two agents", r)
		}
		top, second := rows[0].(map[string]any), rows[1].(map[string]any)
		if str(top, "_id") != d1.ID.Hex() || num(top, "totalCashCollected") != 300.5 || num(top, "deliveryCount") != 2 || str(top, "name") != d1.Name {
			t.Fatalf("got %v, want d1 first with 300.5 over 2 deliveries (the UPI one is not cash)", top)
		}
		if str(second, "_id") != d2.ID.Hex() || num(second, "totalCashCollected") != 300 {
			t.Fatalf("got %v, want d2 with 300", second)
		}
	})
	t.Run("list", func(t *testing.T) {
		r := e.do("GET", "/api/v1/payments?limit=2", adminTok, nil).want(t, 200)
		if l := r.list(); len(l) != 2 || str(l[0].(map[string]any), "_id") != last {
			t.Fatalf("got %s, want 2 payments newest first", r)
		}
		r = e.do("GET", "/api/v1/payments?sortBy=amount&sortOrder=asc", adminTok, nil).want(t, 200)
		if l := r.list(); len(l) != 4 || num(l[0].(map[string]any), "amount") != 40 {
			t.Fatalf("got %s, want 4 payments, smallest first", r)
		}
		e.do("GET", "/api/v1/payments?status=bogus", adminTok, nil).want(t, 400)
	})
	t.Run("stats", func(t *testing.T) {
		d := e.do("GET", "/api/v1/payments/stats", adminTok, nil).want(t, 200).data()
		if num(d, "totalPayments") != 4 || num(d, "totalAmount") != 640.5 || num(d, "completed", "count") != 4 ||
			num(d, "byMethod", "cod", "amount") != 640.5 || num(d, "cashCollected", "amount") != 600.5 || num(d, "today", "count") != 4 {
			t.Fatalf("got stats %v", d)
		}
	})
	t.Run("one payment", func(t *testing.T) {
		r := e.do("GET", "/api/v1/payments/"+last, adminTok, nil).want(t, 200)
		if str(r.data(), "_id") != last || num(r.data(), "amount") != 300 {
			t.Fatalf("got %s", r)
		}
		e.do("GET", "/api/v1/payments/0123456789abcdef01234567", adminTok, nil).want(t, 404)
		e.do("GET", "/api/v1/payments/nope", adminTok, nil).want(t, 400)
	})
	t.Run("admin only", func(t *testing.T) {
		for _, p := range []string{"/api/v1/payments", "/api/v1/payments/stats", "/api/v1/payments/cash-collections-by-agent", "/api/v1/payments/" + last} {
			e.do("GET", p, cTok, nil).want(t, 403)
			e.do("GET", p, d1Tok, nil).want(t, 403)
		}
	})
}
