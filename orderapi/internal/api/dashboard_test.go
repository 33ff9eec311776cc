package api_test

import (
	"sort"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/friendspizzahut/platform/orderapi/internal/order"
	"github.com/friendspizzahut/platform/shared/auth"
)

// keysOf returns the sorted keys of an object.
func keysOf(v any) []string {
	m, _ := v.(map[string]any)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// wantKeys fails unless obj has every key (the original's field names).
func wantKeys(t *testing.T, what string, obj any, keys ...string) {
	t.Helper()
	m, ok := obj.(map[string]any)
	if !ok {
		t.Fatalf("%s: got %v, want an object", what, obj)
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s: no field %q (has %v)", what, k, keysOf(m))
		}
	}
}

// TestDashboardOverview checks the app's Dashboard call: the original's
// shapes, figures that match the orders placed, paid and delivered here,
// the brief cache and its fromCache flag, and admin-only access.
func TestDashboardOverview(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pizza, _, _ := e.mustMenu()
	_, adminTok := e.mustUser(auth.RoleAdmin)
	c, cTok := e.mustUser(auth.RoleCustomer)
	a, aTok := e.mustUser(auth.RoleDelivery, online)
	e.mustUser(auth.RoleCustomer) // a second customer who ordered nothing

	e.do("GET", "/api/v1/dashboard/overview", "", nil).want(t, 401)
	e.do("GET", "/api/v1/dashboard/overview", cTok, nil).want(t, 403)
	e.do("GET", "/api/v1/dashboard/stats", aTok, nil).want(t, 403)

	// Three orders through the app's routes: one delivered and paid (COD),
	// one out for delivery, one still pending.
	ids := []string{}
	for range 3 {
		ids = append(ids, e.mustOrder(cTok, pizza).Hex())
	}
	delivered, _ := e.stores.Orders.OrderByID(t.Context(), mustID(t, ids[0]))
	delivered = e.advanceOrder(delivered, a, order.OutForDelivery)
	e.do("POST", "/api/v1/payments", aTok, codBody(delivered, a.ID, delivered.TotalAmount)).want(t, 201)
	e.do("PATCH", "/api/v1/orders/"+ids[0]+"/status", aTok, map[string]any{"status": "delivered"}).want(t, 200)
	onTheWay, _ := e.stores.Orders.OrderByID(t.Context(), mustID(t, ids[1]))
	e.advanceOrder(onTheWay, a, order.OutForDelivery)
	_ = c

	r := e.do("GET", "/api/v1/dashboard/overview", adminTok, nil).want(t, 200)
	if r.body["success"] != true || r.body["message"] != "Dashboard overview retrieved successfully" {
		t.Fatalf("envelope: got %s", r)
	}
	d := r.data()
	wantKeys(t, "data", d, "stats", "weeklyChart", "hourlySales", "topProducts", "recentActivities", "systemStatus", "fromCache", "lastUpdated")
	if d["fromCache"] != false {
		t.Errorf("first call: got fromCache %v, want false", d["fromCache"])
	}
	stats := d["stats"].(map[string]any)
	wantKeys(t, "stats", stats, "todayOrders", "totalOrders", "todayRevenue", "totalRevenue", "activeDeliveries",
		"totalCustomers", "completedOrders", "cancelledOrders", "lastUpdated",
		"yesterdayOrders", "yesterdayRevenue", "pendingOrders", "agentsOnline", "timeZone")
	paid := delivered.TotalAmount
	for _, c := range []struct {
		field string
		want  float64
	}{
		{"todayOrders", 3}, {"totalOrders", 3}, {"todayRevenue", paid}, {"totalRevenue", paid},
		{"activeDeliveries", 1}, {"pendingOrders", 1}, {"completedOrders", 1}, {"cancelledOrders", 0},
		{"deliveredToday", 1}, {"totalCustomers", 2}, {"agentsOnline", 1}, {"yesterdayOrders", 0},
	} {
		if got := num(stats, c.field); got != c.want {
			t.Errorf("stats.%s: got %v, want %v", c.field, got, c.want)
		}
	}
	if stats["timeZone"] != "Asia/Kolkata" {
		t.Errorf("stats.timeZone: got %v", stats["timeZone"])
	}

	week, _ := d["weeklyChart"].([]any)
	if len(week) != 7 {
		t.Fatalf("weeklyChart: got %d days, want 7", len(week))
	}
	for _, p := range week {
		wantKeys(t, "weeklyChart[]", p, "date", "revenue", "orders")
	}
	if today := week[6].(map[string]any); num(today, "orders") != 3 || num(today, "revenue") != paid {
		t.Errorf("weeklyChart today: got %v, want 3 orders and %v", today, paid)
	}
	hourly, _ := d["hourlySales"].([]any)
	sum := 0.0
	for _, h := range hourly {
		wantKeys(t, "hourlySales[]", h, "hour", "hourValue", "orders", "revenue")
		sum += num(h.(map[string]any), "orders")
	}
	if sum != 3 {
		t.Errorf("hourlySales: got %v orders in all, want 3 (%v)", sum, hourly)
	}
	top, _ := d["topProducts"].([]any)
	if len(top) != 1 {
		t.Fatalf("topProducts: got %v, want the one pizza", top)
	}
	wantKeys(t, "topProducts[]", top[0], "_id", "name", "category", "totalQuantity", "totalRevenue")
	if p := top[0].(map[string]any); p["_id"] != pizza.Hex() || p["name"] != "Margherita" || num(p, "totalQuantity") != 3 {
		t.Errorf("topProducts[0]: got %v", p)
	}
	acts, _ := d["recentActivities"].([]any)
	if len(acts) != 5 {
		t.Fatalf("recentActivities: got %d, want 5", len(acts))
	}
	for _, a := range acts {
		wantKeys(t, "recentActivities[]", a, "_id", "type", "message", "timestamp", "action", "time", "id", "icon", "color")
	}
	// The last step taken here was the second order leaving for delivery;
	// the first order's delivery came just before it.
	if first := acts[0].(map[string]any); first["type"] != "order_out_for_delivery" || !strings.HasPrefix(str(first, "id"), "ORD-") || first["time"] != "just now" {
		t.Errorf("latest activity: got %v, want the second order out for delivery", first)
	}
	seen := map[string]bool{}
	for _, a := range acts {
		seen[str(a.(map[string]any), "type")] = true
	}
	if !seen["order_delivered"] {
		t.Errorf("recentActivities: got %v, want the delivery among them", acts)
	}
	sys := d["systemStatus"].(map[string]any)
	wantKeys(t, "systemStatus", sys, "database", "cache", "socket", "lastChecked")
	if sys["database"] != "active" || sys["socket"] != "inactive" {
		t.Errorf("systemStatus: got %v, want database active, socket inactive (no gateway here)", sys)
	}

	// A fourth order: the cached figures are served (and say so) until the
	// app's pull-to-refresh asks for fresh ones.
	e.mustOrder(cTok, pizza)
	r = e.do("GET", "/api/v1/dashboard/overview", adminTok, nil).want(t, 200)
	if r.data()["fromCache"] != true || num(r.data(), "stats", "todayOrders") != 3 {
		t.Errorf("second call: got fromCache %v, todayOrders %v; want the cached 3", r.data()["fromCache"], num(r.data(), "stats", "todayOrders"))
	}
	s := e.do("GET", "/api/v1/dashboard/stats", adminTok, nil).want(t, 200)
	if s.data()["fromCache"] != true || num(s.data(), "todayOrders") != 3 {
		t.Errorf("stats from the cache: got %s", s)
	}
	r = e.do("GET", "/api/v1/dashboard/overview?refresh=1733550000000", adminTok, nil).want(t, 200)
	if r.data()["fromCache"] != false || num(r.data(), "stats", "todayOrders") != 4 || num(r.data(), "stats", "pendingOrders") != 2 {
		t.Errorf("refresh: got fromCache %v, stats %v; want fresh figures with 4 orders", r.data()["fromCache"], r.data()["stats"])
	}
	s = e.do("GET", "/api/v1/dashboard/stats", adminTok, nil).want(t, 200)
	if s.body["message"] != "Dashboard stats retrieved successfully" || num(s.data(), "todayOrders") != 4 || num(s.data(), "totalOrders") != 4 {
		t.Errorf("stats: got %s", s)
	}
}

func mustID(t *testing.T, hex string) primitive.ObjectID {
	t.Helper()
	id, err := primitive.ObjectIDFromHex(hex)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestDropPoint: an order may carry its drop point (for the board's live
// map); a bad one is refused; the admin's order view returns it.
func TestDropPoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pizza, _, _ := e.mustMenu()
	_, adminTok := e.mustUser(auth.RoleAdmin)
	_, cTok := e.mustUser(auth.RoleCustomer)
	e.do("POST", "/api/v1/cart/items", cTok, map[string]any{"productId": pizza.Hex(), "quantity": 1, "size": "medium"}).want(t, 200)
	addr := map[string]any{"street": "1 MG Road", "city": "Pune", "state": "MH", "pincode": "411001", "location": map[string]any{"latitude": 95, "longitude": 73.8}}
	body := map[string]any{"deliveryAddress": addr, "contactPhone": "9876543210", "paymentMethod": "cash"}
	e.do("POST", "/api/v1/orders/from-cart", cTok, body).want(t, 400).wantMessage(t, "Validation failed")
	addr["location"] = map[string]any{"latitude": 18.5301, "longitude": 73.8472}
	id := str(e.do("POST", "/api/v1/orders/from-cart", cTok, body).want(t, 201).data(), "_id")
	r := e.do("GET", "/api/v1/orders/"+id, adminTok, nil).want(t, 200)
	if num(r.data(), "order", "deliveryAddress", "location", "latitude") != 18.5301 || num(r.data(), "order", "deliveryAddress", "location", "longitude") != 73.8472 {
		t.Errorf("drop point: got %v", dig(r.data(), "order", "deliveryAddress"))
	}
}
