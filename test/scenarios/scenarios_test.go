// Package scenarios runs the end-to-end scenarios of CONTRACT §5 (1–15)
// against the whole platform through the front proxy, as the unchanged apps
// would: REST under /api/v1 and real socket.io-client 4.8 sockets on the
// same origin, registered with {userId, role} and no token. Every socket
// event the contract lists is asserted on the sockets that must get it,
// and absent on those that must not.
package scenarios

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/test/harness"
	"github.com/friendspizzahut/platform/test/jsclient"
	"github.com/friendspizzahut/platform/test/testapi"
)

const wait = 20 * time.Second

// client is one app user: id and tokens from the real REST API.
type client struct {
	testapi.User
	Password, Refresh string
}

type world struct {
	st  *harness.Stack
	api *testapi.Client // REST through the proxy
	js  *jsclient.Driver
}

// must sends a JSON request through the proxy and decodes the JSON answer,
// failing unless the status is want.
func (w *world) must(t *testing.T, want int, method, path, token string, body any) map[string]any {
	t.Helper()
	var out map[string]any
	w.api.Do(t, want, method, path, token, body, &out)
	return out
}

func obj(v any, path ...string) map[string]any {
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	m, _ := v.(map[string]any)
	return m
}

func val(v any, path ...string) any {
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	return v
}

func str(v any, path ...string) string { s, _ := val(v, path...).(string); return s }

func list(v any, path ...string) []any { l, _ := val(v, path...).([]any); return l }

// payload decodes the first argument of a socket event.
func payload(t *testing.T, args []json.RawMessage) map[string]any {
	t.Helper()
	if len(args) == 0 {
		t.Fatal("event without arguments")
	}
	var m map[string]any
	if err := json.Unmarshal(args[0], &m); err != nil {
		t.Fatalf("event payload %s: %v", args[0], err)
	}
	return m
}

// hasField matches events whose payload has key == want.
func hasField(key, want string) func([]json.RawMessage) bool {
	return func(args []json.RawMessage) bool {
		if len(args) == 0 {
			return false
		}
		var m map[string]any
		return json.Unmarshal(args[0], &m) == nil && fmt.Sprint(m[key]) == want
	}
}

func count(s *jsclient.Socket, name string, match func([]json.RawMessage) bool) int {
	n := 0
	for _, args := range s.Events(name) {
		if match(args) {
			n++
		}
	}
	return n
}

var barriers atomic.Int64

// barrier makes the admin announce the business status with a unique
// message through REST; every socket receives business:status:update, in
// order after everything published before. Once each of socks has it, an
// event they were not sent is known never to come: negative checks need
// no sleeping.
func (w *world) barrier(t *testing.T, admin client, socks ...*jsclient.Socket) {
	t.Helper()
	msg := fmt.Sprintf("barrier %d", barriers.Add(1))
	w.must(t, 200, "PATCH", "/api/v1/business/status", admin.Token, map[string]any{"isOpen": true, "message": msg})
	for _, s := range socks {
		s.WaitEvent(t, "business:status:update", wait, hasField("message", msg))
	}
}

// connect opens an app socket on the proxy origin (websocket first, no
// auth) and registers it like the app's connect handler does. It sends
// u's session cookie, if u has one, as the app's cookie store would.
func (w *world) connect(t *testing.T, tr jsclient.Transport, u *client) *jsclient.Socket {
	t.Helper()
	opts := jsclient.Options{Transports: tr}
	if u != nil && u.Cookie != "" {
		opts.Headers = map[string]string{"Cookie": u.Cookie}
	}
	s := w.js.Connect(t, w.st.URL(), opts)
	s.WaitConnect(t)
	if u != nil {
		register(t, s, *u)
	}
	return s
}

func register(t *testing.T, s *jsclient.Socket, u client) map[string]any {
	t.Helper()
	before := len(s.Events("registered"))
	s.Emit("register", map[string]any{"userId": u.ID, "role": u.Role})
	deadline := time.Now().Add(wait)
	for len(s.Events("registered")) <= before {
		if time.Now().After(deadline) {
			t.Fatalf("register %s %s: no registered event", u.Role, u.ID)
		}
		s.WaitEvent(t, "registered", wait, nil)
	}
	evs := s.Events("registered")
	p := payload(t, evs[len(evs)-1])
	if p["success"] != true || p["userId"] != u.ID || p["role"] != u.Role || str(p, "message") == "" {
		t.Fatalf("register %s: got %v", u.Role, p)
	}
	return p
}

// claims decodes a JWT's header and payload without verifying it (the
// client's view).
func claims(t *testing.T, tok string) (map[string]any, map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a JWT", tok)
	}
	dec := func(s string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("token part: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("token part: %v", err)
		}
		return m
	}
	return dec(parts[0]), dec(parts[1])
}

var address = map[string]any{"street": "221B Baker Street", "city": "Pune", "state": "Maharashtra", "pincode": "411001"}

// TestContractScenarios is CONTRACT §5, scenarios 1 to 15, in order: each
// builds on the users, sockets and orders of the ones before.
func TestContractScenarios(t *testing.T) {
	st := harness.Start(t, harness.Options{Gateways: 2})
	w := &world{st: st, api: testapi.New(st), js: jsclient.Start(t)}
	var (
		A, C, D, C2            client
		SA, SA2, SD, SC, SAnon *jsclient.Socket
		orderID, orderNumber   string
		order                  map[string]any
		paymentID              string
		n                      = time.Now().UnixNano() % 1_000_000
	)
	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow() // later scenarios build on this one
		}
	}

	step("01 health and socket handshake", func(t *testing.T) {
		out := w.must(t, 200, "GET", "/health", "", nil)
		if out["status"] != "success" || str(out, "timestamp") == "" || val(out, "uptime") == nil {
			t.Fatalf("got %v", out)
		}
		// A direct websocket handshake with no polling session first.
		s := w.connect(t, jsclient.WebSocketOnly, nil)
		s.Disconnect()
	})

	step("02 customer sign-up and login", func(t *testing.T) {
		C = client{User: testapi.User{Email: fmt.Sprintf("cora%d@scen.test", n), Name: "Cora Customer", Role: "customer"}, Password: "Abcdef1"}
		out := w.must(t, 201, "POST", "/api/v1/auth/register", "", map[string]any{
			"name": C.Name, "email": C.Email, "phone": "9876543210", "password": C.Password})
		d := obj(out, "data")
		C.ID, C.Token, C.Refresh = str(d, "user", "id"), str(d, "accessToken"), str(d, "refreshToken")
		if C.ID == "" || str(d, "user", "role") != "customer" || C.Token == "" || C.Refresh == "" {
			t.Fatalf("got %v", out)
		}
		head, cl := claims(t, C.Token)
		if head["alg"] != "HS256" || cl["id"] != C.ID || cl["email"] != C.Email || cl["role"] != "customer" ||
			cl["exp"].(float64)-cl["iat"].(float64) != 604800 {
			t.Fatalf("got token header %v claims %v", head, cl)
		}
		out = w.must(t, 200, "POST", "/api/v1/auth/login", "", map[string]any{"email": C.Email, "password": C.Password})
		if str(out, "data", "user", "id") != C.ID || str(out, "data", "accessToken") == "" || str(out, "data", "refreshToken") == "" {
			t.Fatalf("got %v", out)
		}
		out = w.must(t, 401, "POST", "/api/v1/auth/login", "", map[string]any{"email": C.Email, "password": "Wrong123"})
		if str(out, "message") == "" {
			t.Fatalf("got %v", out)
		}
		// A second customer, for the authorisation checks of scenario 15.
		C2 = client{User: w.api.RegisterCustomer(t, "Carl Other")}
	})

	step("03 delivery sign-up and approval", func(t *testing.T) {
		A = client{User: w.api.Admin(t)}

		D = client{User: testapi.User{Email: fmt.Sprintf("dev%d@scen.test", n), Name: "Dev Agent", Role: "delivery"}, Password: "Abcdef1"}
		out := w.must(t, 201, "POST", "/api/v1/auth/register", "", map[string]any{"name": D.Name, "email": D.Email,
			"phone": "9876511111", "password": D.Password, "role": "delivery", "vehicleInfo": map[string]any{"type": "bike"}})
		D.ID = str(out, "data", "user", "id")
		if val(out, "data", "requiresApproval") != true || val(out, "data", "accessToken") != nil || D.ID == "" {
			t.Fatalf("got %v", out)
		}
		out = w.must(t, 403, "POST", "/api/v1/auth/login", "", map[string]any{"email": D.Email, "password": D.Password})
		if !strings.Contains(strings.ToLower(str(out, "message")), "approv") {
			t.Fatalf("got %v, want a message about approval", out)
		}
		w.api.Approve(t, A.User, D.ID)
		out = w.must(t, 200, "POST", "/api/v1/auth/login", "", map[string]any{"email": D.Email, "password": D.Password})
		D.Token = str(out, "data", "accessToken")
		if obj(out, "data", "user", "status") == nil {
			t.Fatalf("got %v, want user.status", out)
		}
	})

	step("04 token refresh and 401 handling", func(t *testing.T) {
		for _, tok := range []string{"", "garbage"} {
			out := w.must(t, 401, "GET", "/api/v1/orders/my-orders", tok, nil)
			if out["success"] != false || str(out, "message") == "" {
				t.Fatalf("got %v", out)
			}
		}
		out := w.must(t, 200, "POST", "/api/v1/auth/refresh", "", map[string]any{"refreshToken": C.Refresh})
		if str(out, "data", "accessToken") == "" || val(out, "data", "expiresIn") != 604800.0 {
			t.Fatalf("got %v", out)
		}
		w.must(t, 401, "POST", "/api/v1/auth/refresh", "", map[string]any{"refreshToken": "bad.token.here"})
	})

	step("05 admin socket registration", func(t *testing.T) {
		// The admin's proof is the session cookie of its sign-in.
		SA = w.js.Connect(t, w.st.URL(), jsclient.Options{Transports: jsclient.WebSocketOnly, Headers: map[string]string{"Cookie": A.Cookie}})
		SA.WaitConnect(t)
		start := time.Now()
		register(t, SA, A)
		if d := time.Since(start); d > time.Second {
			t.Errorf("registered after %v, want within 1s", d)
		}
		register(t, SA, A) // every reconnect registers again: harmless
		SA2 = w.connect(t, jsclient.PollingOnly, &A)
		SD = w.connect(t, jsclient.Default, &D)
		SC = w.connect(t, jsclient.WebSocketOnly, &C)
		SAnon = w.connect(t, jsclient.WebSocketOnly, nil)
	})

	step("06 place order, admins get order:new", func(t *testing.T) {
		prods := w.must(t, 200, "GET", "/api/v1/products?category=pizza&isAvailable=true&limit=1", "", nil)
		if len(list(prods, "data")) == 0 {
			t.Fatal("no pizza on the seeded menu")
		}
		pid := str(list(prods, "data")[0], "_id")
		w.must(t, 200, "POST", "/api/v1/cart/items", C.Token, map[string]any{"productId": pid, "quantity": 1, "size": "medium"})
		out := w.must(t, 201, "POST", "/api/v1/orders/from-cart", C.Token, map[string]any{
			"deliveryAddress": address, "contactPhone": "9876543210", "paymentMethod": "cash"})
		order = obj(out, "data")
		orderID, orderNumber = str(order, "_id"), str(order, "orderNumber")
		sum := order["subtotal"].(float64) + order["tax"].(float64) + order["deliveryFee"].(float64) - order["discount"].(float64)
		if orderID == "" || !strings.HasPrefix(orderNumber, "ORD-") || order["status"] != "pending" ||
			order["estimatedDeliveryTime"] != 30.0 || fmt.Sprintf("%.2f", sum) != fmt.Sprintf("%.2f", order["totalAmount"]) {
			t.Fatalf("got %v", order)
		}
		for _, s := range []*jsclient.Socket{SA, SA2, SD} { // DESIGN §4: admins and agents
			p := payload(t, s.WaitEvent(t, "order:new", wait, hasField("orderId", orderID)))
			items := list(p, "items")
			if p["orderNumber"] != orderNumber || p["customerId"] != C.ID || p["customerName"] != C.Name || len(items) != 1 ||
				str(items[0], "productSnapshot", "name") == "" || val(items[0], "quantity") != 1.0 || val(items[0], "subtotal") == nil ||
				p["totalAmount"] != order["totalAmount"] || str(p, "deliveryAddress", "city") != "Pune" || p["paymentMethod"] != "cash" ||
				p["status"] != "pending" || str(p, "timestamp") == "" {
				t.Fatalf("got order:new %v", p)
			}
			// The additive fields that make the row acceptable in the admin app.
			if p["_id"] != orderID || str(p, "user", "name") != C.Name || p["subtotal"] == nil || p["createdAt"] == nil {
				t.Errorf("order:new lacks the recommended row fields: %v", p)
			}
		}
		w.barrier(t, A, SA, SC, SAnon)
		if count(SC, "order:new", hasField("orderId", orderID)) != 0 || count(SAnon, "order:new", hasField("orderId", orderID)) != 0 {
			t.Fatal("a customer or unregistered socket got order:new")
		}
		if c := count(SA, "order:new", hasField("orderId", orderID)); c != 1 {
			t.Fatalf("admin socket got order:new %d times, want once (it registered twice)", c)
		}
		// The admin's notification is derived from the event (eventually).
		deadline := time.Now().Add(wait)
		for {
			out := w.must(t, 200, "GET", "/api/v1/notifications", A.Token, nil)
			found := false
			for _, nt := range list(out, "data", "notifications") {
				found = found || val(nt, "type") == "order"
			}
			if found {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no type 'order' notification for the admin: %v", out)
			}
			time.Sleep(50 * time.Millisecond) // polling a condition against a deadline
		}
	})

	step("07 admin list and accept", func(t *testing.T) {
		out := w.must(t, 200, "GET", "/api/v1/orders", A.Token, nil)
		rows := list(out, "data")
		if len(rows) == 0 || str(rows[0], "_id") != orderID || str(rows[0], "user", "name") != C.Name {
			t.Fatalf("got %v, want the order first with user.name", out)
		}
		out = w.must(t, 200, "POST", "/api/v1/orders/"+orderID+"/accept", A.Token, nil)
		if str(out, "data", "order", "status") != "accepted" {
			t.Fatalf("got %v", out)
		}
		if out := w.must(t, 400, "POST", "/api/v1/orders/"+orderID+"/accept", A.Token, nil); str(out, "message") == "" {
			t.Fatalf("got %v", out)
		}
		p := payload(t, SA.WaitEvent(t, "order:status:changed", wait, hasField("status", "accepted")))
		if p["orderId"] != orderID {
			t.Fatalf("got %v", p)
		}
		SA.WaitEvent(t, "order:status:update", wait, hasField("status", "accepted"))
		out = w.must(t, 200, "GET", "/api/v1/orders/my-orders", C.Token, nil)
		row := list(out, "data", "orders")[0]
		if val(row, "status") != "Accepted" || val(row, "statusType") != "active" {
			t.Fatalf("got %v", row)
		}
	})

	step("08 agent online/offline broadcast", func(t *testing.T) {
		out := w.must(t, 200, "PATCH", "/api/v1/delivery-agent/status", D.Token, map[string]any{"isOnline": true})
		if val(out, "data", "isOnline") != true || val(out, "data", "state") != "free" {
			t.Fatalf("got %v", out)
		}
		for _, s := range []*jsclient.Socket{SA, SD} {
			p := payload(t, s.WaitEvent(t, "delivery:agent:status:update", wait, hasField("isOnline", "true")))
			if p["deliveryAgentId"] != D.ID || p["state"] != "free" || p["name"] != D.Name {
				t.Fatalf("got %v", p)
			}
		}
		out = w.must(t, 200, "GET", "/api/v1/delivery-agent/status", D.Token, nil)
		if val(out, "data", "status", "isOnline") != true {
			t.Fatalf("got %v", out)
		}
		w.must(t, 400, "PATCH", "/api/v1/delivery-agent/status", D.Token, map[string]any{"isOnline": "yes"})
		w.must(t, 403, "PATCH", "/api/v1/delivery-agent/status", A.Token, map[string]any{"isOnline": true})
	})

	step("09 agent list for assignment", func(t *testing.T) {
		out := w.must(t, 200, "GET", "/api/v1/users/delivery-agents/all", A.Token, nil)
		for _, a := range list(out, "data", "agents") {
			if val(a, "id") == D.ID {
				if val(a, "isApproved") != true || val(a, "isOnline") != true || val(a, "status") != "online" {
					t.Fatalf("got %v", a)
				}
				return
			}
		}
		t.Fatalf("agent %s not listed: %v", D.ID, out)
	})

	step("10 assign, the agent gets order:assigned", func(t *testing.T) {
		// A second, pending order cannot be assigned.
		pending := w.api.PlaceOrder(t, C.User).ID
		w.must(t, 400, "PATCH", "/api/v1/orders/"+pending+"/assign-delivery", A.Token, map[string]any{"deliveryAgentId": D.ID})
		if out := w.must(t, 400, "PATCH", "/api/v1/orders/"+orderID+"/assign-delivery", A.Token, map[string]any{}); out["message"] != "Delivery agent ID is required" {
			t.Fatalf("got %v", out)
		}

		out := w.must(t, 200, "PATCH", "/api/v1/orders/"+orderID+"/assign-delivery", A.Token, map[string]any{"deliveryAgentId": D.ID})
		d := obj(out, "data")
		if d["status"] != "assigned" || str(d, "deliveryAgent", "name") != D.Name || str(d, "deliveryAgentDetails", "name") != D.Name {
			t.Fatalf("got %v", out)
		}
		full := payload(t, SD.WaitEvent(t, "order:assigned", wait, hasField("orderId", orderID)))
		if full["orderNumber"] != orderNumber || str(full, "customer", "name") != C.Name || str(full, "customer", "phone") == "" ||
			str(full, "deliveryAddress", "pincode") != "411001" || len(list(full, "items")) != 1 || full["totalAmount"] != order["totalAmount"] ||
			full["status"] != "assigned" || str(full, "assignedAt") == "" || obj(full, "deliveryAgent") == nil {
			t.Fatalf("got full order:assigned %v", full)
		}
		if full["paymentMethod"] != "cash" || full["paymentStatus"] != "pending" || full["subtotal"] == nil || full["tax"] == nil ||
			full["deliveryFee"] == nil || full["discount"] == nil {
			t.Errorf("full order:assigned lacks the recommended fields: %v", full)
		}
		short := payload(t, SA.WaitEvent(t, "order:assigned", wait, hasField("orderId", orderID)))
		if short["orderNumber"] != orderNumber || str(short, "deliveryAgent", "name") != D.Name || str(short, "assignedAt") == "" {
			t.Fatalf("got short order:assigned %v", short)
		}
		// The agent is busy now, which the admin's assignment screen shows.
		SA.WaitEvent(t, "delivery:agent:status:update", wait, hasField("state", "busy"))
		w.barrier(t, A, SC, SAnon)
		if count(SAnon, "order:assigned", hasField("orderId", orderID)) != 0 || count(SC, "order:assigned", hasField("orderId", orderID)) != 0 {
			t.Fatal("order:assigned reached a customer or unregistered socket")
		}
		// Keep the board tidy: reject the extra pending order.
		w.must(t, 200, "POST", "/api/v1/orders/"+pending+"/reject", A.Token, map[string]any{"reason": "duplicate"})
	})

	step("11 agent's active orders", func(t *testing.T) {
		out := w.must(t, 200, "GET", "/api/v1/orders/delivery-agent/my-orders", D.Token, nil)
		rows := list(out, "data", "orders")
		if len(rows) != 1 {
			t.Fatalf("got %v", out)
		}
		r := rows[0]
		if val(r, "_id") != orderID || val(r, "id") != orderNumber || val(r, "status") != "assigned" || val(r, "paymentMethod") != "cod" ||
			val(r, "paymentStatus") != "pending" || str(list(r, "items")[0], "name") == "" || val(r, "customerName") != C.Name || val(r, "totalAmount") == nil {
			t.Fatalf("got %v", r)
		}
	})

	step("12 pickup", func(t *testing.T) {
		out := w.must(t, 200, "PATCH", "/api/v1/orders/"+orderID+"/status", D.Token, map[string]any{"status": "out_for_delivery"})
		if val(out, "data", "status") != "out_for_delivery" {
			t.Fatalf("got %v", out)
		}
		SA.WaitEvent(t, "order:status:changed", wait, hasField("status", "out_for_delivery"))
		SD.WaitEvent(t, "order:status:update", wait, hasField("status", "out_for_delivery"))
		out = w.must(t, 400, "PATCH", "/api/v1/delivery-agent/status", D.Token, map[string]any{"isOnline": false})
		if len(list(out, "activeOrders")) == 0 {
			t.Fatalf("got %v, want activeOrders[]", out)
		}
	})

	step("13 COD collection", func(t *testing.T) {
		amount := order["totalAmount"]
		out := w.must(t, 201, "POST", "/api/v1/payments", D.Token, map[string]any{"order": orderID, "user": D.ID, "amount": amount,
			"paymentMethod": "cod", "collectionMethod": "cash", "paymentStatus": "completed"})
		paymentID = str(out, "data", "_id")
		if paymentID == "" {
			t.Fatalf("got %v", out)
		}
		p := payload(t, SA.WaitEvent(t, "payment:received", wait, hasField("paymentId", paymentID)))
		if p["orderId"] != orderID || p["amount"] != amount || p["paymentMethod"] != "cod" {
			t.Fatalf("got %v", p)
		}
		w.must(t, 200, "PATCH", "/api/v1/orders/"+orderID+"/status", D.Token, map[string]any{"status": "out_for_delivery", "paymentStatus": "completed"})
		row := list(w.must(t, 200, "GET", "/api/v1/orders/my-orders", C.Token, nil), "data", "orders")
		found := false
		for _, r := range row {
			if val(r, "_id") == orderID {
				found = true
				if val(r, "paymentStatus") != "completed" {
					t.Fatalf("got %v", r)
				}
			}
		}
		if !found {
			t.Fatal("order missing from my-orders")
		}
		out = w.must(t, 200, "GET", "/api/v1/payments/cash-collections-by-agent", A.Token, nil)
		for _, a := range list(out, "data") {
			if val(a, "_id") == D.ID {
				if val(a, "totalCashCollected") != amount {
					t.Fatalf("got %v, want %v collected", a, amount)
				}
				return
			}
		}
		t.Fatalf("agent missing from cash collections: %v", out)
	})

	step("14 deliver", func(t *testing.T) {
		out := w.must(t, 200, "PATCH", "/api/v1/orders/"+orderID+"/status", D.Token, map[string]any{"status": "delivered"})
		if str(out, "data", "deliveredAt") == "" {
			t.Fatalf("got %v", out)
		}
		SA.WaitEvent(t, "order:status:changed", wait, hasField("status", "delivered"))
		SD.WaitEvent(t, "order:delivered", wait, hasField("orderId", orderID))
		if rows := list(w.must(t, 200, "GET", "/api/v1/orders/delivery-agent/my-orders", D.Token, nil), "data", "orders"); len(rows) != 0 {
			t.Fatalf("delivered order still listed: %v", rows)
		}
		stats := w.must(t, 200, "GET", "/api/v1/delivery-agent/stats", D.Token, nil)
		if v, _ := val(stats, "data", "today", "ordersCompleted").(float64); v < 1 {
			t.Fatalf("got %v", stats)
		}
		recent := w.must(t, 200, "GET", "/api/v1/delivery-agent/recent-deliveries?limit=5", D.Token, nil)
		if l := list(recent, "data"); len(l) == 0 || val(l[0], "orderNumber") != orderNumber {
			t.Fatalf("got %v", recent)
		}
		rows := list(w.must(t, 200, "GET", "/api/v1/orders/my-orders", C.Token, nil), "data", "orders")
		for _, r := range rows {
			if val(r, "_id") == orderID && (val(r, "status") != "Delivered" || val(r, "statusType") != "completed") {
				t.Fatalf("got %v", r)
			}
		}
	})

	step("15 reject and authorisation", func(t *testing.T) {
		o := w.api.PlaceOrder(t, C.User)
		id := o.ID
		out := w.must(t, 200, "POST", "/api/v1/orders/"+id+"/reject", A.Token, map[string]any{"reason": "Rejected by admin"})
		if str(out, "data", "order", "status") != "cancelled" {
			t.Fatalf("got %v", out)
		}
		p := payload(t, SA.WaitEvent(t, "order:cancelled", wait, hasField("orderId", id)))
		if p["orderNumber"] != o.Number || p["reason"] != "Rejected by admin" {
			t.Fatalf("got %v", p)
		}
		SC.WaitEvent(t, "order:cancelled", wait, hasField("orderId", id)) // C's socket is connected
		w.must(t, 403, "GET", "/api/v1/orders/"+id, C2.Token, nil)
		if out := w.must(t, 200, "GET", "/api/v1/orders/"+id, C.Token, nil); obj(out, "data", "order") == nil {
			t.Fatalf("got %v", out)
		}
		if out := w.must(t, 400, "GET", "/api/v1/orders/not-an-id", C.Token, nil); str(out, "message") == "" {
			t.Fatalf("got %v", out)
		}
	})
}
