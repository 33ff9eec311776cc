package store

import "context"

// Carts is the carts collection: one cart per customer.
type Carts struct{ base }

func (s *Carts) ensureIndexes(ctx context.Context) error { return nil }
