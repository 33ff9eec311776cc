package api_test

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/auth"
)

// seedNotification stores a notification for user.
func (e *env) seedNotification(user primitive.ObjectID, typ, priority string, at time.Time) *store.Notification {
	e.t.Helper()
	n := &store.Notification{User: user, Type: typ, Title: "T " + typ, Message: "M", Priority: priority,
		CreatedAt: at.UTC().Truncate(time.Millisecond), RelatedEntity: store.RelatedEntity{EntityType: "order"}}
	if _, err := e.stores.Notifications.CreateNotification(context.Background(), n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestNotifications(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, adminTok := e.mustUser(auth.RoleAdmin)
	c, cTok := e.mustUser(auth.RoleCustomer)
	start := time.Now().Add(-time.Hour)
	var mine []*store.Notification
	for i := 0; i < 5; i++ {
		typ, prio := store.NotifyOrder, store.PriorityHigh
		if i%2 == 1 {
			typ, prio = store.NotifyPayment, store.PriorityMedium
		}
		mine = append(mine, e.seedNotification(a.ID, typ, prio, start.Add(time.Duration(i)*time.Minute)))
	}
	theirs := e.seedNotification(c.ID, store.NotifyOrder, store.PriorityLow, start)

	t.Run("list, newest first, own only", func(t *testing.T) {
		r := e.do("GET", "/api/v1/notifications?limit=2", adminTok, nil).want(t, 200)
		d := r.data()
		ns, _ := d["notifications"].([]any)
		if len(ns) != 2 || str(ns[0].(map[string]any), "_id") != mine[4].ID.Hex() {
			t.Fatalf("got %s, want the 2 newest", r)
		}
		if num(d, "totalCount") != 5 || num(d, "unreadCount") != 5 || num(d, "totalPages") != 3 || d["hasMore"] != true || num(d, "page") != 1 {
			t.Fatalf("got %v, want totalCount 5, 3 pages, more", d)
		}
		first := ns[0].(map[string]any)
		for _, f := range []string{"_id", "user", "type", "title", "message", "isRead", "priority", "relatedEntity", "readAt", "createdAt", "updatedAt"} {
			if _, ok := first[f]; !ok {
				t.Errorf("notification lacks %s: %v", f, first)
			}
		}
		r = e.do("GET", "/api/v1/notifications?type=payment&priority=medium", adminTok, nil).want(t, 200)
		if num(r.data(), "totalCount") != 2 {
			t.Fatalf("got %s, want the 2 payment notifications", r)
		}
		r = e.do("GET", "/api/v1/notifications", cTok, nil).want(t, 200)
		if num(r.data(), "totalCount") != 1 {
			t.Fatalf("customer sees %v notifications, want only their 1", r.data()["totalCount"])
		}
		e.do("GET", "/api/v1/notifications?type=spam&isRead=perhaps", adminTok, nil).want(t, 400)
	})
	t.Run("by user id: self or admin", func(t *testing.T) {
		e.do("GET", "/api/v1/notifications/"+c.ID.Hex(), cTok, nil).want(t, 200)
		e.do("GET", "/api/v1/notifications/"+c.ID.Hex(), adminTok, nil).want(t, 200)
		e.do("GET", "/api/v1/notifications/"+a.ID.Hex(), cTok, nil).want(t, 403)
	})
	t.Run("read one", func(t *testing.T) {
		r := e.do("PATCH", "/api/v1/notifications/"+mine[0].ID.Hex()+"/read", adminTok, nil).want(t, 200)
		if r.data()["isRead"] != true || str(r.data(), "readAt") == "" {
			t.Fatalf("got %s", r)
		}
		if n := num(e.do("GET", "/api/v1/notifications/unread-count", adminTok, nil).want(t, 200).data(), "count"); n != 4 {
			t.Fatalf("got unread %v, want 4", n)
		}
		// The original let anyone mark anyone's notification read.
		e.do("PATCH", "/api/v1/notifications/"+theirs.ID.Hex()+"/read", adminTok, nil).want(t, 403)
		e.do("PATCH", "/api/v1/notifications/0123456789abcdef01234567/read", adminTok, nil).want(t, 404)
		e.do("PATCH", "/api/v1/notifications/undefined/read", adminTok, nil).want(t, 400)
	})
	t.Run("read all", func(t *testing.T) {
		r := e.do("PATCH", "/api/v1/notifications/read-all", adminTok, nil).want(t, 200).wantMessage(t, "Marked 4 notifications as read")
		if num(r.data(), "count") != 4 {
			t.Fatalf("got %s", r)
		}
		if n := num(e.do("GET", "/api/v1/notifications/unread-count", cTok, nil).want(t, 200).data(), "count"); n != 1 {
			t.Fatalf("the customer's unread count changed: %v", n)
		}
		r = e.do("GET", "/api/v1/notifications?isRead=false", adminTok, nil).want(t, 200)
		if num(r.data(), "totalCount") != 0 {
			t.Fatalf("got %s, want none unread", r)
		}
	})
	t.Run("delete own only", func(t *testing.T) {
		e.do("DELETE", "/api/v1/notifications/"+theirs.ID.Hex(), adminTok, nil).want(t, 403)
		e.clearOutbox(store.NotificationsCollection, mine[1].ID)
		e.do("DELETE", "/api/v1/notifications/"+mine[1].ID.Hex(), adminTok, nil).want(t, 200)
		e.do("DELETE", "/api/v1/notifications/"+mine[1].ID.Hex(), adminTok, nil).want(t, 404)
	})
	t.Run("anonymous", func(t *testing.T) {
		for _, p := range []string{"/api/v1/notifications", "/api/v1/notifications/unread-count"} {
			e.do("GET", p, "", nil).want(t, 401)
		}
	})
}

func TestNotificationIDIsDeterministic(t *testing.T) {
	t.Parallel()
	u1, u2 := primitive.NewObjectID(), primitive.NewObjectID()
	at := time.Date(2026, 11, 26, 15, 4, 5, 0, time.UTC)
	a := store.NotificationID("ev-1", at, u1)
	if b := store.NotificationID("ev-1", at, u1); a != b {
		t.Fatalf("got %s and %s for the same event and user", a, b)
	}
	if store.NotificationID("ev-1", at, u2) == a || store.NotificationID("ev-2", at, u1) == a {
		t.Fatal("different events or users must give different ids")
	}
	if !a.Timestamp().Equal(at) {
		t.Fatalf("got timestamp %s, want %s", a.Timestamp(), at)
	}
}
