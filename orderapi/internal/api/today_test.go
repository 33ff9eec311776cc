package api_test

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/friendspizzahut/platform/orderapi/internal/dashboard"
	"github.com/friendspizzahut/platform/orderapi/internal/order"
	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/auth"
)

// TestTodayIsTheShopsDay: "today" in the payment and agent stats starts at
// midnight in the shop's time zone (DASHBOARD_TIMEZONE; Asia/Kolkata in
// these tests), like the dashboard's, not in the server's TZ. A payment
// and a delivery a minute after that midnight count; one of each a minute
// before does not. (The server's midnight is 5:30 h away from Kolkata's
// unless TZ is Asia/Kolkata, so one of the two would be miscounted.)
func TestTodayIsTheShopsDay(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, adminTok := e.mustUser(auth.RoleAdmin)
	c, _ := e.mustUser(auth.RoleCustomer)
	d, dTok := e.mustUser(auth.RoleDelivery, online)
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	midnight := dashboard.StartOfDay(time.Now(), kolkata)
	ctx := context.Background()
	for _, at := range []time.Time{midnight.Add(-time.Minute), midnight.Add(time.Minute)} {
		o := e.advanceOrder(e.seedOrder(c, 100), d, order.OutForDelivery)
		pay := mustID(t, str(e.do("POST", "/api/v1/payments", dTok, codBody(o, d.ID, 100)).want(t, 201).data(), "_id"))
		if _, err := e.db.Collection(store.PaymentsCollection).UpdateOne(ctx, bson.M{"_id": pay}, bson.M{"$set": bson.M{"createdAt": at}}); err != nil {
			t.Fatal(err)
		}
		delivered := e.advanceOrder(e.seedOrder(c, 200), d, order.Delivered)
		if _, err := e.db.Collection(store.OrdersCollection).UpdateOne(ctx, bson.M{"_id": delivered.ID}, bson.M{"$set": bson.M{"deliveredAt": at}}); err != nil {
			t.Fatal(err)
		}
	}

	stats := e.do("GET", "/api/v1/payments/stats", adminTok, nil).want(t, 200).data()
	if num(stats, "today", "count") != 1 || num(stats, "today", "amount") != 100 || num(stats, "totalPayments") != 2 {
		t.Errorf("payment stats: got today %v of %v payments; want the one after the shop's midnight", stats["today"], stats["totalPayments"])
	}
	agent := e.do("GET", "/api/v1/delivery-agent/stats", dTok, nil).want(t, 200).data()
	if num(agent, "today", "ordersCompleted") != 1 {
		t.Errorf("agent stats: got today %v; want 1 delivery (the one after the shop's midnight)", agent["today"])
	}
}
