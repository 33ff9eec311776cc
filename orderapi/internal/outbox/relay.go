package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/friendspizzahut/platform/shared/event"
)

// Publisher sends one envelope. *bus.Bus implements it. An error means the
// envelope may not have been sent; the relay keeps it pending and retries.
type Publisher interface {
	Publish(ctx context.Context, env event.Envelope) error
}

// Hook runs after an event was published and before it is removed from the
// outbox, so it runs at least once per event (again after a crash between
// the two). It must be idempotent. An error leaves the event pending: it is
// published again later (consumers deduplicate) and the hook retried.
type Hook func(ctx context.Context, env event.Envelope, p event.Payload) error

// Config tunes a Relay. Zero values mean the defaults.
type Config struct {
	// PollInterval is how often every collection is scanned for pending
	// events (OUTBOX_POLL_INTERVAL, default 5s). Writers call Notify, so the
	// scan only catches what a notification missed: events written before a
	// crash or by another process.
	PollInterval time.Duration
	// MinBackoff and MaxBackoff bound the pause after a failed round
	// (default 100ms and 5s, doubling).
	MinBackoff, MaxBackoff time.Duration
	// BatchSize caps the documents read per collection per query (default 100).
	BatchSize int
	// DrainTimeout bounds the last round after Run's context ends (default 3s).
	DrainTimeout time.Duration
}

func (c *Config) defaults() {
	if c.PollInterval <= 0 {
		c.PollInterval = 5 * time.Second
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 100 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Second
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 100
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 3 * time.Second
	}
}

// hint names one document that just received events.
type hint struct {
	coll string
	id   any
}

// hintBuffer bounds the queue of notifications; when it is full the relay
// falls back to a full scan, so a burst never blocks a request.
const hintBuffer = 1024

// Relay publishes the events stored in documents' outbox arrays. Exactly one
// goroutine (Run) publishes; Notify and OnPublished are safe from any
// goroutine.
type Relay struct {
	db     *mongo.Database
	colls  []string
	pub    Publisher
	logger *slog.Logger
	cfg    Config

	hints    chan hint
	scanNeed chan struct{} // capacity 1: "a hint was dropped, scan everything"

	mu    sync.Mutex
	hooks []Hook
}

// NewRelay returns a relay over the named collections of db, publishing
// through pub. Nothing happens until Run.
func NewRelay(db *mongo.Database, collections []string, pub Publisher, logger *slog.Logger, cfg Config) *Relay {
	cfg.defaults()
	return &Relay{
		db: db, colls: collections, pub: pub, logger: logger, cfg: cfg,
		hints:    make(chan hint, hintBuffer),
		scanNeed: make(chan struct{}, 1),
	}
}

// OnPublished adds a hook run for every published event, in order.
func (r *Relay) OnPublished(h Hook) {
	r.mu.Lock()
	r.hooks = append(r.hooks, h)
	r.mu.Unlock()
}

// Notify tells the relay that the document id of collection coll has new
// events, so they go out in milliseconds rather than at the next poll. It
// never blocks.
func (r *Relay) Notify(coll string, id any) {
	select {
	case r.hints <- hint{coll, id}:
	default:
		select {
		case r.scanNeed <- struct{}{}:
		default:
		}
	}
}

// Run publishes pending events until ctx ends: a full scan at start (events
// committed before a crash), the notified documents as they come, and a
// full scan every PollInterval. A failed round (Redis or MongoDB down) is
// logged and retried with backoff; events wait in their documents and go
// out in order. After ctx ends Run makes one last round, bounded by
// DrainTimeout, and returns nil.
func (r *Relay) Run(ctx context.Context) error {
	ticker := time.NewTicker(r.cfg.PollInterval)
	defer ticker.Stop()
	r.logger.Info("outbox relay started", "collections", r.colls, "poll_interval", r.cfg.PollInterval.String())

	scan := true
	backoff := r.cfg.MinBackoff
	failures := 0
	var retry <-chan time.Time // non-nil while waiting after a failure
	var pending []hint

	for {
		if retry == nil {
			err := r.round(ctx, scan, &pending)
			switch {
			case err == nil:
				scan = false
				if failures > 0 {
					r.logger.Info("outbox relay recovered", "failed_rounds", failures)
				}
				failures, backoff = 0, r.cfg.MinBackoff
			case ctx.Err() != nil:
				// stopping: fall through to the select, which sees ctx.Done
			default:
				failures++
				r.logger.Warn("outbox relay: publishing failed, events stay pending",
					"attempt", failures, "retry_in", backoff.String(), "err", err)
				scan = true // the pending documents are found again by the scan
				pending = pending[:0]
				retry = time.After(backoff)
				backoff = min(backoff*2, r.cfg.MaxBackoff)
			}
		}
		select {
		case <-ctx.Done():
			r.drain()
			return nil
		case h := <-r.hints:
			pending = append(pending, h)
		case <-r.scanNeed:
			scan = true
		case <-ticker.C:
			scan = true
		case <-retry:
			retry = nil
		}
	}
}

// drain makes a last round after shutdown began, so events of the final
// requests leave before the process does.
func (r *Relay) drain() {
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.DrainTimeout)
	defer cancel()
	var pending []hint
	for {
		select {
		case h := <-r.hints:
			pending = append(pending, h)
			continue
		default:
		}
		break
	}
	if err := r.round(ctx, false, &pending); err != nil {
		r.logger.Warn("outbox relay: last round failed; pending events go out after restart", "err", err)
	}
}

// round flushes the hinted documents, then (if scan) every collection. It
// also takes any hints queued meanwhile, so one round serves a burst.
func (r *Relay) round(ctx context.Context, scan bool, pending *[]hint) error {
	for {
		select {
		case h := <-r.hints:
			*pending = append(*pending, h)
			continue
		default:
		}
		break
	}
	seen := make(map[hint]bool, len(*pending))
	for len(*pending) > 0 {
		h := (*pending)[0]
		key := hint{h.coll, fmt.Sprint(h.id)}
		if !seen[key] {
			seen[key] = true
			if err := r.flushOne(ctx, h); err != nil {
				return err
			}
		}
		*pending = (*pending)[1:]
	}
	if !scan {
		return nil
	}
	for _, name := range r.colls {
		if err := r.scanCollection(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

// pendingFilter matches documents whose outbox array has an element.
func pendingFilter() bson.M { return bson.M{Field + ".0": bson.M{"$exists": true}} }

// pendingDoc is what the relay reads of a document: its id and its
// records, kept raw so the $pullAll matches them byte for byte.
type pendingDoc struct {
	ID     any             `bson:"_id"`
	Outbox []bson.RawValue `bson:"outbox"`
}

func (r *Relay) flushOne(ctx context.Context, h hint) error {
	var doc pendingDoc
	err := r.db.Collection(h.coll).FindOne(ctx, bson.M{"_id": h.id}, options.FindOne().SetProjection(bson.M{Field: 1})).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read outbox of %s %v: %w", h.coll, h.id, err)
	}
	return r.flushDoc(ctx, h.coll, doc)
}

func (r *Relay) scanCollection(ctx context.Context, name string) error {
	coll := r.db.Collection(name)
	for {
		cur, err := coll.Find(ctx, pendingFilter(), options.Find().
			SetProjection(bson.M{Field: 1}).SetLimit(int64(r.cfg.BatchSize)))
		if err != nil {
			return fmt.Errorf("scan %s outbox: %w", name, err)
		}
		var docs []pendingDoc
		if err := cur.All(ctx, &docs); err != nil {
			return fmt.Errorf("scan %s outbox: %w", name, err)
		}
		for _, d := range docs {
			if err := r.flushDoc(ctx, name, d); err != nil {
				return err
			}
		}
		if len(docs) < r.cfg.BatchSize {
			return nil
		}
	}
}

// flushDoc publishes the document's records in order, stopping at the first
// failure, and removes the ones that went out.
func (r *Relay) flushDoc(ctx context.Context, coll string, d pendingDoc) error {
	if len(d.Outbox) == 0 {
		return nil
	}
	r.mu.Lock()
	hooks := r.hooks
	r.mu.Unlock()

	done := make(bson.A, 0, len(d.Outbox))
	var failure error
	for _, raw := range d.Outbox {
		var rec Record
		err := errors.New("not a document")
		if raw.Type == bson.TypeEmbeddedDocument {
			err = raw.Unmarshal(&rec)
		}
		if err != nil || rec.ID == "" {
			// A record no envelope can come from would block the document
			// forever; drop it loudly instead.
			r.logger.Error("outbox relay: dropping undecodable record", "collection", coll, "doc_id", fmt.Sprint(d.ID), "err", err)
			done = append(done, raw)
			continue
		}
		env := rec.Envelope()
		p, err := env.Payload()
		if err != nil {
			r.logger.Error("outbox relay: dropping invalid event", "collection", coll, "doc_id", fmt.Sprint(d.ID), "event_id", env.ID, "event_type", string(env.Type), "err", err)
			done = append(done, raw)
			continue
		}
		if err := r.pub.Publish(ctx, env); err != nil {
			failure = err
			break
		}
		if err := runHooks(ctx, hooks, env, p); err != nil {
			failure = fmt.Errorf("event %s published, hook failed: %w", env.ID, err)
			break
		}
		r.logger.Debug("event published", "event_id", env.ID, "event_type", string(env.Type), "collection", coll, "doc_id", fmt.Sprint(d.ID))
		done = append(done, raw)
	}
	if len(done) > 0 {
		// Independent of ctx: what was published must be marked so, or it
		// goes out again after a restart (harmless, but avoidable).
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := r.db.Collection(coll).UpdateOne(pctx, bson.M{"_id": d.ID}, bson.M{"$pullAll": bson.M{Field: done}}); err != nil {
			return errors.Join(failure, fmt.Errorf("mark %d events of %s %v published: %w", len(done), coll, d.ID, err))
		}
	}
	return failure
}

func runHooks(ctx context.Context, hooks []Hook, env event.Envelope, p event.Payload) error {
	for _, h := range hooks {
		if err := h(ctx, env, p); err != nil {
			return err
		}
	}
	return nil
}
