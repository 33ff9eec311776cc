package store

import (
	"context"
	"fmt"
	"regexp"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/friendspizzahut/platform/shared/auth"
)

// UserFilter selects users for the admin list. Zero fields select all.
type UserFilter struct {
	Role        string
	Search      string // substring of name, email or phone, any case
	Skip, Limit int64
}

// ListUsers returns a page of matching users, newest first, and how many
// match.
func (s *Users) ListUsers(ctx context.Context, f UserFilter) ([]*User, int64, error) {
	filter := bson.D{}
	if f.Role != "" {
		filter = append(filter, bson.E{Key: "role", Value: f.Role})
	}
	if f.Search != "" {
		rx := primitive.Regex{Pattern: regexp.QuoteMeta(f.Search), Options: "i"}
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "name", Value: rx}}, bson.D{{Key: "email", Value: rx}}, bson.D{{Key: "phone", Value: rx}},
		}})
	}
	return findPage[User](ctx, s.c, filter, newestFirst(), f.Skip, f.Limit, "users")
}

// ApprovedAgents returns every approved, not rejected delivery agent.
func (s *Users) ApprovedAgents(ctx context.Context) ([]*User, error) {
	return s.find(ctx, bson.D{{Key: "role", Value: auth.RoleDelivery}, {Key: "isApproved", Value: true},
		{Key: "isRejected", Value: bson.D{{Key: "$ne", Value: true}}}})
}

// ActiveAdmins returns every active admin (who receive notifications).
func (s *Users) ActiveAdmins(ctx context.Context) ([]*User, error) {
	return s.find(ctx, bson.D{{Key: "role", Value: auth.RoleAdmin}, {Key: "isActive", Value: true}})
}

// UsersByIDs returns the users with those ids by id; missing ones are
// simply absent (the "populate" of the original, without $lookup).
func (s *Users) UsersByIDs(ctx context.Context, ids []primitive.ObjectID) (map[primitive.ObjectID]*User, error) {
	out := map[primitive.ObjectID]*User{}
	if len(ids) == 0 {
		return out, nil
	}
	us, err := s.find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: uniqueIDs(ids)}}}})
	if err != nil {
		return nil, err
	}
	for _, u := range us {
		out[u.ID] = u
	}
	return out, nil
}

func (s *Users) find(ctx context.Context, filter bson.D) ([]*User, error) {
	cur, err := s.c.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "name", Value: 1}}).SetLimit(maxListed))
	if err != nil {
		return nil, fmt.Errorf("find users: %w", err)
	}
	out := []*User{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("find users: %w", err)
	}
	return out, nil
}

// ContactTaken reports whether another user than except already has the
// email or the phone (either may be "" to skip it).
func (s *Users) ContactTaken(ctx context.Context, email, phone string, except primitive.ObjectID) (bool, error) {
	or := bson.A{}
	if email != "" {
		or = append(or, bson.D{{Key: "email", Value: NormalizeEmail(email)}})
	}
	if phone != "" {
		or = append(or, bson.D{{Key: "phone", Value: phone}})
	}
	if len(or) == 0 {
		return false, nil
	}
	n, err := s.c.CountDocuments(ctx, bson.D{{Key: "$or", Value: or}, {Key: "_id", Value: bson.D{{Key: "$ne", Value: except}}}},
		options.Count().SetLimit(1))
	if err != nil {
		return false, fmt.Errorf("check contact taken: %w", err)
	}
	return n > 0, nil
}

// DeleteUser removes a user (once the events in its document are out).
func (s *Users) DeleteUser(ctx context.Context, id primitive.ObjectID) error {
	return deleteWhenFlushed(ctx, s.base, id, errUserNotFound)
}

// uniqueIDs drops duplicate and zero ids.
func uniqueIDs(ids []primitive.ObjectID) []primitive.ObjectID {
	seen := make(map[primitive.ObjectID]bool, len(ids))
	out := make([]primitive.ObjectID, 0, len(ids))
	for _, id := range ids {
		if !id.IsZero() && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
