package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/friendspizzahut/platform/orderapi/internal/order"
	"github.com/friendspizzahut/platform/shared/apperr"
	"github.com/friendspizzahut/platform/shared/event"
)

// Orders is the orders collection.
type Orders struct{ base }

var errOrderNotFound = apperr.NotFoundf("Order not found")

func (s *Orders) ensureIndexes(ctx context.Context) error {
	err := createIndexes(ctx, s.c, []mongo.IndexModel{
		{Keys: bson.D{{Key: "orderNumber", Value: 1}}, Options: options.Index().SetUnique(true).SetName("orderNumber_unique")},
		{Keys: bson.D{{Key: "user", Value: 1}, {Key: "createdAt", Value: -1}}, Options: options.Index().SetName("user_createdAt")},
		{Keys: bson.D{{Key: "deliveryAgent", Value: 1}, {Key: "status", Value: 1}}, Options: options.Index().SetName("agent_status")},
		{Keys: bson.D{{Key: "status", Value: 1}, {Key: "createdAt", Value: -1}}, Options: options.Index().SetName("status_createdAt")},
	})
	if err != nil {
		return fmt.Errorf("orders indexes: %w", err)
	}
	return nil
}

// InsertOrder stores a new order together with the events it recorded
// (order.created).
func (s *Orders) InsertOrder(ctx context.Context, o *order.Order) error {
	return s.insert(ctx, o.ID, o, o.Take())
}

// OrderByID returns the order, or NotFound "Order not found".
func (s *Orders) OrderByID(ctx context.Context, id primitive.ObjectID) (*order.Order, error) {
	var o order.Order
	if err := s.findOne(ctx, byID(id), &o, errOrderNotFound); err != nil {
		return nil, err
	}
	return &o, nil
}

// UpdateOrder is the one way an order changes: change decides on the order
// as stored (calling its methods, which record events) and the result is
// written with those events only if nobody changed the order meanwhile, so
// every transition is conditioned on the status it was decided from.
func (s *Orders) UpdateOrder(ctx context.Context, id primitive.ObjectID, change func(*order.Order) error) (*order.Order, error) {
	return update(ctx, s.base, byID(id), errOrderNotFound, func(o *order.Order) ([]event.Payload, error) {
		if err := change(o); err != nil {
			return nil, err
		}
		return o.Take(), nil
	})
}

// OrderFilter selects orders for lists. Zero fields select everything.
type OrderFilter struct {
	User          *primitive.ObjectID
	DeliveryAgent *primitive.ObjectID
	Statuses      []order.Status
	DeliveredFrom time.Time // deliveredAt ≥ this, when set
	Skip, Limit   int64
}

func (f OrderFilter) bson() bson.D {
	d := bson.D{}
	if f.User != nil {
		d = append(d, bson.E{Key: "user", Value: *f.User})
	}
	if f.DeliveryAgent != nil {
		d = append(d, bson.E{Key: "deliveryAgent", Value: *f.DeliveryAgent})
	}
	switch len(f.Statuses) {
	case 0:
	case 1:
		d = append(d, bson.E{Key: "status", Value: f.Statuses[0]})
	default:
		d = append(d, bson.E{Key: "status", Value: bson.D{{Key: "$in", Value: f.Statuses}}})
	}
	if !f.DeliveredFrom.IsZero() {
		d = append(d, bson.E{Key: "deliveredAt", Value: bson.D{{Key: "$gte", Value: f.DeliveredFrom}}})
	}
	return d
}

// ListOrders returns the matching orders, newest first, and how many match
// in total.
func (s *Orders) ListOrders(ctx context.Context, f OrderFilter) ([]*order.Order, int64, error) {
	filter := f.bson()
	out, err := findSorted[order.Order](ctx, s.c, filter, newestFirst(), f.Skip, f.Limit, "orders")
	if err != nil {
		return nil, 0, err
	}
	// A first page with room to spare holds every match: no count needed.
	total := int64(len(out))
	if f.Skip > 0 || (f.Limit > 0 && total == f.Limit) {
		if total, err = s.c.CountDocuments(ctx, filter); err != nil {
			return nil, 0, fmt.Errorf("count orders: %w", err)
		}
	}
	return out, total, nil
}

// CountOrders counts the matching orders.
func (s *Orders) CountOrders(ctx context.Context, f OrderFilter) (int64, error) {
	n, err := s.c.CountDocuments(ctx, f.bson())
	if err != nil {
		return 0, fmt.Errorf("count orders: %w", err)
	}
	return n, nil
}
