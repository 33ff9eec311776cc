package api_test

import (
	"strings"
	"testing"

	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/auth"
	"github.com/friendspizzahut/platform/shared/event"
)

func TestRegister(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustUser(auth.RoleCustomer, func(u *store.User) { u.Email = "taken@example.test"; u.Phone = "9999999999" })

	valid := func(over map[string]any) map[string]any {
		b := map[string]any{"name": "Asha Rao", "email": "Asha@Example.test", "phone": "9876543210", "password": "Abcdef1"}
		for k, v := range over {
			b[k] = v
		}
		return b
	}
	for _, tc := range []struct {
		name       string
		body       any
		wantStatus int
		wantMsg    string   // substring of message
		wantFields []string // validation error fields
	}{
		{"customer", valid(nil), 201, "registered", nil},
		{"delivery needs approval", valid(map[string]any{"email": "d@example.test", "phone": "9876500000", "role": "delivery", "vehicleInfo": map[string]any{"type": "bike"}}), 201, "pending admin approval", nil},
		{"admin refused", valid(map[string]any{"email": "a@example.test", "phone": "9876511111", "role": "admin"}), 403, "cannot be self-registered", nil},
		{"unknown role", valid(map[string]any{"role": "root"}), 400, "Validation failed", []string{"role"}},
		{"every field bad", map[string]any{"name": "A", "email": "nope", "phone": "12", "password": "abc"}, 400, "Validation failed", []string{"name", "email", "phone", "password"}},
		{"weak password", valid(map[string]any{"password": "abcdefg"}), 400, "Validation failed", []string{"password"}},
		{"empty body", nil, 400, "Validation failed", []string{"name", "email", "phone", "password"}},
		{"wrong type", valid(map[string]any{"name": 42}), 400, "Validation failed", []string{"name"}},
		{"operator injection", valid(map[string]any{"email": map[string]any{"$gt": ""}}), 400, "Validation failed", []string{"email"}},
		{"bad vehicle", valid(map[string]any{"email": "v@example.test", "phone": "9876522222", "role": "delivery", "vehicleInfo": map[string]any{"type": "rocket", "number": "x"}}), 400, "Validation failed", []string{"vehicleInfo.type", "vehicleInfo.number"}},
		{"invalid JSON", "{nope", 400, "Invalid JSON", nil},
		{"email taken", valid(map[string]any{"email": "TAKEN@example.test", "phone": "9876533333"}), 400, "already exists", nil},
		{"phone taken", valid(map[string]any{"email": "new@example.test", "phone": "9999999999"}), 400, "already exists", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/api/v1/auth/register", "", tc.body).want(t, tc.wantStatus)
			if msg, _ := r.body["message"].(string); !strings.Contains(msg, tc.wantMsg) {
				t.Fatalf("got message %q, want it to contain %q", msg, tc.wantMsg)
			}
			if r.body["success"] != (tc.wantStatus < 300) {
				t.Fatalf("got success=%v in %s", r.body["success"], r)
			}
			if tc.wantFields != nil {
				errs, _ := r.body["errors"].([]any)
				got := map[string]bool{}
				for _, fe := range errs {
					got[str(fe.(map[string]any), "field")] = true
				}
				for _, f := range tc.wantFields {
					if !got[f] {
						t.Errorf("no error for field %q in %s", f, r)
					}
				}
			}
		})
	}

	t.Run("customer tokens", func(t *testing.T) {
		r := e.do("POST", "/api/v1/auth/register", "", valid(map[string]any{"email": "c2@example.test", "phone": "9876544444"})).want(t, 201)
		d := r.data()
		claims, err := e.signer.VerifyAccess(str(d, "accessToken"))
		if err != nil {
			t.Fatalf("access token: %v", err)
		}
		if claims.UserID != str(d, "user", "id") || claims.Role != "customer" || claims.Email != "c2@example.test" {
			t.Fatalf("got claims %+v, want the new customer", claims)
		}
		if ttl := claims.ExpiresAt.Sub(claims.IssuedAt).Seconds(); ttl != 604800 {
			t.Fatalf("got exp-iat %v, want 604800", ttl)
		}
		if _, err := e.signer.VerifyRefresh(str(d, "refreshToken")); err != nil {
			t.Fatalf("refresh token: %v", err)
		}
		if d["expiresIn"] != float64(604800) || dig(d, "user", "password") != nil {
			t.Fatalf("got %s, want expiresIn 604800 and no password", r)
		}
	})
	t.Run("delivery gets no tokens", func(t *testing.T) {
		r := e.do("POST", "/api/v1/auth/register", "", valid(map[string]any{"email": "d2@example.test", "phone": "9876555555", "role": "delivery"})).want(t, 201)
		d := r.data()
		if d["requiresApproval"] != true || d["accessToken"] != nil || str(d, "user", "role") != "delivery" || dig(d, "user", "isActive") != false {
			t.Fatalf("got %s", r)
		}
	})
}

func TestLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cust, _ := e.mustUser(auth.RoleCustomer)
	agent, _ := e.mustUser(auth.RoleDelivery)
	pending, _ := e.mustUser(auth.RoleDelivery, func(u *store.User) { u.IsApproved = false; u.IsActive = false })
	reason := "Documents unreadable"
	rejected, _ := e.mustUser(auth.RoleDelivery, func(u *store.User) { u.IsRejected = true; u.RejectionReason = &reason })
	off, _ := e.mustUser(auth.RoleCustomer, inactive)

	for _, tc := range []struct {
		name       string
		email, pw  string
		wantStatus int
		wantMsg    string
	}{
		{"customer", cust.Email, "Secret123", 200, "Login successful"},
		{"email is case-insensitive", strings.ToUpper(cust.Email), "Secret123", 200, "Login successful"},
		{"approved agent", agent.Email, "Secret123", 200, "Login successful"},
		{"wrong password", cust.Email, "Secret124", 401, "Invalid email or password"},
		{"unknown email", "ghost@example.test", "Secret123", 401, "Invalid email or password"},
		{"pending agent", pending.Email, "Secret123", 403, "approval"},
		{"rejected agent", rejected.Email, "Secret123", 403, "Documents unreadable"},
		{"inactive customer", off.Email, "Secret123", 403, "deactivated"},
		{"missing fields", "", "", 400, "Validation failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": tc.email, "password": tc.pw}).want(t, tc.wantStatus)
			if msg, _ := r.body["message"].(string); !strings.Contains(msg, tc.wantMsg) {
				t.Fatalf("got message %q, want %q", msg, tc.wantMsg)
			}
			if tc.wantStatus == 200 {
				d := r.data()
				if str(d, "accessToken") == "" || str(d, "refreshToken") == "" || d["expiresIn"] != float64(604800) || str(d, "user", "id") == "" {
					t.Fatalf("got %s, want tokens, expiresIn and user.id", r)
				}
				if tc.email == agent.Email && dig(d, "user", "status") == nil {
					t.Fatalf("agent login without user.status: %s", r)
				}
			}
		})
	}
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, access := e.mustUser(auth.RoleCustomer)
	refresh, _ := e.signer.IssueRefresh(u.ID.Hex())
	ghost, _ := e.signer.IssueRefresh("0123456789abcdef01234567")

	for _, tc := range []struct {
		name       string
		path       string
		token      any
		wantStatus int
	}{
		{"refresh token", "/api/v1/auth/refresh", refresh, 200},
		{"doubled prefix alias", "/api/v1/api/v1/auth/refresh", refresh, 200},
		{"access token refused", "/api/v1/auth/refresh", access, 401},
		{"garbage", "/api/v1/auth/refresh", "not.a.jwt", 401},
		{"missing", "/api/v1/auth/refresh", nil, 400},
		{"user gone", "/api/v1/auth/refresh", ghost, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := map[string]any{}
			if tc.token != nil {
				body["refreshToken"] = tc.token
			}
			r := e.do("POST", tc.path, "", body).want(t, tc.wantStatus)
			if tc.wantStatus != 200 {
				return
			}
			tok := str(r.data(), "accessToken")
			if _, err := e.signer.VerifyAccess(tok); err != nil || r.data()["expiresIn"] != float64(604800) || r.body["token"] != tok {
				t.Fatalf("got %s, want a valid accessToken, expiresIn and top-level token", r)
			}
		})
	}
}

func TestAuthMiddleware(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, cust := e.mustUser(auth.RoleCustomer)
	u, _ := e.mustUser(auth.RoleCustomer)
	refresh, _ := e.signer.IssueRefresh(u.ID.Hex())
	_, offTok := e.mustUser(auth.RoleCustomer, inactive)
	ghost, _ := e.signer.IssueAccess("0123456789abcdef01234567", "x@example.test", "admin")
	forged, _ := auth.NewSigner("another-secret-entirely", nil).IssueAccess(u.ID.Hex(), u.Email, "admin")

	for _, tc := range []struct {
		name, token string
		path        string
		wantStatus  int
		wantMsg     string
	}{
		{"no token", "", "/api/v1/orders/my-orders", 401, "No token provided. Please authenticate."},
		{"garbage", "garbage", "/api/v1/orders/my-orders", 401, "Invalid token."},
		{"other secret", forged, "/api/v1/orders/my-orders", 401, "Invalid token."},
		{"refresh as access", refresh, "/api/v1/orders/my-orders", 401, "Invalid token."},
		{"deleted user", ghost, "/api/v1/orders/my-orders", 401, "User not found. Token is invalid."},
		{"inactive user", offTok, "/api/v1/orders/my-orders", 401, "User account is inactive."},
		{"customer on admin route", cust, "/api/v1/orders", 403, "Access denied. Admin privileges required."},
		{"customer on agent route", cust, "/api/v1/orders/delivery-agent/my-orders", 403, "Access denied. Required role: delivery or admin."},
		{"customer ok", cust, "/api/v1/orders/my-orders", 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", tc.path, tc.token, nil).want(t, tc.wantStatus)
			if tc.wantMsg != "" && (r.body["message"] != tc.wantMsg || r.body["success"] != false) {
				t.Fatalf("got %s, want message %q", r, tc.wantMsg)
			}
		})
	}
}

func TestLogoutTakesAgentOffline(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	agent, tok := e.mustUser(auth.RoleDelivery, online)
	_, custTok := e.mustUser(auth.RoleCustomer)

	e.do("POST", "/api/v1/auth/logout", "", nil).want(t, 200)
	e.do("POST", "/api/v1/auth/logout", custTok, nil).want(t, 200)
	r := e.do("POST", "/api/v1/auth/logout", tok, map[string]any{}).want(t, 200)
	if dig(r.data(), "success") != true {
		t.Fatalf("got %s", r)
	}
	got, err := e.stores.Users.UserByID(t.Context(), agent.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.IsOnline() || got.AgentState() != store.AgentOffline {
		t.Fatalf("got agent online=%v state=%s, want offline", got.IsOnline(), got.AgentState())
	}
	recs := e.events(store.UsersCollection, agent.ID)
	if len(recs) != 1 || recs[0].Type != string(event.DeliveryAgentStatusChanged) {
		t.Fatalf("got outbox %v, want one %s", eventTypes(recs), event.DeliveryAgentStatusChanged)
	}
	p := payload[event.AgentStatus](t, recs[0])
	if p.DeliveryAgentID != agent.ID.Hex() || p.IsOnline || p.State != "offline" {
		t.Fatalf("got payload %+v", p)
	}
}
