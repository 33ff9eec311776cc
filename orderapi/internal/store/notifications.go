package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/friendspizzahut/platform/shared/apperr"
	"github.com/friendspizzahut/platform/shared/event"
)

// Notification types, priorities and entity types (CONTRACT §3.3).
const (
	NotifyOrder    = "order"
	NotifyDelivery = "delivery"
	NotifyPayment  = "payment"
	NotifyCustomer = "customer"
	NotifySystem   = "system"
	NotifyStaff    = "staff"

	PriorityHigh   = "high"
	PriorityMedium = "medium"
	PriorityLow    = "low"
)

// NotificationTypes and NotificationPriorities list the accepted values.
var (
	NotificationTypes      = []string{NotifyOrder, NotifyDelivery, NotifyPayment, NotifyCustomer, NotifySystem, NotifyStaff}
	NotificationPriorities = []string{PriorityHigh, PriorityMedium, PriorityLow}
)

// Notification is a document of the notifications collection.
type Notification struct {
	ID            primitive.ObjectID `bson:"_id"`
	User          primitive.ObjectID `bson:"user"`
	Type          string             `bson:"type"`
	Title         string             `bson:"title"`
	Message       string             `bson:"message"`
	Priority      string             `bson:"priority"`
	IsRead        bool               `bson:"isRead"`
	RelatedEntity RelatedEntity      `bson:"relatedEntity"`
	ReadAt        *time.Time         `bson:"readAt"`
	// SourceEvent is the id of the domain event this notification was
	// derived from (its _id is derived from it too: see NotificationID).
	SourceEvent string    `bson:"sourceEvent,omitempty"`
	CreatedAt   time.Time `bson:"createdAt"`
	UpdatedAt   time.Time `bson:"updatedAt"`
}

// RelatedEntity points a notification at what it is about.
type RelatedEntity struct {
	EntityType string              `bson:"entityType"` // order, payment, user, menu, none
	EntityID   *primitive.ObjectID `bson:"entityId"`
}

// Event is the notification.created payload of n.
func (n *Notification) Event() *event.NotificationData {
	re := event.RelatedEntity{EntityType: n.RelatedEntity.EntityType}
	if n.RelatedEntity.EntityID != nil {
		re.EntityID = n.RelatedEntity.EntityID.Hex()
	}
	return &event.NotificationData{
		NotificationID: n.ID.Hex(), UserID: n.User.Hex(), Type: n.Type, Title: n.Title, Message: n.Message,
		Priority: n.Priority, IsRead: n.IsRead, RelatedEntity: re, CreatedAt: n.CreatedAt,
	}
}

// NotificationID is the id of the notification that event eventID gives
// user: the event's time in seconds (so ids still sort by time, like any
// ObjectId) followed by 8 bytes of SHA-256(eventID, user). The same event
// published twice therefore maps to the same id, and the second insert is
// a harmless duplicate.
func NotificationID(eventID string, at time.Time, user primitive.ObjectID) primitive.ObjectID {
	h := sha256.New()
	h.Write([]byte(eventID))
	h.Write([]byte{0})
	h.Write(user[:])
	sum := h.Sum(nil)
	var id primitive.ObjectID
	binary.BigEndian.PutUint32(id[:4], uint32(at.Unix()))
	copy(id[4:], sum[:8])
	return id
}

// Notifications is the notifications collection.
type Notifications struct{ base }

var (
	errNotificationNotFound  = apperr.NotFoundf("Notification not found")
	errNotificationForbidden = apperr.Forbiddenf("Not authorized to access this notification")
)

func (s *Notifications) ensureIndexes(ctx context.Context) error {
	err := createIndexes(ctx, s.c, []mongo.IndexModel{
		{Keys: bson.D{{Key: "user", Value: 1}, {Key: "createdAt", Value: -1}}, Options: options.Index().SetName("user_createdAt")},
		{Keys: bson.D{{Key: "user", Value: 1}, {Key: "isRead", Value: 1}}, Options: options.Index().SetName("user_isRead")},
	})
	if err != nil {
		return fmt.Errorf("notifications indexes: %w", err)
	}
	return nil
}

// CreateNotification stores n with its notification.created event in one
// write. If a notification with n's id exists already (the same event
// derived twice), nothing is written and created is false.
func (s *Notifications) CreateNotification(ctx context.Context, n *Notification) (created bool, err error) {
	if n.ID.IsZero() {
		n.ID = primitive.NewObjectID()
	}
	if n.CreatedAt.IsZero() {
		n.CreatedAt = s.nowMs()
	}
	n.UpdatedAt = n.CreatedAt
	if n.Priority == "" {
		n.Priority = PriorityMedium
	}
	if n.RelatedEntity.EntityType == "" {
		n.RelatedEntity.EntityType = "none"
	}
	if err := s.insert(ctx, n.ID, n, []event.Payload{n.Event()}); err != nil {
		if IsUniqueViolation(err) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// NotificationFilter selects one user's notifications.
type NotificationFilter struct {
	User        primitive.ObjectID
	IsRead      *bool
	Type        string
	Priority    string
	Skip, Limit int64
}

func (f NotificationFilter) bson() bson.D {
	d := bson.D{{Key: "user", Value: f.User}}
	if f.IsRead != nil {
		d = append(d, bson.E{Key: "isRead", Value: *f.IsRead})
	}
	if f.Type != "" {
		d = append(d, bson.E{Key: "type", Value: f.Type})
	}
	if f.Priority != "" {
		d = append(d, bson.E{Key: "priority", Value: f.Priority})
	}
	return d
}

// ListNotifications returns a page of the user's matching notifications,
// newest first, and how many match.
func (s *Notifications) ListNotifications(ctx context.Context, f NotificationFilter) ([]*Notification, int64, error) {
	return findPage[Notification](ctx, s.c, f.bson(), newestFirst(), f.Skip, f.Limit, "notifications")
}

// UnreadCount counts the user's unread notifications.
func (s *Notifications) UnreadCount(ctx context.Context, user primitive.ObjectID) (int64, error) {
	n, err := s.c.CountDocuments(ctx, bson.D{{Key: "user", Value: user}, {Key: "isRead", Value: false}})
	if err != nil {
		return 0, fmt.Errorf("count unread notifications: %w", err)
	}
	return n, nil
}

// ownNotification loads a notification and checks that it belongs to user:
// NotFound if there is none, Forbidden if it is someone else's.
func (s *Notifications) ownNotification(ctx context.Context, id, user primitive.ObjectID) (*Notification, error) {
	var n Notification
	if err := s.findOne(ctx, byID(id), &n, errNotificationNotFound); err != nil {
		return nil, err
	}
	if n.User != user {
		return nil, errNotificationForbidden
	}
	return &n, nil
}

// MarkRead marks the user's own notification read and returns it.
func (s *Notifications) MarkRead(ctx context.Context, id, user primitive.ObjectID) (*Notification, error) {
	if _, err := s.ownNotification(ctx, id, user); err != nil {
		return nil, err
	}
	return update(ctx, s.base, bson.D{{Key: "_id", Value: id}, {Key: "user", Value: user}}, errNotificationNotFound,
		func(n *Notification) ([]event.Payload, error) {
			if !n.IsRead {
				now := s.nowMs()
				n.IsRead, n.ReadAt, n.UpdatedAt = true, &now, now
			}
			return nil, nil
		})
}

// MarkAllRead marks every unread notification of the user read and returns
// how many changed.
func (s *Notifications) MarkAllRead(ctx context.Context, user primitive.ObjectID) (int64, error) {
	now := s.nowMs()
	res, err := s.c.UpdateMany(ctx, bson.D{{Key: "user", Value: user}, {Key: "isRead", Value: false}}, bson.D{
		{Key: "$set", Value: bson.D{{Key: "isRead", Value: true}, {Key: "readAt", Value: now}, {Key: "updatedAt", Value: now}}},
		{Key: "$inc", Value: bson.D{{Key: "rev", Value: int64(1)}}},
	})
	if err != nil {
		return 0, fmt.Errorf("mark notifications read: %w", err)
	}
	return res.ModifiedCount, nil
}

// DeleteNotification deletes the user's own notification (once its event
// has been published).
func (s *Notifications) DeleteNotification(ctx context.Context, id, user primitive.ObjectID) error {
	if _, err := s.ownNotification(ctx, id, user); err != nil {
		return err
	}
	return deleteWhenFlushed(ctx, s.base, id, errNotificationNotFound)
}
