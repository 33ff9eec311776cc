package socket

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/friendspizzahut/platform/gateway/internal/directory"
	"github.com/friendspizzahut/platform/gateway/internal/routing"
	"github.com/friendspizzahut/platform/gateway/internal/sio"
	"github.com/friendspizzahut/platform/shared/apperr"
	"github.com/friendspizzahut/platform/shared/auth"
	"github.com/friendspizzahut/platform/shared/event"
)

const secret = "test-secret"

// Fakes of the handlers' collaborators.

type fakeDirectory struct {
	users   map[string]directory.User
	parties map[string]directory.Parties
	down    bool
}

func (d *fakeDirectory) User(_ context.Context, id string) (directory.User, error) {
	if d.down {
		return directory.User{}, apperr.New(apperr.Unavailable, "down")
	}
	u, ok := d.users[id]
	if !ok {
		return u, apperr.NotFoundf("user not found")
	}
	return u, nil
}

func (d *fakeDirectory) OrderParties(_ context.Context, id string) (directory.Parties, error) {
	p, ok := d.parties[id]
	if !ok {
		return p, apperr.NotFoundf("order not found")
	}
	return p, nil
}

type fakeLocations struct {
	mu   sync.Mutex
	last map[string]event.LocationReport
}

func (l *fakeLocations) Save(_ context.Context, rep event.LocationReport) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last[rep.OrderID] = rep
	return nil
}

func (l *fakeLocations) Last(_ context.Context, id string) (event.LocationReport, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.last[id]
	return r, ok, nil
}

type fakePublisher struct{ sent chan event.Envelope }

func (p *fakePublisher) Publish(_ context.Context, env event.Envelope) error {
	p.sent <- env
	return nil
}

type fakePresence struct {
	mu  sync.Mutex
	ids map[string]string
}

func (p *fakePresence) Registered(sid, uid, role string, proven bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ids[sid] = fmt.Sprintf("%s/%s/proven=%v", uid, role, proven)
}

func (p *fakePresence) Unregistered(sid string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.ids, sid)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Ids used by the fixtures.
const (
	customerID = "c00000000000000000000001"
	otherID    = "c00000000000000000000002"
	adminID    = "a00000000000000000000001"
	agentID    = "d00000000000000000000001"
	pendingID  = "d00000000000000000000002"
	rejectedID = "d00000000000000000000003"
	inactiveID = "c00000000000000000000003"
	orderID    = "o00000000000000000000001"
)

type fixture struct {
	srv    *sio.Server
	url    string
	signer *auth.Signer
	dir    *fakeDirectory
	locs   *fakeLocations
	pub    *fakePublisher
	pres   *fakePresence
	clock  *clock
	obs    *countingObserver
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	f := &fixture{
		signer: auth.NewSigner(secret, nil),
		dir: &fakeDirectory{
			users: map[string]directory.User{
				customerID:                 {ID: customerID, Role: auth.RoleCustomer, IsActive: true},
				otherID:                    {ID: otherID, Role: auth.RoleCustomer, IsActive: true},
				adminID:                    {ID: adminID, Role: auth.RoleAdmin, IsActive: true},
				agentID:                    {ID: agentID, Name: "Dev", Role: auth.RoleDelivery, IsActive: true, IsApproved: true},
				pendingID:                  {ID: pendingID, Role: auth.RoleDelivery, IsActive: true},
				rejectedID:                 {ID: rejectedID, Role: auth.RoleDelivery, IsActive: true, IsRejected: true},
				inactiveID:                 {ID: inactiveID, Role: auth.RoleCustomer},
				"d00000000000000000000009": {ID: "d00000000000000000000009", Role: auth.RoleDelivery, IsActive: true, IsApproved: true},
			},
			parties: map[string]directory.Parties{
				orderID: {OrderID: orderID, CustomerID: customerID, DeliveryAgentID: agentID, DeliveryAgentName: "Dev", Status: "out_for_delivery"},
			},
		},
		locs:  &fakeLocations{last: map[string]event.LocationReport{}},
		pub:   &fakePublisher{sent: make(chan event.Envelope, 10)},
		pres:  &fakePresence{ids: map[string]string{}},
		clock: &clock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)},
		obs:   &countingObserver{},
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := New(cfg, Deps{
		Tokens: f.signer, Directory: f.dir, Locations: f.locs, Publisher: f.pub,
		Router: routing.New(), Presence: f.pres, Observer: f.obs, Now: f.clock.Now,
	}, logger)
	f.srv = sio.New(sio.Config{}, h.Connect, logger)
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", f.srv.Handler())
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		f.srv.Close()
		hs.Close()
	})
	f.url = "ws" + strings.TrimPrefix(hs.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	return f
}

func (f *fixture) token(t *testing.T, id, role string) string {
	t.Helper()
	tok, err := f.signer.IssueAccess(id, id+"@x.test", role)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type client struct {
	t    *testing.T
	conn *websocket.Conn
}

// dial opens a websocket and sends CONNECT with auth (nil: none); it
// returns the client and the CONNECT reply.
func (f *fixture) dial(t *testing.T, query string, header http.Header, authPayload any) (*client, string) {
	t.Helper()
	u := f.url
	if query != "" {
		u += "&" + query
	}
	conn, _, err := websocket.DefaultDialer.Dial(u, header)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	c := &client{t: t, conn: conn}
	if open := c.read(); !strings.HasPrefix(open, "0{") {
		t.Fatalf("got %q, want open packet", open)
	}
	pkt := "40"
	if authPayload != nil {
		b, _ := json.Marshal(authPayload)
		pkt += string(b)
	}
	c.send(pkt)
	return c, c.read()
}

func (f *fixture) connect(t *testing.T) *client {
	t.Helper()
	c, reply := f.dial(t, "", nil, nil)
	if !strings.HasPrefix(reply, "40{") {
		t.Fatalf("got %q, want CONNECT reply", reply)
	}
	return c
}

// connectProven connects with an access token for id and role.
func (f *fixture) connectProven(t *testing.T, id, role string) *client {
	t.Helper()
	c, reply := f.dial(t, "", nil, map[string]string{"token": f.token(t, id, role)})
	if !strings.HasPrefix(reply, "40{") {
		t.Fatalf("got %q, want CONNECT reply", reply)
	}
	return c
}

func (c *client) read() string {
	c.t.Helper()
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, b, err := c.conn.ReadMessage()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if string(b) == "2" {
			c.send("3")
			continue
		}
		return string(b)
	}
}

func (c *client) send(s string) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// emit sends an event with JSON args.
func (c *client) emit(event string, args ...any) {
	c.t.Helper()
	all := append([]any{event}, args...)
	b, _ := json.Marshal(all)
	c.send("42" + string(b))
}

// expect reads the next event and checks its name; it returns the first
// argument.
func (c *client) expect(event string) map[string]any {
	c.t.Helper()
	got := c.read()
	var arr []json.RawMessage
	if !strings.HasPrefix(got, "42") || json.Unmarshal([]byte(got[2:]), &arr) != nil || len(arr) == 0 {
		c.t.Fatalf("got %q, want event %s", got, event)
	}
	var name string
	_ = json.Unmarshal(arr[0], &name)
	if name != event {
		c.t.Fatalf("got %q, want event %s", got, event)
	}
	out := map[string]any{}
	if len(arr) > 1 {
		_ = json.Unmarshal(arr[1], &out)
	}
	return out
}

func (c *client) register(userID, role string) map[string]any {
	c.t.Helper()
	c.emit("register", map[string]string{"userId": userID, "role": role})
	return c.expect("registered")
}

func TestHandshakeTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	strict := newFixture(t, Config{RequireToken: true})
	good := f.token(t, adminID, auth.RoleAdmin)
	refresh, _ := f.signer.IssueRefresh(adminID)
	expired, _ := auth.NewSigner(secret, func() time.Time { return time.Now().Add(-8 * 24 * time.Hour) }).IssueAccess(adminID, "a@x", auth.RoleAdmin)
	otherKey, _ := auth.NewSigner("other", nil).IssueAccess(adminID, "a@x", auth.RoleAdmin)
	none := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpZCI6ImEiLCJyb2xlIjoiYWRtaW4iLCJleHAiOjk5OTk5OTk5OTl9."

	tests := []struct {
		name   string
		fx     *fixture
		query  string
		header http.Header
		auth   any
		want   string // prefix of the CONNECT reply
	}{
		{"no token", f, "", nil, nil, `40{"sid":`},
		{"auth.token raw", f, "", nil, map[string]string{"token": good}, `40{"sid":`},
		{"auth.token bearer", f, "", nil, map[string]string{"token": "Bearer " + good}, `40{"sid":`},
		{"query token", f, "token=" + url.QueryEscape(good), nil, nil, `40{"sid":`},
		{"authorization header", f, "", http.Header{"Authorization": {"Bearer " + good}}, nil, `40{"sid":`},
		{"garbage", f, "", nil, map[string]string{"token": "nope"}, `44{"message":"Authentication failed: Invalid token.","data":{"code":"INVALID_TOKEN"}}`},
		{"token not a string", f, "", nil, map[string]int{"token": 5}, `44{"message":"Authentication failed: Invalid token."`},
		{"expired", f, "", nil, map[string]string{"token": expired}, `44{"message":"Authentication failed: Token has expired. Please login again.","data":{"code":"TOKEN_EXPIRED"}}`},
		{"refresh token", f, "", nil, map[string]string{"token": refresh}, `44{"message":"Authentication failed: Invalid token."`},
		{"wrong key", f, "", nil, map[string]string{"token": otherKey}, `44{"message":"Authentication failed: Invalid token."`},
		{"alg none", f, "", nil, map[string]string{"token": none}, `44{"message":"Authentication failed: Invalid token."`},
		{"required, none", strict, "", nil, nil, `44{"message":"Authentication required: no token provided.","data":{"code":"NO_TOKEN"}}`},
		{"required, good", strict, "", nil, map[string]string{"token": good}, `40{"sid":`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, got := tt.fx.dial(t, tt.query, tt.header, tt.auth)
			if !strings.HasPrefix(got, tt.want) {
				t.Fatalf("got %q, want prefix %q", got, tt.want)
			}
		})
	}
}

func TestRegisterWithoutToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	tests := []struct {
		name, userID, role string
		wantOK             bool
		wantMsg            string
	}{
		{"customer", customerID, "customer", true, RegisteredMessage},
		{"approved agent", agentID, "delivery", true, RegisteredMessage},
		{"role defaults to customer", customerID, "", true, RegisteredMessage},
		{"admin needs proof", adminID, "admin", false, "Sign in again to receive live updates as admin: this connection carries no proof of sign-in."},
		{"unknown user", "ffffffffffffffffffffffff", "customer", false, "User not found. Please sign in again."},
		{"customer claims agent", customerID, "delivery", false, "User is not registered as delivery. Sign in with a delivery account."},
		{"inactive", inactiveID, "customer", false, "Your account has been deactivated. Please contact support."},
		{"pending agent", pendingID, "delivery", false, "Your account is pending admin approval. Live updates start once an admin approves it."},
		{"rejected agent", rejectedID, "delivery", false, "Your delivery partner application has been rejected, so there are no live updates for this account."},
		{"bogus role", customerID, "root", false, "role must be customer, admin or delivery"},
		{"missing user id", "", "admin", false, "userId is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := f.connect(t)
			got := c.register(tt.userID, tt.role)
			if got["success"] != tt.wantOK || got["message"] != tt.wantMsg {
				t.Fatalf("got %v, want success=%v message=%q", got, tt.wantOK, tt.wantMsg)
			}
			if tt.wantOK {
				role := tt.role
				if role == "" {
					role = "customer"
				}
				if got["userId"] != tt.userID || got["role"] != role {
					t.Fatalf("got %v, want userId %s role %s", got, tt.userID, role)
				}
			}
		})
	}
}

func TestRegisterJoinsRoomsAndRepeatIsHarmless(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	c := f.connect(t)
	for range 3 {
		if got := c.register(agentID, "delivery"); got["success"] != true {
			t.Fatalf("got %v", got)
		}
	}
	if n := f.srv.RoomSize(routing.UserRoom(agentID)); n != 1 {
		t.Fatalf("got %d sockets in user room, want 1", n)
	}
	if n := f.srv.Broadcast([]string{routing.RoleRoom("delivery"), routing.UserRoom(agentID)}, nil, "x", nil); n != 1 {
		t.Fatalf("got %d deliveries, want 1", n)
	}
	c.expect("x")
	// A refused register drops the earlier identity.
	if got := c.register(adminID, "delivery"); got["success"] != false {
		t.Fatalf("got %v", got)
	}
	if n := f.srv.RoomSize(routing.UserRoom(agentID)); n != 0 {
		t.Fatalf("got %d sockets in user room, want 0", n)
	}
}

func TestRegisterWithToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	tok := f.token(t, agentID, auth.RoleDelivery)
	tests := []struct {
		name    string
		payload any
		wantOK  bool
		wantMsg string
	}{
		{"empty payload", nil, true, RegisteredMessage},
		{"same identity", map[string]string{"userId": agentID, "role": "delivery"}, true, RegisteredMessage},
		{"other user", map[string]string{"userId": adminID, "role": "delivery"}, false, "This connection is signed in as another user. Sign out, then sign in again as this user."},
		{"other role", map[string]string{"userId": agentID, "role": "admin"}, false, "This connection is signed in as delivery, not admin. Sign in again with an admin account."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, reply := f.dial(t, "", nil, map[string]string{"token": tok})
			if !strings.HasPrefix(reply, "40{") {
				t.Fatalf("got %q", reply)
			}
			if tt.payload == nil {
				c.emit("register")
			} else {
				c.emit("register", tt.payload)
			}
			got := c.expect("registered")
			if got["success"] != tt.wantOK || got["message"] != tt.wantMsg {
				t.Fatalf("got %v, want success=%v message=%q", got, tt.wantOK, tt.wantMsg)
			}
		})
	}
}

func TestJoinOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, userID, role string
		arg                any
		wantErr            string // "" = joined
		wantLocation       bool
	}{
		{"customer, plain id", customerID, "customer", orderID, "", true},
		{"customer, object", customerID, "customer", map[string]string{"orderId": orderID}, "", true},
		{"admin", adminID, "admin", orderID, "", true},
		{"assigned agent gets no location back", agentID, "delivery", orderID, "", false},
		{"other customer", otherID, "customer", orderID, "Not allowed to follow this order", false},
		{"unknown order", customerID, "customer", "ffffffffffffffffffffffff", "Order not found", false},
		{"null", customerID, "customer", nil, "orderId is required", false},
		{"number", customerID, "customer", 42, "expected an order id or {orderId: string}", false},
		{"bad id", customerID, "customer", "../x", "orderId is not a valid id", false},
		{"not registered", "", "", orderID, "Register before joining an order", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, Config{})
			f.locs.last[orderID] = event.LocationReport{OrderID: orderID, CustomerID: customerID, DeliveryAgentID: agentID,
				Location: event.Location{Latitude: 12.5, Longitude: 77.5}, ReportedAt: f.clock.Now()}
			c := f.connect(t)
			if tt.role == auth.RoleAdmin {
				c = f.connectProven(t, tt.userID, tt.role)
			}
			if tt.userID != "" {
				c.register(tt.userID, tt.role)
			}
			if tt.wantErr == "" {
				b, _ := json.Marshal([]any{"join:order", tt.arg})
				c.send("421" + string(b))
				if got, want := c.read(), `431[{"success":true,"orderId":"`+orderID+`"}]`; got != want {
					t.Fatalf("got %q, want %q", got, want)
				}
			} else {
				c.emit("join:order", tt.arg)
				if got := c.expect("error"); got["message"] != tt.wantErr {
					t.Fatalf("got %v, want message %q", got, tt.wantErr)
				}
				if n := f.srv.RoomSize(routing.OrderRoom(orderID)); n != 0 {
					t.Fatalf("got %d sockets in the order room, want 0", n)
				}
				return
			}
			if tt.wantLocation {
				got := c.expect(EvLocationUpdate)
				loc, _ := got["location"].(map[string]any)
				if got["orderId"] != orderID || loc["latitude"] != 12.5 || got["timestamp"] == nil {
					t.Fatalf("got %v", got)
				}
			}
			// The room works: a broadcast to it arrives (and proves no
			// location update was queued before it).
			f.srv.Broadcast([]string{routing.OrderRoom(orderID)}, nil, "probe:"+tt.name, nil)
			c.expect("probe:" + tt.name)
		})
	}
}

func TestJoinAndLeaveWithAck(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	c := f.connectProven(t, adminID, auth.RoleAdmin)
	c.register(adminID, "admin")
	c.send(`421["join:order","` + orderID + `"]`)
	if got, want := c.read(), `431[{"success":true,"orderId":"`+orderID+`"}]`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	c.send(`422["leave:order",{"orderId":"` + orderID + `"}]`)
	if got, want := c.read(), `432[{"success":true,"orderId":"`+orderID+`"}]`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if n := f.srv.RoomSize(routing.OrderRoom(orderID)); n != 0 {
		t.Fatalf("got %d sockets in the order room after leave, want 0", n)
	}
}

func TestDeliveryLocation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	agent := f.connect(t)
	agent.register(agentID, "delivery")
	agent.send(`427["delivery:location",{"orderId":"` + orderID + `","latitude":12.9,"longitude":77.6,"speed":3}]`)
	if got, want := agent.read(), `437[{"success":true}]`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	env := <-f.pub.sent
	_, p, err := event.Decode(mustEncode(t, env))
	if err != nil {
		t.Fatal(err)
	}
	rep := p.(*event.LocationReport)
	if rep.CustomerID != customerID || rep.DeliveryAgentID != agentID || rep.Location.Latitude != 12.9 || *rep.Speed != 3 {
		t.Fatalf("got %+v", rep)
	}
	if _, ok, _ := f.locs.Last(context.Background(), orderID); !ok {
		t.Fatal("last location not saved")
	}

	// Too soon for the same order.
	agent.emit("delivery:location", map[string]any{"orderId": orderID, "latitude": 12.9, "longitude": 77.6})
	if got := agent.expect("error"); got["message"] != "Location updates are limited to one per second per order" {
		t.Fatalf("got %v", got)
	}
	f.clock.Add(time.Second)
	agent.emit("delivery:location", map[string]any{"orderId": orderID, "latitude": 12.9, "longitude": 77.6})
	<-f.pub.sent

	bad := []struct {
		name string
		arg  any
		want string
	}{
		{"latitude out of range", map[string]any{"orderId": orderID, "latitude": 91, "longitude": 0}, "latitude must be within [-90, 90] and longitude within [-180, 180]"},
		{"string coordinates", map[string]any{"orderId": orderID, "latitude": "1", "longitude": 0}, "delivery:location expects {orderId: string, latitude: number, longitude: number}"},
		{"no order", map[string]any{"latitude": 1, "longitude": 1}, "orderId is required and must be a valid id"},
		{"null", nil, "delivery:location expects {orderId, latitude, longitude}"},
	}
	for _, tt := range bad {
		agent.emit("delivery:location", tt.arg)
		if got := agent.expect("error"); got["message"] != tt.want {
			t.Fatalf("%s: got %v, want %q", tt.name, got, tt.want)
		}
	}

	// Only the assigned agent.
	cust := f.connect(t)
	cust.register(customerID, "customer")
	cust.emit("delivery:location", map[string]any{"orderId": orderID, "latitude": 1, "longitude": 1})
	if got := cust.expect("error"); got["message"] != "Only the assigned delivery agent can report a location" {
		t.Fatalf("got %v", got)
	}
	other := f.connect(t)
	other.register("d00000000000000000000009", "delivery")
	other.emit("delivery:location", map[string]any{"orderId": orderID, "latitude": 1, "longitude": 1})
	if got := other.expect("error"); got["message"] != "You are not the delivery agent assigned to this order" {
		t.Fatalf("got %v", got)
	}
	select {
	case env := <-f.pub.sent:
		t.Fatalf("unexpected publish %v", env.Type)
	default:
	}
}

func mustEncode(t *testing.T, env event.Envelope) []byte {
	t.Helper()
	b, err := env.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPingAndMalformed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	c := f.connect(t)
	c.emit("ping")
	if got := c.expect("pong"); got["timestamp"] != float64(f.clock.Now().UnixMilli()) {
		t.Fatalf("got %v", got)
	}
	c.emit("typing:start", map[string]string{"userId": "x"})
	if got := c.expect("error"); got["message"] != `Unknown event "typing:start"` {
		t.Fatalf("got %v", got)
	}
	c.emit("register", "just a string")
	if got := c.expect("error"); got["message"] != "register expects {userId, role}" {
		t.Fatalf("got %v", got)
	}
	c.emit("register", map[string]any{"userId": 5})
	if got := c.expect("error"); got["message"] != "register expects {userId: string, role: string}" {
		t.Fatalf("got %v", got)
	}
	c.emit("register", map[string]any{"userId": strings.Repeat("a", 10000)})
	if got := c.expect("error"); got["message"] != "userId is not a valid id" {
		t.Fatalf("got %v", got)
	}
	// Error ack instead of an error event when the client asked for one.
	c.send(`423["nope"]`)
	if got, want := c.read(), `433[{"success":false,"message":"Unknown event \"nope\""}]`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	// Still alive.
	c.emit("ping")
	c.expect("pong")
}

func TestEventRateLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{EventRate: 1, EventBurst: 5})
	c := f.connect(t)
	for range 10 {
		c.emit("ping")
	}
	for range 5 {
		c.expect("pong")
	}
	if got := c.expect("error"); got["message"] != "Too many events: slow down" {
		t.Fatalf("got %v", got)
	}
	// The clock has not moved: the bucket is empty, one reply a second.
	f.clock.Add(2 * time.Second)
	c.emit("ping")
	c.expect("pong")
}

func TestPresenceFollowsRegistration(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	c := f.connectProven(t, adminID, auth.RoleAdmin)
	c.register(adminID, "admin")
	claimed := f.connect(t)
	claimed.register(customerID, "customer")
	f.pres.mu.Lock()
	n := len(f.pres.ids)
	got := map[string]bool{}
	for _, v := range f.pres.ids {
		got[v] = true
	}
	f.pres.mu.Unlock()
	if n != 2 || !got[adminID+"/admin/proven=true"] || !got[customerID+"/customer/proven=false"] {
		t.Fatalf("got %v, want the admin proven and the customer claimed", got)
	}
	_ = claimed.conn.Close()
	_ = c.conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		f.pres.mu.Lock()
		n = len(f.pres.ids)
		f.pres.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d registered after disconnect, want 0", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestProofOrder: the first proof found decides, in the order auth.token,
// Authorization header, token query, session cookie; a bad one is refused
// even when a later one is good.
func TestProofOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{})
	good := f.token(t, adminID, auth.RoleAdmin)
	cookie, _ := f.signer.IssueSocket(adminID, auth.RoleAdmin)
	bad := "nope"
	hdr := func(authz, cookie string) http.Header {
		h := http.Header{}
		if authz != "" {
			h.Set("Authorization", "Bearer "+authz)
		}
		if cookie != "" {
			h.Set("Cookie", "theme=dark; "+auth.SocketCookie+"="+cookie)
		}
		return h
	}
	q := func(tok string) string { return "token=" + url.QueryEscape(tok) }
	tests := []struct {
		name   string
		query  string
		header http.Header
		auth   any
		ok     bool
	}{
		{"auth.token before header", "", hdr(good, ""), map[string]string{"token": bad}, false},
		{"auth.token good, header bad", "", hdr(bad, ""), map[string]string{"token": good}, true},
		{"header before query", q(good), hdr(bad, ""), nil, false},
		{"header good, query bad", q(bad), hdr(good, ""), nil, true},
		{"query before cookie", q(bad), hdr("", cookie), nil, false},
		{"query good, cookie bad", q(good), hdr("", bad), nil, true},
		{"cookie alone", "", hdr("", cookie), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, got := f.dial(t, tt.query, tt.header, tt.auth)
			if strings.HasPrefix(got, `40{"sid":`) != tt.ok {
				t.Fatalf("got %q, want connected=%v", got, tt.ok)
			}
		})
	}
}

// TestCookieProof: the session cookie proves identity like a token, and
// only a valid socket-session token counts as one.
func TestCookieProof(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Config{RequireToken: true}) // a cookie is proof enough
	cookieFor := func(raw string) http.Header { return http.Header{"Cookie": {auth.SocketCookie + "=" + raw}} }
	admin, _ := f.signer.IssueSocket(adminID, auth.RoleAdmin)
	expired, _ := auth.NewSigner(secret, func() time.Time { return time.Now().Add(-8 * 24 * time.Hour) }).IssueSocket(adminID, auth.RoleAdmin)
	forged, _ := auth.NewSigner("other", nil).IssueSocket(adminID, auth.RoleAdmin)
	refresh, _ := f.signer.IssueRefresh(adminID)
	access := f.token(t, adminID, auth.RoleAdmin)
	for _, tt := range []struct{ name, raw, want string }{
		{"expired", expired, `44{"message":"Authentication failed: Your session has expired. Please sign in again.","data":{"code":"SESSION_EXPIRED"}}`},
		{"forged", forged, `44{"message":"Authentication failed: Your session is not valid. Please sign in again.","data":{"code":"INVALID_SESSION"}}`},
		{"refresh token", refresh, `44{"message":"Authentication failed: Your session is not valid. Please sign in again."`},
		{"access token", access, `44{"message":"Authentication failed: Your session is not valid. Please sign in again."`},
		{"garbage", "x.y.z", `44{"message":"Authentication failed: Your session is not valid. Please sign in again."`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, got := f.dial(t, "", cookieFor(tt.raw), nil); !strings.HasPrefix(got, tt.want) {
				t.Fatalf("got %q, want prefix %q", got, tt.want)
			}
		})
	}
	t.Run("registers as itself, never as another", func(t *testing.T) {
		t.Parallel()
		c, reply := f.dial(t, "", cookieFor(admin), nil)
		if !strings.HasPrefix(reply, "40{") {
			t.Fatalf("got %q", reply)
		}
		if got := c.register(customerID, "customer"); got["success"] != false || got["message"] != "This connection is signed in as another user. Sign out, then sign in again as this user." {
			t.Fatalf("got %v", got)
		}
		if got := c.register(adminID, "admin"); got["success"] != true || got["userId"] != adminID || got["role"] != "admin" {
			t.Fatalf("got %v", got)
		}
		if n := f.srv.RoomSize(routing.RoleRoom(auth.RoleAdmin)); n != 1 {
			t.Fatalf("got %d sockets in role:admin, want 1", n)
		}
	})
	t.Run("a role changed since sign-in", func(t *testing.T) {
		t.Parallel()
		stale, _ := f.signer.IssueSocket(customerID, auth.RoleAdmin) // the directory says customer
		c, _ := f.dial(t, "", cookieFor(stale), nil)
		if got := c.register("", ""); got["success"] != false || got["message"] != "Your account has changed since you signed in. Please sign in again." {
			t.Fatalf("got %v", got)
		}
	})
}

// TestTokenlessRoles: without proof, only the configured roles may be
// claimed; GATEWAY_REQUIRE_TOKEN leaves none.
func TestTokenlessRoles(t *testing.T) {
	t.Parallel()
	none := newFixture(t, Config{TokenlessRoles: []string{}})
	admins := newFixture(t, Config{TokenlessRoles: []string{auth.RoleAdmin}})
	for _, tt := range []struct {
		name     string
		f        *fixture
		id, role string
		ok       bool
	}{
		{"none: customer refused", none, customerID, "customer", false},
		{"none: agent refused", none, agentID, "delivery", false},
		{"admin only: admin", admins, adminID, "admin", true},
		{"admin only: customer refused", admins, customerID, "customer", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.f.connect(t).register(tt.id, tt.role)
			if got["success"] != tt.ok {
				t.Fatalf("got %v, want success=%v", got, tt.ok)
			}
			if !tt.ok && !strings.HasPrefix(got["message"].(string), "Sign in again to receive live updates as "+tt.role) {
				t.Fatalf("got %v", got)
			}
		})
	}
	t.Run("proof needs no tokenless role", func(t *testing.T) {
		t.Parallel()
		if got := none.connectProven(t, customerID, "customer").register(customerID, "customer"); got["success"] != true {
			t.Fatalf("got %v", got)
		}
	})
}

// TestCookieGuard: the session cookie is dropped, and only it, when the
// Origin is foreign.
func TestCookieGuard(t *testing.T) {
	t.Parallel()
	var seen http.Header
	h := CookieGuard([]string{"*", "https://admin.example/"}, slog.New(slog.NewTextHandler(io.Discard, nil)))(
		http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = r.Header }))
	const both = "theme=dark; " + auth.SocketCookie + "=abc; lang=en"
	for _, tt := range []struct {
		name, host, origin, fwdHost string
		want                        string // Cookie seen by the engine
	}{
		{"no Origin (native polling)", "api.example", "", "", both},
		{"same origin (React Native websocket)", "api.example:5000", "http://api.example:5000", "", both},
		{"same origin, default port", "api.example", "https://API.example:443", "", both},
		{"behind a proxy that keeps Host", "api.example", "https://api.example", "api.example", both},
		{"forged X-Forwarded-Host", "api.example", "https://evil.example", "evil.example", "theme=dark; lang=en"},
		{"proxy that rewrites Host", "10.0.0.7:5002", "https://api.example", "api.example", "theme=dark; lang=en"},
		{"allowed origin", "api.example", "https://admin.example", "", both},
		{"foreign origin", "api.example", "https://evil.example", "", "theme=dark; lang=en"},
		{"null origin", "api.example", "null", "", "theme=dark; lang=en"},
		{"wildcard does not allow", "api.example", "http://localhost:8081", "", "theme=dark; lang=en"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/socket.io/?EIO=4&transport=polling", nil)
			r.Host = tt.host
			r.Header.Set("Cookie", both)
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
			}
			if tt.fwdHost != "" {
				r.Header.Set("X-Forwarded-Host", tt.fwdHost)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if got := seen.Get("Cookie"); got != tt.want {
				t.Fatalf("got Cookie %q, want %q", got, tt.want)
			}
		})
	}
	r := httptest.NewRequest(http.MethodGet, "/socket.io/", nil)
	r.Header.Set("Origin", "https://evil.example")
	r.Header.Set("Cookie", auth.SocketCookie+"=abc")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if _, has := seen["Cookie"]; has {
		t.Fatalf("got Cookie %q, want none left", seen.Get("Cookie"))
	}
}
