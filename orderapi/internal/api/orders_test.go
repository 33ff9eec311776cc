package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/auth"
	"github.com/friendspizzahut/platform/shared/event"
)

// mustMenu stores a pizza (small 199 / medium 299 / large 399), a drink
// (49), an unavailable item and settings with one topping; returns their ids.
func (e *env) mustMenu() (pizza, drink, gone primitive.ObjectID) {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.stores.Settings.Update(ctx, primitive.NilObjectID, func(rs *store.RestaurantSettings) error {
		rs.AvailableToppings = []store.Topping{{ID: primitive.NewObjectID(), Name: "Extra Cheese", Category: "cheese", Price: 40, IsActive: true}}
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	ps := []*store.Product{
		{Name: "Margherita", Category: "pizza", ImageURL: "/m.jpg", IsAvailable: true, Pricing: store.Pricing{Sizes: map[string]float64{"small": 199, "medium": 299, "large": 399}}},
		{Name: "Coke", Category: "cold-drinks", ImageURL: "/c.jpg", IsAvailable: true, Pricing: store.Pricing{Flat: 49}},
		{Name: "Old Special", Category: "snacks", ImageURL: "/o.jpg", IsAvailable: false, Pricing: store.Pricing{Flat: 10}},
	}
	for _, p := range ps {
		if err := e.stores.Products.CreateProduct(ctx, p); err != nil {
			e.t.Fatal(err)
		}
	}
	return ps[0].ID, ps[1].ID, ps[2].ID
}

var testAddress = map[string]any{"street": "1 MG Road", "city": "Pune", "state": "MH", "pincode": "411001"}

// mustOrder places an order of one medium pizza for the customer token
// through the cart and returns its id.
func (e *env) mustOrder(tok string, pizza primitive.ObjectID) primitive.ObjectID {
	e.t.Helper()
	e.do("POST", "/api/v1/cart/items", tok, map[string]any{"productId": pizza.Hex(), "quantity": 1, "size": "medium"}).want(e.t, 200)
	r := e.do("POST", "/api/v1/orders/from-cart", tok, map[string]any{"deliveryAddress": testAddress, "contactPhone": "9876543210", "paymentMethod": "cash"}).want(e.t, 201)
	id, err := primitive.ObjectIDFromHex(str(r.data(), "_id"))
	if err != nil {
		e.t.Fatalf("order id in %s: %v", r, err)
	}
	return id
}

func TestCart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pizza, drink, gone := e.mustMenu()
	_, tok := e.mustUser(auth.RoleCustomer)
	_, adminTok := e.mustUser(auth.RoleAdmin)

	// Prices come from the products and the settings, never the client.
	r := e.do("POST", "/api/v1/cart/items", tok, map[string]any{"productId": pizza.Hex(), "quantity": 2, "size": "large",
		"customToppings": []any{map[string]any{"name": "extra cheese", "category": "cheese", "price": 0.01}}, "price": 1}).want(t, 200)
	if _, hasCode := r.body["statusCode"]; hasCode {
		t.Fatalf("cart responses carry no statusCode: %s", r)
	}
	d := r.data()
	if d["subtotal"] != 878.0 || d["tax"] != 74.63 || d["deliveryFee"] != 40.0 || d["total"] != 992.63 || d["totalItems"] != 2.0 {
		t.Fatalf("got totals %v %v %v %v, want 878 (2×(399+40)), 74.63, 40, 992.63", d["subtotal"], d["tax"], d["deliveryFee"], d["total"])
	}
	e.do("POST", "/api/v1/cart/items", tok, map[string]any{"productId": drink.Hex()}).want(t, 200)
	r = e.do("POST", "/api/v1/cart/items", tok, map[string]any{"productId": drink.Hex(), "quantity": 2}).want(t, 200)
	items, _ := r.data()["items"].([]any)
	if len(items) != 2 || dig(items[1].(map[string]any), "quantity") != 3.0 {
		t.Fatalf("got items %v, want the drink merged to quantity 3", items)
	}
	drinkItem := str(items[1].(map[string]any), "_id")

	for _, tc := range []struct {
		name, method, path, token string
		body                      any
		want                      int
	}{
		{"admin has no cart", "GET", "/api/v1/cart", adminTok, nil, 403},
		{"no token", "GET", "/api/v1/cart", "", nil, 401},
		{"bad product id", "POST", "/api/v1/cart/items", tok, map[string]any{"productId": "nope"}, 400},
		{"unknown product", "POST", "/api/v1/cart/items", tok, map[string]any{"productId": primitive.NewObjectID().Hex()}, 404},
		{"unavailable product", "POST", "/api/v1/cart/items", tok, map[string]any{"productId": gone.Hex()}, 400},
		{"bad size", "POST", "/api/v1/cart/items", tok, map[string]any{"productId": pizza.Hex(), "size": "huge"}, 400},
		{"unknown topping", "POST", "/api/v1/cart/items", tok, map[string]any{"productId": pizza.Hex(), "customToppings": []any{map[string]any{"name": "Gold"}}}, 400},
		{"quantity zero", "POST", "/api/v1/cart/items", tok, map[string]any{"productId": pizza.Hex(), "quantity": 0}, 400},
		{"quantity string", "POST", "/api/v1/cart/items", tok, map[string]any{"productId": pizza.Hex(), "quantity": "2"}, 400},
		{"update unknown item", "PATCH", "/api/v1/cart/items/" + primitive.NewObjectID().Hex(), tok, map[string]any{"quantity": 1}, 404},
		{"update bad item id", "PATCH", "/api/v1/cart/items/undefined", tok, map[string]any{"quantity": 1}, 400},
		{"update quantity", "PATCH", "/api/v1/cart/items/" + drinkItem, tok, map[string]any{"quantity": 1}, 200},
		{"unknown coupon", "POST", "/api/v1/cart/coupon", tok, map[string]any{"couponCode": "NOPE"}, 400},
		{"coupon missing", "POST", "/api/v1/cart/coupon", tok, map[string]any{}, 400},
		{"validate", "GET", "/api/v1/cart/validate", tok, nil, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, tc.token, tc.body).want(t, tc.want)
			if tc.want >= 400 && (r.body["success"] != false || str(r.body, "message") == "") {
				t.Fatalf("got %s, want {success:false, message}", r)
			}
		})
	}

	t.Run("coupon", func(t *testing.T) {
		limit := 10
		max := 50.0
		if err := e.stores.Offers.CreateOffer(context.Background(), &store.Offer{
			Title: "Ten off", Code: "TEN10", DiscountType: store.DiscountPercentage, DiscountValue: 10, MaxDiscount: &max,
			IsActive: true, ValidFrom: time.Now().Add(-time.Hour), ValidUntil: time.Now().Add(time.Hour), UsageLimit: &limit,
			GradientColors: []string{"#000", "#fff"},
		}); err != nil {
			t.Fatal(err)
		}
		r := e.do("POST", "/api/v1/cart/coupon", tok, map[string]any{"couponCode": "ten10"}).want(t, 200)
		d := r.data()
		// 878 + 49 = 927; 10 % = 92.7, capped at 50.
		if d["subtotal"] != 927.0 || d["discount"] != 50.0 || d["total"] != 927.0+78.8+40-50 || str(d, "appliedCoupon", "code") != "TEN10" {
			t.Fatalf("got %v", d)
		}
		r = e.do("DELETE", "/api/v1/cart/coupon", tok, nil).want(t, 200)
		if r.data()["discount"] != 0.0 || r.data()["appliedCoupon"] != nil {
			t.Fatalf("got %v after removing the coupon", r.data())
		}
	})
	t.Run("remove and clear", func(t *testing.T) {
		r := e.do("DELETE", "/api/v1/cart/items/"+drinkItem, tok, nil).want(t, 200)
		if n := len(r.data()["items"].([]any)); n != 1 {
			t.Fatalf("got %d items, want 1", n)
		}
		r = e.do("DELETE", "/api/v1/cart", tok, nil).want(t, 200)
		if n := len(r.data()["items"].([]any)); n != 0 || r.data()["total"] != 0.0 {
			t.Fatalf("got %v, want an empty cart", r.data())
		}
		r = e.do("GET", "/api/v1/cart/validate", tok, nil).want(t, 200)
		if r.data()["isValid"] != false {
			t.Fatalf("an empty cart validated: %s", r)
		}
	})
}

func TestPlaceOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pizza, drink, gone := e.mustMenu()
	cust, tok := e.mustUser(auth.RoleCustomer)

	t.Run("empty cart", func(t *testing.T) {
		r := e.do("POST", "/api/v1/orders/from-cart", tok, map[string]any{"deliveryAddress": testAddress, "contactPhone": "9876543210"}).want(t, 400)
		if r.body["message"] != "Cart is empty" {
			t.Fatalf("got %s", r)
		}
	})
	t.Run("validation", func(t *testing.T) {
		r := e.do("POST", "/api/v1/orders/from-cart", tok, map[string]any{"paymentMethod": "bitcoin"}).want(t, 400)
		if r.body["message"] != "Validation failed" || len(r.body["errors"].([]any)) < 3 {
			t.Fatalf("got %s, want errors for address, phone and payment method", r)
		}
	})
	t.Run("below minimum is the app's check", func(t *testing.T) {
		e.do("POST", "/api/v1/cart/items", tok, map[string]any{"productId": drink.Hex()}).want(t, 200)
		r := e.do("GET", "/api/v1/cart/validate", tok, nil).want(t, 200)
		if r.data()["isValid"] != false || !strings.Contains(fmt.Sprint(r.data()["issues"]), "Minimum order amount") {
			t.Fatalf("got %s", r)
		}
		e.do("DELETE", "/api/v1/cart", tok, nil).want(t, 200)
	})

	var orderID primitive.ObjectID
	t.Run("from cart", func(t *testing.T) {
		e.do("POST", "/api/v1/cart/items", tok, map[string]any{"productId": pizza.Hex(), "quantity": 1, "size": "medium"}).want(t, 200)
		r := e.do("POST", "/api/v1/orders/from-cart", tok, map[string]any{"deliveryAddress": testAddress, "contactPhone": "9876543210", "paymentMethod": "cash"},
			"Idempotency-Key", "order-1").want(t, 201)
		d := r.data()
		if !strings.HasPrefix(str(d, "orderNumber"), "ORD-") || d["status"] != "pending" || d["estimatedDeliveryTime"] != 30.0 ||
			d["totalAmount"] != d["subtotal"].(float64)+d["tax"].(float64)+d["deliveryFee"].(float64)-d["discount"].(float64) ||
			str(d, "user", "name") != cust.Name || d["subtotal"] != 299.0 {
			t.Fatalf("got %s", r)
		}
		orderID, _ = primitive.ObjectIDFromHex(str(d, "_id"))
		// A retry with the same key is the same order.
		again := e.do("POST", "/api/v1/orders/from-cart", tok, map[string]any{"deliveryAddress": testAddress, "contactPhone": "9876543210", "paymentMethod": "cash"},
			"Idempotency-Key", "order-1").want(t, 201)
		if str(again.data(), "_id") != orderID.Hex() {
			t.Fatalf("retry created %s, want %s", str(again.data(), "_id"), orderID.Hex())
		}
		cart := e.do("GET", "/api/v1/cart", tok, nil).want(t, 200)
		if len(cart.data()["items"].([]any)) != 0 {
			t.Fatalf("cart not cleared: %s", cart)
		}
		recs := e.events(store.OrdersCollection, orderID)
		if len(recs) != 1 || recs[0].Type != string(event.OrderCreated) {
			t.Fatalf("got outbox %v, want order.created", eventTypes(recs))
		}
		p := payload[event.OrderCreatedData](t, recs[0])
		o := p.Order
		if o.OrderID != orderID.Hex() || o.Customer.ID != cust.ID.Hex() || o.Customer.Name != cust.Name || o.PaymentMethod != "cash" ||
			o.Status != "pending" || len(o.Items) != 1 || o.Items[0].ProductSnapshot.Name != "Margherita" || o.Items[0].Subtotal != 299 ||
			o.DeliveryAddress.City != "Pune" || o.TotalAmount != 364.42 || o.CreatedAt.IsZero() {
			t.Fatalf("got order.created payload %+v", o)
		}
	})
	t.Run("POST /orders priced on the server", func(t *testing.T) {
		r := e.do("POST", "/api/v1/orders", tok, map[string]any{
			"items":           []any{map[string]any{"productId": pizza.Hex(), "quantity": 2, "size": "small", "price": 1}, map[string]any{"product": drink.Hex(), "quantity": 1}},
			"deliveryAddress": testAddress, "contactPhone": "9876543210", "paymentMethod": "upi",
		}).want(t, 201)
		if d := r.data(); d["subtotal"] != 447.0 || d["paymentMethod"] != "upi" || len(d["items"].([]any)) != 2 {
			t.Fatalf("got %s, want subtotal 2×199+49", r)
		}
		for _, tc := range []struct {
			name  string
			items []any
			want  int
		}{
			{"no items", []any{}, 400},
			{"bad id", []any{map[string]any{"productId": "x", "quantity": 1}}, 400},
			{"unknown product", []any{map[string]any{"productId": primitive.NewObjectID().Hex(), "quantity": 1}}, 404},
			{"unavailable", []any{map[string]any{"productId": gone.Hex(), "quantity": 20}}, 400},
			{"bad quantity", []any{map[string]any{"productId": pizza.Hex(), "quantity": 0}}, 400},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e.do("POST", "/api/v1/orders", tok, map[string]any{"items": tc.items, "deliveryAddress": testAddress, "contactPhone": "9876543210"}).want(t, tc.want)
			})
		}
	})
	t.Run("closed shop", func(t *testing.T) {
		_, adminTok := e.mustUser(auth.RoleAdmin)
		e.do("PATCH", "/api/v1/business/status", adminTok, map[string]any{"isOpen": false, "message": "Back at 6"}).want(t, 200)
		defer func() {
			e.do("PATCH", "/api/v1/business/status", adminTok, map[string]any{"isOpen": true}).want(t, 200)
		}()
		r := e.do("POST", "/api/v1/orders", tok, map[string]any{"items": []any{map[string]any{"productId": pizza.Hex(), "quantity": 1}},
			"deliveryAddress": testAddress, "contactPhone": "9876543210"}).want(t, 400)
		if !strings.Contains(str(r.body, "message"), "closed") {
			t.Fatalf("got %s", r)
		}
	})
	t.Run("my orders", func(t *testing.T) {
		r := e.do("GET", "/api/v1/orders/my-orders?limit=1", tok, nil).want(t, 200)
		d := r.data()
		rows := d["orders"].([]any)
		if len(rows) != 1 || dig(d, "pagination", "total") != 2.0 || dig(d, "pagination", "hasMore") != true {
			t.Fatalf("got %s", r)
		}
		r = e.do("GET", "/api/v1/orders/my-orders?skip=1", tok, nil).want(t, 200)
		row := r.data()["orders"].([]any)[0].(map[string]any)
		if row["status"] != "Order Placed" || row["statusType"] != "active" || row["_id"] != orderID.Hex() ||
			!strings.HasPrefix(str(row, "id"), "ORD-") || row["deliveryAddress"] != "1 MG Road, Pune" ||
			row["estimatedTime"] != "30-35 min" || row["items"].([]any)[0] != "1x Margherita (Medium)" || row["total"] != 364.42 {
			t.Fatalf("got row %v", row)
		}
		e.do("GET", "/api/v1/orders/my-orders?limit=0", tok, nil).want(t, 400)
		e.do("GET", "/api/v1/orders/my-orders?status=lost", tok, nil).want(t, 400)
	})
}

// TestOrderLifecycle drives one order through every route of the flow the
// apps use, checking responses, stored events and authorisation.
func TestOrderLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pizza, _, _ := e.mustMenu()
	cust, custTok := e.mustUser(auth.RoleCustomer)
	_, otherTok := e.mustUser(auth.RoleCustomer)
	_, adminTok := e.mustUser(auth.RoleAdmin)
	agent, agentTok := e.mustUser(auth.RoleDelivery, online)
	_, otherAgentTok := e.mustUser(auth.RoleDelivery, online)
	offline, _ := e.mustUser(auth.RoleDelivery)
	unapproved, _ := e.mustUser(auth.RoleDelivery, online, func(u *store.User) { u.IsApproved = false })
	id := e.mustOrder(custTok, pizza)
	path := "/api/v1/orders/" + id.Hex()

	lastEvents := func(n int) []string {
		t.Helper()
		types := eventTypes(e.events(store.OrdersCollection, id))
		if len(types) < n {
			t.Fatalf("got outbox %v, want at least %d", types, n)
		}
		return types[len(types)-n:]
	}

	for _, s := range []struct {
		name, token, method, path string
		body                      any
		want                      int
		wantMsg                   string
		check                     func(t *testing.T, r resp)
	}{
		{"invalid id", custTok, "GET", "/api/v1/orders/undefined", nil, 400, "Invalid _id: undefined. Please provide a valid ID.", nil},
		{"missing order", custTok, "GET", "/api/v1/orders/" + primitive.NewObjectID().Hex(), nil, 404, "Order not found", nil},
		{"other customer cannot view", otherTok, "GET", path, nil, 403, "Not authorized to view this order", nil},
		{"unassigned agent cannot view", agentTok, "GET", path, nil, 403, "", nil},
		{"owner views", custTok, "GET", path, nil, 200, "", func(t *testing.T, r resp) {
			if str(r.data(), "order", "_id") != id.Hex() {
				t.Fatalf("got %s, want data.order", r)
			}
		}},
		{"customer cannot accept", custTok, "POST", path + "/accept", nil, 403, "Access denied. Admin privileges required.", nil},
		{"assign a pending order", adminTok, "PATCH", path + "/assign-delivery", map[string]any{"deliveryAgentId": agent.ID.Hex()}, 400, "Order must be accepted before assigning delivery agent", nil},
		{"accept", adminTok, "POST", path + "/accept", nil, 200, "", func(t *testing.T, r resp) {
			if str(r.data(), "order", "status") != "accepted" || str(r.data(), "order", "acceptedAt") == "" {
				t.Fatalf("got %s", r)
			}
			if got := lastEvents(1); got[0] != string(event.OrderStatusChanged) {
				t.Fatalf("got %v", got)
			}
		}},
		{"accept again", adminTok, "POST", path + "/accept", nil, 400, "Cannot accept order with status: accepted", nil},
		{"customer cannot cancel an accepted order", custTok, "PATCH", path + "/status", map[string]any{"status": "cancelled"}, 400, "", nil},
		{"admin list", adminTok, "GET", "/api/v1/orders", nil, 200, "", func(t *testing.T, r resp) {
			rows, ok := r.body["data"].([]any)
			if !ok || len(rows) != 1 || str(rows[0].(map[string]any), "user", "name") != cust.Name {
				t.Fatalf("got %s, want a bare array with user.name", r)
			}
		}},
		{"my orders shows Accepted", custTok, "GET", "/api/v1/orders/my-orders", nil, 200, "", func(t *testing.T, r resp) {
			row := r.data()["orders"].([]any)[0].(map[string]any)
			if row["status"] != "Accepted" || row["statusType"] != "active" {
				t.Fatalf("got %v", row)
			}
		}},
		{"assign: no body", adminTok, "PATCH", path + "/assign-delivery", nil, 400, "Delivery agent ID is required", nil},
		{"assign: bad id", adminTok, "PATCH", path + "/assign-delivery", map[string]any{"deliveryAgentId": "x"}, 400, "Invalid _id: x. Please provide a valid ID.", nil},
		{"assign: unknown agent", adminTok, "PATCH", path + "/assign-delivery", map[string]any{"deliveryAgentId": primitive.NewObjectID().Hex()}, 404, "Delivery agent not found", nil},
		{"assign: a customer", adminTok, "PATCH", path + "/assign-delivery", map[string]any{"deliveryAgentId": cust.ID.Hex()}, 400, "User is not a delivery agent", nil},
		{"assign: offline agent", adminTok, "PATCH", path + "/assign-delivery", map[string]any{"deliveryAgentId": offline.ID.Hex()}, 400, "Delivery agent is offline", nil},
		{"assign: unapproved agent", adminTok, "PATCH", path + "/assign-delivery", map[string]any{"deliveryAgentId": unapproved.ID.Hex()}, 400, "Delivery agent is not approved", nil},
		{"mark ready", adminTok, "POST", path + "/mark-ready", nil, 200, "", func(t *testing.T, r resp) {
			if str(r.data(), "order", "status") != "ready" {
				t.Fatalf("got %s", r)
			}
		}},
		{"assign", adminTok, "PATCH", path + "/assign-delivery", map[string]any{"deliveryAgentId": agent.ID.Hex()}, 200, "", func(t *testing.T, r resp) {
			d := r.data()
			if d["status"] != "assigned" || str(d, "deliveryAgent", "name") != agent.Name || str(d, "deliveryAgentDetails", "name") != agent.Name ||
				str(d, "deliveryAgentDetails", "vehicleNumber") != "MH12AB1234" || str(d, "assignedAt") == "" {
				t.Fatalf("got %s", r)
			}
			recs := e.events(store.OrdersCollection, id)
			last := recs[len(recs)-1]
			if last.Type != string(event.OrderAssigned) {
				t.Fatalf("got %v", eventTypes(recs))
			}
			p := payload[event.OrderAssignedData](t, last)
			if p.Order.DeliveryAgent.ID != agent.ID.Hex() || p.Order.Customer.Phone != cust.Phone || p.Order.PaymentMethod != "cash" ||
				p.Order.PaymentStatus != "pending" || p.Order.Subtotal != 299 || p.AssignedAt.IsZero() {
				t.Fatalf("got order.assigned %+v", p)
			}
			urecs := e.events(store.UsersCollection, agent.ID)
			ap := payload[event.AgentStatus](t, urecs[len(urecs)-1])
			if ap.State != "busy" || !ap.IsOnline || ap.DeliveryAgentID != agent.ID.Hex() {
				t.Fatalf("got agent status %+v, want busy", ap)
			}
		}},
		{"assigned agent views", agentTok, "GET", path, nil, 200, "", nil},
		{"agent's active orders", agentTok, "GET", "/api/v1/orders/delivery-agent/my-orders", nil, 200, "", func(t *testing.T, r resp) {
			rows := r.data()["orders"].([]any)
			if len(rows) != 1 {
				t.Fatalf("got %s", r)
			}
			row := rows[0].(map[string]any)
			if row["_id"] != id.Hex() || !strings.HasPrefix(str(row, "id"), "ORD-") || row["status"] != "assigned" || row["paymentMethod"] != "cod" ||
				row["paymentStatus"] != "pending" || str(row["items"].([]any)[0].(map[string]any), "name") != "Margherita" ||
				row["customerName"] != cust.Name || row["totalAmount"] != 364.42 {
				t.Fatalf("got row %v", row)
			}
		}},
		{"other agent sees none", otherAgentTok, "GET", "/api/v1/orders/delivery-agent/my-orders", nil, 200, "", func(t *testing.T, r resp) {
			if rows := r.data()["orders"].([]any); len(rows) != 0 {
				t.Fatalf("got %v", rows)
			}
		}},
		{"other agent cannot move it", otherAgentTok, "PATCH", path + "/status", map[string]any{"status": "out_for_delivery"}, 403, "Not authorized to update this order", nil},
		{"bad status", agentTok, "PATCH", path + "/status", map[string]any{"status": "teleported"}, 400, "Validation failed", nil},
		{"cannot skip pickup", agentTok, "PATCH", path + "/status", map[string]any{"status": "delivered"}, 400, "", nil},
		{"pickup", agentTok, "PATCH", path + "/status", map[string]any{"status": "out_for_delivery"}, 200, "", func(t *testing.T, r resp) {
			if r.data()["status"] != "out_for_delivery" {
				t.Fatalf("got %s", r)
			}
			p := payload[event.OrderStatusChangedData](t, e.events(store.OrdersCollection, id)[len(e.events(store.OrdersCollection, id))-1])
			if p.Status != "out_for_delivery" || p.PreviousStatus != "assigned" || p.CustomerID != cust.ID.Hex() || p.DeliveryAgentID != agent.ID.Hex() {
				t.Fatalf("got %+v", p)
			}
		}},
		{"same status records payment", agentTok, "PATCH", path + "/status", map[string]any{"status": "out_for_delivery", "paymentStatus": "completed"}, 200, "", func(t *testing.T, r resp) {
			if r.data()["paymentStatus"] != "completed" {
				t.Fatalf("got %s", r)
			}
		}},
		{"my orders shows payment", custTok, "GET", "/api/v1/orders/my-orders", nil, 200, "", func(t *testing.T, r resp) {
			row := r.data()["orders"].([]any)[0].(map[string]any)
			if row["paymentStatus"] != "completed" || row["status"] != "Out for Delivery" || dig(row, "deliveryAgent", "name") != agent.Name {
				t.Fatalf("got %v", row)
			}
		}},
		{"deliver", agentTok, "PATCH", path + "/status", map[string]any{"status": "delivered"}, 200, "", func(t *testing.T, r resp) {
			if r.data()["status"] != "delivered" || str(r.data(), "deliveredAt") == "" {
				t.Fatalf("got %s", r)
			}
			a, _ := e.stores.Users.UserByID(context.Background(), agent.ID)
			if a.AgentState() != store.AgentFree || a.TotalDeliveries != 1 {
				t.Fatalf("got agent %s with %d deliveries, want free with 1", a.AgentState(), a.TotalDeliveries)
			}
		}},
		{"left the agent's list", agentTok, "GET", "/api/v1/orders/delivery-agent/my-orders", nil, 200, "", func(t *testing.T, r resp) {
			if rows := r.data()["orders"].([]any); len(rows) != 0 {
				t.Fatalf("got %v", rows)
			}
		}},
		{"my orders shows Delivered", custTok, "GET", "/api/v1/orders/my-orders", nil, 200, "", func(t *testing.T, r resp) {
			row := r.data()["orders"].([]any)[0].(map[string]any)
			if row["status"] != "Delivered" || row["statusType"] != "completed" || row["estimatedTime"] != nil {
				t.Fatalf("got %v", row)
			}
		}},
		{"reject a delivered order", adminTok, "POST", path + "/reject", map[string]any{"reason": "late"}, 400, "Cannot reject order with status: delivered", nil},
	} {
		t.Run(s.name, func(t *testing.T) {
			r := e.do(s.method, s.path, s.token, s.body).want(t, s.want)
			if s.wantMsg != "" && r.body["message"] != s.wantMsg {
				t.Fatalf("got message %q, want %q", r.body["message"], s.wantMsg)
			}
			if s.want >= 400 && r.body["success"] != false {
				t.Fatalf("got %s, want success:false", r)
			}
			if s.check != nil {
				s.check(t, r)
			}
		})
	}
}

func TestRejectAndCancel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pizza, _, _ := e.mustMenu()
	cust, custTok := e.mustUser(auth.RoleCustomer)
	_, adminTok := e.mustUser(auth.RoleAdmin)

	t.Run("admin rejects with a reason", func(t *testing.T) {
		id := e.mustOrder(custTok, pizza)
		r := e.do("POST", "/api/v1/orders/"+id.Hex()+"/reject", adminTok, map[string]any{"reason": "Rejected by admin"}).want(t, 200)
		if str(r.data(), "order", "status") != "cancelled" || str(r.data(), "order", "cancellationReason") != "Rejected by admin" {
			t.Fatalf("got %s", r)
		}
		recs := e.events(store.OrdersCollection, id)
		p := payload[event.OrderCancelledData](t, recs[len(recs)-1])
		if recs[len(recs)-1].Type != string(event.OrderCancelled) || p.Reason != "Rejected by admin" || p.CustomerID != cust.ID.Hex() || p.OrderNumber == "" {
			t.Fatalf("got %v %+v", eventTypes(recs), p)
		}
		e.do("POST", "/api/v1/orders/"+id.Hex()+"/reject", adminTok, nil).want(t, 400)
	})
	t.Run("customer cancels own pending order", func(t *testing.T) {
		id := e.mustOrder(custTok, pizza)
		r := e.do("PATCH", "/api/v1/orders/"+id.Hex()+"/status", custTok, map[string]any{"status": "cancelled", "cancellationReason": "changed my mind"}).want(t, 200)
		if r.data()["status"] != "cancelled" || r.data()["cancelledBy"] != "customer" {
			t.Fatalf("got %s", r)
		}
	})
	t.Run("customer cannot touch another's order", func(t *testing.T) {
		id := e.mustOrder(custTok, pizza)
		_, other := e.mustUser(auth.RoleCustomer)
		e.do("PATCH", "/api/v1/orders/"+id.Hex()+"/status", other, map[string]any{"status": "cancelled"}).want(t, 403)
	})
}

// TestConcurrentAccept: of many simultaneous accepts exactly one wins and
// exactly one status event is stored (transitions are conditioned on the
// status they were decided from).
func TestConcurrentAccept(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pizza, _, _ := e.mustMenu()
	_, custTok := e.mustUser(auth.RoleCustomer)
	_, adminTok := e.mustUser(auth.RoleAdmin)
	id := e.mustOrder(custTok, pizza)

	const n = 6
	codes := make(chan int, n)
	for range n {
		go func() {
			codes <- e.do("POST", "/api/v1/orders/"+id.Hex()+"/accept", adminTok, nil).status
		}()
	}
	ok := 0
	for range n {
		switch c := <-codes; c {
		case 200:
			ok++
		case 400, 409:
		default:
			t.Errorf("got status %d", c)
		}
	}
	if ok != 1 {
		t.Fatalf("%d accepts succeeded, want exactly 1", ok)
	}
	if got := eventTypes(e.events(store.OrdersCollection, id)); len(got) != 2 || got[1] != string(event.OrderStatusChanged) {
		t.Fatalf("got outbox %v, want order.created then one order.status_changed", got)
	}
}
