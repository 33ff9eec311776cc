package gateway

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/shared/auth"
	"github.com/friendspizzahut/platform/shared/event"
	"github.com/friendspizzahut/platform/test/jsclient"
	"github.com/friendspizzahut/platform/test/testapi"
)

// TestSocketBehaviour drives every client-facing behaviour of the gateway
// with the real socket.io-client on each transport, through the front
// proxy, with two gateway replicas.
func TestSocketBehaviour(t *testing.T) {
	e := sharedEnv(t)
	admin := e.Admin
	signer := e.Stack.Signer()
	customer := e.API.RegisterCustomer(t, "Cora Customer")
	other := e.API.RegisterCustomer(t, "Carl Customer")
	pending := e.API.RegisterAgent(t, "Pat Pending") // never approved
	inactive := e.API.RegisterCustomer(t, "Ina Inactive")
	e.API.SetActive(t, admin, inactive.ID, false) // before any gateway looks it up (it caches users)
	// One agent carries the order of each transport (orderapi allows an
	// agent three active deliveries).
	agent := e.API.OnlineAgent(t, admin, "Dev Agent")
	agentID := agent.ID

	for _, tr := range jsclient.Transports() {
		t.Run(string(tr), func(t *testing.T) {
			orderID := e.API.AssignedOrder(t, admin, customer, agent).ID

			t.Run("handshake tokens", func(t *testing.T) {
				expired, _ := auth.NewSigner(e.Stack.JWTSecret, func() time.Time { return time.Now().Add(-8 * 24 * time.Hour) }).IssueAccess(admin.ID, "a@x", "admin")
				refresh, _ := signer.IssueRefresh(admin.ID)
				for _, c := range []struct {
					name    string
					opts    jsclient.Options
					wantErr string
					code    string
				}{
					{"none", jsclient.Options{}, "", ""},
					{"auth.token", jsclient.Options{Auth: map[string]any{"token": admin.Token}}, "", ""},
					{"auth.token Bearer", jsclient.Options{Auth: map[string]any{"token": "Bearer " + admin.Token}}, "", ""},
					{"query", jsclient.Options{Query: map[string]string{"token": admin.Token}}, "", ""},
					{"header", jsclient.Options{Headers: map[string]string{"Authorization": "Bearer " + admin.Token}}, "", ""},
					{"invalid", jsclient.Options{Auth: map[string]any{"token": "garbage"}}, "Authentication failed: Invalid token.", "INVALID_TOKEN"},
					{"expired", jsclient.Options{Auth: map[string]any{"token": expired}}, "Authentication failed: Token has expired. Please login again.", "TOKEN_EXPIRED"},
					{"refresh", jsclient.Options{Auth: map[string]any{"token": refresh}}, "Authentication failed: Invalid token.", "INVALID_TOKEN"},
				} {
					c.opts.Transports = tr
					c.opts.NoReconnect = true
					s := e.js.Connect(t, e.Stack.URL(), c.opts)
					if c.wantErr == "" {
						s.WaitConnect(t)
						s.Disconnect()
						continue
					}
					msg, data := s.WaitConnectErrorData(t)
					if msg != c.wantErr || !strings.Contains(string(data), c.code) {
						t.Errorf("%s: got %q %s, want %q with code %s", c.name, msg, data, c.wantErr, c.code)
					}
				}
			})

			t.Run("register", func(t *testing.T) {
				s := e.connect(t, tr, jsclient.Options{})
				for _, c := range []struct {
					name, id, role string
					ok             bool
					msg            string
				}{
					{"unknown user", testapi.NewID(), "customer", false, "User not found. Please sign in again."},
					{"customer claiming agent", customer.ID, "delivery", false, "User is not registered as delivery. Sign in with a delivery account."},
					{"admin without proof", admin.ID, "admin", false, "Sign in again to receive live updates as admin: this connection carries no proof of sign-in."},
					{"pending agent", pending.ID, "delivery", false, "Your account is pending admin approval. Live updates start once an admin approves it."},
					{"deactivated customer", inactive.ID, "customer", false, "Your account has been deactivated. Please contact support."},
					{"customer", customer.ID, "customer", true, "Successfully connected to real-time updates"},
					{"again: harmless", customer.ID, "customer", true, "Successfully connected to real-time updates"},
				} {
					got := register(t, s, c.id, c.role)
					if got["success"] != c.ok || (c.msg != "" && got["message"] != c.msg) {
						t.Errorf("%s: got %v, want success=%v message=%q", c.name, got, c.ok, c.msg)
					}
					if c.ok && (got["userId"] != c.id || got["role"] != c.role) {
						t.Errorf("%s: got %v", c.name, got)
					}
				}
				// A registered admin (with proof) gets admin events; a
				// refused claim gets nothing but the broadcast to everyone.
				adm := e.connect(t, tr, jsclient.Options{Auth: map[string]any{"token": admin.Token}})
				if got := register(t, adm, admin.ID, "admin"); got["success"] != true {
					t.Fatalf("admin register: %v", got)
				}
				refused := e.connect(t, tr, jsclient.Options{})
				register(t, refused, admin.ID, "admin")
				ev := e.Bus.Publish(t, &event.AgentStatus{DeliveryAgentID: agentID, Name: agent.Name, IsOnline: true, State: "free"})
				adm.WaitEvent(t, "delivery:agent:status:update", wait, testapi.FieldIs("timestamp", testapi.ISO(ev.At)))
				e.Bus.Publish(t, &event.BusinessStatus{IsOpen: true, BusinessName: "FPH", Message: "open " + string(tr)})
				refused.WaitEvent(t, "business:status:update", wait, nil)
				if got := refused.Events("delivery:agent:status:update"); len(got) != 0 {
					t.Errorf("refused socket got admin event %s", got[0][0])
				}
			})

			t.Run("register with token", func(t *testing.T) {
				s := e.connect(t, tr, jsclient.Options{Auth: map[string]any{"token": customer.Token}})
				if got := register(t, s, other.ID, "customer"); got["success"] != false || got["message"] != "This connection is signed in as another user. Sign out, then sign in again as this user." {
					t.Errorf("got %v", got)
				}
				s.Emit("register")
				got := obj(t, s.WaitEvent(t, "registered", wait, func(a []json.RawMessage) bool { return obj(t, a[0])["success"] == true })[0])
				if got["userId"] != customer.ID || got["role"] != "customer" {
					t.Errorf("got %v", got)
				}
			})

			t.Run("orders and locations", func(t *testing.T) {
				// Spread the parties over both replicas: the location
				// must reach the customer through the bus.
				cust := e.connectTo(t, 0, tr, "")
				register(t, cust, customer.ID, "customer")
				adm := e.connectTo(t, 1, tr, admin.Token)
				register(t, adm, admin.ID, "admin")
				agent := e.connectTo(t, 1, tr, "")
				if got := register(t, agent, agentID, "delivery"); got["success"] != true {
					t.Fatalf("agent register: %v", got)
				}
				stranger := e.connectTo(t, 0, tr, "")
				register(t, stranger, other.ID, "customer")

				if ack := obj(t, cust.EmitWithAck(t, wait, "join:order", orderID)[0]); ack["success"] != true {
					t.Fatalf("join ack %v", ack)
				}
				stranger.Emit("join:order", map[string]any{"orderId": orderID})
				waitError(t, stranger, "Not allowed to follow this order")
				cust.Emit("join:order", testapi.NewID())
				waitError(t, cust, "Order not found")

				cust.Emit("delivery:location", map[string]any{"orderId": orderID, "latitude": 1, "longitude": 2})
				waitError(t, cust, "Only the assigned delivery agent can report a location")
				agent.Emit("delivery:location", map[string]any{"orderId": orderID, "latitude": 95, "longitude": 2})
				waitError(t, agent, "latitude must be within [-90, 90] and longitude within [-180, 180]")
				if ack := obj(t, agent.EmitWithAck(t, wait, "delivery:location", map[string]any{"orderId": orderID, "latitude": 12.97, "longitude": 77.59})[0]); ack["success"] != true {
					t.Fatalf("location ack %v", ack)
				}
				agent.Emit("delivery:location", map[string]any{"orderId": orderID, "latitude": 12.98, "longitude": 77.6})
				waitError(t, agent, "Location updates are limited to one per second per order")

				isUpdate := func(a []json.RawMessage) bool {
					m := obj(t, a[0])
					loc, _ := m["location"].(map[string]any)
					return m["orderId"] == orderID && loc["latitude"] == 12.97 && m["deliveryBoyId"] == agentID
				}
				cust.WaitEvent(t, "delivery:location:update", wait, isUpdate)
				adm.WaitEvent(t, "delivery:location:update", wait, isUpdate)

				// A late joiner gets the last known location at once.
				late := e.connectTo(t, 1, tr, admin.Token)
				register(t, late, admin.ID, "admin")
				late.EmitWithAck(t, wait, "join:order", orderID)
				late.WaitEvent(t, "delivery:location:update", wait, isUpdate)

				// Leaving the room: a later order event for the room
				// only still reaches the customer through user:<id>.
				if ack := obj(t, cust.EmitWithAck(t, wait, "leave:order", orderID)[0]); ack["success"] != true {
					t.Fatalf("leave ack %v", ack)
				}
				agent.AssertNoEvent(t, "delivery:location:update", 200*time.Millisecond)
				stranger.AssertNoEvent(t, "delivery:location:update", 10*time.Millisecond)
			})

			t.Run("ping and malformed payloads", func(t *testing.T) {
				s := e.connect(t, tr, jsclient.Options{})
				before := time.Now().UnixMilli()
				s.Emit("ping")
				pong := obj(t, s.WaitEvent(t, "pong", wait, nil)[0])
				if ts, ok := pong["timestamp"].(float64); !ok || int64(ts) < before-1000 {
					t.Fatalf("got pong %v, want a millisecond timestamp", pong)
				}
				for _, c := range []struct {
					event string
					args  []any
					msg   string
				}{
					{"register", []any{"nope"}, "register expects {userId, role}"},
					{"register", []any{map[string]any{"userId": []int{1}}}, "register expects {userId: string, role: string}"},
					{"join:order", []any{nil}, "orderId is required"},
					{"join:order", []any{strings.Repeat("x", 5000)}, "orderId is not a valid id"},
					{"delivery:location", []any{nil}, "delivery:location expects {orderId, latitude, longitude}"},
					{"delivery:location", []any{map[string]any{"orderId": orderID, "latitude": "north", "longitude": 1}}, "delivery:location expects {orderId: string, latitude: number, longitude: number}"},
					{"typing:start", []any{map[string]any{"userId": "x"}}, `Unknown event "typing:start"`},
					{"join:order", []any{jsclient.Bin{1, 2, 3}}, "expected an order id or {orderId: string}"},
				} {
					s.Emit(c.event, c.args...)
					waitError(t, s, c.msg)
				}
				ack := obj(t, s.EmitWithAck(t, wait, "no-such-event")[0])
				if ack["success"] != false || ack["message"] != `Unknown event "no-such-event"` {
					t.Errorf("got error ack %v", ack)
				}
				s.Emit("ping")
				s.WaitEvent(t, "pong", wait, nil)
			})
		})
	}

	t.Run("presence", func(t *testing.T) {
		s := e.connect(t, jsclient.WebSocketOnly, jsclient.Options{Auth: map[string]any{"token": admin.Token}})
		register(t, s, admin.ID, "admin")
		claimed := e.connect(t, jsclient.PollingOnly, jsclient.Options{}) // the legacy path
		register(t, claimed, customer.ID, "customer")
		get := func(token string) (int, map[string]any) {
			req, _ := http.NewRequest(http.MethodGet, e.Stack.GatewayURL(0)+"/presence", nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = resp.Body.Close() }()
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			return resp.StatusCode, body
		}
		if code, _ := get(""); code != http.StatusUnauthorized {
			t.Errorf("no token: got %d, want 401", code)
		}
		if code, _ := get(customer.Token); code != http.StatusForbidden {
			t.Errorf("customer: got %d, want 403", code)
		}
		// The cluster view is refreshed periodically: wait for it to
		// show this admin (proven) and this customer (claimed).
		deadline := time.Now().Add(wait + 10*time.Second)
		for {
			code, body := get(admin.Token)
			if code != http.StatusOK {
				t.Fatalf("admin: got %d %v", code, body)
			}
			cluster, _ := body["cluster"].(map[string]any)
			roles, _ := cluster["roles"].(map[string]any)
			admins, _ := roles["admin"].(map[string]any)
			customers, _ := roles["customer"].(map[string]any)
			gws, _ := cluster["gateways"].([]any)
			users, _ := admins["users"].(float64)
			provenAdmins, _ := admins["provenSockets"].(float64)
			claimedCustomers, _ := customers["claimedSockets"].(float64)
			if users >= 1 && provenAdmins >= 1 && claimedCustomers >= 1 && len(gws) == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("presence never showed the proven admin and the claimed customer on 2 gateways: %v", body)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}

// TestRequireToken: with GATEWAY_REQUIRE_TOKEN=true a socket without a
// token is refused with a clear connect_error; one with a token connects.
func TestRequireToken(t *testing.T) {
	e := ownEnv(t, 1, map[string]string{"GATEWAY_REQUIRE_TOKEN": "true"})
	admin := e.Admin
	for _, tr := range jsclient.Transports() {
		t.Run(string(tr), func(t *testing.T) {
			s := e.js.Connect(t, e.Stack.URL(), jsclient.Options{Transports: tr, NoReconnect: true})
			msg, data := s.WaitConnectErrorData(t)
			if msg != "Authentication required: no token provided." || !strings.Contains(string(data), "NO_TOKEN") {
				t.Fatalf("got %q %s", msg, data)
			}
			ok := e.connect(t, tr, jsclient.Options{Auth: map[string]any{"token": admin.Token}})
			ok.Emit("register")
			if got := obj(t, ok.WaitEvent(t, "registered", wait, nil)[0]); got["success"] != true || got["userId"] != admin.ID {
				t.Fatalf("got %v", got)
			}
		})
	}
}

// TestGracefulShutdown: a replica stopped with SIGTERM closes its sockets;
// the clients reconnect through the front proxy to the other replica,
// register again and keep receiving events.
func TestGracefulShutdown(t *testing.T) {
	e := ownEnv(t, 2, nil) // stops and starts gateways
	admin := e.Admin
	// Put every socket on replica 0: with replica 1 down the proxy sends
	// them all there.
	e.Stack.StopGateway(1)
	var socks []*jsclient.Socket
	for _, tr := range jsclient.Transports() {
		// The admin's proof is its session cookie, as in the app: sent
		// again on every reconnection.
		s := e.connect(t, tr, jsclient.Options{Headers: map[string]string{"Cookie": admin.Cookie}})
		register(t, s, admin.ID, "admin")
		socks = append(socks, s)
	}
	e.Stack.StartGateway(t, 1, nil)
	e.Stack.StopGateway(0)
	for _, s := range socks {
		if reason := s.WaitDisconnect(t); reason != "transport close" && reason != "transport error" {
			t.Errorf("got disconnect reason %q, want a transport one (the client reconnects)", reason)
		}
	}
	for _, s := range socks {
		s.WaitConnect(t) // the reconnection, to the survivor
		register(t, s, admin.ID, "admin")
	}
	ev := e.Bus.Publish(t, &event.AgentStatus{DeliveryAgentID: testapi.NewID(), Name: "Dev", IsOnline: true, State: "free"})
	for _, s := range socks {
		s.WaitEvent(t, "delivery:agent:status:update", wait, testapi.FieldIs("timestamp", testapi.ISO(ev.At)))
	}
}
