package notify_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/friendspizzahut/platform/orderapi/internal/notify"
	"github.com/friendspizzahut/platform/orderapi/internal/order"
	"github.com/friendspizzahut/platform/orderapi/internal/outbox"
	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/auth"
	"github.com/friendspizzahut/platform/shared/event"
	"github.com/friendspizzahut/platform/test/infra"
)

var at = time.Date(2026, 11, 26, 15, 4, 5, 0, time.UTC)

func mustUser(t *testing.T, s *store.Stores, role string, active bool) *store.User {
	t.Helper()
	id := primitive.NewObjectID()
	u := &store.User{ID: id, Name: role + "-" + id.Hex()[18:], Email: id.Hex() + "@example.test", Phone: id.Hex()[14:],
		Role: role, IsActive: active, Address: []store.Address{}, IsApproved: true}
	if err := s.Users.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func envelope(t *testing.T, p event.Payload) event.Envelope {
	t.Helper()
	env, err := event.New(p, at)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func snapshot(customer, agent *store.User) event.OrderSnapshot {
	s := event.OrderSnapshot{OrderID: primitive.NewObjectID().Hex(), OrderNumber: "ORD-TEST-0001",
		Customer: event.Party{ID: customer.ID.Hex(), Name: "Asha"}, TotalAmount: 688.83, Status: "pending",
		DeliveryAddress: event.Address{Street: "1 MG Road", City: "Pune"}}
	if agent != nil {
		s.Status = "assigned"
		s.DeliveryAgent = &event.Party{ID: agent.ID.Hex(), Name: agent.Name}
	}
	return s
}

// notes lists the stored notifications as "user:type:priority", by user.
func notes(t *testing.T, db *mongo.Database) (map[primitive.ObjectID][]store.Notification, int) {
	t.Helper()
	cur, err := db.Collection(store.NotificationsCollection).Find(context.Background(), bson.M{})
	if err != nil {
		t.Fatal(err)
	}
	var all []store.Notification
	if err := cur.All(context.Background(), &all); err != nil {
		t.Fatal(err)
	}
	out := map[primitive.ObjectID][]store.Notification{}
	for _, n := range all {
		out[n.User] = append(out[n.User], n)
	}
	return out, len(all)
}

func TestDeriverCreatesNotificationsOnce(t *testing.T) {
	db := infra.StartFerret(t).Database(t)
	s := store.New(db, nil, nil)
	if err := s.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	a1 := mustUser(t, s, auth.RoleAdmin, true)
	a2 := mustUser(t, s, auth.RoleAdmin, true)
	mustUser(t, s, auth.RoleAdmin, false) // inactive admins are not notified
	c := mustUser(t, s, auth.RoleCustomer, true)
	d := mustUser(t, s, auth.RoleDelivery, true)
	der := notify.New(s.Users, s.Notifications)

	cases := []struct {
		name       string
		payload    event.Payload
		adminType  string // "" → admins get nothing
		adminPrio  string
		agentType  string // "" → the agent gets nothing
		totalAdded int
	}{
		{"order created", &event.OrderCreatedData{Order: snapshot(c, nil)}, "order", "high", "", 2},
		{"status changed", &event.OrderStatusChangedData{OrderID: "x", OrderNumber: "ORD-1", CustomerID: c.ID.Hex(), Status: "accepted", PreviousStatus: "pending"}, "order", "medium", "", 2},
		{"payment-only status update", &event.OrderStatusChangedData{OrderID: "x", CustomerID: c.ID.Hex(), Status: "out_for_delivery", PaymentStatus: "completed"}, "", "", "", 0},
		{"cancelled", &event.OrderCancelledData{OrderID: "x", OrderNumber: "ORD-1", CustomerID: c.ID.Hex(), Reason: "Rejected by admin"}, "order", "medium", "", 2},
		{"assigned", &event.OrderAssignedData{Order: snapshot(c, d), AssignedAt: at}, "delivery", "medium", "delivery", 3},
		{"payment", &event.PaymentReceivedData{PaymentID: primitive.NewObjectID().Hex(), OrderID: primitive.NewObjectID().Hex(), CustomerID: c.ID.Hex(), Amount: 10, PaymentMethod: "cod", PaymentStatus: "completed"}, "payment", "medium", "", 2},
		{"agent status", &event.AgentStatus{DeliveryAgentID: d.ID.Hex(), State: "free", IsOnline: true}, "", "", "", 0},
	}
	total := 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := envelope(t, tc.payload)
			for i := 0; i < 3; i++ { // published three times: created once
				if err := der.OnPublished(context.Background(), env, tc.payload); err != nil {
					t.Fatal(err)
				}
			}
			byUser, n := notes(t, db)
			total += tc.totalAdded
			if n != total {
				t.Fatalf("got %d notifications, want %d", n, total)
			}
			if tc.adminType != "" {
				for _, a := range []*store.User{a1, a2} {
					got := byUser[a.ID][len(byUser[a.ID])-1]
					if got.Type != tc.adminType || got.Priority != tc.adminPrio || got.SourceEvent != env.ID || !got.CreatedAt.Equal(at) {
						t.Fatalf("admin got %+v, want type %s priority %s from %s", got, tc.adminType, tc.adminPrio, env.ID)
					}
				}
			}
			if tc.agentType != "" {
				got := byUser[d.ID]
				if len(got) != 1 || got[0].Type != tc.agentType || got[0].Priority != "high" {
					t.Fatalf("agent got %+v", got)
				}
			}
		})
	}
	if byUser, _ := notes(t, db); len(byUser[c.ID]) != 0 {
		t.Fatalf("the customer got %d notifications, want none (as in the original)", len(byUser[c.ID]))
	}

	// Each notification carries its notification.created event, addressed
	// to its user.
	byUser, _ := notes(t, db)
	n := byUser[a1.ID][0]
	var doc struct {
		Outbox []outbox.Record `bson:"outbox"`
	}
	if err := db.Collection(store.NotificationsCollection).FindOne(context.Background(), bson.M{"_id": n.ID}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Outbox) != 1 || doc.Outbox[0].Type != string(event.NotificationCreated) {
		t.Fatalf("got outbox %+v, want one notification.created", doc.Outbox)
	}
	p, err := doc.Outbox[0].Envelope().Payload()
	if err != nil {
		t.Fatal(err)
	}
	if nd := p.(*event.NotificationData); nd.UserID != a1.ID.Hex() || nd.NotificationID != n.ID.Hex() || nd.Title == "" {
		t.Fatalf("got %+v", nd)
	}
}

// recorder is a Publisher that keeps what it is given.
type recorder struct {
	mu   sync.Mutex
	envs []event.Envelope
}

func (r *recorder) Publish(_ context.Context, env event.Envelope) error {
	r.mu.Lock()
	r.envs = append(r.envs, env)
	r.mu.Unlock()
	return nil
}

func (r *recorder) count(typ event.Type) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.envs {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// TestRelayHooks wires the hooks as cmd/orderapi does and checks the chain:
// an order's event yields notifications whose own events are published,
// and a payment's event marks its order paid.
func TestRelayHooks(t *testing.T) {
	db := infra.StartFerret(t).Database(t)
	pub := &recorder{}
	relay := outbox.NewRelay(db, store.EventCollections(), pub, slog.New(slog.NewTextHandler(io.Discard, nil)),
		outbox.Config{PollInterval: 200 * time.Millisecond})
	s := store.New(db, relay, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := s.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	relay.OnPublished(s.Orders.OnPaymentPublished)
	relay.OnPublished(notify.New(s.Users, s.Notifications).OnPublished)
	done := make(chan error, 1)
	go func() { done <- relay.Run(ctx) }()
	defer func() { cancel(); <-done }()

	mustUser(t, s, auth.RoleAdmin, true)
	mustUser(t, s, auth.RoleAdmin, true)
	c := mustUser(t, s, auth.RoleCustomer, true)
	o := order.New(order.Draft{User: c.ID, Customer: order.Customer{Name: c.Name}, TotalAmount: 100, Subtotal: 100,
		DeliveryAddress: order.Address{Street: "1 MG Road", City: "Pune", State: "MH", Pincode: "411001"}}, time.Now().UTC().Truncate(time.Millisecond))
	if err := s.Orders.InsertOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Payments.RecordPayment(ctx, &store.Payment{Order: o.ID, User: c.ID, Amount: 100, PaymentMethod: "cash",
		PaymentStatus: order.PaymentCompleted, PaymentGateway: "manual"}); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := s.Orders.OrderByID(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		// 2 admins × (order + payment + payment-status... none) notifications.
		if pub.count(event.OrderCreated) == 1 && pub.count(event.PaymentReceived) == 1 &&
			pub.count(event.NotificationCreated) == 4 && got.PaymentStatus == order.PaymentCompleted &&
			pub.count(event.OrderStatusChanged) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10s: order.created %d, payment.received %d, notification.created %d (want 4), order.status_changed %d, order paid %v",
				pub.count(event.OrderCreated), pub.count(event.PaymentReceived), pub.count(event.NotificationCreated),
				pub.count(event.OrderStatusChanged), got.PaymentStatus)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
