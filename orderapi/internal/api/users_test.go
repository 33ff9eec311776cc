package api_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/friendspizzahut/platform/orderapi/internal/order"
	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/auth"
	"github.com/friendspizzahut/platform/shared/event"
)

func TestListUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, adminTok := e.mustUser(auth.RoleAdmin)
	_, custTok := e.mustUser(auth.RoleCustomer, func(u *store.User) { u.Name = "Zoya Findme" })
	for i := 0; i < 3; i++ {
		e.mustUser(auth.RoleCustomer)
	}
	e.mustUser(auth.RoleDelivery)

	t.Run("admin, paginated", func(t *testing.T) {
		r := e.do("GET", "/api/v1/users?page=2&limit=2", adminTok, nil).want(t, 200)
		d := r.data()
		users, _ := d["users"].([]any)
		if len(users) != 2 {
			t.Fatalf("got %d users on page 2, want 2: %s", len(users), r)
		}
		if num(d, "pagination", "total") != 6 || num(d, "pagination", "totalPages") != 3 || num(d, "pagination", "page") != 2 {
			t.Fatalf("got pagination %v, want total 6, 3 pages, page 2", d["pagination"])
		}
		if r.body["statusCode"] != float64(200) {
			t.Fatalf("standard envelope expected: %s", r)
		}
	})
	t.Run("role filter", func(t *testing.T) {
		d := e.do("GET", "/api/v1/users?role=delivery", adminTok, nil).want(t, 200).data()
		users, _ := d["users"].([]any)
		if len(users) != 1 || str(users[0].(map[string]any), "role") != "delivery" {
			t.Fatalf("got %v, want the one agent", users)
		}
	})
	t.Run("search is literal and case-insensitive", func(t *testing.T) {
		d := e.do("GET", "/api/v1/users?search=findME", adminTok, nil).want(t, 200).data()
		if users, _ := d["users"].([]any); len(users) != 1 || str(users[0].(map[string]any), "name") != "Zoya Findme" {
			t.Fatalf("got %v, want Zoya", users)
		}
		d = e.do("GET", "/api/v1/users?search=.*", adminTok, nil).want(t, 200).data()
		if users, _ := d["users"].([]any); len(users) != 0 {
			t.Fatalf("regex characters must match literally; got %d users", len(users))
		}
	})
	t.Run("no password hashes", func(t *testing.T) {
		r := e.do("GET", "/api/v1/users", adminTok, nil).want(t, 200)
		if containsFold(string(r.raw), "password") || containsFold(string(r.raw), "$2a$") {
			t.Fatalf("password leaked: %s", r.raw)
		}
	})
	t.Run("bad query", func(t *testing.T) {
		r := e.do("GET", "/api/v1/users?role=root&limit=0", adminTok, nil).want(t, 400)
		if f := fields(r); !f["role"] || !f["limit"] {
			t.Fatalf("got %s, want errors for role and limit", r)
		}
	})
	t.Run("customer refused", func(t *testing.T) {
		e.do("GET", "/api/v1/users", custTok, nil).want(t, 403).wantMessage(t, "Admin privileges required")
	})
	t.Run("anonymous refused", func(t *testing.T) {
		e.do("GET", "/api/v1/users", "", nil).want(t, 401)
	})
}

func TestGetUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, adminTok := e.mustUser(auth.RoleAdmin)
	c, cTok := e.mustUser(auth.RoleCustomer, func(u *store.User) {
		u.Address = []store.Address{{Street: "1 MG Road", City: "Pune", State: "MH", Pincode: "411001", Label: "Home", IsDefault: true}}
	})
	_, otherTok := e.mustUser(auth.RoleCustomer)
	d, dTok := e.mustUser(auth.RoleDelivery)

	for _, tc := range []struct {
		name, path, tok string
		want            int
	}{
		{"self", "/api/v1/users/" + c.ID.Hex(), cTok, 200},
		{"admin", "/api/v1/users/" + c.ID.Hex(), adminTok, 200},
		{"other customer", "/api/v1/users/" + c.ID.Hex(), otherTok, 403},
		{"agent reading a customer", "/api/v1/users/" + c.ID.Hex(), dTok, 403},
		{"agent self", "/api/v1/users/" + d.ID.Hex(), dTok, 200},
		{"bad id", "/api/v1/users/undefined", adminTok, 400},
		{"missing", "/api/v1/users/0123456789abcdef01234567", adminTok, 404},
		{"anonymous", "/api/v1/users/" + c.ID.Hex(), "", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", tc.path, tc.tok, nil).want(t, tc.want)
			if tc.want == 200 && tc.name == "self" {
				if str(r.data(), "phone") != c.Phone || str(r.data(), "id") != c.ID.Hex() {
					t.Fatalf("got %s, want the user with phone", r)
				}
				addr, _ := r.data()["address"].([]any)
				if len(addr) != 1 || str(addr[0].(map[string]any), "street") != "1 MG Road" {
					t.Fatalf("got address %v, want the saved one", r.data()["address"])
				}
			}
			if tc.want == 400 {
				r.wantMessage(t, "Invalid _id: undefined")
			}
		})
	}
}

func TestUpdateUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, adminTok := e.mustUser(auth.RoleAdmin)
	c, cTok := e.mustUser(auth.RoleCustomer)
	other, _ := e.mustUser(auth.RoleCustomer)
	path := "/api/v1/users/" + c.ID.Hex()

	t.Run("own profile", func(t *testing.T) {
		r := e.do("PATCH", path, cTok, map[string]any{"name": "  Asha Rao ", "phone": "9123456789", "profileImage": "https://img.test/a.png"}).want(t, 200)
		if str(r.data(), "name") != "Asha Rao" || str(r.data(), "phone") != "9123456789" || str(r.data(), "profileImage") != "https://img.test/a.png" {
			t.Fatalf("got %s", r)
		}
	})
	t.Run("whole user sent back unchanged is fine", func(t *testing.T) {
		e.do("PATCH", path, cTok, map[string]any{"name": "Asha R", "role": "customer", "isActive": true}).want(t, 200)
	})
	for _, tc := range []struct {
		name string
		tok  string
		body map[string]any
		want int
		msg  string
	}{
		{"self approval refused", cTok, map[string]any{"isApproved": true}, 403, "Only admins"},
		{"self deactivation refused", cTok, map[string]any{"isActive": false}, 403, "Only admins"},
		{"role change refused", cTok, map[string]any{"role": "admin"}, 400, "Role cannot be changed"},
		{"admin cannot change role either", adminTok, map[string]any{"role": "delivery"}, 400, "Role cannot be changed"},
		{"password refused", cTok, map[string]any{"password": "Newpass1"}, 400, "Validation failed"},
		{"taken email", cTok, map[string]any{"email": other.Email}, 400, "already exists"},
		{"taken phone", cTok, map[string]any{"phone": other.Phone}, 400, "already exists"},
		{"bad values", cTok, map[string]any{"name": "A", "email": "x", "phone": "1", "profileImage": "javascript:alert(1)"}, 400, "Validation failed"},
		{"operator injection", cTok, map[string]any{"email": map[string]any{"$ne": ""}}, 400, "Validation failed"},
		{"vehicle on a customer", cTok, map[string]any{"vehicleInfo": map[string]any{"type": "bike"}}, 400, "Validation failed"},
		{"someone else's profile", cTok, nil, 403, "your own profile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := path
			if tc.name == "someone else's profile" {
				p = "/api/v1/users/" + other.ID.Hex()
			}
			e.do("PATCH", p, tc.tok, tc.body).want(t, tc.want).wantMessage(t, tc.msg)
		})
	}
	t.Run("admin cannot deactivate themself", func(t *testing.T) {
		e.do("PATCH", "/api/v1/users/"+a.ID.Hex(), adminTok, map[string]any{"isActive": false}).want(t, 400).wantMessage(t, "your own account")
	})
	t.Run("admin deactivates a customer, who is then locked out", func(t *testing.T) {
		e.do("PATCH", path, adminTok, map[string]any{"isActive": false}).want(t, 200)
		e.do("GET", path, cTok, nil).want(t, 401).wantMessage(t, "inactive")
	})
}

// TestAgentApproval is CONTRACT §5 scenario 3 end to end through the API.
func TestAgentApproval(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, adminTok := e.mustUser(auth.RoleAdmin)
	reg := e.do("POST", "/api/v1/auth/register", "", map[string]any{
		"name": "Ravi Kumar", "email": "ravi@example.test", "phone": "9876500001", "password": "Abcdef1",
		"role": "delivery", "vehicleInfo": map[string]any{"type": "bike"},
	}).want(t, 201)
	id := str(reg.data(), "user", "id")
	login := map[string]any{"email": "ravi@example.test", "password": "Abcdef1"}
	e.do("POST", "/api/v1/auth/login", "", login).want(t, 403).wantMessage(t, "approv")

	// The agent's own token cannot approve itself (it has none yet; an
	// approved-then-rejected agent's token is tested below).
	r := e.do("PATCH", "/api/v1/users/"+id, adminTok, map[string]any{
		"isApproved": true, "isRejected": false, "rejectionReason": nil, "isActive": true,
	}).want(t, 200)
	if r.data()["isApproved"] != true || r.data()["isActive"] != true {
		t.Fatalf("got %s, want an approved active agent", r)
	}
	lr := e.do("POST", "/api/v1/auth/login", "", login).want(t, 200)
	if _, ok := dig(lr.data(), "user", "status").(map[string]any); !ok {
		t.Fatalf("agent login lacks user.status: %s", lr)
	}
	agentTok := str(lr.data(), "accessToken")

	// Online, then rejected by an admin: taken offline, with the event.
	e.do("PATCH", "/api/v1/delivery-agent/status", agentTok, map[string]any{"isOnline": true}).want(t, 200)
	oid, _ := store.ParseID(id)
	e.clearOutbox(store.UsersCollection, oid)
	r = e.do("PATCH", "/api/v1/users/"+id, adminTok, map[string]any{"isRejected": true, "rejectionReason": "Documents unclear"}).want(t, 200)
	if r.data()["rejectionReason"] != "Documents unclear" || dig(r.data(), "status", "isOnline") != false {
		t.Fatalf("got %s, want rejected with reason and offline", r)
	}
	evs := e.events(store.UsersCollection, oid)
	if len(evs) != 1 || evs[0].Type != string(event.DeliveryAgentStatusChanged) {
		t.Fatalf("got events %v, want one delivery.agent_status_changed", eventTypes(evs))
	}
	if p := payload[event.AgentStatus](t, evs[0]); p.IsOnline || p.State != store.AgentOffline {
		t.Fatalf("got %+v, want offline", p)
	}
	e.do("POST", "/api/v1/auth/login", "", login).want(t, 403).wantMessage(t, "Documents unclear")
	// A rejected agent's old token cannot un-reject itself.
	e.do("PATCH", "/api/v1/users/"+id, agentTok, map[string]any{"isRejected": false}).want(t, 403)
}

func TestProfileImage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, adminTok := e.mustUser(auth.RoleAdmin)
	c, cTok := e.mustUser(auth.RoleCustomer)
	_, otherTok := e.mustUser(auth.RoleCustomer)
	path := "/api/v1/users/" + c.ID.Hex() + "/profile-image"

	r := e.do("PUT", path, cTok, map[string]any{"profileImage": "https://img.test/me.jpg"}).want(t, 200)
	if str(r.data(), "profileImage") != "https://img.test/me.jpg" || str(r.data(), "user", "profileImage") != "https://img.test/me.jpg" {
		t.Fatalf("got %s", r)
	}
	e.do("PUT", path, adminTok, map[string]any{"profileImage": "https://img.test/admin-set.jpg"}).want(t, 200)
	e.do("PUT", path, otherTok, map[string]any{"profileImage": "https://img.test/x.jpg"}).want(t, 403)
	e.do("PUT", path, cTok, map[string]any{}).want(t, 400).wantMessage(t, "Profile image URL is required")
	e.do("PUT", path, cTok, map[string]any{"profileImage": "ftp://x"}).want(t, 400)
}

func TestDeleteUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, adminTok := e.mustUser(auth.RoleAdmin)
	c, cTok := e.mustUser(auth.RoleCustomer)
	victim, _ := e.mustUser(auth.RoleCustomer)
	d, _ := e.mustUser(auth.RoleDelivery, online)
	o := e.seedOrder(c, 300)
	e.advanceOrder(o, d, order.Assigned)

	e.do("DELETE", "/api/v1/users/"+victim.ID.Hex(), cTok, nil).want(t, 403)
	e.do("DELETE", "/api/v1/users/"+a.ID.Hex(), adminTok, nil).want(t, 400).wantMessage(t, "your own account")
	e.do("DELETE", "/api/v1/users/"+d.ID.Hex(), adminTok, nil).want(t, 400).wantMessage(t, "active order")
	e.do("DELETE", "/api/v1/users/bad", adminTok, nil).want(t, 400)

	e.do("DELETE", "/api/v1/users/"+victim.ID.Hex(), adminTok, nil).want(t, 200).wantMessage(t, "deleted")
	e.do("GET", "/api/v1/users/"+victim.ID.Hex(), adminTok, nil).want(t, 404)
	e.do("DELETE", "/api/v1/users/"+victim.ID.Hex(), adminTok, nil).want(t, 404)
}

func TestDeleteUserWaitsForPendingEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, adminTok := e.mustUser(auth.RoleAdmin)
	d, _ := e.mustUser(auth.RoleDelivery)
	if _, err := e.stores.Users.SetAgentState(context.Background(), d.ID, true, store.AgentFree); err != nil {
		t.Fatal(err)
	}
	// No relay runs here, so the agent-status event stays pending: deleting
	// would lose it, and the delete is refused until it is published.
	e.do("DELETE", "/api/v1/users/"+d.ID.Hex(), adminTok, nil).want(t, 409).wantMessage(t, "retry")
	e.clearOutbox(store.UsersCollection, d.ID)
	e.do("DELETE", "/api/v1/users/"+d.ID.Hex(), adminTok, nil).want(t, 200)
}

func TestCreateUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, adminTok := e.mustUser(auth.RoleAdmin)
	_, cTok := e.mustUser(auth.RoleCustomer)
	body := func(email, phone, role string) map[string]any {
		return map[string]any{"name": "Second Admin", "email": email, "phone": phone, "password": "Secret12", "role": role, "adminRole": "manager"}
	}
	r := e.do("POST", "/api/v1/users", adminTok, body("admin2@example.test", "9000011111", "admin")).want(t, 201)
	if str(r.data(), "role") != "admin" || str(r.data(), "adminRole") != "manager" || r.data()["isActive"] != true {
		t.Fatalf("got %s, want an active admin", r)
	}
	lr := e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "admin2@example.test", "password": "Secret12"}).want(t, 200)
	e.do("GET", "/api/v1/users", str(lr.data(), "accessToken"), nil).want(t, 200)

	r = e.do("POST", "/api/v1/users", adminTok, body("agent2@example.test", "9000022222", "delivery")).want(t, 201)
	if r.data()["isApproved"] != true {
		t.Fatalf("an agent created by an admin is approved: %s", r)
	}
	e.do("POST", "/api/v1/users", cTok, body("c@example.test", "9000033333", "admin")).want(t, 403)
	e.do("POST", "/api/v1/auth/register", "", body("self@example.test", "9000044444", "admin")).want(t, 403)
	e.do("POST", "/api/v1/users", adminTok, body("admin2@example.test", "9000055555", "admin")).want(t, 400).wantMessage(t, "already exists")
	r = e.do("POST", "/api/v1/users", adminTok, map[string]any{"role": "root", "adminRole": "god"}).want(t, 400)
	if f := fields(r); !f["name"] || !f["email"] || !f["password"] || !f["role"] || !f["adminRole"] {
		t.Fatalf("got %s, want field errors", r)
	}
}

func TestAddresses(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, adminTok := e.mustUser(auth.RoleAdmin)
	c, cTok := e.mustUser(auth.RoleCustomer)
	base := "/api/v1/users/" + c.ID.Hex() + "/address"
	addr := func(street string, def bool) map[string]any {
		return map[string]any{"label": "Work", "street": street, "city": "Pune", "state": "MH", "pincode": "411001", "landmark": "Near park", "isDefault": def}
	}

	first := e.do("POST", base, cTok, addr("1 First St", false)).want(t, 201)
	if _, has := first.body["statusCode"]; has {
		t.Fatalf("address routes answer without statusCode: %s", first)
	}
	if dig(first.data(), "address", "isDefault") != true {
		t.Fatalf("the first address becomes the default: %s", first)
	}
	firstID := str(first.data(), "address", "_id")
	second := e.do("POST", base, cTok, addr("2 Second St", true)).want(t, 201)
	secondID := str(second.data(), "address", "_id")

	defaults := func() map[string]bool {
		r := e.do("GET", "/api/v1/users/"+c.ID.Hex(), cTok, nil).want(t, 200)
		out := map[string]bool{}
		as, _ := r.data()["address"].([]any)
		for _, a := range as {
			m := a.(map[string]any)
			out[str(m, "_id")] = m["isDefault"] == true
		}
		return out
	}
	if got := defaults(); got[firstID] || !got[secondID] {
		t.Fatalf("got defaults %v, want only the second", got)
	}

	r := e.do("PUT", base+"/"+firstID, cTok, map[string]any{"street": "1A First St"}).want(t, 200)
	if str(r.data(), "address", "street") != "1A First St" || str(r.data(), "address", "city") != "Pune" {
		t.Fatalf("partial update: %s", r)
	}
	e.do("PATCH", base+"/"+firstID+"/default", cTok, nil).want(t, 200)
	if got := defaults(); !got[firstID] || got[secondID] {
		t.Fatalf("got defaults %v, want only the first", got)
	}
	e.do("DELETE", base+"/"+firstID, cTok, nil).want(t, 200)
	if got := defaults(); len(got) != 1 || !got[secondID] {
		t.Fatalf("after deleting the default, the remaining one is default: %v", got)
	}

	for _, tc := range []struct {
		name, method, path, tok string
		body                    any
		want                    int
	}{
		{"missing fields", "POST", base, cTok, map[string]any{"street": "x"}, 400},
		{"empty street on update", "PUT", base + "/" + secondID, cTok, map[string]any{"street": ""}, 400},
		{"admin is not the user", "POST", base, adminTok, addr("3 Admin St", false), 403},
		{"unknown address", "PUT", base + "/0123456789abcdef01234567", cTok, addr("x", false), 404},
		{"bad address id", "DELETE", base + "/nope", cTok, nil, 400},
		{"anonymous", "POST", base, "", addr("x", false), 401},
	} {
		t.Run(tc.name, func(t *testing.T) { e.do(tc.method, tc.path, tc.tok, tc.body).want(t, tc.want) })
	}
}

func TestDeliveryAgentsList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, adminTok := e.mustUser(auth.RoleAdmin)
	c, cTok := e.mustUser(auth.RoleCustomer)
	offline, _ := e.mustUser(auth.RoleDelivery, func(u *store.User) { u.Name = "A Offline" })
	busy, _ := e.mustUser(auth.RoleDelivery, online, func(u *store.User) { u.Name = "B Busy" })
	free, _ := e.mustUser(auth.RoleDelivery, online, func(u *store.User) { u.Name = "C Free" })
	e.mustUser(auth.RoleDelivery, online, func(u *store.User) { u.Name = "D Unapproved"; u.IsApproved = false })
	o := e.seedOrder(c, 250)
	e.advanceOrder(o, busy, order.OutForDelivery)

	r := e.do("GET", "/api/v1/users/delivery-agents/all", adminTok, nil).want(t, 200)
	agents, _ := r.data()["agents"].([]any)
	var got []string
	for _, a := range agents {
		m := a.(map[string]any)
		got = append(got, fmt.Sprintf("%s:%s:%v:%v", str(m, "id"), str(m, "status"), m["isOnline"], m["activeDeliveries"]))
		if m["isApproved"] != true || m["maxDeliveries"] != float64(3) || str(m, "vehicleNumber") == "" {
			t.Errorf("agent row %v lacks fields", m)
		}
	}
	want := []string{
		free.ID.Hex() + ":online:true:0",
		busy.ID.Hex() + ":busy:true:1",
		offline.ID.Hex() + ":offline:false:0",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got agents %v, want %v", got, want)
	}
	e.do("GET", "/api/v1/users/delivery-agents/all", cTok, nil).want(t, 403)
}
