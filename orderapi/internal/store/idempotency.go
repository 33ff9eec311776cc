package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Idempotency record states.
const (
	IdemProcessing = "processing" // the first request is running
	IdemDone       = "done"       // its response is stored for replay
)

// IdemRecord is one Idempotency-Key of one user: the request it came with
// and, once answered, the response to replay.
type IdemRecord struct {
	ID          string             `bson:"_id"` // IdemID(user, key)
	User        primitive.ObjectID `bson:"user"`
	Key         string             `bson:"key"`
	Method      string             `bson:"method"`
	Path        string             `bson:"path"`
	RequestHash string             `bson:"requestHash"`
	State       string             `bson:"state"`
	LockedUntil time.Time          `bson:"lockedUntil"` // a processing record older than this was abandoned
	Status      int                `bson:"status"`
	ContentType string             `bson:"contentType"`
	Body        []byte             `bson:"body"`
	CreatedAt   time.Time          `bson:"createdAt"`
	ExpiresAt   time.Time          `bson:"expiresAt"`
}

// IdemID is the record id of a user's key: keys are scoped per user, so
// two users may pick the same key.
func IdemID(user primitive.ObjectID, key string) string {
	h := sha256.New()
	h.Write(user[:])
	h.Write([]byte(key))
	return hex.EncodeToString(h.Sum(nil))
}

// Idempotency is the idempotency_keys collection. FerretDB has no TTL
// index, so expired records are skipped on read and removed by Purge.
type Idempotency struct{ base }

func (s *Idempotency) ensureIndexes(ctx context.Context) error {
	err := createIndexes(ctx, s.c, []mongo.IndexModel{
		{Keys: bson.D{{Key: "expiresAt", Value: 1}}, Options: options.Index().SetName("expiresAt")},
	})
	if err != nil {
		return fmt.Errorf("idempotency indexes: %w", err)
	}
	return nil
}

// Begin claims rec.ID for a new request. If the key is already known (and
// not expired), nothing is written and the existing record is returned.
// An expired record is replaced.
func (s *Idempotency) Begin(ctx context.Context, rec *IdemRecord) (existing *IdemRecord, err error) {
	for attempt := 0; attempt < 3; attempt++ {
		_, err := s.c.InsertOne(ctx, rec)
		if err == nil {
			return nil, nil
		}
		if !IsUniqueViolation(err) {
			return nil, fmt.Errorf("claim idempotency key: %w", err)
		}
		var prev IdemRecord
		err = s.c.FindOne(ctx, byID(rec.ID)).Decode(&prev)
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue // deleted meanwhile: claim again
		}
		if err != nil {
			return nil, fmt.Errorf("load idempotency key: %w", err)
		}
		if !prev.ExpiresAt.After(s.now()) {
			if _, err := s.c.DeleteOne(ctx, bson.D{{Key: "_id", Value: rec.ID}, {Key: "expiresAt", Value: prev.ExpiresAt}}); err != nil {
				return nil, fmt.Errorf("drop expired idempotency key: %w", err)
			}
			continue
		}
		return &prev, nil
	}
	return nil, fmt.Errorf("claim idempotency key %s: kept changing", rec.ID)
}

// TakeOver claims a processing record whose lock ran out (its request was
// abandoned by a crash), extending the lock to until. It reports whether
// this caller won.
func (s *Idempotency) TakeOver(ctx context.Context, prev *IdemRecord, until time.Time) (bool, error) {
	res, err := s.c.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: prev.ID}, {Key: "state", Value: IdemProcessing}, {Key: "lockedUntil", Value: prev.LockedUntil}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "lockedUntil", Value: until}}}})
	if err != nil {
		return false, fmt.Errorf("take over idempotency key: %w", err)
	}
	return res.MatchedCount == 1, nil
}

// Finish stores the response of the request that claimed id.
func (s *Idempotency) Finish(ctx context.Context, id string, status int, contentType string, body []byte) error {
	_, err := s.c.UpdateOne(ctx, byID(id), bson.D{{Key: "$set", Value: bson.D{
		{Key: "state", Value: IdemDone}, {Key: "status", Value: status},
		{Key: "contentType", Value: contentType}, {Key: "body", Value: body},
	}}})
	if err != nil {
		return fmt.Errorf("store idempotent response: %w", err)
	}
	return nil
}

// Release forgets a key whose request failed on our side, so that a retry
// with the same key runs again.
func (s *Idempotency) Release(ctx context.Context, id string) error {
	if _, err := s.c.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "state", Value: IdemProcessing}}); err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

// Purge deletes the records that expired before now and returns how many.
func (s *Idempotency) Purge(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.c.DeleteMany(ctx, bson.D{{Key: "expiresAt", Value: bson.D{{Key: "$lte", Value: now}}}})
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return res.DeletedCount, nil
}

// RunPurger purges expired records every interval until ctx ends; a failed
// purge is retried at the next tick (records are also ignored on read once
// expired, so a late purge only costs space). It returns nil.
func (s *Idempotency) RunPurger(ctx context.Context, every time.Duration, onErr func(error)) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if _, err := s.Purge(ctx, s.now()); err != nil && ctx.Err() == nil && onErr != nil {
				onErr(err)
			}
		}
	}
}
