package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/friendspizzahut/platform/orderapi/internal/order"
	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/apperr"
)

// Delivery-agent routes (CONTRACT §3.3 "Delivery agent"). Envelopes carry
// no statusCode. Every query uses the order's real field deliveryAgent,
// which the original misspelled as deliveryBoy (so its offline guard,
// stats and recent deliveries never worked: CONTRACT §6.4).

// agentEarningShare is the agent's share of an order's total, as the
// original's my-orders "earnings" column shows it.
const agentEarningShare = 0.10

type agentStatusRequest struct {
	IsOnline any `json:"isOnline"`
}

var errNotBoolean = &apperr.Error{Kind: apperr.Invalid, Message: "isOnline must be a boolean value",
	Fields: []apperr.FieldError{{Field: "isOnline", Message: "isOnline must be a boolean value"}}}

// handleSetAgentStatus: PATCH /delivery-agent/status {isOnline} (D). Going
// offline is refused while the agent holds assigned or out-for-delivery
// orders (400 with activeOrders[]). The change and its
// delivery.agent_status_changed event are one write of the agent's user
// document.
func handleSetAgentStatus(users *store.Users, orders *store.Orders) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		req, err := decode[agentStatusRequest](r)
		if err != nil {
			if apperr.KindOf(err) == apperr.Invalid {
				return errNotBoolean
			}
			return err
		}
		online, ok := req.IsOnline.(bool)
		if !ok {
			return errNotBoolean
		}
		me := userFrom(r.Context())
		if online && (!me.IsApproved || me.IsRejected) {
			return apperr.Forbiddenf("Your account is not approved for deliveries")
		}
		active, err := orders.ActiveOrdersOf(r.Context(), me.ID)
		if err != nil {
			return err
		}
		state := store.AgentOffline
		if online {
			state = store.AgentFree
			if len(active) > 0 {
				state = store.AgentBusy
			}
		} else if len(active) > 0 {
			list := make([]map[string]any, 0, len(active))
			for _, o := range active {
				list = append(list, map[string]any{"orderId": o.ID.Hex(), "orderNumber": o.OrderNumber, "status": string(o.Status)})
			}
			return &apperr.Error{Kind: apperr.Invalid,
				Message: "Cannot go offline while you have active deliveries. Please complete them first.",
				Extra:   map[string]any{"activeOrders": list}}
		}
		u, err := users.SetAgentState(r.Context(), me.ID, online, state)
		if err != nil {
			return err
		}
		word := "offline"
		if online {
			word = "online"
		}
		var lastOnline any
		if u.Status != nil {
			lastOnline = jsTimePtr(u.Status.LastOnline)
		}
		respondNoCode(w, http.StatusOK, "Status updated successfully. You are now "+word+".", map[string]any{
			"deliveryAgentId": u.ID.Hex(), "name": u.Name, "email": u.Email, "phone": u.Phone,
			"isOnline": u.IsOnline(), "state": u.AgentState(), "lastOnline": lastOnline,
			"vehicleInfo": vehicleView(u), "rating": ratingView(u),
		})
		return nil
	}
}

func vehicleView(u *store.User) map[string]any {
	v := map[string]any{"type": "", "number": "", "model": ""}
	if u.VehicleInfo != nil {
		v["type"], v["number"], v["model"] = u.VehicleInfo.Type, u.VehicleInfo.Number, u.VehicleInfo.Model
	}
	return v
}

func ratingView(u *store.User) map[string]any {
	if u.Rating == nil {
		return map[string]any{"average": 0, "count": 0}
	}
	return map[string]any{"average": u.Rating.Average, "count": u.Rating.Count}
}

// handleGetAgentStatus: GET /delivery-agent/status (D) → data {…, status:
// {isOnline, state, lastOnline}, activeOrders}. The app reads
// data.status.isOnline.
func handleGetAgentStatus(orders *store.Orders) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		u := userFrom(r.Context())
		active, err := orders.ActiveOrdersOf(r.Context(), u.ID)
		if err != nil {
			return err
		}
		var lastOnline any
		if u.Status != nil {
			lastOnline = jsTimePtr(u.Status.LastOnline)
		}
		respondNoCode(w, http.StatusOK, "Status retrieved successfully", map[string]any{
			"deliveryAgentId": u.ID.Hex(), "name": u.Name, "email": u.Email, "phone": u.Phone,
			"status":      map[string]any{"isOnline": u.IsOnline(), "state": u.AgentState(), "lastOnline": lastOnline},
			"vehicleInfo": vehicleView(u), "rating": ratingView(u),
			"totalDeliveries": u.TotalDeliveries, "activeOrders": len(active),
		})
		return nil
	}
}

// handleAgentStats: GET /delivery-agent/stats (D) → data {today:
// {ordersCompleted, activeOrders, earnings, hoursOnline, acceptance},
// overall: {totalDeliveries, rating, totalEarnings}}, computed from the
// agent's orders; "today" starts at midnight in the shop's time zone.
func handleAgentStats(orders *store.Orders, startOfToday func() time.Time) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		u := userFrom(r.Context())
		overall, today, err := orders.AgentDeliveryTotals(r.Context(), u.ID, startOfToday())
		if err != nil {
			return err
		}
		active, err := orders.ActiveOrdersOf(r.Context(), u.ID)
		if err != nil {
			return err
		}
		rating := 0.0
		if u.Rating != nil {
			rating = u.Rating.Average
		}
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "data": map[string]any{
			"today": map[string]any{
				"ordersCompleted": today.Count, "activeOrders": len(active),
				"earnings": order.Round2(today.Amount * agentEarningShare), "hoursOnline": 0, "acceptance": 0,
			},
			"overall": map[string]any{
				"totalDeliveries": max(overall.Count, u.TotalDeliveries), "rating": rating,
				"totalEarnings": order.Round2(overall.Amount * agentEarningShare),
			},
		}})
		return nil
	}
}

// handleRecentDeliveries: GET /delivery-agent/recent-deliveries?limit (D)
// → {success, count, data: [...]}, latest delivery first.
func handleRecentDeliveries(orders *store.Orders) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := newQuery(r)
		limit := q.int("limit", 10, 1, 50)
		if err := q.err(); err != nil {
			return err
		}
		u := userFrom(r.Context())
		os, err := orders.RecentDeliveries(r.Context(), u.ID, int64(limit))
		if err != nil {
			return err
		}
		out := make([]map[string]any, 0, len(os))
		for _, o := range os {
			out = append(out, recentDeliveryView(o))
		}
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "count": len(out), "data": out})
		return nil
	}
}

func recentDeliveryView(o *order.Order) map[string]any {
	items := make([]map[string]any, 0, len(o.Items))
	for _, it := range o.Items {
		items = append(items, map[string]any{
			"product":  map[string]any{"_id": it.Product.Hex(), "name": it.ProductSnapshot.Name, "image": it.ProductSnapshot.ImageURL},
			"quantity": it.Quantity,
		})
	}
	a := o.DeliveryAddress
	parts := []string{}
	for _, s := range []string{a.Street, a.City} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return map[string]any{
		"_id": o.ID.Hex(), "orderNumber": o.OrderNumber, "items": items,
		"deliveryAddress": map[string]any{"street": a.Street, "city": a.City, "formatted": strings.Join(parts, ", ")},
		"deliveredAt":     jsTimePtr(o.DeliveredAt), "totalAmount": o.TotalAmount, "rating": nil,
		"status": string(o.Status),
	}
}
