package event

import (
	"errors"
	"time"
)

// Address is a delivery address as the apps show it.
type Address struct {
	Street       string `json:"street"`
	City         string `json:"city"`
	State        string `json:"state"`
	Pincode      string `json:"pincode"`
	Instructions string `json:"instructions,omitempty"`
}

// Party is a person involved in an order: its customer or its agent.
type Party struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Phone        string `json:"phone,omitempty"`
	Email        string `json:"email,omitempty"`
	ProfileImage string `json:"profileImage,omitempty"`
}

// AgentDetails is the order's copy of its agent (deliveryAgentDetails).
type AgentDetails struct {
	Name          string `json:"name"`
	Phone         string `json:"phone"`
	VehicleNumber string `json:"vehicleNumber"`
}

// Topping is a custom topping on an order item.
type Topping struct {
	Name     string  `json:"name"`
	Category string  `json:"category,omitempty"`
	Price    float64 `json:"price"`
}

// ProductSnapshot is the product as it was when ordered.
type ProductSnapshot struct {
	Name      string  `json:"name"`
	ImageURL  string  `json:"imageUrl,omitempty"`
	BasePrice float64 `json:"basePrice"`
	Category  string  `json:"category,omitempty"`
}

// ProductRef is the populated product of an order item.
type ProductRef struct {
	ID       string  `json:"_id"`
	Name     string  `json:"name"`
	ImageURL string  `json:"imageUrl,omitempty"`
	Category string  `json:"category,omitempty"`
	Price    float64 `json:"price,omitempty"`
}

// OrderItem is one line of an order.
type OrderItem struct {
	Product             *ProductRef     `json:"product,omitempty"`
	ProductSnapshot     ProductSnapshot `json:"productSnapshot"`
	Quantity            int             `json:"quantity"`
	Size                string          `json:"size,omitempty"`
	SelectedPrice       float64         `json:"selectedPrice"`
	CustomToppings      []Topping       `json:"customToppings"`
	SpecialInstructions string          `json:"specialInstructions,omitempty"`
	Subtotal            float64         `json:"subtotal"`
}

// OrderSnapshot is an order as the apps insert it as a list row.
type OrderSnapshot struct {
	OrderID               string        `json:"orderId"`
	OrderNumber           string        `json:"orderNumber"`
	Customer              Party         `json:"customer"`
	Items                 []OrderItem   `json:"items"`
	Subtotal              float64       `json:"subtotal"`
	Tax                   float64       `json:"tax"`
	DeliveryFee           float64       `json:"deliveryFee"`
	Discount              float64       `json:"discount"`
	TotalAmount           float64       `json:"totalAmount"`
	DeliveryAddress       Address       `json:"deliveryAddress"`
	ContactPhone          string        `json:"contactPhone,omitempty"`
	PaymentMethod         string        `json:"paymentMethod"`
	PaymentStatus         string        `json:"paymentStatus"`
	Status                string        `json:"status"`
	EstimatedDeliveryTime int           `json:"estimatedDeliveryTime"`
	CreatedAt             time.Time     `json:"createdAt"`
	DeliveryAgent         *Party        `json:"deliveryAgent,omitempty"`
	DeliveryAgentDetails  *AgentDetails `json:"deliveryAgentDetails,omitempty"`
	AssignedAt            *time.Time    `json:"assignedAt,omitempty"`
}

func (o *OrderSnapshot) validate() error {
	return require("orderId", o.OrderID, "orderNumber", o.OrderNumber, "customer.id", o.Customer.ID, "status", o.Status)
}

func (o *OrderSnapshot) parties() Parties {
	p := Parties{OrderID: o.OrderID, CustomerID: o.Customer.ID}
	if o.DeliveryAgent != nil {
		p.AgentID = o.DeliveryAgent.ID
	}
	return p
}

// BusinessStatus: the shop opened or closed (business.status_changed).
type BusinessStatus struct {
	IsOpen       bool   `json:"isOpen"`
	BusinessName string `json:"businessName"`
	Message      string `json:"message,omitempty"`
}

func (*BusinessStatus) EventType() Type  { return BusinessStatusChanged }
func (*BusinessStatus) Validate() error  { return nil }
func (*BusinessStatus) Parties() Parties { return Parties{} }

// OrderCreatedData: a customer placed an order (order.created).
type OrderCreatedData struct {
	Order OrderSnapshot `json:"order"`
}

func (*OrderCreatedData) EventType() Type    { return OrderCreated }
func (d *OrderCreatedData) Validate() error  { return d.Order.validate() }
func (d *OrderCreatedData) Parties() Parties { return d.Order.parties() }

// OrderStatusChangedData: an order moved to a new status, or its payment
// status changed while the status stayed (order.status_changed).
type OrderStatusChangedData struct {
	OrderID               string        `json:"orderId"`
	OrderNumber           string        `json:"orderNumber"`
	CustomerID            string        `json:"customerId"`
	DeliveryAgentID       string        `json:"deliveryAgentId,omitempty"`
	Status                string        `json:"status"`
	PreviousStatus        string        `json:"previousStatus,omitempty"`
	PaymentStatus         string        `json:"paymentStatus,omitempty"`
	EstimatedDeliveryTime int           `json:"estimatedDeliveryTime,omitempty"`
	DeliveryAgentDetails  *AgentDetails `json:"deliveryAgentDetails,omitempty"`
	Message               string        `json:"message,omitempty"`
}

func (*OrderStatusChangedData) EventType() Type { return OrderStatusChanged }
func (d *OrderStatusChangedData) Validate() error {
	return require("orderId", d.OrderID, "customerId", d.CustomerID, "status", d.Status)
}
func (d *OrderStatusChangedData) Parties() Parties {
	return Parties{OrderID: d.OrderID, CustomerID: d.CustomerID, AgentID: d.DeliveryAgentID}
}

// OrderAssignedData: an admin assigned a delivery agent (order.assigned).
// Order.DeliveryAgent is the assigned agent.
type OrderAssignedData struct {
	Order      OrderSnapshot `json:"order"`
	AssignedAt time.Time     `json:"assignedAt"`
}

func (*OrderAssignedData) EventType() Type { return OrderAssigned }
func (d *OrderAssignedData) Validate() error {
	if err := d.Order.validate(); err != nil {
		return err
	}
	if d.Order.DeliveryAgent == nil || d.Order.DeliveryAgent.ID == "" {
		return errors.New("missing order.deliveryAgent.id")
	}
	return nil
}
func (d *OrderAssignedData) Parties() Parties { return d.Order.parties() }

// OrderCancelledData: an order was cancelled or rejected (order.cancelled).
type OrderCancelledData struct {
	OrderID         string `json:"orderId"`
	OrderNumber     string `json:"orderNumber"`
	CustomerID      string `json:"customerId"`
	DeliveryAgentID string `json:"deliveryAgentId,omitempty"`
	PreviousStatus  string `json:"previousStatus,omitempty"`
	Reason          string `json:"reason,omitempty"`
	CancelledBy     string `json:"cancelledBy,omitempty"` // role of whoever cancelled
}

func (*OrderCancelledData) EventType() Type { return OrderCancelled }
func (d *OrderCancelledData) Validate() error {
	return require("orderId", d.OrderID, "customerId", d.CustomerID)
}
func (d *OrderCancelledData) Parties() Parties {
	return Parties{OrderID: d.OrderID, CustomerID: d.CustomerID, AgentID: d.DeliveryAgentID}
}

// VehicleInfo describes an agent's vehicle.
type VehicleInfo struct {
	Type   string `json:"type,omitempty"`
	Number string `json:"number,omitempty"`
	Model  string `json:"model,omitempty"`
}

// Rating is an average over a count of ratings.
type Rating struct {
	Average float64 `json:"average"`
	Count   int     `json:"count"`
}

// AgentStatus: an agent went online or offline, or became busy or free
// (delivery.agent_status_changed).
type AgentStatus struct {
	DeliveryAgentID string      `json:"deliveryAgentId"`
	Name            string      `json:"name"`
	Email           string      `json:"email,omitempty"`
	Phone           string      `json:"phone,omitempty"`
	IsOnline        bool        `json:"isOnline"`
	State           string      `json:"state"` // free, busy or offline
	LastOnline      *time.Time  `json:"lastOnline,omitempty"`
	VehicleInfo     VehicleInfo `json:"vehicleInfo"`
	Rating          Rating      `json:"rating"`
}

func (*AgentStatus) EventType() Type { return DeliveryAgentStatusChanged }
func (d *AgentStatus) Validate() error {
	return require("deliveryAgentId", d.DeliveryAgentID, "state", d.State)
}
func (d *AgentStatus) Parties() Parties { return Parties{AgentID: d.DeliveryAgentID} }

// Location is a point on the map.
type Location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
}

// DeliveryStatus: an agent's delivery status changed, for the admin board
// (delivery.status_changed).
type DeliveryStatus struct {
	DeliveryAgentID string    `json:"deliveryAgentId"`
	Name            string    `json:"name"`
	Status          string    `json:"status"`
	CurrentOrderID  string    `json:"currentOrderId,omitempty"`
	Location        *Location `json:"location,omitempty"`
}

func (*DeliveryStatus) EventType() Type { return DeliveryStatusChanged }
func (d *DeliveryStatus) Validate() error {
	return require("deliveryAgentId", d.DeliveryAgentID, "status", d.Status)
}
func (d *DeliveryStatus) Parties() Parties {
	return Parties{OrderID: d.CurrentOrderID, AgentID: d.DeliveryAgentID}
}

// LocationReport: the assigned agent reported a position for an order
// (delivery.location_reported). Published by the gateway.
type LocationReport struct {
	OrderID           string    `json:"orderId"`
	CustomerID        string    `json:"customerId"`
	DeliveryAgentID   string    `json:"deliveryAgentId"`
	DeliveryAgentName string    `json:"deliveryAgentName,omitempty"`
	Location          Location  `json:"location"`
	Speed             *float64  `json:"speed,omitempty"`
	Heading           *float64  `json:"heading,omitempty"`
	Accuracy          *float64  `json:"accuracy,omitempty"`
	ReportedAt        time.Time `json:"reportedAt"`
}

func (*LocationReport) EventType() Type { return DeliveryLocationReported }
func (d *LocationReport) Validate() error {
	if err := require("orderId", d.OrderID, "customerId", d.CustomerID, "deliveryAgentId", d.DeliveryAgentID); err != nil {
		return err
	}
	if !ValidCoordinates(d.Location.Latitude, d.Location.Longitude) {
		return errors.New("coordinates out of range")
	}
	return nil
}
func (d *LocationReport) Parties() Parties {
	return Parties{OrderID: d.OrderID, CustomerID: d.CustomerID, AgentID: d.DeliveryAgentID}
}

// ValidCoordinates reports whether lat/lng are a real position.
func ValidCoordinates(lat, lng float64) bool {
	return lat >= -90 && lat <= 90 && lng >= -180 && lng <= 180 && lat == lat && lng == lng
}

// PaymentReceivedData: a payment was recorded (payment.received).
type PaymentReceivedData struct {
	PaymentID        string  `json:"paymentId"`
	OrderID          string  `json:"orderId"`
	OrderNumber      string  `json:"orderNumber,omitempty"`
	CustomerID       string  `json:"customerId"`
	CollectedBy      string  `json:"collectedBy,omitempty"` // the agent who collected cash
	Amount           float64 `json:"amount"`
	PaymentMethod    string  `json:"paymentMethod"`
	PaymentStatus    string  `json:"paymentStatus"`
	CollectionMethod string  `json:"collectionMethod,omitempty"`
	TransactionID    string  `json:"transactionId,omitempty"`
}

func (*PaymentReceivedData) EventType() Type { return PaymentReceived }
func (d *PaymentReceivedData) Validate() error {
	return require("paymentId", d.PaymentID, "orderId", d.OrderID, "customerId", d.CustomerID)
}
func (d *PaymentReceivedData) Parties() Parties {
	return Parties{OrderID: d.OrderID, CustomerID: d.CustomerID, AgentID: d.CollectedBy}
}

// RelatedEntity points a notification at what it is about.
type RelatedEntity struct {
	EntityType string `json:"entityType"`
	EntityID   string `json:"entityId,omitempty"`
}

// NotificationData: a notification was stored for one user
// (notification.created).
type NotificationData struct {
	NotificationID string        `json:"notificationId"`
	UserID         string        `json:"userId"`
	Type           string        `json:"type"`
	Title          string        `json:"title"`
	Message        string        `json:"message"`
	Priority       string        `json:"priority"`
	IsRead         bool          `json:"isRead"`
	RelatedEntity  RelatedEntity `json:"relatedEntity"`
	CreatedAt      time.Time     `json:"createdAt"`
}

func (*NotificationData) EventType() Type { return NotificationCreated }
func (d *NotificationData) Validate() error {
	return require("notificationId", d.NotificationID, "userId", d.UserID)
}
func (d *NotificationData) Parties() Parties { return Parties{UserID: d.UserID} }

// OfferData: an admin created an offer (offer.created).
type OfferData struct {
	OfferID       string     `json:"offerId"`
	Code          string     `json:"code"`
	Title         string     `json:"title"`
	Description   string     `json:"description,omitempty"`
	DiscountType  string     `json:"discountType"`
	DiscountValue float64    `json:"discountValue"`
	ValidUntil    *time.Time `json:"validUntil,omitempty"`
}

func (*OfferData) EventType() Type   { return OfferCreated }
func (d *OfferData) Validate() error { return require("offerId", d.OfferID, "code", d.Code) }
func (*OfferData) Parties() Parties  { return Parties{} }
