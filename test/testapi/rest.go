// Package testapi holds what the end-to-end suites (test/gateway,
// test/events, and any other that drives the whole stack) share: a typed
// client of orderapi's real REST API that creates the users, agents and
// orders a test needs, a bus publisher that publishes like orderapi's
// outbox relay, helpers for the real socket.io-client sockets of
// test/jsclient, and a stack shared by the tests of one package.
//
// Nothing here fakes a component: users are registered, approved, logged
// in and put online, and orders are placed from a cart, accepted and
// assigned, through the same routes the apps call.
//
//	e := testapi.StartEnv(t, harness.Options{Gateways: 2})
//	customer := e.API.RegisterCustomer(t, "Cora Customer")
//	agent := e.API.OnlineAgent(t, e.Admin, "Dev Agent")
//	order := e.API.AssignedOrder(t, e.Admin, customer, agent)
//
// Every helper takes the test's tb, calls tb.Helper and fails the test on
// an unexpected answer.
package testapi

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/shared/auth"
	"github.com/friendspizzahut/platform/test/harness"
)

// Password is the password of every account the helpers register.
const Password = "Passw0rd1"

// Address is the delivery address of the orders the helpers place.
var Address = map[string]any{"street": "1 Main St", "city": "Pune", "state": "MH", "pincode": "411001"}

// User is an account created (or logged in) through the REST API. Token is
// empty for a delivery agent that has not logged in (pending approval).
// Cookie is the session cookie orderapi set at sign-in, as "name=value":
// what an app's cookie store sends with its socket handshake.
type User struct {
	ID, Name, Email, Phone, Role string
	Token                        string
	Cookie                       string
}

// Order is an order placed through the REST API.
type Order struct {
	ID, Number, Status string
	CustomerID         string
	Total              float64
}

// Client calls one stack's REST API (/api/v1 under URL). It is safe for
// concurrent use.
type Client struct {
	URL                       string // origin, e.g. the front proxy's
	AdminEmail, AdminPassword string // the seeded admin (SEED=true)

	http *http.Client

	mu      sync.Mutex
	product string // a product of the seeded menu, once looked up
}

// New returns a client of the stack's front proxy that logs in as the
// stack's seeded admin.
func New(st *harness.Stack) *Client {
	email, password := st.AdminCredentials()
	return &Client{URL: st.URL(), AdminEmail: email, AdminPassword: password, http: &http.Client{Timeout: 30 * time.Second}}
}

// Call sends method path with body as JSON (nil: no body) and token as
// bearer (empty: none), and returns the status and the raw answer.
func (c *Client) Call(tb testing.TB, method, path, token string, body any) (int, []byte) {
	tb.Helper()
	status, raw, _ := c.Exchange(tb, method, path, token, nil, body)
	return status, raw
}

// Exchange is Call with extra request headers (nil: none) that also
// returns the response's headers.
func (c *Client) Exchange(tb testing.TB, method, path, token string, header http.Header, body any) (int, []byte, http.Header) {
	tb.Helper()
	var rdr io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			tb.Fatalf("%s %s: encode body: %v", method, path, err)
		}
		rdr = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.URL+path, rdr)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := c.http.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read answer: %v", method, path, err)
	}
	return resp.StatusCode, raw, resp.Header
}

// SessionCookie returns the session cookie a response sets, as
// "name=value" ("" when it sets none or clears it).
func SessionCookie(h http.Header) string {
	for _, ck := range (&http.Response{Header: h}).Cookies() {
		if ck.Name == auth.SocketCookie && ck.Value != "" && ck.MaxAge >= 0 {
			return ck.Name + "=" + ck.Value
		}
	}
	return ""
}

// signIn is Do for register and login: it also returns the session cookie.
func (c *Client) signIn(tb testing.TB, want int, path string, body, out any) string {
	tb.Helper()
	return SessionCookie(c.do(tb, want, http.MethodPost, path, "", body, out))
}

// Do is Call that fails the test unless the status is want, and decodes
// the answer into out (if not nil).
func (c *Client) Do(tb testing.TB, want int, method, path, token string, body, out any) {
	tb.Helper()
	c.do(tb, want, method, path, token, body, out)
}

// do is Do that returns the response's headers.
func (c *Client) do(tb testing.TB, want int, method, path, token string, body, out any) http.Header {
	tb.Helper()
	status, raw, header := c.Exchange(tb, method, path, token, nil, body)
	if status != want {
		tb.Fatalf("%s %s: got %d %s, want %d", method, path, status, raw, want)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			tb.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return header
}

// authData is the data of a register or login answer.
type authData struct {
	Data struct {
		User struct {
			ID   string `json:"id"`
			Name string `json:"name"`
			Role string `json:"role"`
		} `json:"user"`
		AccessToken string `json:"accessToken"`
	} `json:"data"`
}

var seq atomic.Int64

// uniqueBase keeps emails and phones of this process apart from those of
// an earlier run against the same database.
var uniqueBase = func() int64 {
	n, err := rand.Int(rand.Reader, big.NewInt(400_000_000))
	if err != nil {
		return time.Now().UnixNano() % 400_000_000
	}
	return n.Int64()
}()

// contact returns an email and a 10-digit phone used by nobody else.
func contact(prefix string) (email, phone string) {
	n := uniqueBase + seq.Add(1)
	return fmt.Sprintf("%s%d@e2e.test", prefix, n), fmt.Sprintf("6%09d", n)
}

// RegisterCustomer signs up a customer (POST /auth/register) and returns
// it with its access token.
func (c *Client) RegisterCustomer(tb testing.TB, name string) User {
	tb.Helper()
	email, phone := contact("c")
	var out authData
	cookie := c.signIn(tb, http.StatusCreated, "/api/v1/auth/register",
		map[string]any{"name": name, "email": email, "phone": phone, "password": Password}, &out)
	if out.Data.User.ID == "" || out.Data.AccessToken == "" || out.Data.User.Role != auth.RoleCustomer || cookie == "" {
		tb.Fatalf("register customer: got user %+v, cookie %q; want an id, a token, role customer and a session cookie", out.Data, cookie)
	}
	return User{ID: out.Data.User.ID, Name: name, Email: email, Phone: phone, Role: auth.RoleCustomer, Token: out.Data.AccessToken, Cookie: cookie}
}

// RegisterAgent signs up a delivery agent (POST /auth/register with role
// delivery). The agent is pending admin approval: no token, and the
// gateway refuses its register.
func (c *Client) RegisterAgent(tb testing.TB, name string) User {
	tb.Helper()
	email, phone := contact("d")
	var out authData
	c.Do(tb, http.StatusCreated, http.MethodPost, "/api/v1/auth/register", "",
		map[string]any{"name": name, "email": email, "phone": phone, "password": Password, "role": auth.RoleDelivery,
			"vehicleInfo": map[string]any{"type": "bike"}}, &out)
	if out.Data.User.ID == "" || out.Data.AccessToken != "" {
		tb.Fatalf("register agent: got %+v, want an id and no token (pending approval)", out.Data)
	}
	return User{ID: out.Data.User.ID, Name: name, Email: email, Phone: phone, Role: auth.RoleDelivery}
}

// Login logs in (POST /auth/login) with Password and returns the user
// with a fresh access token.
func (c *Client) Login(tb testing.TB, email, password string) User {
	tb.Helper()
	var out authData
	cookie := c.signIn(tb, http.StatusOK, "/api/v1/auth/login", map[string]any{"email": email, "password": password}, &out)
	if out.Data.User.ID == "" || out.Data.AccessToken == "" || cookie == "" {
		tb.Fatalf("login %s: got %+v, cookie %q; want an id, a token and a session cookie", email, out.Data, cookie)
	}
	return User{ID: out.Data.User.ID, Name: out.Data.User.Name, Email: email, Role: out.Data.User.Role, Token: out.Data.AccessToken, Cookie: cookie}
}

// Admin logs in as the seeded admin.
func (c *Client) Admin(tb testing.TB) User {
	tb.Helper()
	u := c.Login(tb, c.AdminEmail, c.AdminPassword)
	if u.Role != auth.RoleAdmin {
		tb.Fatalf("seeded admin %s: got role %q", c.AdminEmail, u.Role)
	}
	return u
}

// Approve has admin approve and activate the user (PATCH /users/{id}), as
// the dashboard does for a new delivery agent.
func (c *Client) Approve(tb testing.TB, admin User, userID string) {
	tb.Helper()
	c.Do(tb, http.StatusOK, http.MethodPatch, "/api/v1/users/"+userID, admin.Token,
		map[string]any{"isApproved": true, "isRejected": false, "rejectionReason": nil, "isActive": true}, nil)
}

// SetActive has admin activate or deactivate the user (PATCH /users/{id}).
func (c *Client) SetActive(tb testing.TB, admin User, userID string, active bool) {
	tb.Helper()
	c.Do(tb, http.StatusOK, http.MethodPatch, "/api/v1/users/"+userID, admin.Token, map[string]any{"isActive": active}, nil)
}

// RegisterApprovedAgent signs up a delivery agent, has admin approve it
// and logs it in. The agent is offline.
func (c *Client) RegisterApprovedAgent(tb testing.TB, admin User, name string) User {
	tb.Helper()
	a := c.RegisterAgent(tb, name)
	c.Approve(tb, admin, a.ID)
	l := c.Login(tb, a.Email, Password)
	a.Token, a.Cookie = l.Token, l.Cookie
	return a
}

// AgentOnline has the agent go online or offline (PATCH
// /delivery-agent/status), which publishes delivery.agent_status_changed.
func (c *Client) AgentOnline(tb testing.TB, agent User, online bool) {
	tb.Helper()
	c.Do(tb, http.StatusOK, http.MethodPatch, "/api/v1/delivery-agent/status", agent.Token, map[string]any{"isOnline": online}, nil)
}

// OnlineAgent is RegisterApprovedAgent then AgentOnline: an agent orders
// can be assigned to.
func (c *Client) OnlineAgent(tb testing.TB, admin User, name string) User {
	tb.Helper()
	a := c.RegisterApprovedAgent(tb, admin, name)
	c.AgentOnline(tb, a, true)
	return a
}

// Product returns the id of an available product of the seeded menu.
func (c *Client) Product(tb testing.TB) string {
	tb.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.product == "" {
		var out struct {
			Data []struct {
				ID string `json:"_id"`
			} `json:"data"`
		}
		c.Do(tb, http.StatusOK, http.MethodGet, "/api/v1/products?isAvailable=true&limit=1", "", nil, &out)
		if len(out.Data) == 0 || out.Data[0].ID == "" {
			tb.Fatal("GET /products: no available product (does orderapi run with SEED=true?)")
		}
		c.product = out.Data[0].ID
	}
	return c.product
}

// PlaceOrder has customer put one product in the cart and order it (POST
// /cart/items, POST /orders/from-cart, cash on delivery). The order is
// pending; orderapi publishes order.created.
func (c *Client) PlaceOrder(tb testing.TB, customer User) Order {
	tb.Helper()
	c.Do(tb, http.StatusOK, http.MethodPost, "/api/v1/cart/items", customer.Token, map[string]any{"productId": c.Product(tb), "quantity": 1}, nil)
	var out struct {
		Data struct {
			ID          string  `json:"_id"`
			OrderNumber string  `json:"orderNumber"`
			Status      string  `json:"status"`
			TotalAmount float64 `json:"totalAmount"`
		} `json:"data"`
	}
	c.Do(tb, http.StatusCreated, http.MethodPost, "/api/v1/orders/from-cart", customer.Token, map[string]any{
		"deliveryAddress": Address, "contactPhone": "8000000001", "paymentMethod": "cash"}, &out)
	d := out.Data
	if d.ID == "" || d.OrderNumber == "" || d.Status != "pending" || d.TotalAmount <= 0 {
		tb.Fatalf("place order: got %+v, want a pending order with an id, a number and a total", d)
	}
	return Order{ID: d.ID, Number: d.OrderNumber, Status: d.Status, CustomerID: customer.ID, Total: d.TotalAmount}
}

// Accept has admin accept the order (POST /orders/{id}/accept).
func (c *Client) Accept(tb testing.TB, admin User, orderID string) {
	tb.Helper()
	c.Do(tb, http.StatusOK, http.MethodPost, "/api/v1/orders/"+orderID+"/accept", admin.Token, nil, nil)
}

// Assign has admin assign the accepted order to the online agent (PATCH
// /orders/{id}/assign-delivery).
func (c *Client) Assign(tb testing.TB, admin User, orderID, agentID string) {
	tb.Helper()
	c.Do(tb, http.StatusOK, http.MethodPatch, "/api/v1/orders/"+orderID+"/assign-delivery", admin.Token,
		map[string]any{"deliveryAgentId": agentID}, nil)
}

// AssignedOrder places an order for customer, accepts it and assigns it
// to agent (who must be online): the order's parties are then customer and
// agent, its status "assigned".
func (c *Client) AssignedOrder(tb testing.TB, admin, customer, agent User) Order {
	tb.Helper()
	o := c.PlaceOrder(tb, customer)
	c.Accept(tb, admin, o.ID)
	c.Assign(tb, admin, o.ID, agent.ID)
	o.Status = "assigned"
	return o
}

// SetStatus has actor move the order to status (PATCH /orders/{id}/status).
func (c *Client) SetStatus(tb testing.TB, actor User, orderID, status string) {
	tb.Helper()
	c.Do(tb, http.StatusOK, http.MethodPatch, "/api/v1/orders/"+orderID+"/status", actor.Token, map[string]any{"status": status}, nil)
}

// RecordCOD has the agent record the cash collected for the order (POST
// /payments) and returns the payment id.
func (c *Client) RecordCOD(tb testing.TB, agent User, o Order) string {
	tb.Helper()
	var out struct {
		Data struct {
			ID string `json:"_id"`
		} `json:"data"`
	}
	c.Do(tb, http.StatusCreated, http.MethodPost, "/api/v1/payments", agent.Token, map[string]any{"order": o.ID, "user": agent.ID,
		"amount": o.Total, "paymentMethod": "cod", "collectionMethod": "cash", "paymentStatus": "completed"}, &out)
	if out.Data.ID == "" {
		tb.Fatal("record COD payment: no payment id")
	}
	return out.Data.ID
}

// NewID returns a random well-formed id (24 hex digits) that names no
// user and no order.
func NewID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
