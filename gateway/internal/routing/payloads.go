package routing

import (
	"cmp"

	"github.com/friendspizzahut/platform/shared/event"
)

// One struct per socket payload shape. Field names are CONTRACT.md's
// (§1.3, §2.5, §5) plus timestamp; the order rows the apps insert into
// their lists (order:new, full order:assigned) also carry the additive
// fields CONTRACT §5 recommends.

// UserRef is an order's customer as the admin list row reads it: user {_id, name, phone}.
type UserRef struct {
	ID    string `json:"_id"`
	Name  string `json:"name"`
	Phone string `json:"phone,omitempty"`
	Email string `json:"email,omitempty"`
}

// CustomerRef is an order's customer as the agent app reads it.
type CustomerRef struct {
	ID           string `json:"_id"`
	Name         string `json:"name"`
	Phone        string `json:"phone,omitempty"`
	Email        string `json:"email,omitempty"`
	ProfileImage string `json:"profileImage,omitempty"`
}

// AgentRef is an order's delivery agent: deliveryAgent {_id, name, phone}.
type AgentRef struct {
	ID            string `json:"_id"`
	Name          string `json:"name"`
	Phone         string `json:"phone,omitempty"`
	VehicleNumber string `json:"vehicleNumber,omitempty"`
}

// AgentName is the agent as the customer is told about it.
type AgentName struct {
	Name string `json:"name"`
}

// Item is an order line as stored, plus the flat name/price some readers
// fall back to (items[].name, items[].price).
type Item struct {
	event.OrderItem
	Name  string  `json:"name"`
	Price float64 `json:"price"`
}

// BusinessStatusUpdate is business:status:update.
type BusinessStatusUpdate struct {
	IsOpen       bool   `json:"isOpen"`
	BusinessName string `json:"businessName"`
	Message      string `json:"message"`
	Timestamp    string `json:"timestamp"`
}

// OrderNew is order:new: a whole order row for the admin list.
type OrderNew struct {
	OrderID               string        `json:"orderId"`
	MongoID               string        `json:"_id"`
	ID                    string        `json:"id"`
	OrderNumber           string        `json:"orderNumber"`
	CustomerID            string        `json:"customerId"`
	CustomerName          string        `json:"customerName"`
	User                  UserRef       `json:"user"`
	Items                 []Item        `json:"items"`
	Subtotal              float64       `json:"subtotal"`
	Tax                   float64       `json:"tax"`
	DeliveryFee           float64       `json:"deliveryFee"`
	Discount              float64       `json:"discount"`
	TotalAmount           float64       `json:"totalAmount"`
	DeliveryAddress       event.Address `json:"deliveryAddress"`
	ContactPhone          string        `json:"contactPhone,omitempty"`
	PaymentMethod         string        `json:"paymentMethod"`
	PaymentStatus         string        `json:"paymentStatus"`
	Status                string        `json:"status"`
	EstimatedDeliveryTime int           `json:"estimatedDeliveryTime"`
	CreatedAt             string        `json:"createdAt"`
	Message               string        `json:"message"`
	Timestamp             string        `json:"timestamp"`
}

// OrderStatusUpdate is order:status:update and order:status:changed.
type OrderStatusUpdate struct {
	OrderID               string              `json:"orderId"`
	OrderNumber           string              `json:"orderNumber"`
	Status                string              `json:"status"`
	PreviousStatus        string              `json:"previousStatus,omitempty"`
	PaymentStatus         string              `json:"paymentStatus,omitempty"`
	Message               string              `json:"message"`
	EstimatedDeliveryTime int                 `json:"estimatedDeliveryTime,omitempty"`
	DeliveryAgentDetails  *event.AgentDetails `json:"deliveryAgentDetails,omitempty"`
	Timestamp             string              `json:"timestamp"`
}

// OrderDelivered is order:delivered, to the agent who delivered.
type OrderDelivered struct {
	OrderID     string `json:"orderId"`
	OrderNumber string `json:"orderNumber"`
	Status      string `json:"status"`
	Message     string `json:"message"`
	Timestamp   string `json:"timestamp"`
}

// OrderAssigned is the full order:assigned: a whole order row for the
// assigned agent's list.
type OrderAssigned struct {
	OrderID               string              `json:"orderId"`
	MongoID               string              `json:"_id"`
	ID                    string              `json:"id"`
	OrderNumber           string              `json:"orderNumber"`
	Customer              CustomerRef         `json:"customer"`
	User                  UserRef             `json:"user"`
	CustomerName          string              `json:"customerName"`
	DeliveryAddress       event.Address       `json:"deliveryAddress"`
	ContactPhone          string              `json:"contactPhone,omitempty"`
	Items                 []Item              `json:"items"`
	Subtotal              float64             `json:"subtotal"`
	Tax                   float64             `json:"tax"`
	DeliveryFee           float64             `json:"deliveryFee"`
	Discount              float64             `json:"discount"`
	TotalAmount           float64             `json:"totalAmount"`
	Status                string              `json:"status"`
	AssignedAt            string              `json:"assignedAt"`
	PaymentMethod         string              `json:"paymentMethod"`
	PaymentStatus         string              `json:"paymentStatus"`
	EstimatedDeliveryTime int                 `json:"estimatedDeliveryTime"`
	CreatedAt             string              `json:"createdAt"`
	DeliveryAgent         AgentRef            `json:"deliveryAgent"`
	DeliveryAgentDetails  *event.AgentDetails `json:"deliveryAgentDetails,omitempty"`
	Message               string              `json:"message"`
	Timestamp             string              `json:"timestamp"`
}

// OrderAssignedShort is order:assigned as admins get it.
type OrderAssignedShort struct {
	OrderID              string              `json:"orderId"`
	OrderNumber          string              `json:"orderNumber"`
	Status               string              `json:"status"`
	DeliveryAgent        AgentRef            `json:"deliveryAgent"`
	DeliveryAgentDetails *event.AgentDetails `json:"deliveryAgentDetails,omitempty"`
	AssignedAt           string              `json:"assignedAt"`
	Message              string              `json:"message"`
	Timestamp            string              `json:"timestamp"`
}

// OrderDeliveryAssigned is order:delivery:assigned, to the customer.
type OrderDeliveryAssigned struct {
	OrderID       string    `json:"orderId"`
	OrderNumber   string    `json:"orderNumber"`
	DeliveryAgent AgentName `json:"deliveryAgent"`
	Message       string    `json:"message"`
	Timestamp     string    `json:"timestamp"`
}

// OrderCancelled is order:cancelled.
type OrderCancelled struct {
	OrderID     string `json:"orderId"`
	OrderNumber string `json:"orderNumber"`
	Status      string `json:"status"`
	Reason      string `json:"reason"`
	Message     string `json:"message"`
	Timestamp   string `json:"timestamp"`
}

// DeliveryStatusUpdate is delivery:status:update (the original's deliveryBoy* names).
type DeliveryStatusUpdate struct {
	DeliveryBoyID   string          `json:"deliveryBoyId"`
	DeliveryBoyName string          `json:"deliveryBoyName"`
	Status          string          `json:"status"`
	CurrentOrder    string          `json:"currentOrder,omitempty"`
	Location        *event.Location `json:"location,omitempty"`
	Message         string          `json:"message"`
	Timestamp       string          `json:"timestamp"`
}

// AgentStatusUpdate is delivery:agent:status:update.
type AgentStatusUpdate struct {
	DeliveryAgentID string            `json:"deliveryAgentId"`
	Name            string            `json:"name"`
	Email           string            `json:"email,omitempty"`
	Phone           string            `json:"phone,omitempty"`
	IsOnline        bool              `json:"isOnline"`
	State           string            `json:"state"`
	LastOnline      string            `json:"lastOnline,omitempty"`
	VehicleInfo     event.VehicleInfo `json:"vehicleInfo"`
	Rating          event.Rating      `json:"rating"`
	Message         string            `json:"message"`
	Timestamp       string            `json:"timestamp"`
}

// LocationUpdate is delivery:location:update.
type LocationUpdate struct {
	OrderID         string         `json:"orderId"`
	DeliveryBoyID   string         `json:"deliveryBoyId"`
	DeliveryBoyName string         `json:"deliveryBoyName,omitempty"`
	Location        event.Location `json:"location"`
	Speed           *float64       `json:"speed,omitempty"`
	Heading         *float64       `json:"heading,omitempty"`
	Accuracy        *float64       `json:"accuracy,omitempty"`
	Timestamp       string         `json:"timestamp"`
}

// PaymentUpdate is payment:received and payment:status:update. Status is
// the payment's status (the original read a missing field here).
type PaymentUpdate struct {
	OrderID       string  `json:"orderId"`
	PaymentID     string  `json:"paymentId"`
	TransactionID string  `json:"transactionId,omitempty"`
	Amount        float64 `json:"amount"`
	PaymentMethod string  `json:"paymentMethod"`
	Status        string  `json:"status"`
	Message       string  `json:"message"`
	Timestamp     string  `json:"timestamp"`
}

// NotificationNew is notification:new; the admin app stores it as a
// Notification, so it also carries _id, isRead and createdAt.
type NotificationNew struct {
	MongoID        string              `json:"_id"`
	NotificationID string              `json:"notificationId"`
	Type           string              `json:"type"`
	Title          string              `json:"title"`
	Message        string              `json:"message"`
	Priority       string              `json:"priority"`
	IsRead         bool                `json:"isRead"`
	RelatedEntity  event.RelatedEntity `json:"relatedEntity"`
	CreatedAt      string              `json:"createdAt"`
	Timestamp      string              `json:"timestamp"`
}

// OfferNew is offer:new.
type OfferNew struct {
	CouponID      string  `json:"couponId"`
	Code          string  `json:"code"`
	Description   string  `json:"description,omitempty"`
	DiscountType  string  `json:"discountType"`
	DiscountValue float64 `json:"discountValue"`
	ValidUntil    string  `json:"validUntil,omitempty"`
	Message       string  `json:"message"`
	Timestamp     string  `json:"timestamp"`
}

func (BusinessStatusUpdate) socketPayload()  {}
func (OrderNew) socketPayload()              {}
func (OrderStatusUpdate) socketPayload()     {}
func (OrderDelivered) socketPayload()        {}
func (OrderAssigned) socketPayload()         {}
func (OrderAssignedShort) socketPayload()    {}
func (OrderDeliveryAssigned) socketPayload() {}
func (OrderCancelled) socketPayload()        {}
func (DeliveryStatusUpdate) socketPayload()  {}
func (AgentStatusUpdate) socketPayload()     {}
func (LocationUpdate) socketPayload()        {}
func (PaymentUpdate) socketPayload()         {}
func (NotificationNew) socketPayload()       {}
func (OfferNew) socketPayload()              {}

// The mapping functions the matrix names.

func businessStatusUpdate(m Meta, d *event.BusinessStatus) BusinessStatusUpdate {
	msg := d.Message
	if msg == "" {
		msg = "We are closed right now"
		if d.IsOpen {
			msg = "We are open"
		}
	}
	return BusinessStatusUpdate{IsOpen: d.IsOpen, BusinessName: d.BusinessName, Message: msg, Timestamp: m.Timestamp}
}

func orderNew(m Meta, d *event.OrderCreatedData) OrderNew {
	o := &d.Order
	name := cmp.Or(o.Customer.Name, "Customer")
	return OrderNew{
		OrderID: o.OrderID, MongoID: o.OrderID, ID: o.OrderID, OrderNumber: o.OrderNumber,
		CustomerID: o.Customer.ID, CustomerName: name,
		User:  UserRef{ID: o.Customer.ID, Name: name, Phone: o.Customer.Phone, Email: o.Customer.Email},
		Items: items(o.Items), Subtotal: o.Subtotal, Tax: o.Tax, DeliveryFee: o.DeliveryFee, Discount: o.Discount,
		TotalAmount: o.TotalAmount, DeliveryAddress: o.DeliveryAddress, ContactPhone: o.ContactPhone,
		PaymentMethod: o.PaymentMethod, PaymentStatus: cmp.Or(o.PaymentStatus, "pending"), Status: o.Status,
		EstimatedDeliveryTime: o.EstimatedDeliveryTime, CreatedAt: cmp.Or(isoTime(o.CreatedAt), m.Timestamp),
		Message: "New order " + o.OrderNumber + " from " + name, Timestamp: m.Timestamp,
	}
}

func orderStatusUpdate(m Meta, d *event.OrderStatusChangedData) OrderStatusUpdate {
	return OrderStatusUpdate{
		OrderID: d.OrderID, OrderNumber: d.OrderNumber, Status: d.Status, PreviousStatus: d.PreviousStatus,
		PaymentStatus: d.PaymentStatus, Message: cmp.Or(d.Message, statusMessage(d.Status)),
		EstimatedDeliveryTime: d.EstimatedDeliveryTime, DeliveryAgentDetails: d.DeliveryAgentDetails, Timestamp: m.Timestamp,
	}
}

func orderDelivered(m Meta, d *event.OrderStatusChangedData) OrderDelivered {
	return OrderDelivered{OrderID: d.OrderID, OrderNumber: d.OrderNumber, Status: d.Status, Message: statusMessage(d.Status), Timestamp: m.Timestamp}
}

func orderAssignedFull(m Meta, d *event.OrderAssignedData) OrderAssigned {
	o := &d.Order
	name := cmp.Or(o.Customer.Name, "Customer")
	return OrderAssigned{
		OrderID: o.OrderID, MongoID: o.OrderID, ID: o.OrderID, OrderNumber: o.OrderNumber,
		Customer:     CustomerRef{ID: o.Customer.ID, Name: name, Phone: o.Customer.Phone, Email: o.Customer.Email, ProfileImage: o.Customer.ProfileImage},
		User:         UserRef{ID: o.Customer.ID, Name: name, Phone: o.Customer.Phone},
		CustomerName: name, DeliveryAddress: o.DeliveryAddress, ContactPhone: o.ContactPhone,
		Items: items(o.Items), Subtotal: o.Subtotal, Tax: o.Tax, DeliveryFee: o.DeliveryFee, Discount: o.Discount,
		TotalAmount: o.TotalAmount, Status: cmp.Or(o.Status, "assigned"), AssignedAt: assignedAt(m, d),
		// The agent app treats a missing paymentMethod as prepaid (CONTRACT §6.6): never omit it.
		PaymentMethod: cmp.Or(o.PaymentMethod, "cash"), PaymentStatus: cmp.Or(o.PaymentStatus, "pending"),
		EstimatedDeliveryTime: o.EstimatedDeliveryTime, CreatedAt: isoTime(o.CreatedAt),
		DeliveryAgent: agentRef(o), DeliveryAgentDetails: o.DeliveryAgentDetails,
		Message: "New delivery assigned: order " + o.OrderNumber, Timestamp: m.Timestamp,
	}
}

func orderAssignedShort(m Meta, d *event.OrderAssignedData) OrderAssignedShort {
	o := &d.Order
	agent := agentRef(o)
	return OrderAssignedShort{
		OrderID: o.OrderID, OrderNumber: o.OrderNumber, Status: cmp.Or(o.Status, "assigned"),
		DeliveryAgent: agent, DeliveryAgentDetails: o.DeliveryAgentDetails, AssignedAt: assignedAt(m, d),
		Message: "Order " + o.OrderNumber + " assigned to " + agent.Name, Timestamp: m.Timestamp,
	}
}

func orderDeliveryAssigned(m Meta, d *event.OrderAssignedData) OrderDeliveryAssigned {
	o := &d.Order
	agent := agentRef(o)
	return OrderDeliveryAssigned{
		OrderID: o.OrderID, OrderNumber: o.OrderNumber, DeliveryAgent: AgentName{Name: agent.Name},
		Message: agent.Name + " will deliver your order", Timestamp: m.Timestamp,
	}
}

func orderCancelled(m Meta, d *event.OrderCancelledData) OrderCancelled {
	return OrderCancelled{
		OrderID: d.OrderID, OrderNumber: d.OrderNumber, Status: "cancelled", Reason: d.Reason,
		Message: "Order " + d.OrderNumber + " has been cancelled", Timestamp: m.Timestamp,
	}
}

func deliveryStatusUpdate(m Meta, d *event.DeliveryStatus) DeliveryStatusUpdate {
	return DeliveryStatusUpdate{
		DeliveryBoyID: d.DeliveryAgentID, DeliveryBoyName: d.Name, Status: d.Status, CurrentOrder: d.CurrentOrderID,
		Location: d.Location, Message: d.Name + " is now " + d.Status, Timestamp: m.Timestamp,
	}
}

func agentStatusUpdate(m Meta, d *event.AgentStatus) AgentStatusUpdate {
	msg := d.Name + " is now offline"
	if d.IsOnline {
		msg = d.Name + " is now online"
	}
	return AgentStatusUpdate{
		DeliveryAgentID: d.DeliveryAgentID, Name: d.Name, Email: d.Email, Phone: d.Phone, IsOnline: d.IsOnline,
		State: d.State, LastOnline: isoTimePtr(d.LastOnline), VehicleInfo: d.VehicleInfo, Rating: d.Rating,
		Message: msg, Timestamp: m.Timestamp,
	}
}

func locationUpdate(m Meta, d *event.LocationReport) LocationUpdate {
	return LocationUpdate{
		OrderID: d.OrderID, DeliveryBoyID: d.DeliveryAgentID, DeliveryBoyName: d.DeliveryAgentName,
		Location: d.Location, Speed: d.Speed, Heading: d.Heading, Accuracy: d.Accuracy, Timestamp: m.Timestamp,
	}
}

func paymentUpdate(m Meta, d *event.PaymentReceivedData) PaymentUpdate {
	msg := "Payment status updated"
	switch d.PaymentStatus {
	case "completed":
		msg = "Payment received"
	case "failed":
		msg = "Payment failed"
	}
	return PaymentUpdate{
		OrderID: d.OrderID, PaymentID: d.PaymentID, TransactionID: d.TransactionID, Amount: d.Amount,
		PaymentMethod: d.PaymentMethod, Status: d.PaymentStatus, Message: msg, Timestamp: m.Timestamp,
	}
}

func notificationNew(m Meta, d *event.NotificationData) NotificationNew {
	return NotificationNew{
		MongoID: d.NotificationID, NotificationID: d.NotificationID, Type: d.Type, Title: d.Title,
		Message: d.Message, Priority: d.Priority, IsRead: d.IsRead, RelatedEntity: d.RelatedEntity,
		CreatedAt: cmp.Or(isoTime(d.CreatedAt), m.Timestamp), Timestamp: m.Timestamp,
	}
}

func offerNew(m Meta, d *event.OfferData) OfferNew {
	msg := "New offer: " + d.Code
	if d.Title != "" {
		msg = "New offer: " + d.Title
	}
	return OfferNew{
		CouponID: d.OfferID, Code: d.Code, Description: d.Description, DiscountType: d.DiscountType,
		DiscountValue: d.DiscountValue, ValidUntil: isoTimePtr(d.ValidUntil),
		Message: msg, Timestamp: m.Timestamp,
	}
}

func items(in []event.OrderItem) []Item {
	out := make([]Item, len(in))
	for i, it := range in {
		if it.CustomToppings == nil {
			it.CustomToppings = []event.Topping{} // readers iterate it; never send null
		}
		out[i] = Item{OrderItem: it, Name: it.ProductSnapshot.Name, Price: it.SelectedPrice}
	}
	return out
}

func agentRef(o *event.OrderSnapshot) AgentRef {
	var a AgentRef
	if o.DeliveryAgent != nil {
		a = AgentRef{ID: o.DeliveryAgent.ID, Name: o.DeliveryAgent.Name, Phone: o.DeliveryAgent.Phone}
	}
	if o.DeliveryAgentDetails != nil {
		a.Name = cmp.Or(a.Name, o.DeliveryAgentDetails.Name)
		a.Phone = cmp.Or(a.Phone, o.DeliveryAgentDetails.Phone)
		a.VehicleNumber = o.DeliveryAgentDetails.VehicleNumber
	}
	return a
}

func assignedAt(m Meta, d *event.OrderAssignedData) string {
	if !d.AssignedAt.IsZero() {
		return isoTime(d.AssignedAt)
	}
	if o := &d.Order; o.AssignedAt != nil {
		return isoTime(*o.AssignedAt)
	}
	return m.Timestamp
}

// statusMessage is the fixed text the original sent for each status.
func statusMessage(status string) string {
	switch status {
	case "pending":
		return "Your order has been placed"
	case "accepted":
		return "Your order has been accepted"
	case "assigned":
		return "A delivery agent has been assigned to your order"
	case "out_for_delivery":
		return "Your order is out for delivery"
	case "delivered":
		return "Your order has been delivered"
	case "cancelled":
		return "Your order has been cancelled"
	case "refunded":
		return "Your order has been refunded"
	}
	return "Order status updated"
}
