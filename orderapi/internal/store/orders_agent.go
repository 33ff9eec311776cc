package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/friendspizzahut/platform/orderapi/internal/order"
)

// withAgent is the filter of the orders an agent holds right now.
func withAgent(agents bson.D) bson.D {
	return append(agents, bson.E{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{order.Assigned, order.OutForDelivery}}}})
}

// ActiveOrdersOf returns the orders the agent holds (assigned or out for
// delivery), newest first. This is the real field deliveryAgent, not the
// original's deliveryBoy (CONTRACT §6.4).
func (s *Orders) ActiveOrdersOf(ctx context.Context, agent primitive.ObjectID) ([]*order.Order, error) {
	os, _, err := s.ListOrders(ctx, OrderFilter{DeliveryAgent: &agent, Statuses: []order.Status{order.Assigned, order.OutForDelivery}, Limit: maxListed})
	return os, err
}

// ActiveCounts returns, for each of the agents, how many orders it holds.
func (s *Orders) ActiveCounts(ctx context.Context, agents []primitive.ObjectID) (map[primitive.ObjectID]int, error) {
	out := map[primitive.ObjectID]int{}
	if len(agents) == 0 {
		return out, nil
	}
	filter := withAgent(bson.D{{Key: "deliveryAgent", Value: bson.D{{Key: "$in", Value: uniqueIDs(agents)}}}})
	cur, err := s.c.Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: "deliveryAgent", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("count active orders: %w", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var row struct {
			Agent primitive.ObjectID `bson:"deliveryAgent"`
		}
		if err := cur.Decode(&row); err != nil {
			return nil, fmt.Errorf("count active orders: %w", err)
		}
		out[row.Agent]++
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("count active orders: %w", err)
	}
	return out, nil
}

// DeliveryTotals sums an agent's delivered orders.
type DeliveryTotals struct {
	Count  int     // delivered orders
	Amount float64 // their totalAmount
}

// AgentDeliveryTotals returns the agent's delivered orders overall and
// since the given time. It streams only two fields per order and sums in
// Go: FerretDB v1 computes only one $group accumulator correctly.
func (s *Orders) AgentDeliveryTotals(ctx context.Context, agent primitive.ObjectID, since time.Time) (overall, recent DeliveryTotals, err error) {
	filter := bson.D{{Key: "deliveryAgent", Value: agent}, {Key: "status", Value: order.Delivered}}
	cur, err := s.c.Find(ctx, filter, options.Find().
		SetProjection(bson.D{{Key: "totalAmount", Value: 1}, {Key: "deliveredAt", Value: 1}}).SetBatchSize(500))
	if err != nil {
		return overall, recent, fmt.Errorf("agent deliveries: %w", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var row struct {
			TotalAmount float64    `bson:"totalAmount"`
			DeliveredAt *time.Time `bson:"deliveredAt"`
		}
		if err := cur.Decode(&row); err != nil {
			return overall, recent, fmt.Errorf("agent deliveries: %w", err)
		}
		overall.Count++
		overall.Amount += row.TotalAmount
		if row.DeliveredAt != nil && !row.DeliveredAt.Before(since) {
			recent.Count++
			recent.Amount += row.TotalAmount
		}
	}
	if err := cur.Err(); err != nil {
		return overall, recent, fmt.Errorf("agent deliveries: %w", err)
	}
	return overall, recent, nil
}

// RecentDeliveries returns the agent's last delivered orders, latest first.
func (s *Orders) RecentDeliveries(ctx context.Context, agent primitive.ObjectID, limit int64) ([]*order.Order, error) {
	cur, err := s.c.Find(ctx, bson.D{{Key: "deliveryAgent", Value: agent}, {Key: "status", Value: order.Delivered}},
		options.Find().SetSort(bson.D{{Key: "deliveredAt", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("recent deliveries: %w", err)
	}
	out := []*order.Order{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("recent deliveries: %w", err)
	}
	return out, nil
}

// OrdersByIDs returns the orders with those ids by id; missing ones are
// absent.
func (s *Orders) OrdersByIDs(ctx context.Context, ids []primitive.ObjectID) (map[primitive.ObjectID]*order.Order, error) {
	out := map[primitive.ObjectID]*order.Order{}
	if len(ids) == 0 {
		return out, nil
	}
	cur, err := s.c.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: uniqueIDs(ids)}}}})
	if err != nil {
		return nil, fmt.Errorf("orders by ids: %w", err)
	}
	var os []*order.Order
	if err := cur.All(ctx, &os); err != nil {
		return nil, fmt.Errorf("orders by ids: %w", err)
	}
	for _, o := range os {
		out[o.ID] = o
	}
	return out, nil
}
