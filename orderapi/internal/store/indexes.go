package store

import (
	"context"

	"go.mongodb.org/mongo-driver/mongo"
)

// createIndexes creates each index with its own createIndexes command.
// FerretDB v1.24 drops the connection when one command names several
// indexes that already exist, which made every restart on existing data
// fail; one index per command is accepted by it and by MongoDB alike, and
// creating an existing identical index is a no-op.
func createIndexes(ctx context.Context, c *mongo.Collection, models []mongo.IndexModel) error {
	for _, m := range models {
		if _, err := c.Indexes().CreateOne(ctx, m); err != nil {
			return err
		}
	}
	return nil
}
