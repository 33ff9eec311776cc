package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/friendspizzahut/platform/shared/apperr"
)

// DeviceTokensCollection holds the apps' push tokens.
const DeviceTokensCollection = "devicetokens"

// DeviceToken is a document of devicetokens, the original's DeviceToken
// model: one document per push token (a token names one app install, so it
// is unique), owned by the user who registered it last.
type DeviceToken struct {
	ID         primitive.ObjectID `bson:"_id" json:"_id"`
	UserID     primitive.ObjectID `bson:"userId" json:"userId"`
	Token      string             `bson:"token" json:"-"` // never listed back
	DeviceType string             `bson:"deviceType" json:"deviceType"`
	Platform   string             `bson:"platform" json:"platform"`
	UserRole   string             `bson:"userRole" json:"userRole"`
	IsActive   bool               `bson:"isActive" json:"isActive"`
	Metadata   DeviceMetadata     `bson:"metadata" json:"metadata"`
	LastUsed   time.Time          `bson:"lastUsed" json:"lastUsed"`
	CreatedAt  time.Time          `bson:"createdAt" json:"createdAt"`
	UpdatedAt  time.Time          `bson:"updatedAt" json:"updatedAt"`
}

// DeviceMetadata is the optional device description the app may send.
type DeviceMetadata struct {
	DeviceName string `bson:"deviceName,omitempty" json:"deviceName,omitempty"`
	OSVersion  string `bson:"osVersion,omitempty" json:"osVersion,omitempty"`
	AppVersion string `bson:"appVersion,omitempty" json:"appVersion,omitempty"`
}

// DeviceTokens stores push tokens.
type DeviceTokens struct{ base }

func (s *DeviceTokens) ensureIndexes(ctx context.Context) error {
	return createIndexes(ctx, s.c, []mongo.IndexModel{
		{Keys: bson.D{{Key: "token", Value: 1}}, Options: options.Index().SetUnique(true)},
		{Keys: bson.D{{Key: "userId", Value: 1}, {Key: "isActive", Value: 1}}},
	})
}

// errDeviceTokenNotFound is the original's 404 text.
var errDeviceTokenNotFound = apperr.NotFoundf("Device token not found or already removed")

// RegisterDeviceToken stores t for its user: a new token is inserted
// (created true); a known one is taken over by t's user, reactivated and
// its fields updated, so registering again is harmless. Metadata fields
// sent are merged into the stored ones.
func (s *DeviceTokens) RegisterDeviceToken(ctx context.Context, t DeviceToken) (stored *DeviceToken, created bool, err error) {
	for attempt := 0; attempt < 2; attempt++ {
		now := s.nowMs()
		var cur DeviceToken
		err := s.findOne(ctx, bson.D{{Key: "token", Value: t.Token}}, &cur, errDeviceTokenNotFound)
		if errors.Is(err, errDeviceTokenNotFound) {
			t.ID, t.IsActive, t.LastUsed, t.CreatedAt, t.UpdatedAt = primitive.NewObjectID(), true, now, now, now
			if _, err := s.c.InsertOne(ctx, t); err != nil {
				if IsUniqueViolation(err) {
					continue // registered at the same moment by another request: update it
				}
				return nil, false, fmt.Errorf("insert device token: %w", err)
			}
			return &t, true, nil
		}
		if err != nil {
			return nil, false, err
		}
		cur.UserID, cur.UserRole, cur.DeviceType, cur.Platform = t.UserID, t.UserRole, t.DeviceType, t.Platform
		cur.IsActive, cur.LastUsed, cur.UpdatedAt = true, now, now
		if t.Metadata.DeviceName != "" {
			cur.Metadata.DeviceName = t.Metadata.DeviceName
		}
		if t.Metadata.OSVersion != "" {
			cur.Metadata.OSVersion = t.Metadata.OSVersion
		}
		if t.Metadata.AppVersion != "" {
			cur.Metadata.AppVersion = t.Metadata.AppVersion
		}
		set, err := setFields(&cur)
		if err != nil {
			return nil, false, fmt.Errorf("encode device token: %w", err)
		}
		if _, err := s.c.UpdateOne(ctx, byID(cur.ID), bson.D{{Key: "$set", Value: set}}); err != nil {
			return nil, false, fmt.Errorf("update device token: %w", err)
		}
		return &cur, false, nil
	}
	return nil, false, errConcurrent
}

// DeviceTokenByToken returns the document of a push token.
func (s *DeviceTokens) DeviceTokenByToken(ctx context.Context, token string) (*DeviceToken, error) {
	var t DeviceToken
	if err := s.findOne(ctx, bson.D{{Key: "token", Value: token}}, &t, errDeviceTokenNotFound); err != nil {
		return nil, err
	}
	return &t, nil
}

// DeactivateDeviceToken marks a token inactive (kept, as the original did,
// for analytics). Deactivating an inactive token succeeds.
func (s *DeviceTokens) DeactivateDeviceToken(ctx context.Context, id primitive.ObjectID) error {
	now := s.nowMs()
	res, err := s.c.UpdateOne(ctx, byID(id), bson.D{{Key: "$set", Value: bson.D{
		{Key: "isActive", Value: false}, {Key: "updatedAt", Value: now}}}})
	if err != nil {
		return fmt.Errorf("deactivate device token: %w", err)
	}
	if res.MatchedCount == 0 {
		return errDeviceTokenNotFound
	}
	return nil
}

// DeactivateUserDeviceTokens deactivates every active token of a user (on
// logout) and returns how many it changed.
func (s *DeviceTokens) DeactivateUserDeviceTokens(ctx context.Context, user primitive.ObjectID) (int64, error) {
	now := s.nowMs()
	res, err := s.c.UpdateMany(ctx, bson.D{{Key: "userId", Value: user}, {Key: "isActive", Value: true}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "isActive", Value: false}, {Key: "lastUsed", Value: now}, {Key: "updatedAt", Value: now}}}})
	if err != nil {
		return 0, fmt.Errorf("deactivate device tokens: %w", err)
	}
	return res.ModifiedCount, nil
}

// ActiveDeviceTokens returns a user's active tokens, most recently used
// first.
func (s *DeviceTokens) ActiveDeviceTokens(ctx context.Context, user primitive.ObjectID) ([]*DeviceToken, error) {
	return findSorted[DeviceToken](ctx, s.c, bson.D{{Key: "userId", Value: user}, {Key: "isActive", Value: true}},
		bson.D{{Key: "lastUsed", Value: -1}, {Key: "_id", Value: -1}}, 0, 0, "device tokens")
}
