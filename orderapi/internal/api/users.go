package api

import (
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/apperr"
	"github.com/friendspizzahut/platform/shared/auth"
	"github.com/friendspizzahut/platform/shared/event"
)

// Users (CONTRACT §3.3 "Users"). The original let any authenticated user
// read and patch anyone (approving or deactivating them included); here a
// user reads and edits only themself, and only admins see others, approve
// agents, change isActive, create other admins and delete users. Role and
// password never change through these routes.

var errNotYourProfile = apperr.Forbiddenf("You can only access your own profile")

// selfOrAdmin loads the user of the {id} path parameter if the caller is
// that user or an admin.
func selfOrAdmin(r *http.Request) (primitive.ObjectID, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return id, err
	}
	me := userFrom(r.Context())
	if me.ID != id && me.Role != auth.RoleAdmin {
		return id, errNotYourProfile
	}
	return id, nil
}

// pageInfo is the pagination object of GET /users.
func pageInfo(page, limit int, total int64) map[string]any {
	return map[string]any{"page": page, "limit": limit, "total": total,
		"totalPages": int(math.Ceil(float64(total) / float64(limit)))}
}

// handleListUsers: GET /users?role&search&page&limit (A) →
// data {users, pagination {page, limit, total, totalPages}}.
func handleListUsers(users *store.Users) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := newQuery(r)
		role := q.oneOf("role", auth.RoleCustomer, auth.RoleAdmin, auth.RoleDelivery)
		search := q.str("search")
		if len(search) > 100 {
			q.p.add("search", "search must be at most 100 characters", nil)
		}
		page := q.int("page", 1, 1, 1_000_000)
		limit := q.int("limit", 20, 1, 100)
		if err := q.err(); err != nil {
			return err
		}
		us, total, err := users.ListUsers(r.Context(), store.UserFilter{
			Role: role, Search: search, Skip: int64((page - 1) * limit), Limit: int64(limit),
		})
		if err != nil {
			return err
		}
		views := make([]map[string]any, 0, len(us))
		for _, u := range us {
			views = append(views, userView(u))
		}
		respond(w, http.StatusOK, "Users retrieved successfully", map[string]any{
			"users": views, "pagination": pageInfo(page, limit, total),
		})
		return nil
	}
}

// handleGetUser: GET /users/:id (self or admin) → data <user> (with
// address[] and phone, which checkout reads).
func handleGetUser(users *store.Users) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := selfOrAdmin(r)
		if err != nil {
			return err
		}
		u, err := users.UserByID(r.Context(), id)
		if err != nil {
			return err
		}
		respond(w, http.StatusOK, "User retrieved successfully", userView(u))
		return nil
	}
}

// updateUserRequest is PATCH /users/:id. Pointers tell "absent" from a
// value; rejectionReason stays raw so that an explicit null clears it.
type updateUserRequest struct {
	Name         *string       `json:"name"`
	Email        *string       `json:"email"`
	Phone        *string       `json:"phone"`
	ProfileImage *string       `json:"profileImage"`
	VehicleInfo  *vehicleInput `json:"vehicleInfo"`

	// Admin only.
	IsApproved      *bool           `json:"isApproved"`
	IsRejected      *bool           `json:"isRejected"`
	RejectionReason json.RawMessage `json:"rejectionReason"`
	IsActive        *bool           `json:"isActive"`

	// Never changed here; present only to be refused when they differ.
	Role     *string `json:"role"`
	Password *string `json:"password"`

	reason    *string // decoded RejectionReason
	hasReason bool
}

func (q *updateUserRequest) valid(p *problems) {
	if q.Name != nil {
		*q.Name = strings.TrimSpace(*q.Name)
		if n := len([]rune(*q.Name)); n < 2 || n > 50 {
			p.add("name", "Name must be between 2 and 50 characters", *q.Name)
		}
	}
	if q.Email != nil {
		*q.Email = store.NormalizeEmail(*q.Email)
		if !validEmail(*q.Email) {
			p.add("email", "Please provide a valid email", *q.Email)
		}
	}
	if q.Phone != nil {
		*q.Phone = strings.TrimSpace(*q.Phone)
		if !phonePattern.MatchString(*q.Phone) {
			p.add("phone", "Phone number must be exactly 10 digits", *q.Phone)
		}
	}
	if q.ProfileImage != nil && *q.ProfileImage != "" && !validImageURL(*q.ProfileImage) {
		p.add("profileImage", "profileImage must be an http(s) URL", *q.ProfileImage)
	}
	if v := q.VehicleInfo; v != nil {
		checkVehicle(p, v)
	}
	if len(q.RejectionReason) > 0 {
		q.hasReason = true
		if string(q.RejectionReason) != "null" {
			var s string
			if err := json.Unmarshal(q.RejectionReason, &s); err != nil {
				p.add("rejectionReason", "rejectionReason must be a string or null", nil)
			} else if s = strings.TrimSpace(s); len(s) > 500 {
				p.add("rejectionReason", "rejectionReason must be at most 500 characters", nil)
			} else if s != "" {
				q.reason = &s
			}
		}
	}
	if q.Password != nil && *q.Password != "" {
		p.add("password", "Password cannot be changed through this route", nil)
	}
}

// checkVehicle applies registration's vehicle rules.
func checkVehicle(p *problems, v *vehicleInput) {
	switch v.Type {
	case "", "bike", "scooter", "bicycle", "car":
	default:
		p.add("vehicleInfo.type", "Vehicle type must be bike, scooter, bicycle or car", v.Type)
	}
	v.Number = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(v.Number), " ", ""))
	if v.Number != "" && !vehiclePattern.MatchString(v.Number) {
		p.add("vehicleInfo.number", "Vehicle number must look like MH12AB1234", v.Number)
	}
	if len(v.Model) > 50 {
		p.add("vehicleInfo.model", "Vehicle model must be at most 50 characters", v.Model)
	}
}

// validImageURL accepts absolute http(s) URLs of sane length.
func validImageURL(s string) bool {
	if len(s) > 2048 {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

var errAdminOnlyFields = apperr.Forbiddenf("Only admins can change approval or account status")

// handleUpdateUser: PATCH /users/:id. The user edits their own profile
// fields; an admin may edit anyone's and also isApproved, isRejected,
// rejectionReason and isActive (agent approval: CONTRACT §5 scenario 3).
// A role or password in the body is refused unless it is the current
// value (clients that send the whole user back keep working).
func handleUpdateUser(users *store.Users) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := selfOrAdmin(r)
		if err != nil {
			return err
		}
		req, err := decode[updateUserRequest](r)
		if err != nil {
			return err
		}
		me := userFrom(r.Context())
		isAdmin := me.Role == auth.RoleAdmin
		email, phone := "", ""
		if req.Email != nil {
			email = *req.Email
		}
		if req.Phone != nil {
			phone = *req.Phone
		}
		if taken, err := users.ContactTaken(r.Context(), email, phone, id); err != nil {
			return err
		} else if taken {
			return apperr.Invalidf("User with this email or phone already exists")
		}
		u, err := users.UpdateUser(r.Context(), id, func(u *store.User) ([]event.Payload, error) {
			if req.Role != nil && *req.Role != u.Role {
				return nil, apperr.Invalidf("Role cannot be changed")
			}
			if !isAdmin && changesAdminFields(u, &req) {
				return nil, errAdminOnlyFields
			}
			if req.IsActive != nil && !*req.IsActive && u.ID == me.ID {
				return nil, apperr.Invalidf("You cannot deactivate your own account")
			}
			if req.VehicleInfo != nil && !u.IsAgent() {
				return nil, validationError([]apperr.FieldError{{Field: "vehicleInfo", Message: "Only delivery agents have a vehicle"}})
			}
			if req.Name != nil {
				u.Name = *req.Name
			}
			if req.Email != nil {
				u.Email = *req.Email
			}
			if req.Phone != nil {
				u.Phone = *req.Phone
			}
			if req.ProfileImage != nil {
				u.ProfileImage = nil
				if *req.ProfileImage != "" {
					img := *req.ProfileImage
					u.ProfileImage = &img
				}
			}
			if v := req.VehicleInfo; v != nil {
				u.VehicleInfo = &event.VehicleInfo{Type: v.Type, Number: v.Number, Model: v.Model}
			}
			if !isAdmin {
				return nil, nil
			}
			if req.IsApproved != nil {
				u.IsApproved = *req.IsApproved
			}
			if req.IsRejected != nil {
				u.IsRejected = *req.IsRejected
			}
			if req.hasReason {
				u.RejectionReason = req.reason
			}
			if u.IsApproved && !u.IsRejected {
				u.RejectionReason = nil
			}
			if req.IsActive != nil {
				u.IsActive = *req.IsActive
			}
			// An agent who may no longer work is taken offline, and the
			// boards learn it (delivery.agent_status_changed).
			if u.IsAgent() && u.IsOnline() && (!u.IsActive || !u.IsApproved || u.IsRejected) {
				st := store.AgentStatus{IsOnline: false, State: store.AgentOffline, LastOnline: u.Status.LastOnline}
				u.Status = &st
				return []event.Payload{u.AgentStatusEvent()}, nil
			}
			return nil, nil
		})
		if err != nil {
			return err
		}
		respond(w, http.StatusOK, "User updated successfully", userView(u))
		return nil
	}
}

// changesAdminFields reports whether req would change a field only admins
// may change.
func changesAdminFields(u *store.User, req *updateUserRequest) bool {
	curReason := ""
	if u.RejectionReason != nil {
		curReason = *u.RejectionReason
	}
	newReason := ""
	if req.reason != nil {
		newReason = *req.reason
	}
	return (req.IsApproved != nil && *req.IsApproved != u.IsApproved) ||
		(req.IsRejected != nil && *req.IsRejected != u.IsRejected) ||
		(req.IsActive != nil && *req.IsActive != u.IsActive) ||
		(req.hasReason && newReason != curReason)
}

type profileImageRequest struct {
	ProfileImage string `json:"profileImage"`
}

func (q *profileImageRequest) valid(p *problems) {
	q.ProfileImage = strings.TrimSpace(q.ProfileImage)
	if q.ProfileImage != "" && !validImageURL(q.ProfileImage) {
		p.add("profileImage", "profileImage must be an http(s) URL", q.ProfileImage)
	}
}

// handleProfileImage: PUT /users/:id/profile-image {profileImage} (self or
// admin) → data {profileImage, user}.
func handleProfileImage(users *store.Users) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if me := userFrom(r.Context()); me.ID != id && me.Role != auth.RoleAdmin {
			return apperr.Forbiddenf("You can only update your own profile image")
		}
		req, err := decode[profileImageRequest](r)
		if err != nil {
			return err
		}
		if req.ProfileImage == "" {
			return apperr.Invalidf("Profile image URL is required")
		}
		u, err := users.UpdateUser(r.Context(), id, func(u *store.User) ([]event.Payload, error) {
			img := req.ProfileImage
			u.ProfileImage = &img
			return nil, nil
		})
		if err != nil {
			return err
		}
		respond(w, http.StatusOK, "Profile image updated successfully", map[string]any{
			"profileImage": u.ProfileImage, "user": userView(u),
		})
		return nil
	}
}

// handleDeleteUser: DELETE /users/:id (A). An admin cannot delete
// themself, nor an agent who still holds orders.
func handleDeleteUser(users *store.Users, orders *store.Orders) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if id == userFrom(r.Context()).ID {
			return apperr.Invalidf("You cannot delete your own account")
		}
		u, err := users.UserByID(r.Context(), id)
		if err != nil {
			return err
		}
		if u.IsAgent() {
			active, err := orders.ActiveOrdersOf(r.Context(), id)
			if err != nil {
				return err
			}
			if len(active) > 0 {
				return apperr.Invalidf("Cannot delete a delivery agent who holds %d active order(s)", len(active))
			}
		}
		if err := users.DeleteUser(r.Context(), id); err != nil {
			return err
		}
		respond(w, http.StatusOK, "User and related data deleted successfully", nil)
		return nil
	}
}

// createUserRequest is POST /users: registration's fields, plus the admin
// profile of a new admin.
type createUserRequest struct {
	registerRequest
	Username  string `json:"username"`
	AdminRole string `json:"adminRole"`
}

func (q *createUserRequest) valid(p *problems) {
	q.registerRequest.valid(p)
	switch q.AdminRole {
	case "", "owner", "staff", "manager":
	default:
		p.add("adminRole", "adminRole must be owner, staff or manager", q.AdminRole)
	}
	if len(q.Username) > 50 {
		p.add("username", "username must be at most 50 characters", q.Username)
	}
}

// handleCreateUser: POST /users (A). This is how admins come to exist
// besides the seed: only an admin creates another admin. Users created
// here are active; agents are approved.
func handleCreateUser(users *store.Users) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		req, err := decode[createUserRequest](r)
		if err != nil {
			return err
		}
		u, err := req.newUser()
		if err != nil {
			return err
		}
		switch u.Role {
		case auth.RoleAdmin:
			u.Username, u.AdminRole = req.Username, req.AdminRole
			if u.AdminRole == "" {
				u.AdminRole = "staff"
			}
			u.Permissions = []string{}
		case auth.RoleDelivery:
			u.IsApproved = true
		}
		if err := users.CreateUser(r.Context(), u); err != nil {
			return err
		}
		respond(w, http.StatusCreated, "User created successfully", userView(u))
		return nil
	}
}

// Agent availability as the admin's assignment screen shows it.
const (
	agentListOnline  = "online"
	agentListBusy    = "busy"
	agentListOffline = "offline"
)

// handleDeliveryAgents: GET /users/delivery-agents/all (A) → data {agents:
// [...]}: approved agents, online first, then busy, then offline.
// "busy" is an online agent holding orders (or who set state busy).
func handleDeliveryAgents(users *store.Users, orders *store.Orders) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		agents, err := users.ApprovedAgents(r.Context())
		if err != nil {
			return err
		}
		ids := make([]primitive.ObjectID, 0, len(agents))
		for _, a := range agents {
			ids = append(ids, a.ID)
		}
		active, err := orders.ActiveCounts(r.Context(), ids)
		if err != nil {
			return err
		}
		rank := map[string]int{agentListOnline: 0, agentListBusy: 1, agentListOffline: 2}
		type row struct {
			status string
			name   string
			view   map[string]any
		}
		rows := make([]row, 0, len(agents))
		for _, a := range agents {
			n := active[a.ID]
			status := agentListOffline
			if a.IsOnline() {
				status = agentListOnline
				if n > 0 || a.AgentState() == store.AgentBusy {
					status = agentListBusy
				}
			}
			rows = append(rows, row{status: status, name: a.Name, view: agentListView(a, status, n)})
		}
		sort.SliceStable(rows, func(i, j int) bool {
			if rank[rows[i].status] != rank[rows[j].status] {
				return rank[rows[i].status] < rank[rows[j].status]
			}
			return rows[i].name < rows[j].name
		})
		out := make([]map[string]any, 0, len(rows))
		for _, r := range rows {
			out = append(out, r.view)
		}
		respond(w, http.StatusOK, "Delivery agents retrieved successfully", map[string]any{"agents": out})
		return nil
	}
}

func agentListView(a *store.User, status string, activeDeliveries int) map[string]any {
	img := "https://ui-avatars.com/api/?name=" + url.QueryEscape(a.Name)
	if a.ProfileImage != nil && *a.ProfileImage != "" {
		img = *a.ProfileImage
	}
	vType, vNumber := "bike", "N/A"
	if v := a.VehicleInfo; v != nil {
		if v.Type != "" {
			vType = v.Type
		}
		if v.Number != "" {
			vNumber = v.Number
		}
	}
	rating := 0.0
	if a.Rating != nil {
		rating = a.Rating.Average
	}
	var lastOnline any
	if a.Status != nil {
		lastOnline = jsTimePtr(a.Status.LastOnline)
	}
	return map[string]any{
		"id": a.ID.Hex(), "_id": a.ID.Hex(), "name": a.Name, "email": a.Email, "phone": a.Phone,
		"profileImage": img, "vehicleType": vType, "vehicleNumber": vNumber,
		"status": status, "state": a.AgentState(), "isOnline": a.IsOnline(), "isApproved": a.IsApproved,
		"isActive": a.IsActive, "activeDeliveries": activeDeliveries, "maxDeliveries": 3,
		"totalDeliveries": a.TotalDeliveries, "rating": rating, "lastOnline": lastOnline,
	}
}
