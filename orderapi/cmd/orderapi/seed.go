package main

import (
	"context"
	"log/slog"

	"github.com/friendspizzahut/platform/orderapi/internal/store"
)

// seed makes the demo data SEED=true asks for. It is idempotent.
func seed(ctx context.Context, s *store.Stores, c cfg, logger *slog.Logger) error {
	logger.Warn("SEED=true: seeding is not implemented yet")
	return nil
}
