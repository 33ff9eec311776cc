// Package notify derives the stored notifications of orderapi from its
// published domain events, where the original backend created them: a new
// order, an order status change, an assignment and a payment notify every
// active admin (and an assignment also the agent).
//
// Deriver.OnPublished is an outbox relay hook, so it runs at least once per
// published event. Each notification's id is derived from (event id, user
// id), so running it again for the same event inserts nothing new: no
// duplicates, even after a crash between publishing and marking published.
// Each notification is stored with its own notification.created event, which
// the relay then publishes to its user (notification:new).
//
// What this package is not: it sends nothing itself and never talks to
// Redis; it only writes documents through the stores.
package notify

import (
	"context"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/event"
)

// Deriver turns events into notifications.
type Deriver struct {
	users *store.Users
	notes *store.Notifications
}

// New returns a Deriver writing through the given stores.
func New(users *store.Users, notes *store.Notifications) *Deriver {
	return &Deriver{users: users, notes: notes}
}

// note is one notification to create, before it is addressed.
type note struct {
	typ, title, message, priority string
	entityType                    string
	entityID                      string
}

// OnPublished is the relay hook (outbox.Hook). It creates the notifications
// env calls for; an error leaves the event pending and the hook is retried.
func (d *Deriver) OnPublished(ctx context.Context, env event.Envelope, p event.Payload) error {
	n, toAdmins, extra := derive(p)
	if n == nil {
		return nil
	}
	var recipients []primitive.ObjectID
	if toAdmins {
		admins, err := d.users.ActiveAdmins(ctx)
		if err != nil {
			return fmt.Errorf("notify: %w", err)
		}
		for _, a := range admins {
			recipients = append(recipients, a.ID)
		}
	}
	for _, e := range extra {
		if id, err := primitive.ObjectIDFromHex(e.user); err == nil {
			if err := d.create(ctx, env, id, e.note); err != nil {
				return err
			}
		}
	}
	for _, id := range recipients {
		if err := d.create(ctx, env, id, *n); err != nil {
			return err
		}
	}
	return nil
}

func (d *Deriver) create(ctx context.Context, env event.Envelope, user primitive.ObjectID, n note) error {
	doc := &store.Notification{
		ID: store.NotificationID(env.ID, env.At, user), User: user, Type: n.typ, Title: n.title,
		Message: n.message, Priority: n.priority, SourceEvent: env.ID, CreatedAt: env.At.UTC(),
		RelatedEntity: store.RelatedEntity{EntityType: n.entityType},
	}
	if id, err := primitive.ObjectIDFromHex(n.entityID); err == nil {
		doc.RelatedEntity.EntityID = &id
	}
	if _, err := d.notes.CreateNotification(ctx, doc); err != nil {
		return fmt.Errorf("notify user %s of event %s: %w", user.Hex(), env.ID, err)
	}
	return nil
}

// personal is a notification for one named user besides the admins.
type personal struct {
	user string
	note note
}

// derive says what an event notifies: the note for admins (nil: nothing),
// whether admins get it, and notes for specific users.
func derive(p event.Payload) (n *note, toAdmins bool, extra []personal) {
	switch d := p.(type) {
	case *event.OrderCreatedData:
		o := d.Order
		return &note{
			typ: store.NotifyOrder, priority: store.PriorityHigh, entityType: "order", entityID: o.OrderID,
			title:   "New Order Received",
			message: fmt.Sprintf("New order %s from %s - ₹%s", o.OrderNumber, o.Customer.Name, rupees(o.TotalAmount)),
		}, true, nil
	case *event.OrderStatusChangedData:
		if d.PreviousStatus == "" {
			return nil, false, nil // a payment-status update: the payment notifies
		}
		return &note{
			typ: store.NotifyOrder, priority: store.PriorityMedium, entityType: "order", entityID: d.OrderID,
			title:   "Order Status Updated",
			message: fmt.Sprintf("Order %s is now %s", d.OrderNumber, humanStatus(d.Status)),
		}, true, nil
	case *event.OrderCancelledData:
		msg := fmt.Sprintf("Order %s was cancelled", d.OrderNumber)
		if d.Reason != "" {
			msg += ": " + d.Reason
		}
		return &note{
			typ: store.NotifyOrder, priority: store.PriorityMedium, entityType: "order", entityID: d.OrderID,
			title: "Order Cancelled", message: msg,
		}, true, nil
	case *event.OrderAssignedData:
		o := d.Order
		agent := o.DeliveryAgent // Validate guarantees it
		admin := &note{
			typ: store.NotifyDelivery, priority: store.PriorityMedium, entityType: "order", entityID: o.OrderID,
			title:   "Delivery Agent Assigned",
			message: fmt.Sprintf("Order %s assigned to %s", o.OrderNumber, agent.Name),
		}
		forAgent := personal{user: agent.ID, note: note{
			typ: store.NotifyDelivery, priority: store.PriorityHigh, entityType: "order", entityID: o.OrderID,
			title:   "New Delivery Assigned",
			message: fmt.Sprintf("Order %s to %s, %s - ₹%s", o.OrderNumber, o.DeliveryAddress.Street, o.DeliveryAddress.City, rupees(o.TotalAmount)),
		}}
		return admin, true, []personal{forAgent}
	case *event.PaymentReceivedData:
		what := "Payment received"
		if d.PaymentStatus != "completed" {
			what = "Payment " + d.PaymentStatus
		}
		ref := d.OrderNumber
		if ref == "" {
			ref = d.OrderID
		}
		return &note{
			typ: store.NotifyPayment, priority: store.PriorityMedium, entityType: "payment", entityID: d.PaymentID,
			title:   what,
			message: fmt.Sprintf("%s: ₹%s (%s) for order %s", what, rupees(d.Amount), strings.ToUpper(d.PaymentMethod), ref),
		}, true, nil
	}
	return nil, false, nil
}

func rupees(v float64) string { return strings.TrimSuffix(fmt.Sprintf("%.2f", v), ".00") }

func humanStatus(s string) string { return strings.ReplaceAll(s, "_", " ") }
