package main

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// startMiniredis runs the embedded Redis-protocol server on addr
// ("127.0.0.1:0" picks a port). The returned run function keeps TTLs
// moving and must run until ctx ends; stop closes the server.
func startMiniredis(addr string) (m *miniredis.Miniredis, run func(ctx context.Context) error, err error) {
	m = miniredis.NewMiniRedis()
	if err := m.StartAddr(addr); err != nil {
		return nil, nil, fmt.Errorf("embedded redis on %s: %w", addr, err)
	}
	return m, func(ctx context.Context) error { return tickTTLs(ctx, m, time.Second) }, nil
}

// tickTTLs advances miniredis' clock by the wall time that passed, every
// interval: miniredis expires keys only when told time moved on, and the
// gateway's presence and location keys rely on expiry.
func tickTTLs(ctx context.Context, m *miniredis.Miniredis, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			m.FastForward(now.Sub(last))
			last = now
		}
	}
}
