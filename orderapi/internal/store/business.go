package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/friendspizzahut/platform/shared/event"
)

// businessID is the _id of the one business-status document.
const businessID = "business"

// BusinessStatus says whether the shop takes orders.
type BusinessStatus struct {
	ID        string     `bson:"_id"`
	IsOpen    bool       `bson:"isOpen"`
	Message   string     `bson:"message"`
	UpdatedBy *string    `bson:"updatedBy"`
	UpdatedAt *time.Time `bson:"updatedAt"`
}

// Business is the business_status collection: one document saying whether
// the shop is open.
type Business struct{ base }

// Status returns the current status; open when never set.
func (s *Business) Status(ctx context.Context) (*BusinessStatus, error) {
	var b BusinessStatus
	err := s.c.FindOne(ctx, byID(businessID)).Decode(&b)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return &BusinessStatus{ID: businessID, IsOpen: true}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load business status: %w", err)
	}
	return &b, nil
}

// SetStatus opens or closes the shop and emits business.status_changed
// (with businessName) in the same write. Setting the same state again
// still emits, so clients that missed it can resync.
func (s *Business) SetStatus(ctx context.Context, isOpen bool, message, businessName, by string) (*BusinessStatus, error) {
	// Make sure the document exists, so the change goes through update.
	_, err := s.c.UpdateOne(ctx, byID(businessID),
		bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: "isOpen", Value: true}, {Key: "message", Value: ""}, {Key: "rev", Value: int64(0)}}}},
		options.Update().SetUpsert(true))
	if err != nil {
		return nil, fmt.Errorf("create business status: %w", err)
	}
	return update(ctx, s.base, byID(businessID), errors.New("business status vanished"), func(b *BusinessStatus) ([]event.Payload, error) {
		now := s.nowMs()
		b.IsOpen, b.Message, b.UpdatedBy, b.UpdatedAt = isOpen, message, &by, &now
		return []event.Payload{&event.BusinessStatus{IsOpen: isOpen, BusinessName: businessName, Message: message}}, nil
	})
}
