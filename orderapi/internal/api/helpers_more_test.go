package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/friendspizzahut/platform/orderapi/internal/order"
	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/auth"
)

// Helpers of the users, agents, payments, offers and notifications tests.

// seedOrder stores a pending order of customer c for total (one item), as
// the order routes would, and returns it.
func (e *env) seedOrder(c *store.User, total float64) *order.Order {
	e.t.Helper()
	o := order.New(order.Draft{
		User: c.ID, Customer: order.Customer{Name: c.Name, Email: c.Email, Phone: c.Phone},
		Items: []order.Item{{Product: primitive.NewObjectID(), ProductSnapshot: order.ProductSnapshot{Name: "Margherita", ImageURL: "https://img.test/m.png", BasePrice: total, Category: "pizza"},
			Quantity: 1, SelectedPrice: total, CustomToppings: []order.Topping{}, Subtotal: total}},
		Subtotal: total, TotalAmount: total, PaymentMethod: "cash",
		DeliveryAddress: order.Address{Street: "1 MG Road", City: "Pune", State: "MH", Pincode: "411001"},
		ContactPhone:    c.Phone,
	}, time.Now().UTC().Truncate(time.Millisecond))
	if err := e.stores.Orders.InsertOrder(context.Background(), o); err != nil {
		e.t.Fatalf("insert order: %v", err)
	}
	return o
}

// advanceOrder moves an order along the state machine to status `to`
// (accepting and assigning agent a on the way when needed).
func (e *env) advanceOrder(o *order.Order, a *store.User, to order.Status) *order.Order {
	e.t.Helper()
	admin := order.Actor{Role: auth.RoleAdmin}
	path := []order.Status{order.Accepted, order.Assigned, order.OutForDelivery, order.Delivered}
	got, err := e.stores.Orders.UpdateOrder(context.Background(), o.ID, func(o *order.Order) error {
		now := time.Now().UTC().Truncate(time.Millisecond)
		for _, st := range path {
			if o.Status == to {
				return nil
			}
			if rank(o.Status, path) >= rank(st, path) {
				continue // already past this step
			}
			var err error
			switch st {
			case order.Accepted:
				err = o.Accept(now)
			case order.Assigned:
				err = o.Assign(order.Agent{ID: a.ID, Name: a.Name, Phone: a.Phone}, now)
			default:
				err = o.SetStatus(admin, st, "", "", now)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatalf("advance order to %s: %v", to, err)
	}
	return got
}

func rank(s order.Status, path []order.Status) int {
	for i, p := range path {
		if p == s {
			return i
		}
	}
	return -1 // pending: before every step
}

// clearOutbox empties a document's outbox, as the relay does once the
// events are published (these tests run without a relay).
func (e *env) clearOutbox(coll string, id any) {
	e.t.Helper()
	if _, err := e.db.Collection(coll).UpdateOne(context.Background(), bson.M{"_id": id}, bson.M{"$set": bson.M{"outbox": bson.A{}}}); err != nil {
		e.t.Fatalf("clear outbox: %v", err)
	}
}

// fields returns the error fields of a validation response.
func fields(r resp) map[string]bool {
	out := map[string]bool{}
	errs, _ := r.body["errors"].([]any)
	for _, fe := range errs {
		if m, ok := fe.(map[string]any); ok {
			out[str(m, "field")] = true
		}
	}
	return out
}

// wantMessage fails unless r's message contains sub.
func (r resp) wantMessage(t *testing.T, sub string) resp {
	t.Helper()
	if msg, _ := r.body["message"].(string); !containsFold(msg, sub) {
		t.Fatalf("got message %q, want it to contain %q (%s)", msg, sub, r)
	}
	return r
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// list returns body.data as an array.
func (r resp) list() []any {
	l, _ := r.body["data"].([]any)
	return l
}

// num digs a number out of nested maps.
func num(m map[string]any, path ...string) float64 {
	f, _ := dig(m, path...).(float64)
	return f
}
