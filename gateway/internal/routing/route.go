package routing

import (
	"time"

	"github.com/friendspizzahut/platform/shared/event"
)

// Room names. The socket layer joins sockets to these; routing targets them.
const (
	RoomAdmins    = "role:admin"
	RoomAgents    = "role:delivery"
	RoomCustomers = "role:customer"
	// RoomEveryone holds every connected socket, registered or not, so that
	// business:status:update reaches sockets that never sent register.
	RoomEveryone = "all"
)

// UserRoom is the room of every socket of one user.
func UserRoom(userID string) string { return "user:" + userID }

// OrderRoom is the room of the sockets that joined one order (join:order).
func OrderRoom(orderID string) string { return "order:" + orderID }

// RoleRoom is the room of every registered socket of one role.
func RoleRoom(role string) string { return "role:" + role }

// Audience is one target of a row: a fixed room, or a room of a party of
// the event (its customer, its assigned agent, its order, its target user).
type Audience int

// The audiences of DESIGN §4.
const (
	Everyone    Audience = iota + 1 // every socket, including unregistered ones
	Admins                          // role:admin
	Agents                          // role:delivery
	Customers                       // role:customer
	TheCustomer                     // user:<the order's customer>
	TheAgent                        // user:<the agent the event is about, e.g. the assigned one>
	TheOrder                        // order:<the order's id>
	TheUser                         // user:<the target user of a notification>
)

// Room resolves a to a room for the event's parties; "" when the event has
// no such party (say, no agent assigned yet).
func (a Audience) Room(p Parties) string {
	switch a {
	case Everyone:
		return RoomEveryone
	case Admins:
		return RoomAdmins
	case Agents:
		return RoomAgents
	case Customers:
		return RoomCustomers
	case TheCustomer:
		return userRoomOrEmpty(p.CustomerID)
	case TheAgent:
		return userRoomOrEmpty(p.AgentID)
	case TheOrder:
		if p.OrderID == "" {
			return ""
		}
		return OrderRoom(p.OrderID)
	case TheUser:
		return userRoomOrEmpty(p.UserID)
	}
	return ""
}

// String names a symbolically, as the README table shows it.
func (a Audience) String() string {
	switch a {
	case Everyone:
		return RoomEveryone + " (every socket)"
	case Admins, Agents, Customers:
		return a.Room(Parties{})
	case TheCustomer:
		return "user:<customerId>"
	case TheAgent:
		return "user:<deliveryAgentId>"
	case TheOrder:
		return "order:<orderId>"
	case TheUser:
		return "user:<userId>"
	}
	return "?"
}

func userRoomOrEmpty(id string) string {
	if id == "" {
		return ""
	}
	return UserRoom(id)
}

// Parties are the ids an event names; audiences resolve against them.
type Parties = event.Parties

// Meta is what every socket payload takes from the envelope.
type Meta struct {
	Timestamp string // the event's time, ISO-8601 UTC with milliseconds, like JS toISOString
}

// Payload is a socket payload: one of the typed structs in payloads.go.
type Payload interface{ socketPayload() }

// Mapper builds a row's socket payload from the domain payload; false when
// the domain payload is not of the row's type.
type Mapper func(Meta, event.Payload) (Payload, bool)

// m adapts a typed mapping function to a Mapper, so rows stay typed.
func m[P event.Payload, S Payload](f func(Meta, P) S) Mapper {
	return func(meta Meta, p event.Payload) (Payload, bool) {
		typed, ok := p.(P)
		if !ok {
			return nil, false
		}
		return f(meta, typed), true
	}
}

// Row is one line of the matrix.
type Row struct {
	On      event.Type               // domain event type
	Emit    string                   // socket event name
	To      []Audience               // union of these rooms
	Except  []Audience               // minus sockets in any of these
	When    func(event.Payload) bool // optional: the row fires only if true
	Payload Mapper
}

func to(a ...Audience) []Audience { return a }

func statusIs(status string) func(event.Payload) bool {
	return func(p event.Payload) bool {
		d, ok := p.(*event.OrderStatusChangedData)
		return ok && d.Status == status
	}
}

// Delivery is one socket event to send: once to every socket in the union
// of Rooms and in none of Except.
type Delivery struct {
	Event   string
	Rooms   []string
	Except  []string
	Payload Payload
}

// Table routes envelopes through the matrix. It is immutable and safe for
// concurrent use.
type Table struct {
	rows map[event.Type][]Row
}

// New indexes Matrix() by domain type.
func New() *Table {
	t := &Table{rows: make(map[event.Type][]Row)}
	for _, r := range Matrix() {
		t.rows[r.On] = append(t.rows[r.On], r)
	}
	return t
}

// Route returns the deliveries for one decoded event, in matrix order. A
// row whose audiences all resolve to nothing (no agent assigned yet) yields
// no delivery. p must be the payload Decode returned for env.
func (t *Table) Route(env event.Envelope, p event.Payload) []Delivery {
	if p == nil {
		return nil
	}
	rows := t.rows[p.EventType()]
	if len(rows) == 0 {
		return nil
	}
	parties := p.Parties()
	meta := Meta{Timestamp: isoTime(env.At)}
	out := make([]Delivery, 0, len(rows))
	for _, r := range rows {
		if r.When != nil && !r.When(p) {
			continue
		}
		rooms := resolve(r.To, parties)
		if len(rooms) == 0 {
			continue
		}
		payload, ok := r.Payload(meta, p)
		if !ok {
			continue
		}
		out = append(out, Delivery{Event: r.Emit, Rooms: rooms, Except: resolve(r.Except, parties), Payload: payload})
	}
	return out
}

// resolve maps audiences to distinct, non-empty rooms.
func resolve(as []Audience, p Parties) []string {
	if len(as) == 0 {
		return nil
	}
	rooms := make([]string, 0, len(as))
	for _, a := range as {
		r := a.Room(p)
		if r == "" || contains(rooms, r) {
			continue
		}
		rooms = append(rooms, r)
	}
	return rooms
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// isoTime formats t like JavaScript's Date.prototype.toISOString.
func isoTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func isoTimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return isoTime(*t)
}
