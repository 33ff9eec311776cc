package push

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/event"
)

type tokensOf map[primitive.ObjectID][]*store.DeviceToken

func (t tokensOf) ActiveDeviceTokens(_ context.Context, u primitive.ObjectID) ([]*store.DeviceToken, error) {
	return t[u], nil
}

type recorder struct {
	to []Device
	m  Message
	n  int
}

func (r *recorder) Send(_ context.Context, to []Device, m Message) error {
	r.to, r.m = to, m
	r.n++
	return nil
}

func TestNotifierSendsStoredNotifications(t *testing.T) {
	withDevice, without := primitive.NewObjectID(), primitive.NewObjectID()
	toks := tokensOf{withDevice: {{Token: "ExponentPushToken[a]", Platform: "expo"}, {Token: "fcm-b", Platform: "fcm"}}}
	rec := &recorder{}
	n := NewNotifier(toks, rec)
	ctx := context.Background()

	for _, c := range []struct {
		name  string
		p     event.Payload
		sends int
	}{
		{"not a notification", &event.OfferData{OfferID: "o"}, 0},
		{"user without devices", &event.NotificationData{NotificationID: "n1", UserID: without.Hex(), Title: "x"}, 0},
		{"bad user id", &event.NotificationData{NotificationID: "n2", UserID: "nope"}, 0},
		{"user with two devices", &event.NotificationData{NotificationID: "n3", UserID: withDevice.Hex(), Title: "New order", Message: "ORD-1", Type: "order", Priority: "high"}, 1},
	} {
		before := rec.n
		if err := n.OnPublished(ctx, event.Envelope{}, c.p); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := rec.n - before; got != c.sends {
			t.Errorf("%s: got %d sends, want %d", c.name, got, c.sends)
		}
	}
	if len(rec.to) != 2 || rec.to[1] != (Device{Token: "fcm-b", Platform: "fcm"}) || rec.m.Title != "New order" || rec.m.Body != "ORD-1" || rec.m.Data["notificationId"] != "n3" {
		t.Errorf("sent: got %+v to %+v", rec.m, rec.to)
	}
}
