// Package dashboard computes the admin app's Dashboard figures (GET
// /dashboard/overview and /dashboard/stats) from orders, payments and user
// counts. It is pure: the caller scans the data once and hands it in, so the
// figures are tested without a database and FerretDB v1 is never asked for
// what it lacks ($lookup, several $group accumulators, date operators).
//
// "Today" is a calendar day in one time zone (the shop's), never the
// server's. Field names follow the original backend's dashboardService.
package dashboard

import (
	"sort"
	"strconv"
	"time"

	"github.com/friendspizzahut/platform/orderapi/internal/order"
)

// DefaultTimeZone is the shop's time zone.
const DefaultTimeZone = "Asia/Kolkata"

// Input is everything the figures are computed from.
type Input struct {
	Now      time.Time
	Location *time.Location
	// Orders are all orders (only the fields the dashboard reads need be set).
	Orders []*order.Order
	// Payments are all completed payments.
	Payments []Payment
	// Customers counts active customers; AgentsOnline counts online agents.
	Customers    int64
	AgentsOnline int64
	// TopProducts and Activities bound those lists (defaults 6 and 5, as the
	// original's overview asked for).
	TopProducts, Activities int
}

// Payment is what the dashboard needs of a completed payment.
type Payment struct {
	Order     string // order id (hex)
	Amount    float64
	CreatedAt time.Time
}

// Stats is the stats object. The first nine fields are the original's;
// the rest are additive (yesterday's figures, agents online, pending).
type Stats struct {
	TodayOrders      int     `json:"todayOrders"`
	TotalOrders      int     `json:"totalOrders"`
	TodayRevenue     float64 `json:"todayRevenue"`
	TotalRevenue     float64 `json:"totalRevenue"`
	ActiveDeliveries int     `json:"activeDeliveries"`
	TotalCustomers   int64   `json:"totalCustomers"`
	CompletedOrders  int     `json:"completedOrders"`
	CancelledOrders  int     `json:"cancelledOrders"`
	LastUpdated      string  `json:"lastUpdated"`

	YesterdayOrders   int     `json:"yesterdayOrders"`
	YesterdayRevenue  float64 `json:"yesterdayRevenue"`
	DeliveredToday    int     `json:"deliveredToday"`
	PendingOrders     int     `json:"pendingOrders"`
	AgentsOnline      int64   `json:"agentsOnline"`
	AverageOrderValue float64 `json:"averageOrderValue"`
	TimeZone          string  `json:"timeZone"`
}

// DayPoint is one day of weeklyChart.
type DayPoint struct {
	Date    string  `json:"date"` // YYYY-MM-DD in the shop's zone
	Revenue float64 `json:"revenue"`
	Orders  int     `json:"orders"`
}

// HourPoint is one hour of hourlySales.
type HourPoint struct {
	Hour      string  `json:"hour"` // "9AM"
	HourValue int     `json:"hourValue"`
	Orders    int     `json:"orders"`
	Revenue   float64 `json:"revenue"`
}

// Product is one row of topProducts.
type Product struct {
	ID            string  `json:"_id"`
	Name          string  `json:"name"`
	Category      string  `json:"category"`
	TotalQuantity int     `json:"totalQuantity"`
	TotalRevenue  float64 `json:"totalRevenue"`
}

// Activity is one of recentActivities. _id, type, message and timestamp
// are the original's ActivityLog document; action, time, id, icon and color
// are what the app's Dashboard screen renders.
type Activity struct {
	ID        string `json:"_id"`
	Type      string `json:"type"`
	Message   string `json:"message"`
	Timestamp string `json:"timestamp"`
	Action    string `json:"action"`
	Time      string `json:"time"`
	OrderID   string `json:"id"`
	Icon      string `json:"icon"`
	Color     string `json:"color"`
	User      *Named `json:"user,omitempty"`
}

// Named is {name}.
type Named struct {
	Name string `json:"name"`
}

// Overview is data of GET /dashboard/overview, minus systemStatus and
// fromCache, which the handler adds.
type Overview struct {
	Stats            Stats       `json:"stats"`
	WeeklyChart      []DayPoint  `json:"weeklyChart"`
	HourlySales      []HourPoint `json:"hourlySales"`
	TopProducts      []Product   `json:"topProducts"`
	RecentActivities []Activity  `json:"recentActivities"`
	LastUpdated      string      `json:"lastUpdated"`
}

// StartOfDay returns midnight of t's calendar day in loc.
func StartOfDay(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// Compute builds the overview from in.
func Compute(in Input) Overview {
	loc := in.Location
	if loc == nil {
		loc = time.UTC
	}
	if in.TopProducts <= 0 {
		in.TopProducts = 6
	}
	if in.Activities <= 0 {
		in.Activities = 5
	}
	today := StartOfDay(in.Now, loc)
	tomorrow := today.AddDate(0, 0, 1)
	yesterday := today.AddDate(0, 0, -1)
	weekStart := today.AddDate(0, 0, -6)
	within := func(t, from, to time.Time) bool { return !t.Before(from) && t.Before(to) }

	s := Stats{TotalCustomers: in.Customers, AgentsOnline: in.AgentsOnline, TimeZone: loc.String(),
		LastUpdated: jsTime(in.Now)}
	week := make([]DayPoint, 7)
	dayIndex := map[string]int{}
	for i := range week {
		d := weekStart.AddDate(0, 0, i).Format("2006-01-02")
		week[i] = DayPoint{Date: d}
		dayIndex[d] = i
	}
	var hours [24]HourPoint
	hourOfOrder := map[string]int{} // today's non-cancelled orders → hour placed
	products := map[string]*Product{}

	for _, o := range in.Orders {
		s.TotalOrders++
		placed := o.CreatedAt
		switch o.Status {
		case order.Pending:
			s.PendingOrders++
		case order.Assigned, order.OutForDelivery:
			s.ActiveDeliveries++
		}
		if o.DeliveredAt != nil && within(*o.DeliveredAt, today, tomorrow) {
			s.DeliveredToday++
		}
		if within(placed, today, tomorrow) {
			s.TodayOrders++
			switch o.Status {
			case order.Delivered:
				s.CompletedOrders++
			case order.Cancelled:
				s.CancelledOrders++
			}
			if o.Status != order.Cancelled {
				h := placed.In(loc).Hour()
				hours[h].Orders++
				hourOfOrder[o.ID.Hex()] = h
			}
		} else if within(placed, yesterday, today) {
			s.YesterdayOrders++
		}
		if i, ok := dayIndex[placed.In(loc).Format("2006-01-02")]; ok && !placed.Before(weekStart) {
			week[i].Orders++
		}
		if o.Status == order.Cancelled || o.Status == order.Refunded {
			continue // a refused order sold nothing
		}
		for _, it := range o.Items {
			id := it.Product.Hex()
			p := products[id]
			if p == nil {
				p = &Product{ID: id, Name: it.ProductSnapshot.Name, Category: it.ProductSnapshot.Category}
				products[id] = p
			}
			p.TotalQuantity += it.Quantity
			p.TotalRevenue += it.Subtotal
		}
	}

	for _, p := range in.Payments {
		s.TotalRevenue += p.Amount
		switch {
		case within(p.CreatedAt, today, tomorrow):
			s.TodayRevenue += p.Amount
		case within(p.CreatedAt, yesterday, today):
			s.YesterdayRevenue += p.Amount
		}
		if !p.CreatedAt.Before(weekStart) && p.CreatedAt.Before(tomorrow) {
			if i, ok := dayIndex[p.CreatedAt.In(loc).Format("2006-01-02")]; ok {
				week[i].Revenue += p.Amount
			}
		}
		// As the original: an hour's revenue is the paid amount of the
		// orders placed in that hour today.
		if h, ok := hourOfOrder[p.Order]; ok {
			hours[h].Revenue += p.Amount
		}
	}
	s.TodayRevenue, s.TotalRevenue, s.YesterdayRevenue = order.Round2(s.TodayRevenue), order.Round2(s.TotalRevenue), order.Round2(s.YesterdayRevenue)
	if paid := s.TodayOrders - s.CancelledOrders; paid > 0 && s.TodayRevenue > 0 {
		s.AverageOrderValue = order.Round2(s.TodayRevenue / float64(paid))
	}
	for i := range week {
		week[i].Revenue = order.Round2(week[i].Revenue)
	}

	hourly := []HourPoint{}
	for h := range hours {
		if hours[h].Orders == 0 && hours[h].Revenue == 0 {
			continue
		}
		hours[h].Hour, hours[h].HourValue, hours[h].Revenue = hourLabel(h), h, order.Round2(hours[h].Revenue)
		hourly = append(hourly, hours[h])
	}

	top := make([]Product, 0, len(products))
	for _, p := range products {
		p.TotalRevenue = order.Round2(p.TotalRevenue)
		top = append(top, *p)
	}
	sort.Slice(top, func(i, j int) bool {
		if top[i].TotalQuantity != top[j].TotalQuantity {
			return top[i].TotalQuantity > top[j].TotalQuantity
		}
		if top[i].TotalRevenue != top[j].TotalRevenue {
			return top[i].TotalRevenue > top[j].TotalRevenue
		}
		return top[i].ID < top[j].ID
	})
	if len(top) > in.TopProducts {
		top = top[:in.TopProducts]
	}

	return Overview{
		Stats: s, WeeklyChart: week, HourlySales: hourly, TopProducts: top,
		RecentActivities: activities(in.Orders, in.Activities, in.Now),
		LastUpdated:      jsTime(in.Now),
	}
}

// activityKind describes one status step on the app's activity timeline.
type activityKind struct {
	typ, verb, icon, color string
}

var activityKinds = map[order.Status]activityKind{
	order.Pending:        {"order_received", "New order", "shopping-cart", "#cb202d"},
	order.Accepted:       {"order_accepted", "Order accepted", "check-circle", "#2196F3"},
	order.Preparing:      {"order_preparing", "Order preparing", "restaurant", "#FF9800"},
	order.Ready:          {"order_ready", "Order ready", "room-service", "#FF9800"},
	order.Assigned:       {"order_assigned", "Agent assigned", "person-pin", "#9C27B0"},
	order.OutForDelivery: {"order_out_for_delivery", "Out for delivery", "delivery-dining", "#00897B"},
	order.Delivered:      {"order_delivered", "Order delivered", "done-all", "#4CAF50"},
	order.Cancelled:      {"order_cancelled", "Order cancelled", "cancel", "#757575"},
	order.Refunded:       {"order_refunded", "Order refunded", "undo", "#757575"},
}

// activities returns the latest status steps of all orders, newest first.
// Orders written before statusHistory existed count with their creation.
func activities(orders []*order.Order, limit int, now time.Time) []Activity {
	type step struct {
		o  *order.Order
		st order.Status
		at time.Time
		id string
	}
	var steps []step
	for _, o := range orders {
		if len(o.StatusHistory) == 0 {
			steps = append(steps, step{o, order.Pending, o.CreatedAt, o.ID.Hex()})
			continue
		}
		for _, h := range o.StatusHistory {
			steps = append(steps, step{o, h.Status, h.Timestamp, h.ID.Hex()})
		}
	}
	sort.Slice(steps, func(i, j int) bool {
		if !steps[i].at.Equal(steps[j].at) {
			return steps[i].at.After(steps[j].at)
		}
		return steps[i].id > steps[j].id
	})
	if len(steps) > limit {
		steps = steps[:limit]
	}
	out := make([]Activity, 0, len(steps))
	for _, st := range steps {
		k, ok := activityKinds[st.st]
		if !ok {
			k = activityKind{"order_" + string(st.st), "Order " + string(st.st), "info", "#757575"}
		}
		a := Activity{
			ID: st.id, Type: k.typ, Message: k.verb + " " + st.o.OrderNumber, Timestamp: jsTime(st.at),
			Action: k.verb, Time: ago(now.Sub(st.at)), OrderID: st.o.OrderNumber, Icon: k.icon, Color: k.color,
		}
		if st.o.Customer.Name != "" {
			a.User = &Named{Name: st.o.Customer.Name}
		}
		out = append(out, a)
	}
	return out
}

// ago is the app's short relative time ("just now", "5 min ago").
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min ago"
	case d < 24*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h ago"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + " d ago"
}

// hourLabel formats an hour as the original did: 12AM, 9AM, 12PM, 3PM.
func hourLabel(h int) string {
	switch {
	case h == 0:
		return "12AM"
	case h == 12:
		return "12PM"
	case h < 12:
		return strconv.Itoa(h) + "AM"
	}
	return strconv.Itoa(h-12) + "PM"
}

func jsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
