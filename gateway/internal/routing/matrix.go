package routing

import (
	"slices"

	"github.com/friendspizzahut/platform/shared/event"
)

// Socket event names, as the unchanged apps listen for them (CONTRACT §1.3, §2.5).
const (
	EvBusinessStatusUpdate  = "business:status:update"
	EvOrderNew              = "order:new"
	EvOrderStatusUpdate     = "order:status:update"
	EvOrderStatusChanged    = "order:status:changed"
	EvOrderDelivered        = "order:delivered"
	EvOrderAssigned         = "order:assigned"
	EvOrderDeliveryAssigned = "order:delivery:assigned"
	EvOrderCancelled        = "order:cancelled"
	EvDeliveryStatusUpdate  = "delivery:status:update"
	EvAgentStatusUpdate     = "delivery:agent:status:update"
	EvLocationUpdate        = "delivery:location:update"
	EvPaymentReceived       = "payment:received"
	EvPaymentStatusUpdate   = "payment:status:update"
	EvNotificationNew       = "notification:new"
	EvOfferNew              = "offer:new"
)

// Matrix returns the distribution matrix of DESIGN §4, one row per socket
// event a domain event produces. It is the only place that knows who gets
// what: adding an event type is one payload type in shared/event and one
// row here (the payload's Parties method names who it is about).
//
// A socket in several rooms of one row receives that row once; a socket
// targeted by two rows receives two different socket events.
func Matrix() []Row {
	return []Row{
		{On: event.BusinessStatusChanged, Emit: EvBusinessStatusUpdate, To: to(Everyone), Payload: m(businessStatusUpdate)},

		{On: event.OrderCreated, Emit: EvOrderNew, To: to(Admins, Agents), Payload: m(orderNew)},

		{On: event.OrderStatusChanged, Emit: EvOrderStatusUpdate, To: to(TheCustomer, TheOrder, Admins, TheAgent), Payload: m(orderStatusUpdate)},
		{On: event.OrderStatusChanged, Emit: EvOrderStatusChanged, To: to(Admins), Payload: m(orderStatusUpdate)},
		{On: event.OrderStatusChanged, Emit: EvOrderDelivered, To: to(TheAgent), When: statusIs("delivered"), Payload: m(orderDelivered)},

		{On: event.OrderAssigned, Emit: EvOrderAssigned, To: to(TheAgent), Payload: m(orderAssignedFull)},
		{On: event.OrderAssigned, Emit: EvOrderAssigned, To: to(Admins), Payload: m(orderAssignedShort)},
		{On: event.OrderAssigned, Emit: EvOrderDeliveryAssigned, To: to(TheCustomer), Payload: m(orderDeliveryAssigned)},

		{On: event.OrderCancelled, Emit: EvOrderCancelled, To: to(TheCustomer, TheOrder, Admins, TheAgent), Payload: m(orderCancelled)},

		{On: event.DeliveryStatusChanged, Emit: EvDeliveryStatusUpdate, To: to(Admins), Payload: m(deliveryStatusUpdate)},
		{On: event.DeliveryAgentStatusChanged, Emit: EvAgentStatusUpdate, To: to(Admins, Agents), Payload: m(agentStatusUpdate)},
		{On: event.DeliveryLocationReported, Emit: EvLocationUpdate, To: to(TheOrder, TheCustomer, Admins), Except: to(Agents), Payload: m(locationUpdate)},

		{On: event.PaymentReceived, Emit: EvPaymentReceived, To: to(Admins, TheCustomer), Payload: m(paymentUpdate)},
		{On: event.PaymentReceived, Emit: EvPaymentStatusUpdate, To: to(TheCustomer), Payload: m(paymentUpdate)},

		{On: event.NotificationCreated, Emit: EvNotificationNew, To: to(TheUser), Payload: m(notificationNew)},
		{On: event.OfferCreated, Emit: EvOfferNew, To: to(Customers), Payload: m(offerNew)},
	}
}

// SocketEvents lists the socket events the matrix emits, once each.
func SocketEvents() []string {
	var out []string
	for _, r := range Matrix() {
		if !slices.Contains(out, r.Emit) {
			out = append(out, r.Emit)
		}
	}
	return out
}
