package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/friendspizzahut/platform/orderapi/internal/order"
	"github.com/friendspizzahut/platform/shared/event"
)

// Cart is a customer's cart. It stores choices only (product, size,
// quantity, toppings by name); every price is computed from the products and
// the settings each time the cart is shown or ordered, so a client can never
// set one.
type Cart struct {
	ID            primitive.ObjectID `bson:"_id"`
	User          primitive.ObjectID `bson:"user"`
	Items         []CartItem         `bson:"items"`
	AppliedCoupon *string            `bson:"appliedCoupon"` // offer code
	CreatedAt     time.Time          `bson:"createdAt"`
	UpdatedAt     time.Time          `bson:"updatedAt"`
}

// CartItem is one line of a cart.
type CartItem struct {
	ID                  primitive.ObjectID `bson:"_id"`
	Product             primitive.ObjectID `bson:"product"`
	Quantity            int                `bson:"quantity"`
	Size                string             `bson:"size"`
	CustomToppings      []order.Topping    `bson:"customToppings"`
	SpecialInstructions string             `bson:"specialInstructions"`
	AddedAt             time.Time          `bson:"addedAt"`
}

// Carts is the carts collection: one cart per customer.
type Carts struct{ base }

func (s *Carts) ensureIndexes(ctx context.Context) error {
	_, err := s.c.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: "user", Value: 1}}, Options: options.Index().SetUnique(true).SetName("user_unique"),
	})
	if err != nil {
		return fmt.Errorf("carts indexes: %w", err)
	}
	return nil
}

// CartOf returns the user's cart; an empty one (not stored) if none.
func (s *Carts) CartOf(ctx context.Context, user primitive.ObjectID) (*Cart, error) {
	var c Cart
	err := s.c.FindOne(ctx, bson.D{{Key: "user", Value: user}}).Decode(&c)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return &Cart{User: user, Items: []CartItem{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load cart: %w", err)
	}
	if c.Items == nil {
		c.Items = []CartItem{}
	}
	return &c, nil
}

// UpdateCart changes the user's cart (created on first use) with change.
func (s *Carts) UpdateCart(ctx context.Context, user primitive.ObjectID, change func(*Cart) error) (*Cart, error) {
	now := s.nowMs()
	_, err := s.c.UpdateOne(ctx, bson.D{{Key: "user", Value: user}}, bson.D{{Key: "$setOnInsert", Value: bson.D{
		{Key: "_id", Value: primitive.NewObjectID()}, {Key: "items", Value: bson.A{}}, {Key: "appliedCoupon", Value: nil},
		{Key: "createdAt", Value: now}, {Key: "updatedAt", Value: now}, {Key: "rev", Value: int64(0)},
	}}}, options.Update().SetUpsert(true))
	if err != nil && !IsUniqueViolation(err) { // a concurrent first use created it: fine
		return nil, fmt.Errorf("create cart: %w", err)
	}
	return update(ctx, s.base, bson.D{{Key: "user", Value: user}}, errors.New("cart vanished"), func(c *Cart) ([]event.Payload, error) {
		if c.Items == nil {
			c.Items = []CartItem{}
		}
		if err := change(c); err != nil {
			return nil, err
		}
		c.UpdatedAt = s.nowMs()
		return nil, nil
	})
}

// ClearCart empties the user's cart and removes its coupon.
func (s *Carts) ClearCart(ctx context.Context, user primitive.ObjectID) error {
	_, err := s.c.UpdateOne(ctx, bson.D{{Key: "user", Value: user}}, bson.D{
		{Key: "$set", Value: bson.D{{Key: "items", Value: bson.A{}}, {Key: "appliedCoupon", Value: nil}, {Key: "updatedAt", Value: s.nowMs()}}},
		{Key: "$inc", Value: bson.D{{Key: "rev", Value: 1}}},
	})
	if err != nil {
		return fmt.Errorf("clear cart: %w", err)
	}
	return nil
}
