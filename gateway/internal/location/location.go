// Package location keeps the last known position of each order's delivery
// agent in Redis (key fph:loc:<orderId>, with an expiry), so a socket that
// joins an order room sees where the agent is without waiting for the next
// report, on whichever replica it is connected to.
package location

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/friendspizzahut/platform/shared/event"
)

// KeyPrefix is prepended to the order id to form the Redis key.
const KeyPrefix = "fph:loc:"

// DefaultTTL is how long a last location is kept (PLAN: 2h).
const DefaultTTL = 2 * time.Hour

// Store reads and writes last locations. It is safe for concurrent use.
type Store struct {
	rdb redis.UniversalClient
	ttl time.Duration
}

// New returns a Store over rdb; ttl 0 means DefaultTTL.
func New(rdb redis.UniversalClient, ttl time.Duration) *Store {
	if ttl == 0 {
		ttl = DefaultTTL
	}
	return &Store{rdb: rdb, ttl: ttl}
}

// Save stores rep as the order's last location.
func (s *Store) Save(ctx context.Context, rep event.LocationReport) error {
	b, err := json.Marshal(rep)
	if err != nil {
		return fmt.Errorf("encode location: %w", err)
	}
	if err := s.rdb.Set(ctx, KeyPrefix+rep.OrderID, b, s.ttl).Err(); err != nil {
		return fmt.Errorf("save location of order %s: %w", rep.OrderID, err)
	}
	return nil
}

// Last returns the order's last location; false when there is none.
func (s *Store) Last(ctx context.Context, orderID string) (event.LocationReport, bool, error) {
	var rep event.LocationReport
	b, err := s.rdb.Get(ctx, KeyPrefix+orderID).Bytes()
	if errors.Is(err, redis.Nil) {
		return rep, false, nil
	}
	if err != nil {
		return rep, false, fmt.Errorf("load location of order %s: %w", orderID, err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		return rep, false, fmt.Errorf("decode location of order %s: %w", orderID, err)
	}
	return rep, true, nil
}
