package store

import "context"

// Products is the products collection (the menu).
type Products struct{ base }

func (s *Products) ensureIndexes(ctx context.Context) error { return nil }
