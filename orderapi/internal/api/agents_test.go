package api_test

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/friendspizzahut/platform/orderapi/internal/order"
	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/auth"
	"github.com/friendspizzahut/platform/shared/event"
)

// TestAgentStatus covers CONTRACT §5 scenarios 8 and 12 (the offline guard).
func TestAgentStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, adminTok := e.mustUser(auth.RoleAdmin)
	c, cTok := e.mustUser(auth.RoleCustomer)
	d, dTok := e.mustUser(auth.RoleDelivery)

	t.Run("online", func(t *testing.T) {
		r := e.do("PATCH", "/api/v1/delivery-agent/status", dTok, map[string]any{"isOnline": true}).want(t, 200)
		if _, has := r.body["statusCode"]; has {
			t.Fatalf("delivery-agent routes answer without statusCode: %s", r)
		}
		r.wantMessage(t, "You are now online")
		data := r.data()
		if data["isOnline"] != true || str(data, "state") != "free" || str(data, "deliveryAgentId") != d.ID.Hex() || str(data, "lastOnline") == "" {
			t.Fatalf("got %s, want online and free", r)
		}
		evs := e.events(store.UsersCollection, d.ID)
		if len(evs) != 1 || evs[0].Type != string(event.DeliveryAgentStatusChanged) {
			t.Fatalf("got events %v, want delivery.agent_status_changed", eventTypes(evs))
		}
		if p := payload[event.AgentStatus](t, evs[0]); !p.IsOnline || p.State != "free" || p.DeliveryAgentID != d.ID.Hex() || p.Name != d.Name {
			t.Fatalf("got payload %+v", p)
		}
		st := e.do("GET", "/api/v1/delivery-agent/status", dTok, nil).want(t, 200)
		if dig(st.data(), "status", "isOnline") != true || num(st.data(), "activeOrders") != 0 {
			t.Fatalf("got %s, want data.status.isOnline", st)
		}
	})
	t.Run("repeating the state records no new event", func(t *testing.T) {
		e.do("PATCH", "/api/v1/delivery-agent/status", dTok, map[string]any{"isOnline": true}).want(t, 200)
		if n := len(e.events(store.UsersCollection, d.ID)); n != 1 {
			t.Fatalf("got %d events, want still 1", n)
		}
	})
	for _, tc := range []struct {
		name string
		tok  string
		body any
		want int
		msg  string
	}{
		{"string", dTok, map[string]any{"isOnline": "yes"}, 400, "isOnline must be a boolean value"},
		{"missing", dTok, map[string]any{}, 400, "isOnline must be a boolean value"},
		{"number", dTok, map[string]any{"isOnline": 1}, 400, "isOnline must be a boolean value"},
		{"bad JSON", dTok, "{", 400, "isOnline must be a boolean value"},
		{"admin", adminTok, map[string]any{"isOnline": true}, 403, "Required role: delivery"},
		{"customer", cTok, map[string]any{"isOnline": true}, 403, "Required role: delivery"},
		{"anonymous", "", map[string]any{"isOnline": true}, 401, "No token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.do("PATCH", "/api/v1/delivery-agent/status", tc.tok, tc.body).want(t, tc.want).wantMessage(t, tc.msg)
		})
	}
	e.do("GET", "/api/v1/delivery-agent/status", cTok, nil).want(t, 403)

	t.Run("offline refused while holding orders", func(t *testing.T) {
		o := e.seedOrder(c, 410)
		e.advanceOrder(o, d, order.OutForDelivery)
		r := e.do("PATCH", "/api/v1/delivery-agent/status", dTok, map[string]any{"isOnline": false}).want(t, 400)
		r.wantMessage(t, "active deliveries")
		list, _ := r.body["activeOrders"].([]any)
		if len(list) != 1 || str(list[0].(map[string]any), "orderId") != o.ID.Hex() ||
			str(list[0].(map[string]any), "orderNumber") != o.OrderNumber || str(list[0].(map[string]any), "status") != "out_for_delivery" {
			t.Fatalf("got %s, want activeOrders with the order", r)
		}
		if r.body["success"] != false {
			t.Fatalf("got %s, want success false", r)
		}
		e.advanceOrder(o, d, order.Delivered)
		r = e.do("PATCH", "/api/v1/delivery-agent/status", dTok, map[string]any{"isOnline": false}).want(t, 200)
		if r.data()["isOnline"] != false || str(r.data(), "state") != "offline" {
			t.Fatalf("got %s, want offline", r)
		}
	})
	t.Run("an unapproved agent cannot go online", func(t *testing.T) {
		_, tok := e.mustUser(auth.RoleDelivery, func(u *store.User) { u.IsApproved = false })
		e.do("PATCH", "/api/v1/delivery-agent/status", tok, map[string]any{"isOnline": true}).want(t, 403)
	})
}

func TestAgentStatsAndRecentDeliveries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, cTok := e.mustUser(auth.RoleCustomer)
	d, dTok := e.mustUser(auth.RoleDelivery, online)
	other, _ := e.mustUser(auth.RoleDelivery, online)

	var delivered []*order.Order
	for _, total := range []float64{100, 250.5} {
		o := e.seedOrder(c, total)
		delivered = append(delivered, e.advanceOrder(o, d, order.Delivered))
	}
	// One delivered long ago: counts overall, not today.
	old := e.advanceOrder(e.seedOrder(c, 1000), d, order.Delivered)
	yesterday := time.Now().Add(-48 * time.Hour)
	if _, err := e.db.Collection(store.OrdersCollection).UpdateOne(context.Background(), bson.M{"_id": old.ID}, bson.M{"$set": bson.M{"deliveredAt": yesterday}}); err != nil {
		t.Fatal(err)
	}
	e.advanceOrder(e.seedOrder(c, 99), d, order.Assigned)       // active
	e.advanceOrder(e.seedOrder(c, 555), other, order.Delivered) // someone else's

	r := e.do("GET", "/api/v1/delivery-agent/stats", dTok, nil).want(t, 200)
	data := r.data()
	if num(data, "today", "ordersCompleted") != 2 || num(data, "today", "activeOrders") != 1 || num(data, "today", "earnings") != 35.05 {
		t.Fatalf("got today %v, want 2 completed, 1 active, earnings 35.05", data["today"])
	}
	if num(data, "overall", "totalDeliveries") != 3 || num(data, "overall", "totalEarnings") != 135.05 || num(data, "overall", "rating") != 4.5 {
		t.Fatalf("got overall %v, want 3 deliveries, 135.05 earned, rating 4.5", data["overall"])
	}

	rd := e.do("GET", "/api/v1/delivery-agent/recent-deliveries?limit=2", dTok, nil).want(t, 200)
	list := rd.list()
	if rd.body["count"] != float64(2) || len(list) != 2 {
		t.Fatalf("got %s, want 2 deliveries", rd)
	}
	first := list[0].(map[string]any)
	if str(first, "orderNumber") != delivered[1].OrderNumber || str(first, "status") != "delivered" ||
		str(first, "deliveryAddress", "formatted") != "1 MG Road, Pune" || str(first, "deliveredAt") == "" {
		t.Fatalf("got first %v, want the latest delivery", first)
	}
	items, _ := first["items"].([]any)
	if len(items) != 1 || str(items[0].(map[string]any), "product", "name") != "Margherita" {
		t.Fatalf("got items %v", items)
	}
	e.do("GET", "/api/v1/delivery-agent/recent-deliveries?limit=0", dTok, nil).want(t, 400)
	e.do("GET", "/api/v1/delivery-agent/stats", cTok, nil).want(t, 403)
	e.do("GET", "/api/v1/delivery-agent/recent-deliveries", cTok, nil).want(t, 403)
}
