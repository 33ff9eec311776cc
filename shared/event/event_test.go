package event

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

var at = time.Date(2026, 11, 26, 15, 4, 5, 123_000_000, time.UTC)

// samples returns one valid payload per event type.
func samples() []Payload {
	order := OrderSnapshot{
		OrderID: "6745a1b2c3d4e5f6a7b8c9d0", OrderNumber: "ORD-M3X-AB12",
		Customer: Party{ID: "6745a1b2c3d4e5f6a7b8c9d1", Name: "Asha", Phone: "9876543210"},
		Items: []OrderItem{{
			Product:         &ProductRef{ID: "6745a1b2c3d4e5f6a7b8c9d2", Name: "Margherita"},
			ProductSnapshot: ProductSnapshot{Name: "Margherita", BasePrice: 199, Category: "pizza"},
			Quantity:        2, Size: "large", SelectedPrice: 299, CustomToppings: []Topping{}, Subtotal: 598,
		}},
		Subtotal: 598, Tax: 50.83, DeliveryFee: 40, TotalAmount: 688.83,
		DeliveryAddress: Address{Street: "1 MG Road", City: "Pune", State: "MH", Pincode: "411001"},
		PaymentMethod:   "cash", PaymentStatus: "pending", Status: "pending", EstimatedDeliveryTime: 30, CreatedAt: at,
	}
	assigned := order
	assigned.Status = "assigned"
	assigned.DeliveryAgent = &Party{ID: "6745a1b2c3d4e5f6a7b8c9d3", Name: "Ravi", Phone: "9876500000"}
	speed := 4.5
	return []Payload{
		&BusinessStatus{IsOpen: true, BusinessName: "Friends Pizza Hut", Message: "We are open"},
		&OrderCreatedData{Order: order},
		&OrderStatusChangedData{OrderID: order.OrderID, OrderNumber: order.OrderNumber, CustomerID: order.Customer.ID, Status: "accepted", PreviousStatus: "pending"},
		&OrderAssignedData{Order: assigned, AssignedAt: at},
		&OrderCancelledData{OrderID: order.OrderID, OrderNumber: order.OrderNumber, CustomerID: order.Customer.ID, Reason: "Rejected by admin"},
		&AgentStatus{DeliveryAgentID: "6745a1b2c3d4e5f6a7b8c9d3", Name: "Ravi", IsOnline: true, State: "free"},
		&DeliveryStatus{DeliveryAgentID: "6745a1b2c3d4e5f6a7b8c9d3", Name: "Ravi", Status: "online"},
		&LocationReport{OrderID: order.OrderID, CustomerID: order.Customer.ID, DeliveryAgentID: "6745a1b2c3d4e5f6a7b8c9d3", Location: Location{Latitude: 18.52, Longitude: 73.85}, Speed: &speed, ReportedAt: at},
		&PaymentReceivedData{PaymentID: "6745a1b2c3d4e5f6a7b8c9d4", OrderID: order.OrderID, CustomerID: order.Customer.ID, Amount: 688.83, PaymentMethod: "cod", PaymentStatus: "completed"},
		&NotificationData{NotificationID: "6745a1b2c3d4e5f6a7b8c9d5", UserID: "6745a1b2c3d4e5f6a7b8c9d6", Type: "order", Title: "New order", Message: "ORD-M3X-AB12", Priority: "high", RelatedEntity: RelatedEntity{EntityType: "order", EntityID: order.OrderID}, CreatedAt: at},
		&OfferData{OfferID: "6745a1b2c3d4e5f6a7b8c9d7", Code: "PIZZA50", Title: "50 off", DiscountType: "fixed", DiscountValue: 50},
	}
}

func TestEveryTypeHasASample(t *testing.T) {
	got := map[Type]bool{}
	for _, p := range samples() {
		got[p.EventType()] = true
	}
	for _, typ := range Types() {
		if !got[typ] {
			t.Errorf("no sample payload for %s", typ)
		}
		if _, ok := newPayload(typ); !ok {
			t.Errorf("newPayload(%s) unknown", typ)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, p := range samples() {
		t.Run(string(p.EventType()), func(t *testing.T) {
			env, err := New(p, at)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			b, err := env.Encode()
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			got, gotP, err := Decode(b)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got.ID != env.ID || got.Type != p.EventType() || got.V != Version || !got.At.Equal(at) {
				t.Errorf("got envelope %+v, want id %s type %s at %s", got, env.ID, p.EventType(), at)
			}
			if !reflect.DeepEqual(gotP, p) {
				t.Errorf("got payload %#v, want %#v", gotP, p)
			}
			// Re-encoding gives the same bytes: the contract is stable.
			again, _ := got.Encode()
			if !bytes.Equal(again, b) {
				t.Errorf("re-encoded\n%s\nwant\n%s", again, b)
			}
		})
	}
}

func TestEnvelopeWireShape(t *testing.T) {
	env, err := New(&BusinessStatus{IsOpen: false, BusinessName: "FPH"}, at)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := env.Encode()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"v", "id", "type", "at", "data"} {
		if _, ok := m[k]; !ok {
			t.Errorf("envelope lacks %q: %s", k, b)
		}
	}
	if string(m["at"]) != `"2026-11-26T15:04:05.123Z"` {
		t.Errorf("got at %s, want ISO-8601 UTC with milliseconds", m["at"])
	}
}

func TestIDsAreUniqueAndOrdered(t *testing.T) {
	seen := map[string]bool{}
	prev := ""
	for i := 0; i < 10000; i++ {
		id := NewID(at.Add(time.Duration(i) * time.Millisecond))
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
		if id[:12] < prev {
			t.Fatalf("id %s sorts before the previous time prefix %s", id, prev)
		}
		prev = id[:12]
	}
}

func TestDecodeRejects(t *testing.T) {
	valid, _ := New(&OfferData{OfferID: "x", Code: "C"}, at)
	good, _ := valid.Encode()
	cases := map[string]string{
		"not json":       `{`,
		"wrong version":  strings.Replace(string(good), `"v":1`, `"v":2`, 1),
		"no id":          strings.Replace(string(good), `"id":"`+valid.ID+`"`, `"id":""`, 1),
		"unknown type":   strings.Replace(string(good), `offer.created`, `offer.exploded`, 1),
		"missing data":   `{"v":1,"id":"a","type":"offer.created","at":"2026-11-26T15:04:05Z"}`,
		"invalid data":   `{"v":1,"id":"a","type":"offer.created","at":"2026-11-26T15:04:05Z","data":{"code":"C"}}`,
		"data of a type": `{"v":1,"id":"a","type":"order.created","at":"2026-11-26T15:04:05Z","data":[1,2]}`,
		"bad coordinates": `{"v":1,"id":"a","type":"delivery.location_reported","at":"2026-11-26T15:04:05Z",` +
			`"data":{"orderId":"o","customerId":"c","deliveryAgentId":"d","location":{"latitude":91,"longitude":0}}}`,
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			if _, _, err := Decode([]byte(in)); err == nil {
				t.Errorf("Decode(%s) = nil error, want an error", in)
			}
		})
	}
	if _, _, err := Decode(make([]byte, MaxEnvelopeSize+1)); err == nil {
		t.Error("oversized envelope accepted")
	}
}

func TestNewRejectsInvalidPayload(t *testing.T) {
	if _, err := New(&OrderStatusChangedData{OrderID: "o", Status: "accepted"}, at); err == nil {
		t.Error("New accepted an order status change without a customer id")
	}
}

// FuzzDecode: no input panics, and whatever decodes re-encodes to an
// envelope that decodes to the same payload.
func FuzzDecode(f *testing.F) {
	for _, p := range samples() {
		env, _ := New(p, at)
		b, _ := env.Encode()
		f.Add(b)
	}
	f.Add([]byte(`{"v":1,"id":"a","type":"order.created","data":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		env, p, err := Decode(b)
		if err != nil {
			return
		}
		again, err := env.Encode()
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		_, p2, err := Decode(again)
		if err != nil {
			t.Fatalf("decode of re-encoded envelope failed: %v", err)
		}
		if !reflect.DeepEqual(p, p2) {
			t.Fatalf("payload changed across a round trip: %#v vs %#v", p, p2)
		}
	})
}
