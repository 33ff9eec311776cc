package store

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/friendspizzahut/platform/orderapi/internal/order"
	"github.com/friendspizzahut/platform/shared/auth"
)

// EachOrderSummary streams every order to fn with only the fields the
// dashboard reads (status, amounts, times, items, history). One projected
// scan replaces the original's eight queries: FerretDB v1 scans the whole
// collection for each query anyway and cannot $lookup.
func (s *Orders) EachOrderSummary(ctx context.Context, fn func(*order.Order)) error {
	return eachProjected(ctx, s.c, bson.D{}, []string{"_id", "orderNumber", "status", "totalAmount", "createdAt", "deliveredAt",
		"paymentStatus", "customer.name", "items.product", "items.productSnapshot.name",
		"items.productSnapshot.category", "items.quantity", "items.subtotal", "statusHistory"}, "orders", fn)
}

// CountActiveCustomers counts active customers (the original's
// totalCustomers).
func (s *Users) CountActiveCustomers(ctx context.Context) (int64, error) {
	n, err := s.c.CountDocuments(ctx, bson.D{{Key: "role", Value: auth.RoleCustomer}, {Key: "isActive", Value: true}})
	if err != nil {
		return 0, fmt.Errorf("count customers: %w", err)
	}
	return n, nil
}

// CountOnlineAgents counts delivery agents whose status is online.
func (s *Users) CountOnlineAgents(ctx context.Context) (int64, error) {
	n, err := s.c.CountDocuments(ctx, bson.D{{Key: "role", Value: auth.RoleDelivery}, {Key: "status.isOnline", Value: true}})
	if err != nil {
		return 0, fmt.Errorf("count online agents: %w", err)
	}
	return n, nil
}
