package dashboard

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/friendspizzahut/platform/orderapi/internal/order"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func ord(status order.Status, placed time.Time, items ...order.Item) *order.Order {
	return &order.Order{ID: primitive.NewObjectID(), OrderNumber: "ORD-" + placed.Format("150405"), Status: status,
		CreatedAt: placed, Items: items, Customer: order.Customer{Name: "Asha"},
		StatusHistory: []order.StatusEntry{{ID: primitive.NewObjectID(), Status: status, Timestamp: placed}}}
}

func item(p primitive.ObjectID, name string, qty int, subtotal float64) order.Item {
	return order.Item{Product: p, ProductSnapshot: order.ProductSnapshot{Name: name, Category: "pizza"}, Quantity: qty, Subtotal: subtotal}
}

// TestComputeShopDay checks that "today" is the shop's calendar day: at
// 00:30 in Kolkata (19:00 UTC the day before) an order from 23:50 Kolkata
// belongs to yesterday although it is the same UTC day.
func TestComputeShopDay(t *testing.T) {
	ist := mustZone(t, "Asia/Kolkata")
	now := time.Date(2026, 3, 10, 0, 30, 0, 0, ist)
	margherita, farmhouse := primitive.NewObjectID(), primitive.NewObjectID()
	today1 := ord(order.Delivered, now.Add(-10*time.Minute), item(margherita, "Margherita", 2, 400))
	today2 := ord(order.OutForDelivery, now.Add(-5*time.Minute), item(farmhouse, "Farmhouse", 1, 350))
	today3 := ord(order.Cancelled, now.Add(-20*time.Minute), item(farmhouse, "Farmhouse", 5, 1750))
	late := ord(order.Delivered, time.Date(2026, 3, 9, 23, 50, 0, 0, ist), item(margherita, "Margherita", 1, 200))
	old := ord(order.Delivered, time.Date(2026, 2, 1, 12, 0, 0, 0, ist), item(farmhouse, "Farmhouse", 1, 350))
	pending := ord(order.Pending, now.Add(-time.Minute))
	delivered := now.Add(-2 * time.Minute)
	today1.DeliveredAt = &delivered

	ov := Compute(Input{
		Now: now, Location: ist, Customers: 7, AgentsOnline: 2,
		Orders: []*order.Order{today1, today2, today3, late, old, pending},
		Payments: []Payment{
			{Order: today1.ID.Hex(), Amount: 441, CreatedAt: now.Add(-3 * time.Minute)},
			{Order: late.ID.Hex(), Amount: 220.5, CreatedAt: late.CreatedAt.Add(5 * time.Minute)},
			{Order: old.ID.Hex(), Amount: 380, CreatedAt: old.CreatedAt},
		},
	})
	s := ov.Stats
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"todayOrders", float64(s.TodayOrders), 4},
		{"yesterdayOrders", float64(s.YesterdayOrders), 1},
		{"totalOrders", float64(s.TotalOrders), 6},
		{"todayRevenue", s.TodayRevenue, 441},
		{"yesterdayRevenue", s.YesterdayRevenue, 220.5},
		{"totalRevenue", s.TotalRevenue, 1041.5},
		{"activeDeliveries", float64(s.ActiveDeliveries), 1},
		{"pendingOrders", float64(s.PendingOrders), 1},
		{"completedOrders", float64(s.CompletedOrders), 1},
		{"cancelledOrders", float64(s.CancelledOrders), 1},
		{"deliveredToday", float64(s.DeliveredToday), 1},
		{"agentsOnline", float64(s.AgentsOnline), 2},
		{"totalCustomers", float64(s.TotalCustomers), 7},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if s.TimeZone != "Asia/Kolkata" {
		t.Errorf("timeZone: got %q", s.TimeZone)
	}

	if len(ov.WeeklyChart) != 7 || ov.WeeklyChart[6].Date != "2026-03-10" || ov.WeeklyChart[5].Date != "2026-03-09" {
		t.Fatalf("weeklyChart days: got %+v", ov.WeeklyChart)
	}
	if got := ov.WeeklyChart[6]; got.Orders != 4 || got.Revenue != 441 {
		t.Errorf("today's point: got %+v, want 4 orders, 441", got)
	}
	if got := ov.WeeklyChart[5]; got.Orders != 1 || got.Revenue != 220.5 {
		t.Errorf("yesterday's point: got %+v, want 1 order, 220.5", got)
	}

	// Hour 0 (12AM) holds today's three non-cancelled orders and the paid one's revenue.
	if len(ov.HourlySales) != 1 || ov.HourlySales[0] != (HourPoint{Hour: "12AM", HourValue: 0, Orders: 3, Revenue: 441}) {
		t.Errorf("hourlySales: got %+v", ov.HourlySales)
	}

	// Cancelled orders sell nothing: Margherita 3 (2 today + 1 late), Farmhouse 2.
	want := []Product{
		{ID: margherita.Hex(), Name: "Margherita", Category: "pizza", TotalQuantity: 3, TotalRevenue: 600},
		{ID: farmhouse.Hex(), Name: "Farmhouse", Category: "pizza", TotalQuantity: 2, TotalRevenue: 700},
	}
	if len(ov.TopProducts) != 2 || ov.TopProducts[0] != want[0] || ov.TopProducts[1] != want[1] {
		t.Errorf("topProducts: got %+v, want %+v", ov.TopProducts, want)
	}

	if len(ov.RecentActivities) != 5 {
		t.Fatalf("recentActivities: got %d, want 5", len(ov.RecentActivities))
	}
	first := ov.RecentActivities[0]
	if first.Type != "order_received" || first.OrderID != pending.OrderNumber || first.Time != "1 min ago" || first.Icon == "" || first.Color == "" {
		t.Errorf("latest activity: got %+v", first)
	}
}

func TestHourLabel(t *testing.T) {
	for h, want := range map[int]string{0: "12AM", 9: "9AM", 11: "11AM", 12: "12PM", 13: "1PM", 23: "11PM"} {
		if got := hourLabel(h); got != want {
			t.Errorf("hourLabel(%d): got %q, want %q", h, got, want)
		}
	}
}
