package api

import (
	"math"
	"net/http"
	"strconv"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/apperr"
	"github.com/friendspizzahut/platform/shared/auth"
)

// Notifications (CONTRACT §3.3). Everyone sees and changes only their own:
// the original let any user mark anyone's notification read and list
// anyone's by user id. Notifications are created by package notify from
// published events, never through these routes.

func notificationView(n *store.Notification) map[string]any {
	var entityID any
	if n.RelatedEntity.EntityID != nil {
		entityID = n.RelatedEntity.EntityID.Hex()
	}
	return map[string]any{
		"_id": n.ID.Hex(), "id": n.ID.Hex(), "user": n.User.Hex(), "type": n.Type, "title": n.Title,
		"message": n.Message, "isRead": n.IsRead, "priority": n.Priority,
		"relatedEntity": map[string]any{"entityType": n.RelatedEntity.EntityType, "entityId": entityID},
		"readAt":        jsTimePtr(n.ReadAt), "createdAt": jsTime(n.CreatedAt), "updatedAt": jsTime(n.UpdatedAt),
	}
}

// listNotifications answers a notification list for user.
func listNotifications(w http.ResponseWriter, r *http.Request, notes *store.Notifications, user primitive.ObjectID) error {
	q := newQuery(r)
	f := store.NotificationFilter{
		User:     user,
		IsRead:   q.boolPtr("isRead"),
		Type:     q.oneOf("type", store.NotificationTypes...),
		Priority: q.oneOf("priority", store.NotificationPriorities...),
	}
	page := q.int("page", 1, 1, 1_000_000)
	limit := q.int("limit", 20, 1, 100)
	if err := q.err(); err != nil {
		return err
	}
	f.Skip, f.Limit = int64((page-1)*limit), int64(limit)
	ns, total, err := notes.ListNotifications(r.Context(), f)
	if err != nil {
		return err
	}
	unread, err := notes.UnreadCount(r.Context(), user)
	if err != nil {
		return err
	}
	views := make([]map[string]any, 0, len(ns))
	for _, n := range ns {
		views = append(views, notificationView(n))
	}
	totalPages := int(math.Ceil(float64(total) / float64(limit)))
	respond(w, http.StatusOK, "Notifications retrieved successfully", map[string]any{
		"notifications": views, "totalCount": total, "unreadCount": unread,
		"page": page, "totalPages": totalPages, "hasMore": page < totalPages,
	})
	return nil
}

// handleListNotifications: GET /notifications?page&limit&isRead&type&priority
// (any user, own only) → data {notifications, totalCount, unreadCount,
// page, totalPages, hasMore}.
func handleListNotifications(notes *store.Notifications) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		return listNotifications(w, r, notes, userFrom(r.Context()).ID)
	}
}

// handleUserNotifications: GET /notifications/:userId, the original's
// list-by-user route, now for that user themself or an admin.
func handleUserNotifications(notes *store.Notifications) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "userId")
		if err != nil {
			return err
		}
		if me := userFrom(r.Context()); me.ID != id && me.Role != auth.RoleAdmin {
			return apperr.Forbiddenf("Not authorized to view these notifications")
		}
		return listNotifications(w, r, notes, id)
	}
}

// handleUnreadCount: GET /notifications/unread-count → data {count}.
func handleUnreadCount(notes *store.Notifications) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		n, err := notes.UnreadCount(r.Context(), userFrom(r.Context()).ID)
		if err != nil {
			return err
		}
		respond(w, http.StatusOK, "Unread count retrieved successfully", map[string]any{"count": n})
		return nil
	}
}

// handleMarkRead: PATCH /notifications/:id/read (own only) → data
// <Notification>. Someone else's → 403.
func handleMarkRead(notes *store.Notifications) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		n, err := notes.MarkRead(r.Context(), id, userFrom(r.Context()).ID)
		if err != nil {
			return err
		}
		respond(w, http.StatusOK, "Notification marked as read", notificationView(n))
		return nil
	}
}

// handleMarkAllRead: PATCH /notifications/read-all → message 'Marked N
// notifications as read', data {message, count}.
func handleMarkAllRead(notes *store.Notifications) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		n, err := notes.MarkAllRead(r.Context(), userFrom(r.Context()).ID)
		if err != nil {
			return err
		}
		msg := "Marked " + strconv.FormatInt(n, 10) + " notifications as read"
		respond(w, http.StatusOK, msg, map[string]any{"message": msg, "count": n})
		return nil
	}
}

// handleDeleteNotification: DELETE /notifications/:id (own only; someone
// else's → 403).
func handleDeleteNotification(notes *store.Notifications) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if err := notes.DeleteNotification(r.Context(), id, userFrom(r.Context()).ID); err != nil {
			return err
		}
		respond(w, http.StatusOK, "Notification deleted successfully", nil)
		return nil
	}
}
