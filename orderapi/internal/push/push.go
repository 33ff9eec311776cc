// Package push hands stored notifications to the user's registered devices
// (POST /device-tokens). The original sent them through Firebase Cloud
// Messaging and Expo; both need credentials this deployment does not have,
// so the only Sender here, Log, sends nothing: it logs what would have been
// sent. A real sender (FCM HTTP v1, Expo push API) implements Sender and is
// wired in cmd/orderapi instead of Log.
package push

import (
	"context"
	"fmt"
	"log/slog"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/event"
)

// Message is one push notification.
type Message struct {
	Title    string
	Body     string
	Priority string
	Data     map[string]string
}

// Device is one destination.
type Device struct {
	Token    string
	Platform string // expo or fcm
}

// Sender delivers a message to devices. It must be safe for concurrent use
// and must not retry forever: the caller runs at least once per event.
type Sender interface {
	Send(ctx context.Context, to []Device, m Message) error
}

// Log is the Sender without credentials: it logs and sends nothing.
type Log struct{ Logger *slog.Logger }

var _ Sender = Log{}

// Send logs the message's title and the number of devices (never tokens).
func (l Log) Send(_ context.Context, to []Device, m Message) error {
	l.Logger.Info("push NOT sent (log-only sender: no FCM/Expo credentials configured)",
		"devices", len(to), "title", m.Title, "priority", m.Priority)
	return nil
}

// Tokens finds a user's active devices (*store.DeviceTokens).
type Tokens interface {
	ActiveDeviceTokens(ctx context.Context, user primitive.ObjectID) ([]*store.DeviceToken, error)
}

// Notifier pushes every stored notification to its user's devices.
type Notifier struct {
	tokens Tokens
	sender Sender
}

// NewNotifier returns a Notifier.
func NewNotifier(tokens Tokens, sender Sender) *Notifier {
	return &Notifier{tokens: tokens, sender: sender}
}

// OnPublished is an outbox relay hook: on notification.created it sends the
// notification to the user's active devices. Users without devices cost one
// lookup.
func (n *Notifier) OnPublished(ctx context.Context, _ event.Envelope, p event.Payload) error {
	d, ok := p.(*event.NotificationData)
	if !ok {
		return nil
	}
	uid, err := primitive.ObjectIDFromHex(d.UserID)
	if err != nil {
		return nil // not a user we store tokens for
	}
	toks, err := n.tokens.ActiveDeviceTokens(ctx, uid)
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	if len(toks) == 0 {
		return nil
	}
	to := make([]Device, len(toks))
	for i, t := range toks {
		to[i] = Device{Token: t.Token, Platform: t.Platform}
	}
	return n.sender.Send(ctx, to, Message{
		Title: d.Title, Body: d.Message, Priority: d.Priority,
		Data: map[string]string{"type": d.Type, "notificationId": d.NotificationID,
			"entityType": d.RelatedEntity.EntityType, "entityId": d.RelatedEntity.EntityID},
	})
}
