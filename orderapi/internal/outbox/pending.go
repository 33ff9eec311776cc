package outbox

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// pendingScanLimit bounds the documents Pending reads per collection.
const pendingScanLimit = 1000

// Pending counts the events waiting in the relay's collections and returns
// when the oldest of them was stored (zero when none). It reads at most
// 1000 documents per collection, so under a large backlog the count is a
// lower bound. For metrics; it does not change anything.
func (r *Relay) Pending(ctx context.Context) (count int, oldest time.Time, err error) {
	for _, name := range r.colls {
		cur, err := r.db.Collection(name).Find(ctx, pendingFilter(), options.Find().
			SetProjection(bson.M{Field: 1}).SetLimit(pendingScanLimit))
		if err != nil {
			return 0, time.Time{}, fmt.Errorf("count pending in %s: %w", name, err)
		}
		var docs []pendingDoc
		if err := cur.All(ctx, &docs); err != nil {
			return 0, time.Time{}, fmt.Errorf("count pending in %s: %w", name, err)
		}
		for _, d := range docs {
			for _, raw := range d.Outbox {
				count++
				// Read leniently: a record the relay will drop still counts.
				doc, ok := raw.DocumentOK()
				if !ok {
					continue
				}
				if at, ok := doc.Lookup("at").TimeOK(); ok && (oldest.IsZero() || at.Before(oldest)) {
					oldest = at
				}
			}
		}
	}
	return count, oldest, nil
}
