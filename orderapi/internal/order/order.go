package order

import (
	"crypto/rand"
	"math/big"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/friendspizzahut/platform/shared/apperr"
	"github.com/friendspizzahut/platform/shared/event"
)

// DefaultEstimatedDeliveryTime is the original's default, in minutes.
const DefaultEstimatedDeliveryTime = 30

// Order is one order. Fields have no omitempty where a write may need to
// clear them; see package store.
type Order struct {
	ID                    primitive.ObjectID  `bson:"_id"`
	OrderNumber           string              `bson:"orderNumber"`
	User                  primitive.ObjectID  `bson:"user"`
	Customer              Customer            `bson:"customer"` // additive: who the order is for, as it was placed
	Items                 []Item              `bson:"items"`
	Subtotal              float64             `bson:"subtotal"`
	Tax                   float64             `bson:"tax"`
	DeliveryFee           float64             `bson:"deliveryFee"`
	Discount              float64             `bson:"discount"`
	TotalAmount           float64             `bson:"totalAmount"`
	AppliedCoupon         *AppliedCoupon      `bson:"appliedCoupon"`
	AppliedOffer          *AppliedOffer       `bson:"appliedOffer"`
	Status                Status              `bson:"status"`
	StatusHistory         []StatusEntry       `bson:"statusHistory"`
	AcceptedAt            *time.Time          `bson:"acceptedAt"`
	ReadyAt               *time.Time          `bson:"readyAt"`
	AssignedAt            *time.Time          `bson:"assignedAt"`
	PickedUpAt            *time.Time          `bson:"pickedUpAt"`
	DeliveredAt           *time.Time          `bson:"deliveredAt"`
	CancelledAt           *time.Time          `bson:"cancelledAt"`
	CancellationReason    *string             `bson:"cancellationReason"`
	CancelledBy           *string             `bson:"cancelledBy"`
	DeliveryAgent         *primitive.ObjectID `bson:"deliveryAgent"`
	DeliveryAgentDetails  *AgentDetails       `bson:"deliveryAgentDetails"`
	PaymentStatus         string              `bson:"paymentStatus"`
	PaymentMethod         string              `bson:"paymentMethod"`
	DeliveryAddress       Address             `bson:"deliveryAddress"`
	ContactPhone          string              `bson:"contactPhone"`
	OrderInstructions     string              `bson:"orderInstructions"`
	EstimatedDeliveryTime int                 `bson:"estimatedDeliveryTime"`
	CreatedAt             time.Time           `bson:"createdAt"`
	UpdatedAt             time.Time           `bson:"updatedAt"`

	events []event.Payload // recorded by the methods below, written by the store
}

// Customer is the order's copy of its customer, so that events and lists
// need no second lookup (FerretDB has no $lookup).
type Customer struct {
	Name         string `bson:"name"`
	Email        string `bson:"email"`
	Phone        string `bson:"phone"`
	ProfileImage string `bson:"profileImage"`
}

// Item is one line of an order.
type Item struct {
	Product             primitive.ObjectID `bson:"product"`
	ProductSnapshot     ProductSnapshot    `bson:"productSnapshot"`
	Quantity            int                `bson:"quantity"`
	Size                string             `bson:"size,omitempty"`
	SelectedPrice       float64            `bson:"selectedPrice"`
	CustomToppings      []Topping          `bson:"customToppings"`
	SpecialInstructions string             `bson:"specialInstructions,omitempty"`
	Subtotal            float64            `bson:"subtotal"`
}

// ProductSnapshot is the product as it was when ordered.
type ProductSnapshot struct {
	Name      string  `bson:"name"`
	ImageURL  string  `bson:"imageUrl"`
	BasePrice float64 `bson:"basePrice"`
	Category  string  `bson:"category"`
}

// Topping is a custom topping.
type Topping struct {
	Name     string  `bson:"name" json:"name"`
	Category string  `bson:"category" json:"category"`
	Price    float64 `bson:"price" json:"price"`
}

// AppliedCoupon is the coupon code used, if any.
type AppliedCoupon struct {
	Code           string  `bson:"code"`
	DiscountAmount float64 `bson:"discountAmount"`
}

// AppliedOffer is the offer that gave the discount, if any.
type AppliedOffer struct {
	OfferID        primitive.ObjectID `bson:"offerId"`
	Code           string             `bson:"code"`
	Title          string             `bson:"title"`
	DiscountType   string             `bson:"discountType"`
	DiscountValue  float64            `bson:"discountValue"`
	DiscountAmount float64            `bson:"discountAmount"`
}

// StatusEntry is one step of the status history.
type StatusEntry struct {
	ID        primitive.ObjectID `bson:"_id"`
	Status    Status             `bson:"status"`
	Timestamp time.Time          `bson:"timestamp"`
	Note      string             `bson:"note"`
}

// AgentDetails is the order's copy of its agent.
type AgentDetails struct {
	Name          string `bson:"name"`
	Phone         string `bson:"phone"`
	VehicleNumber string `bson:"vehicleNumber"`
}

// Address is a delivery address.
type Address struct {
	Street       string `bson:"street"`
	City         string `bson:"city"`
	State        string `bson:"state"`
	Pincode      string `bson:"pincode"`
	Instructions string `bson:"instructions"`
	// Location is the drop point, when the client sent one (additive: the
	// original stored none). The admin board's live map draws it.
	Location *GeoPoint `bson:"location,omitempty"`
}

// GeoPoint is a WGS84 position.
type GeoPoint struct {
	Latitude  float64 `bson:"latitude" json:"latitude"`
	Longitude float64 `bson:"longitude" json:"longitude"`
}

// Agent is what an assignment needs to know about the agent.
type Agent struct {
	ID            primitive.ObjectID
	Name          string
	Phone         string
	Email         string
	ProfileImage  string
	VehicleNumber string
}

// Draft is what New needs: everything priced and checked already.
type Draft struct {
	ID                primitive.ObjectID // zero: a new id
	User              primitive.ObjectID
	Customer          Customer
	Items             []Item
	Subtotal          float64
	Tax               float64
	DeliveryFee       float64
	Discount          float64
	TotalAmount       float64
	AppliedCoupon     *AppliedCoupon
	AppliedOffer      *AppliedOffer
	PaymentMethod     string
	DeliveryAddress   Address
	ContactPhone      string
	OrderInstructions string
}

// New returns a pending order made from d at time at, with order.created
// recorded.
func New(d Draft, at time.Time) *Order {
	id := d.ID
	if id.IsZero() {
		id = primitive.NewObjectID()
	}
	o := &Order{
		ID:                    id,
		OrderNumber:           NewOrderNumber(at),
		User:                  d.User,
		Customer:              d.Customer,
		Items:                 d.Items,
		Subtotal:              d.Subtotal,
		Tax:                   d.Tax,
		DeliveryFee:           d.DeliveryFee,
		Discount:              d.Discount,
		TotalAmount:           d.TotalAmount,
		AppliedCoupon:         d.AppliedCoupon,
		AppliedOffer:          d.AppliedOffer,
		Status:                Pending,
		PaymentStatus:         PaymentPending,
		PaymentMethod:         d.PaymentMethod,
		DeliveryAddress:       d.DeliveryAddress,
		ContactPhone:          d.ContactPhone,
		OrderInstructions:     d.OrderInstructions,
		EstimatedDeliveryTime: DefaultEstimatedDeliveryTime,
		CreatedAt:             at,
		UpdatedAt:             at,
	}
	if o.PaymentMethod == "" {
		o.PaymentMethod = "cash"
	}
	o.history(Pending, at, "Order placed")
	o.record(&event.OrderCreatedData{Order: o.Snapshot()})
	return o
}

// NewOrderNumber returns "ORD-<ms in base 36>-<4 random base-36 chars>",
// upper case, like the original.
func NewOrderNumber(at time.Time) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var b strings.Builder
	b.WriteString("ORD-")
	b.WriteString(strings.ToUpper(strconv.FormatInt(at.UnixMilli(), 36)))
	b.WriteByte('-')
	for range 4 {
		n, err := rand.Int(rand.Reader, big.NewInt(36))
		if err != nil {
			panic("crypto/rand failed: " + err.Error()) // never on supported platforms
		}
		b.WriteByte(digits[n.Int64()])
	}
	return b.String()
}

// Take returns the events recorded since the last Take and forgets them.
// The store calls it to write them with the change.
func (o *Order) Take() []event.Payload {
	evs := o.events
	o.events = nil
	return evs
}

func (o *Order) record(p event.Payload) { o.events = append(o.events, p) }

func (o *Order) history(s Status, at time.Time, note string) {
	o.StatusHistory = append(o.StatusHistory, StatusEntry{ID: primitive.NewObjectID(), Status: s, Timestamp: at, Note: note})
}

// Accept moves a pending order to accepted.
func (o *Order) Accept(at time.Time) error {
	if o.Status != Pending {
		return apperr.Invalidf("Cannot accept order with status: %s", o.Status)
	}
	o.AcceptedAt = &at
	o.moveTo(Accepted, at, "Order accepted by restaurant")
	return nil
}

// MarkReady moves an accepted or preparing order to ready.
func (o *Order) MarkReady(at time.Time) error {
	if o.Status != Accepted && o.Status != Preparing {
		return apperr.Invalidf("Cannot mark order as ready with status: %s", o.Status)
	}
	o.ReadyAt = &at
	o.moveTo(Ready, at, "Order is ready")
	return nil
}

// Reject cancels an order that is not final yet, storing the reason.
func (o *Order) Reject(reason, byRole string, at time.Time) error {
	if o.Status.IsFinal() {
		return apperr.Invalidf("Cannot reject order with status: %s", o.Status)
	}
	o.cancel(reason, byRole, at)
	return nil
}

func (o *Order) cancel(reason, byRole string, at time.Time) {
	prev := o.Status
	if reason == "" {
		reason = "Cancelled by " + byRole
	}
	o.CancellationReason = &reason
	o.CancelledBy = &byRole
	o.CancelledAt = &at
	o.Status = Cancelled
	o.UpdatedAt = at
	o.history(Cancelled, at, reason)
	o.record(&event.OrderCancelledData{
		OrderID: o.ID.Hex(), OrderNumber: o.OrderNumber, CustomerID: o.User.Hex(),
		DeliveryAgentID: o.agentID(), PreviousStatus: string(prev), Reason: reason, CancelledBy: byRole,
	})
}

// Assign gives an accepted, preparing or ready order to agent.
func (o *Order) Assign(agent Agent, at time.Time) error {
	if o.Status != Accepted && o.Status != Preparing && o.Status != Ready {
		return apperr.Invalidf("Order must be accepted before assigning delivery agent")
	}
	id := agent.ID
	o.DeliveryAgent = &id
	vehicle := agent.VehicleNumber
	if vehicle == "" {
		vehicle = "N/A"
	}
	o.DeliveryAgentDetails = &AgentDetails{Name: agent.Name, Phone: agent.Phone, VehicleNumber: vehicle}
	o.AssignedAt = &at
	o.Status = Assigned
	o.UpdatedAt = at
	o.history(Assigned, at, "Assigned to delivery agent "+agent.Name)
	snap := o.Snapshot()
	snap.DeliveryAgent = &event.Party{ID: id.Hex(), Name: agent.Name, Phone: agent.Phone, Email: agent.Email, ProfileImage: agent.ProfileImage}
	o.record(&event.OrderAssignedData{Order: snap, AssignedAt: at})
	return nil
}

// SetStatus is PATCH /orders/:id/status: actor moves the order to to, and
// optionally sets the payment status. Repeating the current status is
// allowed (it is how an agent records a COD collection); it records an
// event only when the payment status changes.
func (o *Order) SetStatus(actor Actor, to Status, paymentStatus, reason string, at time.Time) error {
	if err := AuthorizeStatusChange(actor, o, to); err != nil {
		return err
	}
	if !CanTransition(o.Status, to) {
		return apperr.Invalidf("Cannot change order status from %s to %s", o.Status, to)
	}
	if to == Assigned && o.Status != Assigned {
		return apperr.Invalidf("Use PATCH /orders/:id/assign-delivery to assign a delivery agent")
	}
	if paymentStatus != "" && !ValidPaymentStatus(paymentStatus) {
		return apperr.Invalidf("Invalid payment status: %s", paymentStatus)
	}
	paymentChanged := paymentStatus != "" && paymentStatus != o.PaymentStatus
	if paymentChanged {
		o.PaymentStatus = paymentStatus
	}
	switch {
	case to == o.Status:
		if paymentChanged {
			o.UpdatedAt = at
			o.history(to, at, "Payment status: "+paymentStatus)
			o.recordStatus(o.Status)
		}
	case to == Cancelled:
		o.cancel(reason, actor.Role, at)
	default:
		switch to {
		case Delivered:
			o.DeliveredAt = &at
		case OutForDelivery:
			o.PickedUpAt = &at
		case Ready:
			o.ReadyAt = &at
		case Accepted:
			o.AcceptedAt = &at
		}
		o.moveTo(to, at, "")
	}
	return nil
}

func (o *Order) moveTo(to Status, at time.Time, note string) {
	prev := o.Status
	o.Status = to
	o.UpdatedAt = at
	o.history(to, at, note)
	o.recordStatus(prev)
}

func (o *Order) recordStatus(prev Status) {
	p := &event.OrderStatusChangedData{
		OrderID: o.ID.Hex(), OrderNumber: o.OrderNumber, CustomerID: o.User.Hex(),
		DeliveryAgentID: o.agentID(), Status: string(o.Status), PaymentStatus: o.PaymentStatus,
		EstimatedDeliveryTime: o.EstimatedDeliveryTime, Message: o.Status.Message(),
	}
	if prev != o.Status {
		p.PreviousStatus = string(prev)
	}
	if d := o.DeliveryAgentDetails; d != nil {
		p.DeliveryAgentDetails = &event.AgentDetails{Name: d.Name, Phone: d.Phone, VehicleNumber: d.VehicleNumber}
	}
	o.record(p)
}

func (o *Order) agentID() string {
	if o.DeliveryAgent == nil {
		return ""
	}
	return o.DeliveryAgent.Hex()
}

// IsParty reports whether the user id (hex) is the order's customer or its
// assigned agent.
func (o *Order) IsParty(userID string) bool {
	return o.User.Hex() == userID || o.agentID() == userID
}

// Snapshot is the order as event payloads carry it.
func (o *Order) Snapshot() event.OrderSnapshot {
	s := event.OrderSnapshot{
		OrderID:     o.ID.Hex(),
		OrderNumber: o.OrderNumber,
		Customer: event.Party{ID: o.User.Hex(), Name: o.Customer.Name, Phone: o.Customer.Phone,
			Email: o.Customer.Email, ProfileImage: o.Customer.ProfileImage},
		Subtotal: o.Subtotal, Tax: o.Tax, DeliveryFee: o.DeliveryFee, Discount: o.Discount, TotalAmount: o.TotalAmount,
		DeliveryAddress: event.Address{Street: o.DeliveryAddress.Street, City: o.DeliveryAddress.City,
			State: o.DeliveryAddress.State, Pincode: o.DeliveryAddress.Pincode, Instructions: o.DeliveryAddress.Instructions},
		ContactPhone: o.ContactPhone, PaymentMethod: o.PaymentMethod, PaymentStatus: o.PaymentStatus,
		Status: string(o.Status), EstimatedDeliveryTime: o.EstimatedDeliveryTime, CreatedAt: o.CreatedAt,
		AssignedAt: o.AssignedAt,
	}
	if s.Customer.Name == "" {
		s.Customer.Name = "Customer"
	}
	for _, it := range o.Items {
		s.Items = append(s.Items, event.OrderItem{
			Product: &event.ProductRef{ID: it.Product.Hex(), Name: it.ProductSnapshot.Name,
				ImageURL: it.ProductSnapshot.ImageURL, Category: it.ProductSnapshot.Category, Price: it.SelectedPrice},
			ProductSnapshot: event.ProductSnapshot{Name: it.ProductSnapshot.Name, ImageURL: it.ProductSnapshot.ImageURL,
				BasePrice: it.ProductSnapshot.BasePrice, Category: it.ProductSnapshot.Category},
			Quantity: it.Quantity, Size: it.Size, SelectedPrice: it.SelectedPrice,
			CustomToppings: toppings(it.CustomToppings), SpecialInstructions: it.SpecialInstructions, Subtotal: it.Subtotal,
		})
	}
	if d := o.DeliveryAgentDetails; d != nil {
		s.DeliveryAgentDetails = &event.AgentDetails{Name: d.Name, Phone: d.Phone, VehicleNumber: d.VehicleNumber}
		if o.DeliveryAgent != nil {
			s.DeliveryAgent = &event.Party{ID: o.DeliveryAgent.Hex(), Name: d.Name, Phone: d.Phone}
		}
	}
	return s
}

func toppings(ts []Topping) []event.Topping {
	out := make([]event.Topping, 0, len(ts))
	for _, t := range ts {
		out = append(out, event.Topping{Name: t.Name, Category: t.Category, Price: t.Price})
	}
	return out
}
