package store

import "context"

// Offers is the offers collection. orderapi-core only reads it (coupon
// validation in the cart); offers CRUD lives with the offers handlers.
type Offers struct{ base }

func (s *Offers) ensureIndexes(ctx context.Context) error { return nil }
