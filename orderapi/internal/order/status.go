// Package order is the order aggregate: its fields, its statuses and the one
// state machine that says which transitions are allowed and who may make
// them. It is pure Go: no I/O. The bson tags describe the stored shape (the
// original backend's Mongoose model plus a few additive fields); the store
// persists an Order with the events its methods recorded (see Take).
package order

import (
	"github.com/friendspizzahut/platform/shared/apperr"
	"github.com/friendspizzahut/platform/shared/auth"
)

// Status is an order's status.
type Status string

// The statuses. Preparing and ready were referenced but missing from the
// original's enum; here they are real, optional steps.
const (
	Pending        Status = "pending"
	Accepted       Status = "accepted"
	Preparing      Status = "preparing"
	Ready          Status = "ready"
	Assigned       Status = "assigned"
	OutForDelivery Status = "out_for_delivery"
	Delivered      Status = "delivered"
	Cancelled      Status = "cancelled"
	Refunded       Status = "refunded"
)

// Statuses lists every status in lifecycle order.
func Statuses() []Status {
	return []Status{Pending, Accepted, Preparing, Ready, Assigned, OutForDelivery, Delivered, Cancelled, Refunded}
}

// ParseStatus returns the status named s, or false.
func ParseStatus(s string) (Status, bool) {
	for _, st := range Statuses() {
		if string(st) == s {
			return st, true
		}
	}
	return "", false
}

// next lists the statuses each status may move to (besides itself, which
// is always allowed so that the payment status can change alone).
// Preparing and ready may be skipped; assigning is allowed from accepted,
// preparing or ready; any non-final status may be cancelled.
var next = map[Status][]Status{
	Pending:        {Accepted, Cancelled},
	Accepted:       {Preparing, Ready, Assigned, Cancelled},
	Preparing:      {Ready, Assigned, Cancelled},
	Ready:          {Assigned, Cancelled},
	Assigned:       {OutForDelivery, Cancelled},
	OutForDelivery: {Delivered, Cancelled},
	Delivered:      {Refunded},
	Cancelled:      {Refunded},
	Refunded:       {},
}

// CanTransition reports whether an order in status from may move to to.
func CanTransition(from, to Status) bool {
	if from == to {
		return true
	}
	for _, s := range next[from] {
		if s == to {
			return true
		}
	}
	return false
}

// IsFinal reports whether s ends the order's life (delivered, cancelled or
// refunded).
func (s Status) IsFinal() bool { return s == Delivered || s == Cancelled || s == Refunded }

// IsActive reports whether the order is still under way.
func (s Status) IsActive() bool { return !s.IsFinal() }

// IsWithAgent reports whether an agent holds the order (assigned or out
// for delivery).
func (s Status) IsWithAgent() bool { return s == Assigned || s == OutForDelivery }

// Display is the text the customer app shows for s (my-orders).
func (s Status) Display() string {
	switch s {
	case Pending:
		return "Order Placed"
	case Accepted:
		return "Accepted"
	case Preparing:
		return "Preparing"
	case Ready:
		return "Ready"
	case Assigned:
		return "Agent Assigned"
	case OutForDelivery:
		return "Out for Delivery"
	case Delivered:
		return "Delivered"
	case Cancelled:
		return "Cancelled"
	case Refunded:
		return "Refunded"
	}
	return string(s)
}

// Type is my-orders' statusType: active, cancelled or completed.
func (s Status) Type() string {
	switch {
	case s == Cancelled:
		return "cancelled"
	case s.IsActive():
		return "active"
	}
	return "completed"
}

// Message is the fixed text sent with a status change.
func (s Status) Message() string {
	switch s {
	case Pending:
		return "Your order has been placed"
	case Accepted:
		return "Your order has been accepted and will be prepared soon"
	case Preparing:
		return "Your order is being prepared"
	case Ready:
		return "Your order is ready"
	case Assigned:
		return "A delivery agent has been assigned to your order"
	case OutForDelivery:
		return "Your order is out for delivery"
	case Delivered:
		return "Your order has been delivered. Enjoy your meal!"
	case Cancelled:
		return "Your order has been cancelled"
	case Refunded:
		return "Your order has been refunded"
	}
	return "Order status updated"
}

// Actor is who asks for a change: a user id (hex) and a role.
type Actor struct {
	ID   string
	Role string
}

// Payment statuses.
const (
	PaymentPending   = "pending"
	PaymentCompleted = "completed"
	PaymentFailed    = "failed"
)

// ValidPaymentStatus reports whether s is a payment status.
func ValidPaymentStatus(s string) bool {
	return s == PaymentPending || s == PaymentCompleted || s == PaymentFailed
}

// AuthorizeStatusChange says whether actor may move o to status to through
// PATCH /orders/:id/status, before the state machine is asked:
//   - admins may make any allowed transition;
//   - agents only on orders assigned to them: pick up, deliver, or repeat
//     the current status (payment collection);
//   - customers only cancel their own pending orders.
func AuthorizeStatusChange(actor Actor, o *Order, to Status) error {
	switch actor.Role {
	case auth.RoleAdmin:
		return nil
	case auth.RoleDelivery:
		if o.DeliveryAgent == nil || o.DeliveryAgent.Hex() != actor.ID {
			return apperr.Forbiddenf("Not authorized to update this order")
		}
		if to == o.Status || to == OutForDelivery || to == Delivered {
			return nil
		}
		return apperr.Forbiddenf("Delivery agents can only mark orders as out_for_delivery or delivered")
	case auth.RoleCustomer:
		if o.User.Hex() != actor.ID {
			return apperr.Forbiddenf("Not authorized to update this order")
		}
		if to == Cancelled && o.Status == Pending {
			return nil
		}
		if to == Cancelled {
			return apperr.Invalidf("Only pending orders can be cancelled. Current status: %s", o.Status)
		}
		return apperr.Forbiddenf("Customers can only cancel their own pending orders")
	}
	return apperr.Forbiddenf("Not authorized to update this order")
}
