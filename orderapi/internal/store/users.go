package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/friendspizzahut/platform/shared/apperr"
	"github.com/friendspizzahut/platform/shared/auth"
	"github.com/friendspizzahut/platform/shared/event"
)

// Agent states (status.state of a delivery user).
const (
	AgentFree    = "free"
	AgentBusy    = "busy"
	AgentOffline = "offline"
)

// User is a document of the users collection, shaped like the original's
// Mongoose model (one collection, discriminated by role). Fields have no
// omitempty so that a write can clear them (null) as well as set them.
type User struct {
	ID           primitive.ObjectID `bson:"_id"`
	Name         string             `bson:"name"`
	Email        string             `bson:"email"`
	Phone        string             `bson:"phone"`
	Password     string             `bson:"password"` // bcrypt hash; never leaves the service
	Role         string             `bson:"role"`
	IsActive     bool               `bson:"isActive"`
	ProfileImage *string            `bson:"profileImage"`
	Address      []Address          `bson:"address"`

	// Delivery agents.
	IsApproved      bool                 `bson:"isApproved"`
	IsRejected      bool                 `bson:"isRejected"`
	RejectionReason *string              `bson:"rejectionReason"`
	Status          *AgentStatus         `bson:"status,omitempty"`
	VehicleInfo     *event.VehicleInfo   `bson:"vehicleInfo,omitempty"`
	Documents       bson.M               `bson:"documents,omitempty"`
	TotalDeliveries int                  `bson:"totalDeliveries"`
	Rating          *event.Rating        `bson:"rating,omitempty"`
	CurrentOrderID  *primitive.ObjectID  `bson:"currentOrderId"`
	AssignedOrders  []primitive.ObjectID `bson:"assignedOrders,omitempty"`

	// Admins.
	Username    string     `bson:"username,omitempty"`
	AdminRole   string     `bson:"adminRole,omitempty"`
	Permissions []string   `bson:"permissions,omitempty"`
	LastLogin   *time.Time `bson:"lastLogin"`

	CreatedAt time.Time `bson:"createdAt"`
	UpdatedAt time.Time `bson:"updatedAt"`
}

// AgentStatus is a delivery agent's availability.
type AgentStatus struct {
	IsOnline   bool       `bson:"isOnline"`
	State      string     `bson:"state"` // free, busy or offline
	LastOnline *time.Time `bson:"lastOnline"`
}

// Address is one saved address of a user.
type Address struct {
	ID        primitive.ObjectID `bson:"_id"`
	Label     string             `bson:"label"`
	Street    string             `bson:"street"`
	City      string             `bson:"city"`
	State     string             `bson:"state"`
	Pincode   string             `bson:"pincode"`
	Landmark  string             `bson:"landmark"`
	IsDefault bool               `bson:"isDefault"`
}

// IsAgent reports whether u is a delivery agent.
func (u *User) IsAgent() bool { return u.Role == auth.RoleDelivery }

// AgentState returns the agent's state, offline when never set.
func (u *User) AgentState() string {
	if u.Status == nil || u.Status.State == "" {
		return AgentOffline
	}
	return u.Status.State
}

// IsOnline reports whether the agent is online.
func (u *User) IsOnline() bool { return u.Status != nil && u.Status.IsOnline }

// AgentStatusEvent is the delivery.agent_status_changed payload for u's
// current state.
func (u *User) AgentStatusEvent() *event.AgentStatus {
	p := &event.AgentStatus{
		DeliveryAgentID: u.ID.Hex(), Name: u.Name, Email: u.Email, Phone: u.Phone,
		IsOnline: u.IsOnline(), State: u.AgentState(),
	}
	if u.Status != nil {
		p.LastOnline = u.Status.LastOnline
	}
	if u.VehicleInfo != nil {
		p.VehicleInfo = *u.VehicleInfo
	}
	if u.Rating != nil {
		p.Rating = *u.Rating
	}
	return p
}

// Users is the users collection.
type Users struct{ base }

var errUserNotFound = apperr.NotFoundf("User not found")

func (s *Users) ensureIndexes(ctx context.Context) error {
	err := createIndexes(ctx, s.c, []mongo.IndexModel{
		{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true).SetName("email_unique")},
		{Keys: bson.D{{Key: "phone", Value: 1}}, Options: options.Index().SetName("phone")},
		{Keys: bson.D{{Key: "role", Value: 1}}, Options: options.Index().SetName("role")},
	})
	if err != nil {
		return fmt.Errorf("users indexes: %w", err)
	}
	return nil
}

// UserByID returns the user, or NotFound "User not found".
func (s *Users) UserByID(ctx context.Context, id primitive.ObjectID) (*User, error) {
	var u User
	if err := s.findOne(ctx, byID(id), &u, errUserNotFound); err != nil {
		return nil, err
	}
	return &u, nil
}

// UserByEmail returns the user with that (normalised) email, or NotFound.
func (s *Users) UserByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	if err := s.findOne(ctx, bson.D{{Key: "email", Value: NormalizeEmail(email)}}, &u, errUserNotFound); err != nil {
		return nil, err
	}
	return &u, nil
}

// errUserExists is the original's text for a taken email or phone.
var errUserExists = apperr.Invalidf("User with this email or phone already exists")

// CreateUser inserts u (ID, timestamps filled in when zero). A taken email
// or phone is an Invalid error with the original's message.
func (s *Users) CreateUser(ctx context.Context, u *User) error {
	u.Email = NormalizeEmail(u.Email)
	n, err := s.c.CountDocuments(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "email", Value: u.Email}}, bson.D{{Key: "phone", Value: u.Phone}},
	}}}, options.Count().SetLimit(1))
	if err != nil {
		return fmt.Errorf("check user exists: %w", err)
	}
	if n > 0 {
		return errUserExists
	}
	if u.ID.IsZero() {
		u.ID = primitive.NewObjectID()
	}
	now := s.nowMs()
	if u.CreatedAt.IsZero() {
		u.CreatedAt = now
	}
	u.UpdatedAt = now
	if err := s.insert(ctx, u.ID, u, nil); err != nil {
		if IsUniqueViolation(err) {
			return errUserExists
		}
		return err
	}
	return nil
}

// UpdateUser changes the user with the closure's decision, atomically with
// the events it returns (see update). updatedAt is set for the caller.
func (s *Users) UpdateUser(ctx context.Context, id primitive.ObjectID, change func(*User) ([]event.Payload, error)) (*User, error) {
	u, err := update(ctx, s.base, byID(id), errUserNotFound, func(u *User) ([]event.Payload, error) {
		evs, err := change(u)
		if err == nil {
			u.UpdatedAt = s.nowMs()
		}
		return evs, err
	})
	if err != nil && IsUniqueViolation(err) {
		return nil, errUserExists
	}
	return u, err
}

// SetAgentState sets an agent's availability and emits
// delivery.agent_status_changed from the agent's own document. It is a
// no-op (no event) when nothing changes.
func (s *Users) SetAgentState(ctx context.Context, id primitive.ObjectID, online bool, state string) (*User, error) {
	return s.UpdateUser(ctx, id, func(u *User) ([]event.Payload, error) {
		if !u.IsAgent() {
			return nil, apperr.Invalidf("User is not a delivery agent")
		}
		if u.IsOnline() == online && u.AgentState() == state {
			return nil, nil
		}
		st := AgentStatus{IsOnline: online, State: state}
		if u.Status != nil {
			st.LastOnline = u.Status.LastOnline
		}
		if online {
			t := s.nowMs()
			st.LastOnline = &t
		}
		u.Status = &st
		return []event.Payload{u.AgentStatusEvent()}, nil
	})
}

// NormalizeEmail lower-cases and trims an email. (The original also removed
// dots and +suffixes of gmail addresses; see CONTRACT §3.1. Migrated users
// are stored in that form, so login applies the same rule: NormalizeEmail
// is the one place to change if that is needed.)
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
