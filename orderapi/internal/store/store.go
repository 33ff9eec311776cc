// Package store keeps orderapi's state in MongoDB (or FerretDB v1): one file
// per collection, concrete types over *mongo.Collection, methods named for
// what the caller wants.
//
// Rules every store follows:
//   - A write that changes state stores its domain events in the same
//     single-document write (the outbox array, see package outbox), then
//     tells the relay through Notifier. Nothing here talks to Redis.
//   - Read-modify-write goes through update: load, let the caller's closure
//     change the document, write it back only if its revision ("rev") is
//     unchanged, retry a few times on a lost race. This is what makes
//     transitions conditioned on the current state on FerretDB v1, which has
//     no transactions (and whose conditional updates are only atomic through
//     one connection: see cmd/orderapi).
//   - "No document" becomes an apperr NotFound with the client-facing text.
//   - Only typed values reach a filter, so no client-sent "$" key can.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/friendspizzahut/platform/orderapi/internal/outbox"
	"github.com/friendspizzahut/platform/shared/apperr"
	"github.com/friendspizzahut/platform/shared/event"
)

// Collection names.
const (
	UsersCollection    = "users"
	OrdersCollection   = "orders"
	ProductsCollection = "products"
	CartsCollection    = "carts"
	SettingsCollection = "restaurant_settings"
	BusinessCollection = "business_status"
	OffersCollection   = "offers"

	PaymentsCollection      = "payments"
	NotificationsCollection = "notifications"
	IdempotencyCollection   = "idempotency_keys"
)

// Collections lists every collection the stores use.
func Collections() []string {
	return []string{UsersCollection, OrdersCollection, ProductsCollection, CartsCollection, SettingsCollection,
		BusinessCollection, OffersCollection, PaymentsCollection, NotificationsCollection, IdempotencyCollection,
		DeviceTokensCollection}
}

// EventCollections lists the collections whose documents carry outbox
// events; the relay scans exactly these. A store that starts writing events
// adds its collection here.
func EventCollections() []string {
	return []string{OrdersCollection, UsersCollection, BusinessCollection, OffersCollection,
		PaymentsCollection, NotificationsCollection}
}

// Notifier is told which document just received outbox events.
// *outbox.Relay implements it.
type Notifier interface {
	Notify(collection string, id any)
}

// Stores bundles every store for wiring. Handlers receive only the ones
// they use.
type Stores struct {
	Users    *Users
	Orders   *Orders
	Products *Products
	Carts    *Carts
	Settings *Settings
	Business *Business
	Offers   *Offers

	Payments      *Payments
	Notifications *Notifications
	Idempotency   *Idempotency
	DeviceTokens  *DeviceTokens
}

// New returns the stores over db. n may be nil (no relay: events wait for
// the next scan). now may be nil (time.Now).
func New(db *mongo.Database, n Notifier, now func() time.Time) *Stores {
	b := base{db: db, notify: n, now: now}
	if b.now == nil {
		b.now = time.Now
	}
	if b.notify == nil {
		b.notify = noNotify{}
	}
	return &Stores{
		Users:    &Users{base: b.with(UsersCollection)},
		Orders:   &Orders{base: b.with(OrdersCollection)},
		Products: &Products{base: b.with(ProductsCollection)},
		Carts:    &Carts{base: b.with(CartsCollection)},
		Settings: &Settings{base: b.with(SettingsCollection)},
		Business: &Business{base: b.with(BusinessCollection)},
		Offers:   &Offers{base: b.with(OffersCollection)},

		Payments:      &Payments{base: b.with(PaymentsCollection)},
		Notifications: &Notifications{base: b.with(NotificationsCollection)},
		Idempotency:   &Idempotency{base: b.with(IdempotencyCollection)},
		DeviceTokens:  &DeviceTokens{base: b.with(DeviceTokensCollection)},
	}
}

// EnsureIndexes creates every store's indexes. It runs at start and is
// idempotent.
func (s *Stores) EnsureIndexes(ctx context.Context) error {
	for _, f := range []func(context.Context) error{
		s.Users.ensureIndexes, s.Orders.ensureIndexes, s.Products.ensureIndexes,
		s.Carts.ensureIndexes, s.Offers.ensureIndexes,
		s.Payments.ensureIndexes, s.Notifications.ensureIndexes, s.Idempotency.ensureIndexes,
		s.DeviceTokens.ensureIndexes,
	} {
		if err := f(ctx); err != nil {
			return err
		}
	}
	return nil
}

type noNotify struct{}

func (noNotify) Notify(string, any) {}

// base is what every store holds.
type base struct {
	db     *mongo.Database
	c      *mongo.Collection
	notify Notifier
	now    func() time.Time
}

func (b base) with(name string) base {
	b.c = b.db.Collection(name)
	return b
}

// nowMs is the current time at the precision MongoDB stores.
func (b base) nowMs() time.Time { return b.now().UTC().Truncate(time.Millisecond) }

// maxUpdateAttempts bounds retries of a read-modify-write that lost a race.
const maxUpdateAttempts = 5

// errConcurrent is returned when a document kept changing under us.
var errConcurrent = apperr.Conflictf("The resource was modified at the same time by another request. Please retry.")

// insert stores doc (a struct with an _id) with revision 1 and the events,
// all in one write, then notifies the relay.
func (b base) insert(ctx context.Context, id any, doc any, events []event.Payload) error {
	raw, err := bson.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encode %s: %w", b.c.Name(), err)
	}
	var d bson.D
	if err := bson.Unmarshal(raw, &d); err != nil {
		return fmt.Errorf("encode %s: %w", b.c.Name(), err)
	}
	d = append(d, bson.E{Key: "rev", Value: int64(1)})
	if len(events) > 0 {
		recs, err := outbox.NewRecords(b.nowMs(), events...)
		if err != nil {
			return err
		}
		d = append(d, bson.E{Key: outbox.Field, Value: recs})
	}
	if _, err := b.c.InsertOne(ctx, d); err != nil {
		return fmt.Errorf("insert into %s: %w", b.c.Name(), err)
	}
	if len(events) > 0 {
		b.notify.Notify(b.c.Name(), id)
	}
	return nil
}

// update is the read-modify-write every state change goes through. It loads
// the document matching filter (normally {_id}), lets change modify it and
// return the events the change causes, and writes all fields back with those
// events pushed onto the outbox, conditioned on the revision it read. A
// concurrent write makes it reload and call change again, so change must
// decide from the document it is given. notFound is the client-facing error
// when nothing matches. An error from change is returned as is, with nothing
// written.
func update[T any](ctx context.Context, b base, filter bson.D, notFound error, change func(*T) ([]event.Payload, error)) (*T, error) {
	for attempt := 0; attempt < maxUpdateAttempts; attempt++ {
		raw, err := b.c.FindOne(ctx, filter).Raw()
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil, notFound
		}
		if err != nil {
			return nil, fmt.Errorf("load from %s: %w", b.c.Name(), err)
		}
		doc := new(T)
		if err := bson.Unmarshal(raw, doc); err != nil {
			return nil, fmt.Errorf("decode %s: %w", b.c.Name(), err)
		}
		id := raw.Lookup("_id")
		rev, hasRev := revOf(raw)

		events, err := change(doc)
		if err != nil {
			return nil, err
		}
		set, err := setFields(doc)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", b.c.Name(), err)
		}
		set = append(set, bson.E{Key: "rev", Value: rev + 1})
		upd := bson.D{{Key: "$set", Value: set}}
		if len(events) > 0 {
			recs, err := outbox.NewRecords(b.nowMs(), events...)
			if err != nil {
				return nil, err
			}
			upd = append(upd, bson.E{Key: "$push", Value: bson.D{{Key: outbox.Field, Value: bson.D{{Key: "$each", Value: recs}}}}})
		}
		cond := bson.D{{Key: "_id", Value: id}}
		if hasRev {
			cond = append(cond, bson.E{Key: "rev", Value: rev})
		} else { // documents written by the original backend have no rev yet
			cond = append(cond, bson.E{Key: "rev", Value: bson.D{{Key: "$exists", Value: false}}})
		}
		res, err := b.c.UpdateOne(ctx, cond, upd)
		if err != nil {
			return nil, fmt.Errorf("update %s: %w", b.c.Name(), err)
		}
		if res.MatchedCount == 0 {
			continue // someone else wrote it since we read it: decide again
		}
		if len(events) > 0 {
			b.notify.Notify(b.c.Name(), id)
		}
		return doc, nil
	}
	return nil, errConcurrent
}

// revOf reads a document's revision, whatever integer type stored it.
func revOf(raw bson.Raw) (int64, bool) {
	v, err := raw.LookupErr("rev")
	if err != nil {
		return 0, false
	}
	if n, ok := v.AsInt64OK(); ok {
		return n, true
	}
	if n, ok := v.Int32OK(); ok {
		return int64(n), true
	}
	if f, ok := v.DoubleOK(); ok {
		return int64(f), true
	}
	return 0, false
}

// setFields encodes doc as the $set of all its fields except the ones the
// store manages itself (_id, rev, outbox).
func setFields(doc any) (bson.D, error) {
	raw, err := bson.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var d bson.D
	if err := bson.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	out := d[:0]
	for _, e := range d {
		switch e.Key {
		case "_id", "rev", outbox.Field:
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// byID is the filter for one document.
func byID(id any) bson.D { return bson.D{{Key: "_id", Value: id}} }

// findOne decodes the document matching filter into out, mapping "no
// document" to notFound.
func (b base) findOne(ctx context.Context, filter any, out any, notFound error) error {
	err := b.c.FindOne(ctx, filter).Decode(out)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return notFound
	}
	if err != nil {
		return fmt.Errorf("find in %s: %w", b.c.Name(), err)
	}
	return nil
}

// newestFirst is the sort of most lists: latest createdAt first, ties by id.
func newestFirst() bson.D {
	return bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}
}

// findPage returns the documents of c matching filter in sort order, past
// the first skip and at most limit of them (zero: skip none, no limit), and
// how many match in all. what names the documents in errors ("list what",
// "count what").
func findPage[T any](ctx context.Context, c *mongo.Collection, filter, sort bson.D, skip, limit int64, what string) ([]*T, int64, error) {
	out, err := findSorted[T](ctx, c, filter, sort, skip, limit, what)
	if err != nil {
		return nil, 0, err
	}
	total, err := c.CountDocuments(ctx, filter)
	if err != nil {
		return nil, 0, fmt.Errorf("count %s: %w", what, err)
	}
	return out, total, nil
}

// findSorted is findPage without the count.
func findSorted[T any](ctx context.Context, c *mongo.Collection, filter, sort bson.D, skip, limit int64, what string) ([]*T, error) {
	opts := options.Find().SetSort(sort)
	if skip > 0 {
		opts.SetSkip(skip)
	}
	if limit > 0 {
		opts.SetLimit(limit)
	}
	cur, err := c.Find(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	out := []*T{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	return out, nil
}

// eachProjected streams the documents matching filter to fn, decoding
// only fields: reports aggregate in Go, as FerretDB v1 computes only one
// $group accumulator correctly and scans whole collections anyway.
func eachProjected[T any](ctx context.Context, c *mongo.Collection, filter bson.D, fields []string, what string, fn func(*T)) error {
	proj := make(bson.D, 0, len(fields))
	for _, k := range fields {
		proj = append(proj, bson.E{Key: k, Value: 1})
	}
	cur, err := c.Find(ctx, filter, options.Find().SetProjection(proj).SetBatchSize(500))
	if err != nil {
		return fmt.Errorf("scan %s: %w", what, err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var v T
		if err := cur.Decode(&v); err != nil {
			return fmt.Errorf("decode %s: %w", what, err)
		}
		fn(&v)
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("scan %s: %w", what, err)
	}
	return nil
}

// IsUniqueViolation reports a unique-index violation. FerretDB v1 reports
// one caused by an update as code 1 with the backend's message instead of
// 11000, so the message is checked too.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	if mongo.IsDuplicateKeyError(err) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "duplicate key")
}

// ParseID parses a 24-hex id, or returns the 400 the original answered for a
// bad one (Mongoose's CastError text).
func ParseID(s string) (primitive.ObjectID, error) {
	id, err := primitive.ObjectIDFromHex(s)
	if err != nil {
		return primitive.NilObjectID, InvalidID(s)
	}
	return id, nil
}

// InvalidID is the error for a malformed id.
func InvalidID(s string) error {
	return apperr.Invalidf("Invalid _id: %s. Please provide a valid ID.", s)
}
