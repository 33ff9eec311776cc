// Package bus carries domain-event envelopes over Redis.
//
// Publish sends an envelope on a pub/sub channel and, in the same script,
// appends it to a capped stream "<channel>:log" (the replay log) and
// announces its id there on "<channel>:ids". Subscribers receive the
// pub/sub messages (Follow also their log ids); after any reconnect they
// also replay the log from just before the link broke, so an event
// published while they were resubscribing (say, Redis restarted) still
// arrives. Delivery is therefore at least once, and consumers deduplicate
// on the envelope id.
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/friendspizzahut/platform/shared/config"
	"github.com/friendspizzahut/platform/shared/event"
)

// Config configures a Bus. Zero values mean the defaults.
type Config struct {
	URL        string        // REDIS_URL: one server or Sentinel (config.ParseRedisURL)
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
	rdb    redis.UniversalClient
	logger *slog.Logger
}

// New connects lazily to Redis at cfg.URL; it does not wait for Redis.
func New(cfg Config, logger *slog.Logger) (*Bus, error) {
	cfg.defaults()
	rdb, err := NewClient(cfg.URL)
	if err != nil {
		return nil, err
	}
	return &Bus{cfg: cfg, rdb: rdb, logger: logger}, nil
}

// NewClient returns a client for a REDIS_URL: one server, or the primary
// that Sentinel names, followed across failovers (a broken connection is
// redialled to whichever server the Sentinels then call primary).
func NewClient(rawURL string) (redis.UniversalClient, error) {
	t, err := config.ParseRedisURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parse redis url: %w", err)
	}
	if !t.Sentinel() {
		opts, err := redis.ParseURL(t.URL)
		if err != nil {
			return nil, fmt.Errorf("parse redis url: %w", err)
		}
		opts.MaxRetries = 1
		return redis.NewClient(opts), nil
	}
	return redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:            t.SentinelAddrs,
		MasterName:       t.MasterName,
		DB:               t.DB,
		Username:         t.Username,
		Password:         t.Password,
		SentinelUsername: t.SentinelUsername,
		SentinelPassword: t.SentinelPassword,
		MaxRetries:       1,
	}), nil
}

// Redis returns the underlying client, for the few key/value uses beside
// the bus (presence, last known locations).
func (b *Bus) Redis() redis.UniversalClient { return b.rdb }

// Channel returns the pub/sub channel name.
func (b *Bus) Channel() string { return b.cfg.Channel }

func (b *Bus) logKey() string { return b.cfg.Channel + ":log" }

// Ping checks that Redis answers.
func (b *Bus) Ping(ctx context.Context) error { return b.rdb.Ping(ctx).Err() }

// Close closes the Redis client.
func (b *Bus) Close() error { return b.rdb.Close() }

// Publish sends env. An error means it may not have been sent: the caller
// retries (the outbox relay keeps the event pending).
//
// One script appends env to the log, publishes it on the channel, then
// publishes its log id on "<channel>:ids"; being one script, nothing comes
// between the two messages, so Follow pairs each envelope with its id.
func (b *Bus) Publish(ctx context.Context, env event.Envelope) error {
	msg, err := env.Encode()
	if err != nil {
		return err
	}
	err = publishScript.Run(ctx, b.rdb, []string{b.logKey()}, msg, b.cfg.LogMaxLen, b.cfg.Channel, b.idsChannel()).Err()
	if err != nil {
		return fmt.Errorf("publish %s %s: %w", env.Type, env.ID, err)
	}
	return nil
}

var publishScript = redis.NewScript(`
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[1])
redis.call('PUBLISH', ARGV[3], ARGV[1])
redis.call('PUBLISH', ARGV[4], id)
return id`)

func (b *Bus) idsChannel() string { return b.cfg.Channel + ":ids" }

// Handler receives one raw envelope. It must not block: it runs on the
// receive loop.
type Handler func(msg []byte)

// Subscribe calls h for every message until ctx ends: Follow without the
// log ids, so both receive through the same loop (reconnect with backoff,
// replay of the log after a reconnect). It returns nil when ctx is
// cancelled.
func (b *Bus) Subscribe(ctx context.Context, h Handler) error {
	return b.Follow(ctx, func(_ string, msg []byte) {
		if msg != nil { // nil: Follow's starting position, not a message
			h(msg)
		}
	})
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

// StreamHandler receives one envelope with its id in the replay log (the
// Redis stream id, e.g. "1765090000000-0"), the same on every subscriber,
// or "" for an envelope whose id is unknown (from a publisher that does not
// announce ids). Follow first calls it once with msg == nil and the id of
// the log's last entry ("0-0" when empty): the position it starts after.
type StreamHandler func(id string, msg []byte)

// unpairedWait is how long Follow waits for an envelope's id before
// handing the envelope on without one.
const unpairedWait = 200 * time.Millisecond

// Follow receives every envelope as it is published, in log order, each
// with its id, which is what clients recovering a session quote back.
// After a broken link it resubscribes and replays the log from ReplaySpan
// before the break (consumers deduplicate). It returns nil when ctx is cancelled.
func (b *Bus) Follow(ctx context.Context, h StreamHandler) error {
	backoff := b.cfg.MinBackoff
	var lostAt time.Time
	started := false
	for ctx.Err() == nil {
		ps := b.rdb.Subscribe(ctx, b.cfg.Channel, b.idsChannel())
		err := confirm(ctx, ps, 2)
		if err == nil && !started {
			var last string
			if last, err = b.LastID(ctx); err == nil {
				h(last, nil)
				started = true
				b.logger.Info("event bus: following", "channel", b.cfg.Channel, "after", last)
			}
		}
		if err != nil {
			_ = ps.Close()
			if ctx.Err() != nil {
				break
			}
			if lostAt.IsZero() && started {
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
		if !lostAt.IsZero() {
			n, err := b.replay(ctx, lostAt.Add(-b.cfg.ReplaySpan), h)
			b.logger.Info("event bus: resubscribed", "channel", b.cfg.Channel, "replayed", n, "replay_err", errString(err))
			lostAt = time.Time{}
		}
		unwatch := context.AfterFunc(ctx, func() { _ = ps.Close() })
		var pending []byte // an envelope waiting for its id
		for {
			m, err := ps.ReceiveTimeout(ctx, unpairedWait)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() && ctx.Err() == nil {
					if pending != nil {
						h("", pending)
						pending = nil
					}
					continue
				}
				if ctx.Err() == nil {
					lostAt = time.Now()
					b.logger.Warn("event bus: connection lost, resubscribing", "channel", b.cfg.Channel, "err", err)
				}
				break
			}
			msg, ok := m.(*redis.Message)
			if !ok {
				continue
			}
			if msg.Channel == b.cfg.Channel {
				if pending != nil {
					h("", pending)
				}
				pending = []byte(msg.Payload)
			} else if pending != nil {
				h(msg.Payload, pending)
				pending = nil
			}
		}
		if pending != nil {
			h("", pending) // its id was lost with the link; the replay may bring it again
		}
		unwatch()
		_ = ps.Close()
	}
	return nil
}

// confirm waits for n subscription confirmations.
func confirm(ctx context.Context, ps *redis.PubSub, n int) error {
	for range n {
		if _, err := ps.Receive(ctx); err != nil {
			return err
		}
	}
	return nil
}

// replay feeds h every logged message added since `since`, with its id.
func (b *Bus) replay(ctx context.Context, since time.Time, h StreamHandler) (int, error) {
	after := strconv.FormatInt(since.UnixMilli(), 10) // everything from that millisecond on
	n := 0
	for {
		msgs, err := b.rdb.XRangeN(ctx, b.logKey(), after, "+", 500).Result()
		if err != nil {
			return n, err
		}
		for _, m := range msgs {
			if s, ok := m.Values["e"].(string); ok {
				h(m.ID, []byte(s))
				n++
			}
		}
		if len(msgs) < 500 {
			return n, nil
		}
		after = "(" + msgs[len(msgs)-1].ID
	}
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
