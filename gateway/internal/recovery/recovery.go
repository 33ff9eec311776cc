// Package recovery keeps Socket.IO sessions recoverable on any gateway
// replica (sio.Recovery). A session's state (socket id, pid, rooms, the
// socket layer's identity, and the log offset it replays after) lives in
// Redis under its pid, saved on every change, so that a replica killed
// without warning loses nothing. Offsets are ids in the bus's replay log,
// the same on every replica, so a session recovers wherever it lands: the
// missed events are read back from the log and routed through the same
// routing table as live ones.
package recovery

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/friendspizzahut/platform/gateway/internal/routing"
	"github.com/friendspizzahut/platform/gateway/internal/sio"
	"github.com/friendspizzahut/platform/shared/bus"
	"github.com/friendspizzahut/platform/shared/bus/logid"
	"github.com/friendspizzahut/platform/shared/event"
)

// Log reads the bus's replay log (*bus.Bus).
type Log interface {
	Range(ctx context.Context, after, upTo string, count int64) ([]bus.Entry, error)
	Holds(ctx context.Context, id string) (bool, error)
}

// Syncer runs a function between two delivered events (*fanout.Fanout).
type Syncer interface {
	Sync(fn func(offset string))
}

// Config tunes a Store. Zero values mean the defaults.
type Config struct {
	Window    time.Duration // how long a closed session stays recoverable (GATEWAY_RECOVERY_WINDOW), default 2m
	KeyPrefix string        // Redis key prefix, default "fph:gw:session:"
	// Touch is how often the sessions of live sockets get their expiry
	// pushed back; default Window/6.
	Touch time.Duration
}

func (c *Config) defaults() {
	if c.Window <= 0 {
		c.Window = 2 * time.Minute
	}
	if c.KeyPrefix == "" {
		c.KeyPrefix = "fph:gw:session:"
	}
	if c.Touch <= 0 {
		c.Touch = c.Window / 6
	}
}

// Hooks are optional callbacks, e.g. for metrics. They must not block.
type Hooks struct {
	Attempt   func()           // a CONNECT quoted a pid
	Recovered func(missed int) // a session was restored, with this many replayed events
}

// Store implements sio.Recovery over Redis and the replay log.
type Store struct {
	cfg    Config
	rdb    redis.UniversalClient
	log    Log
	sync   Syncer
	table  *routing.Table
	hooks  Hooks
	logger *slog.Logger

	mu   sync.Mutex
	live map[*sio.Socket]string // live local sockets → their claim token
}

var _ sio.Recovery = (*Store)(nil)

// New returns a Store; Run keeps the live sessions from expiring.
func New(cfg Config, rdb redis.UniversalClient, log Log, sync Syncer, hooks Hooks, logger *slog.Logger) *Store {
	cfg.defaults()
	return &Store{cfg: cfg, rdb: rdb, log: log, sync: sync, table: routing.New(), hooks: hooks, logger: logger,
		live: map[*sio.Socket]string{}}
}

// record is a session as stored in Redis. Conn is the claim of the
// connection that holds it now: a save or expiry from an older connection
// of the same session (the replica it left) does not apply.
type record struct {
	SID   string          `json:"sid"`
	PID   string          `json:"pid"`
	Rooms []string        `json:"rooms"`
	Data  json.RawMessage `json:"data,omitempty"`
	Since string          `json:"since"`
	Conn  string          `json:"conn"`
}

func (s *Store) key(pid string) string { return s.cfg.KeyPrefix + pid }

// liveTTL outlasts the touch interval, so a crashed replica's sessions
// stay recoverable for at least the window after its last touch.
func (s *Store) liveTTL() time.Duration { return s.cfg.Window + s.cfg.Touch }

// saveScript stores a record unless another connection holds the session
// (ARGV[4] == "1": this connection claims it).
var saveScript = redis.NewScript(`
if ARGV[4] ~= '1' then
  local cur = redis.call('GET', KEYS[1])
  if cur then
    local ok, rec = pcall(cjson.decode, cur)
    if ok and rec.conn ~= ARGV[2] then return 0 end
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1`)

// closeScript starts the window of a closed session (ARGV[2] ms) or, with
// ARGV[2] == "0", drops it; only if this connection still holds it.
var closeScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local ok, rec = pcall(cjson.decode, cur)
if ok and rec.conn ~= ARGV[1] then return 0 end
if ARGV[2] == '0' then redis.call('DEL', KEYS[1]) else redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`)

// Find implements sio.Recovery.
func (s *Store) Find(ctx context.Context, pid, offset string) (sio.Saved, bool) {
	if s.hooks.Attempt != nil {
		s.hooks.Attempt()
	}
	raw, err := s.rdb.Get(ctx, s.key(pid)).Bytes()
	if err != nil {
		if !errors.Is(err, redis.Nil) {
			s.logger.Warn("recovery: session lookup failed", "err", err)
		}
		return sio.Saved{}, false
	}
	var rec record
	if err := json.Unmarshal(raw, &rec); err != nil || rec.PID != pid {
		return sio.Saved{}, false
	}
	if offset == "" {
		offset = rec.Since
	}
	if !logid.Valid(offset) {
		return sio.Saved{}, false
	}
	held, err := s.log.Holds(ctx, offset)
	if err != nil {
		s.logger.Warn("recovery: replay log unavailable", "err", err)
		return sio.Saved{}, false
	}
	if !held {
		s.logger.Debug("recovery: offset no longer in the log", "offset", offset)
		return sio.Saved{}, false
	}
	return sio.Saved{SID: rec.SID, PID: rec.PID, Rooms: rec.Rooms, Data: rec.Data, Offset: offset}, true
}

// Sync implements sio.Recovery.
func (s *Store) Sync(fn func(offset string)) { s.sync.Sync(fn) }

// replayPage is how many log entries one read returns.
const replayPage = 500

// Missed implements sio.Recovery: it reads the log after `after` up to
// upTo and keeps what the rooms would have received, each event once,
// with the location updates of one order coalesced to the latest.
func (s *Store) Missed(ctx context.Context, rooms []string, after, upTo string) ([][]byte, error) {
	type item struct {
		offset  string
		d       routing.Delivery
		orderID string // set for location updates
	}
	var items []item
	if upTo != "" && logid.After(upTo, after) {
		in := make(map[string]bool, len(rooms))
		for _, r := range rooms {
			in[r] = true
		}
		seen := map[string]bool{}
		for cursor := after; ; {
			page, err := s.log.Range(ctx, cursor, upTo, replayPage)
			if err != nil {
				return nil, err
			}
			for _, e := range page {
				env, p, err := event.Decode(e.Msg)
				if err != nil || seen[env.ID] {
					continue
				}
				seen[env.ID] = true
				for _, d := range s.table.Route(env, p) {
					if !anyIn(d.Rooms, in) || anyIn(d.Except, in) {
						continue
					}
					it := item{offset: e.ID, d: d}
					if rep, ok := p.(*event.LocationReport); ok && d.Event == routing.EvLocationUpdate {
						it.orderID = rep.OrderID
					}
					items = append(items, it)
				}
			}
			if len(page) < replayPage {
				break
			}
			cursor = page[len(page)-1].ID
		}
	}
	latest := map[string]int{} // order id → index of its last location update
	for i, it := range items {
		if it.orderID != "" {
			latest[it.orderID] = i
		}
	}
	frames := make([][]byte, 0, len(items))
	for i, it := range items {
		if it.orderID != "" && latest[it.orderID] != i {
			continue
		}
		b, err := sio.EventFrame(it.d.Event, it.d.Payload, it.offset)
		if err != nil {
			continue
		}
		frames = append(frames, b)
	}
	if s.hooks.Recovered != nil {
		s.hooks.Recovered(len(frames))
	}
	return frames, nil
}

func anyIn(rooms []string, set map[string]bool) bool {
	return slices.ContainsFunc(rooms, func(r string) bool { return set[r] })
}

// Save implements sio.Recovery. It writes synchronously: a room joined is
// in Redis before the client hears back.
func (s *Store) Save(sock *sio.Socket) {
	s.mu.Lock()
	conn, known := s.live[sock]
	if !known {
		conn = newToken()
		s.live[sock] = conn
	}
	s.mu.Unlock()
	rec := record{SID: sock.ID(), PID: sock.PID(), Rooms: sock.Rooms(), Data: sock.Data(), Since: sock.Since(), Conn: conn}
	slices.Sort(rec.Rooms)
	b, err := json.Marshal(rec)
	if err != nil {
		return
	}
	claim := "0"
	if !known {
		claim = "1"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	err = saveScript.Run(ctx, s.rdb, []string{s.key(rec.PID)}, b, conn, s.liveTTL().Milliseconds(), claim).Err()
	if err != nil {
		s.logger.Warn("recovery: saving session failed", "socket_id", rec.SID, "err", err)
	}
}

// Gone implements sio.Recovery: the window starts now, or the session is
// dropped when the client left for good.
func (s *Store) Gone(sock *sio.Socket, reason sio.DisconnectReason) {
	s.mu.Lock()
	conn, known := s.live[sock]
	delete(s.live, sock)
	s.mu.Unlock()
	if !known {
		return
	}
	ttl := "0"
	if reason.Recoverable() {
		ttl = strconv.FormatInt(s.cfg.Window.Milliseconds(), 10)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := closeScript.Run(ctx, s.rdb, []string{s.key(sock.PID())}, conn, ttl).Err(); err != nil {
		s.logger.Warn("recovery: closing session failed", "socket_id", sock.ID(), "err", err)
	}
}

// Run pushes back the expiry of live sessions every Touch until ctx ends.
func (s *Store) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Touch)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		s.mu.Lock()
		keys := make([]string, 0, len(s.live))
		for sock := range s.live {
			keys = append(keys, s.key(sock.PID()))
		}
		s.mu.Unlock()
		for chunk := range slices.Chunk(keys, 1000) {
			_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, k := range chunk {
					p.PExpire(ctx, k, s.liveTTL())
				}
				return nil
			})
			if err != nil && ctx.Err() == nil {
				s.logger.Warn("recovery: touching sessions failed", "sessions", len(chunk), "err", err)
			}
		}
	}
}

func newToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
