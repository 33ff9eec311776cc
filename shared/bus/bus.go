// Package bus carries domain-event envelopes over Redis.
//
// Publish sends an envelope on a pub/sub channel and, in the same MULTI,
// appends it to a capped stream "<channel>:log". Subscribers receive the
// pub/sub messages; after any reconnect they also replay the log from just
// before the link broke, so an event published while they were resubscribing
// (say, Redis restarted) still arrives. Delivery is therefore at least once,
// and consumers deduplicate on the envelope id.
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/friendspizzahut/platform/shared/event"
)

// Config configures a Bus. Zero values mean the defaults.
type Config struct {
	URL        string        // redis:// URL (REDIS_URL)
	Channel    string        // pub/sub channel (EVENTS_CHANNEL), default event.DefaultChannel
	LogMaxLen  int64         // approximate cap of the replay stream, default 10000
	ReplaySpan time.Duration // how far before a disconnect the replay starts, default 5s
	MinBackoff time.Duration // first reconnect pause, default 100ms
	MaxBackoff time.Duration // longest reconnect pause, default 5s
}

func (c *Config) defaults() {
	if c.Channel == "" {
		c.Channel = event.DefaultChannel
	}
	if c.LogMaxLen == 0 {
		c.LogMaxLen = 10000
	}
	if c.ReplaySpan == 0 {
		c.ReplaySpan = 5 * time.Second
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = 100 * time.Millisecond
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 5 * time.Second
	}
}

// Bus publishes and subscribes to envelopes. It is safe for concurrent use.
type Bus struct {
	cfg    Config
	rdb    *redis.Client
	logger *slog.Logger
}

// New connects lazily to Redis at cfg.URL; it does not wait for Redis.
func New(cfg Config, logger *slog.Logger) (*Bus, error) {
	cfg.defaults()
	opts, err := redis.ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("parse redis url: %w", err)
	}
	opts.MaxRetries = 1
	return &Bus{cfg: cfg, rdb: redis.NewClient(opts), logger: logger}, nil
}

// Redis returns the underlying client, for the few key/value uses beside
// the bus (presence, last known locations).
func (b *Bus) Redis() *redis.Client { return b.rdb }

// Channel returns the pub/sub channel name.
func (b *Bus) Channel() string { return b.cfg.Channel }

func (b *Bus) logKey() string { return b.cfg.Channel + ":log" }

// Ping checks that Redis answers.
func (b *Bus) Ping(ctx context.Context) error { return b.rdb.Ping(ctx).Err() }

// Close closes the Redis client.
func (b *Bus) Close() error { return b.rdb.Close() }

// Publish sends env. An error means it may not have been sent: the caller
// retries (the outbox relay keeps the event pending).
func (b *Bus) Publish(ctx context.Context, env event.Envelope) error {
	msg, err := env.Encode()
	if err != nil {
		return err
	}
	_, err = b.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Publish(ctx, b.cfg.Channel, msg)
		p.XAdd(ctx, &redis.XAddArgs{Stream: b.logKey(), MaxLen: b.cfg.LogMaxLen, Approx: true, Values: []any{"e", msg}})
		return nil
	})
	if err != nil {
		return fmt.Errorf("publish %s %s: %w", env.Type, env.ID, err)
	}
	return nil
}

// Handler receives one raw envelope. It must not block: it runs on the
// receive loop.
type Handler func(msg []byte)

// Subscribe calls h for every message until ctx ends, reconnecting with
// backoff when the link breaks and replaying the log after a reconnect. It
// returns nil when ctx is cancelled.
func (b *Bus) Subscribe(ctx context.Context, h Handler) error {
	backoff := b.cfg.MinBackoff
	var lostAt time.Time // zero until the first break
	for ctx.Err() == nil {
		ps := b.rdb.Subscribe(ctx, b.cfg.Channel)
		if _, err := ps.Receive(ctx); err != nil {
			_ = ps.Close()
			if ctx.Err() != nil {
				break
			}
			if lostAt.IsZero() {
				lostAt = time.Now()
			}
			b.logger.Warn("event bus: subscribe failed, retrying", "channel", b.cfg.Channel, "retry_in", backoff.String(), "err", err)
			if !sleep(ctx, backoff) {
				break
			}
			backoff = min(backoff*2, b.cfg.MaxBackoff)
			continue
		}
		backoff = b.cfg.MinBackoff
		if lostAt.IsZero() {
			b.logger.Info("event bus: subscribed", "channel", b.cfg.Channel)
		} else {
			n, err := b.replay(ctx, lostAt.Add(-b.cfg.ReplaySpan), h)
			b.logger.Info("event bus: resubscribed", "channel", b.cfg.Channel, "replayed", n, "replay_err", errString(err))
		}
		lostAt = time.Time{}
		// go-redis blocks in ReceiveMessage without watching ctx; closing
		// the PubSub is what ends the read when ctx is cancelled.
		unwatch := context.AfterFunc(ctx, func() { _ = ps.Close() })
		for {
			msg, err := ps.ReceiveMessage(ctx)
			if err != nil {
				if ctx.Err() == nil {
					lostAt = time.Now()
					b.logger.Warn("event bus: connection lost, resubscribing", "channel", b.cfg.Channel, "err", err)
				}
				break
			}
			h([]byte(msg.Payload))
		}
		unwatch()
		_ = ps.Close()
	}
	return nil
}

// replay feeds h every logged message added since `since`.
func (b *Bus) replay(ctx context.Context, since time.Time, h Handler) (int, error) {
	start := strconv.FormatInt(since.UnixMilli(), 10)
	n := 0
	for {
		msgs, err := b.rdb.XRangeN(ctx, b.logKey(), start, "+", 500).Result()
		if err != nil {
			return n, err
		}
		for _, m := range msgs {
			if s, ok := m.Values["e"].(string); ok {
				h([]byte(s))
				n++
			}
		}
		if len(msgs) < 500 {
			return n, nil
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func errString(err error) string {
	if err == nil || errors.Is(err, context.Canceled) {
		return ""
	}
	return err.Error()
}

// StreamHandler receives one logged envelope with its id in the replay log
// (the Redis stream id, e.g. "1765090000000-0"), the same on every
// subscriber. Follow first calls it once with msg == nil and the id of the
// log's last entry ("0-0" when empty): the position it starts after.
type StreamHandler func(id string, msg []byte)

// Follow reads the replay log after its current end, in log order, calling
// h for every entry until ctx ends; a broken link is retried with backoff
// and reading resumes after the last entry seen, so nothing is skipped.
// Unlike Subscribe, every message comes with its log id, which is what
// clients recovering a session quote back. It returns nil when ctx is
// cancelled.
func (b *Bus) Follow(ctx context.Context, h StreamHandler) error {
	backoff := b.cfg.MinBackoff
	last := ""
	for ctx.Err() == nil {
		if last == "" {
			id, err := b.LastID(ctx)
			if err != nil {
				if !b.followRetry(ctx, &backoff, err) {
					break
				}
				continue
			}
			last = id
			h(last, nil)
			b.logger.Info("event bus: following the log", "stream", b.logKey(), "after", last)
		}
		res, err := b.rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{b.logKey(), last}, Count: 500, Block: time.Second}).Result()
		if errors.Is(err, redis.Nil) {
			backoff = b.cfg.MinBackoff
			continue
		}
		if err != nil {
			if ctx.Err() != nil || !b.followRetry(ctx, &backoff, err) {
				break
			}
			continue
		}
		backoff = b.cfg.MinBackoff
		for _, st := range res {
			for _, m := range st.Messages {
				last = m.ID
				if s, ok := m.Values["e"].(string); ok {
					h(m.ID, []byte(s))
				}
			}
		}
	}
	return nil
}

func (b *Bus) followRetry(ctx context.Context, backoff *time.Duration, err error) bool {
	b.logger.Warn("event bus: reading the log failed, retrying", "stream", b.logKey(), "retry_in", backoff.String(), "err", err)
	ok := sleep(ctx, *backoff)
	*backoff = min(*backoff*2, b.cfg.MaxBackoff)
	return ok
}

// LastID returns the id of the log's last entry, "0-0" when it is empty.
func (b *Bus) LastID(ctx context.Context) (string, error) {
	msgs, err := b.rdb.XRevRangeN(ctx, b.logKey(), "+", "-", 1).Result()
	if err != nil {
		return "", err
	}
	if len(msgs) == 0 {
		return "0-0", nil
	}
	return msgs[0].ID, nil
}

// Entry is one logged envelope.
type Entry struct {
	ID  string
	Msg []byte
}

// Range returns up to count logged entries with after < id <= upTo, in
// log order ("" upTo means the end).
func (b *Bus) Range(ctx context.Context, after, upTo string, count int64) ([]Entry, error) {
	if upTo == "" {
		upTo = "+"
	}
	msgs, err := b.rdb.XRangeN(ctx, b.logKey(), "("+after, upTo, count).Result()
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(msgs))
	for _, m := range msgs {
		if s, ok := m.Values["e"].(string); ok {
			out = append(out, Entry{ID: m.ID, Msg: []byte(s)})
		}
	}
	return out, nil
}

// Holds reports whether the log still holds entry id, so that everything
// logged after it can be read back ("0-0", the start of an empty log,
// counts while the log has never been trimmed past its first entry).
func (b *Bus) Holds(ctx context.Context, id string) (bool, error) {
	if id == "0-0" {
		info, err := b.rdb.XInfoStream(ctx, b.logKey()).Result()
		if errors.Is(err, redis.Nil) || err != nil && strings.Contains(err.Error(), "no such key") {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		return info.EntriesAdded == info.Length, nil
	}
	msgs, err := b.rdb.XRangeN(ctx, b.logKey(), id, id, 1).Result()
	if err != nil {
		return false, err
	}
	return len(msgs) == 1, nil
}
