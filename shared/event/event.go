// Package event is the contract between orderapi and the gateway: the
// envelope every domain event travels in, the event types, and one payload
// struct per type. The publisher and the subscriber use these same types.
//
// A payload carries every id needed to route it (customer, assigned agent,
// order, target user), so the gateway never queries a database to route.
//
// Adding an event type: add a constant, a payload struct with EventType,
// Validate and Parties, and a case in newPayload; then add a row to the gateway's matrix.
package event

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Version is the envelope version this package writes and accepts.
const Version = 1

// DefaultChannel is the Redis channel domain events are published on.
const DefaultChannel = "fph:events"

// MaxEnvelopeSize bounds what Decode accepts.
const MaxEnvelopeSize = 1 << 20

// Type names a domain fact, in the past tense.
type Type string

// The event types (DESIGN §3).
const (
	BusinessStatusChanged      Type = "business.status_changed"
	OrderCreated               Type = "order.created"
	OrderStatusChanged         Type = "order.status_changed"
	OrderAssigned              Type = "order.assigned"
	OrderCancelled             Type = "order.cancelled"
	DeliveryAgentStatusChanged Type = "delivery.agent_status_changed"
	DeliveryStatusChanged      Type = "delivery.status_changed"
	DeliveryLocationReported   Type = "delivery.location_reported"
	PaymentReceived            Type = "payment.received"
	NotificationCreated        Type = "notification.created"
	OfferCreated               Type = "offer.created"
)

// Types lists every event type, in the order of DESIGN §3.
func Types() []Type {
	return []Type{
		BusinessStatusChanged, OrderCreated, OrderStatusChanged, OrderAssigned,
		OrderCancelled, DeliveryAgentStatusChanged, DeliveryStatusChanged,
		DeliveryLocationReported, PaymentReceived, NotificationCreated, OfferCreated,
	}
}

// Payload is the data of one event type.
type Payload interface {
	// EventType names the type this payload belongs to.
	EventType() Type
	// Validate reports a payload that lacks what consumers need to route it.
	Validate() error
	// Parties names the people and the order the event is about, so a
	// consumer can route it without knowing the payload's type.
	Parties() Parties
}

// Parties are the ids an event names: its order, the order's customer, the
// delivery agent it concerns, and the user it targets. Empty when absent.
type Parties struct {
	OrderID    string
	CustomerID string
	AgentID    string
	UserID     string
}

// newPayload returns an empty payload for t, or false for an unknown type.
func newPayload(t Type) (Payload, bool) {
	switch t {
	case BusinessStatusChanged:
		return &BusinessStatus{}, true
	case OrderCreated:
		return &OrderCreatedData{}, true
	case OrderStatusChanged:
		return &OrderStatusChangedData{}, true
	case OrderAssigned:
		return &OrderAssignedData{}, true
	case OrderCancelled:
		return &OrderCancelledData{}, true
	case DeliveryAgentStatusChanged:
		return &AgentStatus{}, true
	case DeliveryStatusChanged:
		return &DeliveryStatus{}, true
	case DeliveryLocationReported:
		return &LocationReport{}, true
	case PaymentReceived:
		return &PaymentReceivedData{}, true
	case NotificationCreated:
		return &NotificationData{}, true
	case OfferCreated:
		return &OfferData{}, true
	}
	return nil, false
}

// Envelope is one domain event on the wire:
// {"v":1,"id":"...","type":"order.status_changed","at":"...","data":{...}}.
type Envelope struct {
	V    int             `json:"v"`
	ID   string          `json:"id"`
	Type Type            `json:"type"`
	At   time.Time       `json:"at"`
	Data json.RawMessage `json:"data"`
}

// New wraps p in an envelope with a fresh unique id and the time at.
func New(p Payload, at time.Time) (Envelope, error) {
	if err := p.Validate(); err != nil {
		return Envelope{}, fmt.Errorf("%s: %w", p.EventType(), err)
	}
	data, err := json.Marshal(p)
	if err != nil {
		return Envelope{}, fmt.Errorf("encode %s: %w", p.EventType(), err)
	}
	return Envelope{V: Version, ID: NewID(at), Type: p.EventType(), At: at.UTC().Truncate(time.Millisecond), Data: data}, nil
}

// Encode returns the envelope's JSON.
func (e Envelope) Encode() ([]byte, error) { return json.Marshal(e) }

// Decode parses and checks an envelope: version, id, known type, and a
// payload that decodes and validates. It never panics on any input.
func Decode(b []byte) (Envelope, Payload, error) {
	if len(b) > MaxEnvelopeSize {
		return Envelope{}, nil, fmt.Errorf("envelope too large: %d bytes", len(b))
	}
	var e Envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return Envelope{}, nil, fmt.Errorf("decode envelope: %w", err)
	}
	if e.V != Version {
		return e, nil, fmt.Errorf("unsupported envelope version %d", e.V)
	}
	if e.ID == "" || len(e.ID) > 64 {
		return e, nil, errors.New("envelope without a valid id")
	}
	p, err := e.Payload()
	return e, p, err
}

// Payload decodes the envelope's data into the payload type of e.Type.
func (e Envelope) Payload() (Payload, error) {
	p, ok := newPayload(e.Type)
	if !ok {
		return nil, fmt.Errorf("unknown event type %q", e.Type)
	}
	if len(e.Data) == 0 {
		return nil, fmt.Errorf("%s: no data", e.Type)
	}
	if err := json.Unmarshal(e.Data, p); err != nil {
		return nil, fmt.Errorf("decode %s data: %w", e.Type, err)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", e.Type, err)
	}
	return p, nil
}

// NewID returns a unique, roughly time-ordered event id: 12 hex digits of
// milliseconds then 20 random hex digits.
func NewID(at time.Time) string {
	var b [16]byte
	ms := uint64(at.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	if _, err := rand.Read(b[6:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // never on supported platforms
	}
	return hex.EncodeToString(b[:])
}

func require(fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if fields[i+1] == "" {
			return fmt.Errorf("missing %s", fields[i])
		}
	}
	return nil
}
