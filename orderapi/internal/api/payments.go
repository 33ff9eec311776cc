package api

import (
	"context"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/friendspizzahut/platform/orderapi/internal/order"
	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/apperr"
	"github.com/friendspizzahut/platform/shared/auth"
)

// Payments (CONTRACT §3.3 "Payments").
//
// Recording a payment is loss-free without multi-document transactions:
// the payment document, with its payment.received event in its outbox, is
// the one commit point. The order's paymentStatus follows it twice over:
// the handler updates the order right away (so the agent's next screen is
// right), and the relay hook store.(*Orders).OnPaymentPublished applies
// the same idempotent update when the event is published, which repairs
// the order if the process died in between. A unique sparse index on
// payments.settles allows one completed payment per order, so a retried
// or concurrent second collection is refused instead of double-counted.

// Payment methods, collection methods and statuses the API accepts.
var (
	paymentMethods    = []string{"cash", "card", "upi", "wallet", "cod"}
	collectionMethods = []string{"cash", "upi", "card"}
	paymentStatuses   = []string{order.PaymentPending, order.PaymentCompleted, order.PaymentFailed}
)

func oneOfStrings(v string, allowed []string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

type paymentRequest struct {
	Order            string   `json:"order"`
	OrderID          string   `json:"orderId"` // accepted as an alias of order
	User             string   `json:"user"`    // the app sends the agent's id; checked, not trusted
	Amount           *float64 `json:"amount"`
	PaymentMethod    string   `json:"paymentMethod"`
	CollectionMethod string   `json:"collectionMethod"`
	PaymentStatus    string   `json:"paymentStatus"`
	TransactionID    string   `json:"transactionId"`

	orderID primitive.ObjectID
}

func (q *paymentRequest) valid(p *problems) {
	if q.Order == "" {
		q.Order = q.OrderID
	}
	q.Order = strings.TrimSpace(q.Order)
	if q.Order == "" {
		p.add("order", "Order ID is required", nil)
	} else if id, err := primitive.ObjectIDFromHex(q.Order); err != nil {
		p.add("order", "Invalid order ID", q.Order)
	} else {
		q.orderID = id
	}
	if q.User != "" && !primitive.IsValidObjectID(q.User) {
		p.add("user", "Invalid user ID", q.User)
	}
	switch {
	case q.Amount == nil:
		p.add("amount", "Amount is required", nil)
	case *q.Amount < 0 || math.IsNaN(*q.Amount) || math.IsInf(*q.Amount, 0):
		p.add("amount", "Amount must be a positive number", *q.Amount)
	}
	if !oneOfStrings(q.PaymentMethod, paymentMethods) {
		p.add("paymentMethod", "Payment method must be one of "+strings.Join(paymentMethods, ", "), q.PaymentMethod)
	}
	if q.CollectionMethod != "" && !oneOfStrings(q.CollectionMethod, collectionMethods) {
		p.add("collectionMethod", "Collection method must be one of "+strings.Join(collectionMethods, ", "), q.CollectionMethod)
	}
	if q.PaymentStatus == "" {
		q.PaymentStatus = order.PaymentPending
	}
	if !oneOfStrings(q.PaymentStatus, paymentStatuses) {
		p.add("paymentStatus", "Payment status must be one of "+strings.Join(paymentStatuses, ", "), q.PaymentStatus)
	}
	if len(q.TransactionID) > 100 {
		p.add("transactionId", "transactionId must be at most 100 characters", nil)
	}
}

// payableByAgent are the statuses in which the assigned agent collects.
var payableByAgent = map[order.Status]bool{order.Assigned: true, order.OutForDelivery: true, order.Delivered: true}

// checkPayable says whether who may record a payment for o.
func checkPayable(who *store.User, o *order.Order) error {
	switch who.Role {
	case auth.RoleAdmin:
		if o.Status == order.Cancelled || o.Status == order.Refunded {
			return apperr.Invalidf("Cannot record a payment for an order with status: %s", o.Status)
		}
		return nil
	case auth.RoleDelivery:
		if o.DeliveryAgent == nil || *o.DeliveryAgent != who.ID {
			return apperr.Forbiddenf("Only the delivery agent assigned to this order can record its payment")
		}
		if !payableByAgent[o.Status] {
			return apperr.Invalidf("Cannot record a payment for an order with status: %s", o.Status)
		}
		return nil
	}
	return apperr.Forbiddenf("Not authorized to record payments")
}

// handleCreatePayment: POST /payments (assigned agent or admin). The
// amount must equal the order total. With an Idempotency-Key the payment's
// id is derived from the key, so even a retry after a failure halfway
// records it once.
func handleCreatePayment(payments *store.Payments, orders *store.Orders, users *store.Users) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		req, err := decode[paymentRequest](r)
		if err != nil {
			return err
		}
		me := userFrom(r.Context())
		o, err := orders.OrderByID(r.Context(), req.orderID)
		if err != nil {
			return err
		}
		if err := checkPayable(me, o); err != nil {
			return err
		}
		if math.Abs(*req.Amount-o.TotalAmount) > 0.005 {
			return apperr.Invalidf("Payment amount (%.2f) must equal the order total (%.2f)", *req.Amount, o.TotalAmount)
		}
		collector := me.ID
		p := &store.Payment{
			ID: idempotentObjectID(r.Context()), Order: o.ID, OrderNumber: o.OrderNumber, User: o.User,
			CollectedBy: &collector, DeliveryAgent: o.DeliveryAgent, Amount: order.Round2(*req.Amount),
			PaymentMethod: req.PaymentMethod, CollectionMethod: req.CollectionMethod,
			PaymentStatus: req.PaymentStatus, TransactionID: req.TransactionID, PaymentGateway: "cash",
		}
		if me.Role == auth.RoleAdmin || req.PaymentMethod != "cod" && req.PaymentMethod != "cash" {
			p.PaymentGateway = "manual"
		}
		// A retry of a request that failed after recording (same derived id)
		// finds its first attempt's payment; the order update below is
		// idempotent either way.
		var stored *store.Payment
		if p.PaymentStatus == order.PaymentCompleted && o.PaymentStatus == order.PaymentCompleted {
			// Paid already (maybe by this very request, if it is a retry
			// of one that failed after recording the payment).
			if p.ID.IsZero() {
				return store.ErrAlreadyPaid
			}
			prev, err := payments.PaymentByID(r.Context(), p.ID)
			if apperr.KindOf(err) == apperr.NotFound {
				return store.ErrAlreadyPaid
			}
			if err != nil {
				return err
			}
			stored = prev
		} else if stored, _, err = payments.RecordPayment(r.Context(), p); err != nil {
			return err
		}
		if stored.PaymentStatus == order.PaymentCompleted {
			if err := orders.MarkOrderPaid(r.Context(), o.ID); err != nil {
				// The payment is committed; its event's relay hook marks the
				// order paid when it is published, so the client gets its 201.
				loggerFrom(r.Context()).Warn("order not marked paid yet; the outbox hook will retry",
					"order_id", o.ID.Hex(), "payment_id", stored.ID.Hex(), "err", err)
			}
		}
		views, err := paymentViews(r.Context(), []*store.Payment{stored}, orders, users)
		if err != nil {
			return err
		}
		respond(w, http.StatusCreated, "Payment recorded successfully", views[0])
		return nil
	}
}

// paymentViews renders payments with order, user and collector populated
// (two $in lookups: FerretDB has no $lookup).
func paymentViews(ctx context.Context, ps []*store.Payment, orders *store.Orders, users *store.Users) ([]map[string]any, error) {
	var orderIDs, userIDs []primitive.ObjectID
	for _, p := range ps {
		orderIDs = append(orderIDs, p.Order)
		userIDs = append(userIDs, p.User)
		if p.CollectedBy != nil {
			userIDs = append(userIDs, *p.CollectedBy)
		}
	}
	os, err := orders.OrdersByIDs(ctx, orderIDs)
	if err != nil {
		return nil, err
	}
	us, err := users.UsersByIDs(ctx, userIDs)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(ps))
	for _, p := range ps {
		v := map[string]any{
			"_id": p.ID.Hex(), "id": p.ID.Hex(), "order": p.Order.Hex(), "user": p.User.Hex(), "amount": p.Amount,
			"paymentMethod": p.PaymentMethod, "collectionMethod": nilIfEmpty(p.CollectionMethod),
			"paymentStatus": p.PaymentStatus, "transactionId": nilIfEmpty(p.TransactionID),
			"paymentGateway": p.PaymentGateway, "refundStatus": p.RefundStatus,
			"orderNumber": p.OrderNumber, "collectedBy": nil,
			"createdAt": jsTime(p.CreatedAt), "updatedAt": jsTime(p.UpdatedAt),
		}
		if o := os[p.Order]; o != nil {
			v["order"] = map[string]any{"_id": o.ID.Hex(), "orderNumber": o.OrderNumber, "totalAmount": o.TotalAmount,
				"status": string(o.Status), "paymentStatus": o.PaymentStatus, "paymentMethod": o.PaymentMethod}
		}
		if u := us[p.User]; u != nil {
			v["user"] = map[string]any{"_id": u.ID.Hex(), "name": u.Name, "email": u.Email}
		}
		if p.CollectedBy != nil {
			v["collectedBy"] = p.CollectedBy.Hex()
			if u := us[*p.CollectedBy]; u != nil {
				v["collectedBy"] = map[string]any{"_id": u.ID.Hex(), "name": u.Name, "role": u.Role}
			}
		}
		out = append(out, v)
	}
	return out, nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// handleListPayments: GET /payments?status&paymentMethod&sortBy&sortOrder&page&limit
// (A) → data [Payment], newest first by default.
func handleListPayments(payments *store.Payments, orders *store.Orders, users *store.Users) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := newQuery(r)
		f := store.PaymentFilter{
			Status:        q.oneOf("status", paymentStatuses...),
			PaymentMethod: q.oneOf("paymentMethod", paymentMethods...),
			SortBy:        q.oneOf("sortBy", "createdAt", "amount"),
		}
		f.Ascending = q.oneOf("sortOrder", "asc", "desc") == "asc"
		page := q.int("page", 1, 1, 1_000_000)
		limit := q.int("limit", 100, 1, 500)
		if err := q.err(); err != nil {
			return err
		}
		f.Skip, f.Limit = int64((page-1)*limit), int64(limit)
		ps, _, err := payments.ListPayments(r.Context(), f)
		if err != nil {
			return err
		}
		views, err := paymentViews(r.Context(), ps, orders, users)
		if err != nil {
			return err
		}
		respond(w, http.StatusOK, "Payments retrieved successfully", views)
		return nil
	}
}

// handleGetPayment: GET /payments/:id (A).
func handleGetPayment(payments *store.Payments, orders *store.Orders, users *store.Users) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		p, err := payments.PaymentByID(r.Context(), id)
		if err != nil {
			return err
		}
		views, err := paymentViews(r.Context(), []*store.Payment{p}, orders, users)
		if err != nil {
			return err
		}
		respond(w, http.StatusOK, "Payment retrieved successfully", views[0])
		return nil
	}
}

// countAmount is a count and a sum.
type countAmount struct {
	Count  int     `json:"count"`
	Amount float64 `json:"amount"`
}

func (c *countAmount) add(v float64) { c.Count++; c.Amount = order.Round2(c.Amount + v) }

// handlePaymentStats: GET /payments/stats (A), summed in Go over a
// streamed projection (FerretDB v1 computes one $group accumulator only).
// "today" starts at midnight in the shop's time zone.
func handlePaymentStats(payments *store.Payments, startOfToday func() time.Time) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		today := startOfToday()
		var all, completed, pending, failed, todays, cash countAmount
		byMethod := map[string]*countAmount{}
		err := payments.EachPayment(r.Context(), store.PaymentFilter{}, func(p *store.Payment) {
			all.add(p.Amount)
			switch p.PaymentStatus {
			case order.PaymentCompleted:
				completed.add(p.Amount)
				m := byMethod[p.PaymentMethod]
				if m == nil {
					m = &countAmount{}
					byMethod[p.PaymentMethod] = m
				}
				m.add(p.Amount)
				if !p.CreatedAt.Before(today) {
					todays.add(p.Amount)
				}
				if p.IsCashCollection() {
					cash.add(p.Amount)
				}
			case order.PaymentFailed:
				failed.add(p.Amount)
			default:
				pending.add(p.Amount)
			}
		})
		if err != nil {
			return err
		}
		respond(w, http.StatusOK, "Payment statistics retrieved successfully", map[string]any{
			"totalPayments": all.Count, "totalAmount": completed.Amount,
			"completed": completed, "pending": pending, "failed": failed,
			"byMethod": byMethod, "today": todays, "cashCollected": cash,
		})
		return nil
	}
}

// handleCashCollections: GET /payments/cash-collections-by-agent (A) →
// data [{_id, name, email, totalCashCollected, deliveryCount}]: completed
// cash-on-delivery payments grouped by the order's agent, largest first.
func handleCashCollections(payments *store.Payments, orders *store.Orders, users *store.Users) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		type group struct {
			total  float64
			orders map[primitive.ObjectID]bool
		}
		groups := map[primitive.ObjectID]*group{}
		var legacy []*store.Payment // rows stored without deliveryAgent (migrated data)
		add := func(agent primitive.ObjectID, p *store.Payment) {
			g := groups[agent]
			if g == nil {
				g = &group{orders: map[primitive.ObjectID]bool{}}
				groups[agent] = g
			}
			g.total = order.Round2(g.total + p.Amount)
			g.orders[p.Order] = true
		}
		err := payments.EachPayment(r.Context(), store.PaymentFilter{Status: order.PaymentCompleted}, func(p *store.Payment) {
			if !p.IsCashCollection() {
				return
			}
			if p.DeliveryAgent != nil {
				add(*p.DeliveryAgent, p)
				return
			}
			legacy = append(legacy, p)
		})
		if err != nil {
			return err
		}
		if len(legacy) > 0 {
			ids := make([]primitive.ObjectID, 0, len(legacy))
			for _, p := range legacy {
				ids = append(ids, p.Order)
			}
			os, err := orders.OrdersByIDs(r.Context(), ids)
			if err != nil {
				return err
			}
			for _, p := range legacy {
				if o := os[p.Order]; o != nil && o.DeliveryAgent != nil {
					add(*o.DeliveryAgent, p)
				}
			}
		}
		agentIDs := make([]primitive.ObjectID, 0, len(groups))
		for id := range groups {
			agentIDs = append(agentIDs, id)
		}
		us, err := users.UsersByIDs(r.Context(), agentIDs)
		if err != nil {
			return err
		}
		rows := make([]map[string]any, 0, len(groups))
		for id, g := range groups {
			name, email := "Unknown agent", ""
			if u := us[id]; u != nil {
				name, email = u.Name, u.Email
			}
			rows = append(rows, map[string]any{"_id": id.Hex(), "name": name, "email": email,
				"totalCashCollected": g.total, "deliveryCount": len(g.orders)})
		}
		sort.Slice(rows, func(i, j int) bool {
			a, b := rows[i]["totalCashCollected"].(float64), rows[j]["totalCashCollected"].(float64)
			if a != b {
				return a > b
			}
			return rows[i]["_id"].(string) < rows[j]["_id"].(string)
		})
		respond(w, http.StatusOK, "Cash collections retrieved successfully", rows)
		return nil
	}
}
