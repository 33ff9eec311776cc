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

	"github.com/friendspizzahut/platform/shared/event"
)

// RestaurantSettings is the single document of restaurant_settings: the
// prices rules every cart and order is computed with.
type RestaurantSettings struct {
	ID                    primitive.ObjectID  `bson:"_id"`
	Name                  string              `bson:"name"`
	Phone                 string              `bson:"phone"`
	Email                 string              `bson:"email"`
	Address               string              `bson:"address"`
	MinOrderAmount        float64             `bson:"minOrderAmount"`
	TaxRate               float64             `bson:"taxRate"` // percent
	DeliveryFee           float64             `bson:"deliveryFee"`
	FreeDeliveryThreshold float64             `bson:"freeDeliveryThreshold"`
	AvailableToppings     []Topping           `bson:"availableToppings"`
	LastUpdatedBy         *primitive.ObjectID `bson:"lastUpdatedBy"`
	CreatedAt             time.Time           `bson:"createdAt"`
	UpdatedAt             time.Time           `bson:"updatedAt"`
}

// Topping is an extra topping the shop offers, with its price.
type Topping struct {
	ID       primitive.ObjectID `bson:"_id"`
	Name     string             `bson:"name"`
	Category string             `bson:"category"`
	Price    float64            `bson:"price"`
	IsActive bool               `bson:"isActive"`
}

// DefaultSettings are the original's defaults (CONTRACT §3.3).
func DefaultSettings() RestaurantSettings {
	return RestaurantSettings{
		Name: "Friends Pizza Hut", MinOrderAmount: 100, TaxRate: 8.5, DeliveryFee: 40,
		FreeDeliveryThreshold: 2490, AvailableToppings: []Topping{},
	}
}

// Settings is the restaurant_settings collection: one document.
type Settings struct{ base }

// current finds the settings document (the oldest, should a race ever have
// made two).
func (s *Settings) current(ctx context.Context) (*RestaurantSettings, error) {
	var rs RestaurantSettings
	err := s.c.FindOne(ctx, bson.D{}, options.FindOne().SetSort(bson.D{{Key: "_id", Value: 1}})).Decode(&rs)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load settings: %w", err)
	}
	return &rs, nil
}

// Get returns the settings, or the defaults when none were ever saved.
func (s *Settings) Get(ctx context.Context) (*RestaurantSettings, error) {
	rs, err := s.current(ctx)
	if err != nil || rs != nil {
		return rs, err
	}
	d := DefaultSettings()
	return &d, nil
}

// EnsureDefaults stores the default settings if there are none (the seed).
func (s *Settings) EnsureDefaults(ctx context.Context) (created bool, err error) {
	rs, err := s.current(ctx)
	if err != nil || rs != nil {
		return false, err
	}
	d := DefaultSettings()
	d.ID = primitive.NewObjectID()
	d.CreatedAt, d.UpdatedAt = s.nowMs(), s.nowMs()
	return true, s.insert(ctx, d.ID, &d, nil)
}

// Update changes the settings with change (starting from the defaults if
// none were saved) and stores them.
func (s *Settings) Update(ctx context.Context, by primitive.ObjectID, change func(*RestaurantSettings) error) (*RestaurantSettings, error) {
	rs, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	if rs == nil {
		if _, err := s.EnsureDefaults(ctx); err != nil {
			return nil, err
		}
		if rs, err = s.current(ctx); err != nil {
			return nil, err
		}
	}
	return update(ctx, s.base, byID(rs.ID), errors.New("settings vanished"), func(rs *RestaurantSettings) ([]event.Payload, error) {
		if err := change(rs); err != nil {
			return nil, err
		}
		if !by.IsZero() {
			rs.LastUpdatedBy = &by
		}
		rs.UpdatedAt = s.nowMs()
		if rs.AvailableToppings == nil {
			rs.AvailableToppings = []Topping{}
		}
		return nil, nil
	})
}
