package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/friendspizzahut/platform/orderapi/internal/order"
	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/apperr"
	"github.com/friendspizzahut/platform/shared/auth"
	"github.com/friendspizzahut/platform/shared/event"
)

// displayZone is the shop's time zone, used only for the display strings of
// my-orders ("3:45 PM"). The shop is in India.
var displayZone = time.FixedZone("IST", 5*3600+1800)

// maxAgentOrders is how many orders an agent may hold at once (the agent
// list's maxDeliveries).
const maxAgentOrders = 3

// orderView is an order as the original returned it, with user,
// items.product and deliveryAgent "populated" from the order's own copies
// (FerretDB has no $lookup; the copies are taken when the order is placed
// and assigned).
func orderView(o *order.Order) map[string]any {
	items := make([]map[string]any, 0, len(o.Items))
	totalItems := 0
	for _, it := range o.Items {
		totalItems += it.Quantity
		items = append(items, map[string]any{
			"product": map[string]any{"_id": it.Product.Hex(), "name": it.ProductSnapshot.Name, "imageUrl": it.ProductSnapshot.ImageURL,
				"category": it.ProductSnapshot.Category, "price": it.SelectedPrice},
			"productSnapshot": map[string]any{"name": it.ProductSnapshot.Name, "imageUrl": it.ProductSnapshot.ImageURL,
				"basePrice": it.ProductSnapshot.BasePrice, "category": it.ProductSnapshot.Category},
			"quantity": it.Quantity, "size": nilIfBlank(it.Size), "selectedPrice": it.SelectedPrice,
			"customToppings": nonNilToppings(it.CustomToppings), "specialInstructions": it.SpecialInstructions, "subtotal": it.Subtotal,
		})
	}
	history := make([]map[string]any, 0, len(o.StatusHistory))
	for _, h := range o.StatusHistory {
		history = append(history, map[string]any{"_id": h.ID.Hex(), "status": h.Status, "timestamp": jsTime(h.Timestamp), "note": h.Note})
	}
	var agent, agentDetails any
	if o.DeliveryAgent != nil {
		a := map[string]any{"_id": o.DeliveryAgent.Hex(), "id": o.DeliveryAgent.Hex()}
		if d := o.DeliveryAgentDetails; d != nil {
			a["name"], a["phone"] = d.Name, d.Phone
		}
		agent = a
	}
	if d := o.DeliveryAgentDetails; d != nil {
		agentDetails = map[string]any{"name": d.Name, "phone": d.Phone, "vehicleNumber": d.VehicleNumber}
	}
	var coupon, offer any
	if c := o.AppliedCoupon; c != nil {
		coupon = map[string]any{"code": c.Code, "discountAmount": c.DiscountAmount}
	}
	if of := o.AppliedOffer; of != nil {
		offer = map[string]any{"offerId": of.OfferID.Hex(), "code": of.Code, "title": of.Title,
			"discountType": of.DiscountType, "discountValue": of.DiscountValue, "discountAmount": of.DiscountAmount}
	}
	a := o.DeliveryAddress
	return map[string]any{
		"_id": o.ID.Hex(), "id": o.ID.Hex(), "orderNumber": o.OrderNumber,
		"user": map[string]any{"_id": o.User.Hex(), "id": o.User.Hex(), "name": o.Customer.Name, "email": o.Customer.Email,
			"phone": o.Customer.Phone, "profileImage": nilIfBlank(o.Customer.ProfileImage)},
		"items": items, "totalItems": totalItems,
		"subtotal": o.Subtotal, "tax": o.Tax, "deliveryFee": o.DeliveryFee, "discount": o.Discount, "totalAmount": o.TotalAmount,
		"appliedCoupon": coupon, "appliedOffer": offer,
		"status": o.Status, "statusHistory": history,
		"acceptedAt": jsTimePtr(o.AcceptedAt), "readyAt": jsTimePtr(o.ReadyAt), "assignedAt": jsTimePtr(o.AssignedAt),
		"pickedUpAt": jsTimePtr(o.PickedUpAt), "deliveredAt": jsTimePtr(o.DeliveredAt), "cancelledAt": jsTimePtr(o.CancelledAt),
		"cancellationReason": o.CancellationReason, "cancelledBy": o.CancelledBy,
		"deliveryAgent": agent, "deliveryAgentDetails": agentDetails,
		"paymentStatus": o.PaymentStatus, "paymentMethod": o.PaymentMethod,
		"deliveryAddress": deliveryAddressView(a),
		"contactPhone":    o.ContactPhone, "orderInstructions": o.OrderInstructions,
		"estimatedDeliveryTime": o.EstimatedDeliveryTime,
		"createdAt":             jsTime(o.CreatedAt), "updatedAt": jsTime(o.UpdatedAt), "__v": 0,
	}
}

func nonNilToppings(ts []order.Topping) []order.Topping {
	if ts == nil {
		return []order.Topping{}
	}
	return ts
}

// orderDeps are the stores the order routes use.
type orderDeps struct {
	orders   *store.Orders
	users    *store.Users
	carts    *store.Carts
	products *store.Products
	offers   *store.Offers
	business *store.Business
	pr       pricer
}

// placeRequest is the body of POST /orders/from-cart and POST /orders.
type placeRequest struct {
	DeliveryAddress   *deliveryAddressInput `json:"deliveryAddress"`
	ContactPhone      string                `json:"contactPhone"`
	PaymentMethod     string                `json:"paymentMethod"`
	OrderInstructions string                `json:"orderInstructions"`
	// POST /orders only.
	Items      []orderLineInput `json:"items"`
	CouponCode string           `json:"couponCode"`
}

type deliveryAddressInput struct {
	Street       string `json:"street"`
	City         string `json:"city"`
	State        string `json:"state"`
	Pincode      string `json:"pincode"`
	Landmark     string `json:"landmark"`
	Instructions string `json:"instructions"`
	// Location is an optional drop point {latitude, longitude} (additive).
	Location *struct {
		Latitude  *float64 `json:"latitude"`
		Longitude *float64 `json:"longitude"`
	} `json:"location"`
}

// dropPoint returns the address's drop point, or nil when none was sent.
func (a *deliveryAddressInput) dropPoint() *order.GeoPoint {
	if a.Location == nil || a.Location.Latitude == nil || a.Location.Longitude == nil {
		return nil
	}
	return &order.GeoPoint{Latitude: *a.Location.Latitude, Longitude: *a.Location.Longitude}
}

type orderLineInput struct {
	ProductID           string          `json:"productId"`
	Product             string          `json:"product"` // the original validator's name for it
	Quantity            int             `json:"quantity"`
	Size                string          `json:"size"`
	CustomToppings      []toppingChoice `json:"customToppings"`
	SpecialInstructions string          `json:"specialInstructions"`
}

func (q *placeRequest) valid(p *problems) {
	if q.DeliveryAddress == nil {
		p.add("deliveryAddress", "Delivery address is required", nil)
	} else {
		a := q.DeliveryAddress
		for _, f := range []struct {
			name string
			v    *string
		}{{"street", &a.Street}, {"city", &a.City}, {"state", &a.State}, {"pincode", &a.Pincode}} {
			*f.v = strings.TrimSpace(*f.v)
			if *f.v == "" {
				p.add("deliveryAddress."+f.name, "Delivery address "+f.name+" is required", nil)
			} else if len(*f.v) > 200 {
				p.add("deliveryAddress."+f.name, "Delivery address "+f.name+" is too long", nil)
			}
		}
		if len(a.Instructions) > 200 || len(a.Landmark) > 200 {
			p.add("deliveryAddress.instructions", "Delivery instructions are too long", nil)
		}
		if l := a.Location; l != nil && (l.Latitude == nil || l.Longitude == nil || !event.ValidCoordinates(*l.Latitude, *l.Longitude)) {
			p.add("deliveryAddress.location", "location must be {latitude: -90..90, longitude: -180..180}", nil)
		}
	}
	q.ContactPhone = strings.TrimSpace(q.ContactPhone)
	if q.ContactPhone == "" {
		p.add("contactPhone", "Contact phone is required", nil)
	} else if !phonePattern.MatchString(strings.TrimPrefix(strings.ReplaceAll(q.ContactPhone, " ", ""), "+91")) {
		p.add("contactPhone", "Contact phone must be a 10-digit number", q.ContactPhone)
	}
	if q.PaymentMethod == "" {
		q.PaymentMethod = "cash"
	}
	switch q.PaymentMethod {
	case "cash", "card", "upi", "wallet":
	default:
		p.add("paymentMethod", "Payment method must be cash, card, upi or wallet", q.PaymentMethod)
	}
	if len([]rune(q.OrderInstructions)) > 500 {
		p.add("orderInstructions", "Order instructions must be at most 500 characters", nil)
	}
}

// validLines checks the items of POST /orders.
func (q *placeRequest) validLines(p *problems) []choice {
	if len(q.Items) == 0 {
		p.add("items", "Order must contain at least one item", nil)
	}
	if len(q.Items) > maxCartItems {
		p.add("items", fmt.Sprintf("An order holds at most %d items", maxCartItems), nil)
	}
	out := make([]choice, 0, len(q.Items))
	for i, it := range q.Items {
		field := "items[" + strconv.Itoa(i) + "]"
		pid := it.ProductID
		if pid == "" {
			pid = it.Product
		}
		id, err := primitive.ObjectIDFromHex(pid)
		if err != nil {
			p.add(field+".productId", "Invalid product ID", pid)
		}
		if it.Quantity < 1 || it.Quantity > maxQuantity {
			p.add(field+".quantity", "Quantity must be between 1 and 50", it.Quantity)
		}
		switch it.Size {
		case "", "small", "medium", "large":
		default:
			p.add(field+".size", "Size must be small, medium or large", it.Size)
		}
		if len([]rune(it.SpecialInstructions)) > 200 {
			p.add(field+".specialInstructions", "Special instructions must be at most 200 characters", nil)
		}
		out = append(out, choice{product: id, quantity: it.Quantity, size: it.Size,
			toppings: toppingNames(it.CustomToppings), instructions: strings.TrimSpace(it.SpecialInstructions)})
	}
	return out
}

// place turns priced choices into a stored order: the shop must be open,
// every line orderable and the coupon good.
// With an Idempotency-Key the order id is derived from it, so a retried
// request finds the order its first attempt stored.
func (d orderDeps) place(ctx context.Context, u *store.User, req placeRequest, q *quote, coupon string) (*order.Order, error) {
	b, err := d.business.Status(ctx)
	if err != nil {
		return nil, err
	}
	if !b.IsOpen {
		msg := "The restaurant is currently closed. Please try again later."
		if b.Message != "" {
			msg = "The restaurant is currently closed: " + b.Message
		}
		return nil, apperr.Invalidf("%s", msg)
	}
	if probs := q.problems(); len(probs) > 0 {
		return nil, apperr.Invalidf("%s", probs[0])
	}
	if coupon != "" && q.couponErr != nil {
		return nil, q.couponErr
	}
	// The minimum order amount is the app's check (CONTRACT §3.3: the
	// original server never enforced it); GET /cart/validate reports it.
	draft := order.Draft{
		User:     u.ID,
		Customer: order.Customer{Name: u.Name, Email: u.Email, Phone: u.Phone},
		Subtotal: q.totals.Subtotal, Tax: q.totals.Tax, DeliveryFee: q.totals.DeliveryFee,
		Discount: q.totals.Discount, TotalAmount: q.totals.Total,
		PaymentMethod: req.PaymentMethod, ContactPhone: req.ContactPhone,
		OrderInstructions: strings.TrimSpace(req.OrderInstructions),
		DeliveryAddress: order.Address{Street: req.DeliveryAddress.Street, City: req.DeliveryAddress.City,
			State: req.DeliveryAddress.State, Pincode: req.DeliveryAddress.Pincode,
			Instructions: strings.TrimSpace(strings.Join(nonBlank(req.DeliveryAddress.Instructions, req.DeliveryAddress.Landmark), "; ")),
			Location:     req.DeliveryAddress.dropPoint()},
	}
	if u.ProfileImage != nil {
		draft.Customer.ProfileImage = *u.ProfileImage
	}
	for _, l := range q.lines {
		draft.Items = append(draft.Items, l.item)
	}
	if q.offer != nil && q.totals.Discount > 0 {
		draft.AppliedCoupon = &order.AppliedCoupon{Code: q.offer.Code, DiscountAmount: q.totals.Discount}
		draft.AppliedOffer = &order.AppliedOffer{OfferID: q.offer.ID, Code: q.offer.Code, Title: q.offer.Title,
			DiscountType: q.offer.DiscountType, DiscountValue: q.offer.DiscountValue, DiscountAmount: q.totals.Discount}
	}
	draft.ID = idempotentObjectID(ctx) // zero without a key
	if !draft.ID.IsZero() {
		if o, err := d.orders.OrderByID(ctx, draft.ID); err == nil {
			return o, nil // a retry: the first attempt stored it and counted its offer use
		}
	}
	// The offer's use is counted before the order is stored, atomically and
	// within usageLimit, so the last use goes to exactly one order; it is
	// given back if the order is not stored after all.
	if draft.AppliedOffer != nil {
		if err := d.offers.UseOffer(ctx, draft.AppliedOffer.OfferID, d.pr.now()); err != nil {
			return nil, err
		}
	}
	o := order.New(draft, d.pr.now().UTC().Truncate(time.Millisecond))
	if err := d.orders.InsertOrder(ctx, o); err != nil {
		dup := store.IsUniqueViolation(err)
		if draft.AppliedOffer != nil {
			// Detached: the use must be given back even if the client left.
			release, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if rerr := d.offers.ReleaseOffer(release, draft.AppliedOffer.OfferID); rerr != nil {
				err = errors.Join(err, fmt.Errorf("give back the use of offer %s: %w", draft.AppliedOffer.Code, rerr))
			}
		}
		if dup && !draft.ID.IsZero() {
			return d.orders.OrderByID(ctx, o.ID) // a concurrent attempt stored it
		}
		return nil, err
	}
	sold := map[primitive.ObjectID][2]float64{}
	for _, it := range o.Items {
		v := sold[it.Product]
		sold[it.Product] = [2]float64{v[0] + float64(it.Quantity), v[1] + it.Subtotal}
	}
	_ = d.products.RecordSales(ctx, sold)
	return o, nil
}

func nonBlank(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// handleOrderFromCart: POST /orders/from-cart → 201 data <Order>, priced
// from the cart, which is then cleared. order.created goes out through the
// outbox (order:new to admins and agents).
func handleOrderFromCart(d orderDeps) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		req, err := decode[placeRequest](r)
		if err != nil {
			return err
		}
		u := userFrom(r.Context())
		c, err := d.carts.CartOf(r.Context(), u.ID)
		if err != nil {
			return err
		}
		if len(c.Items) == 0 {
			return apperr.Invalidf("Cart is empty")
		}
		q, err := d.pr.price(r.Context(), cartChoices(c), couponOf(c))
		if err != nil {
			return err
		}
		o, err := d.place(r.Context(), u, req, q, couponOf(c))
		if err != nil {
			return err
		}
		if err := d.carts.ClearCart(r.Context(), u.ID); err != nil {
			return err
		}
		respond(w, http.StatusCreated, "Order placed successfully", orderView(o))
		return nil
	}
}

// handleCreateOrder: POST /orders {items: [{productId, quantity, size?}],
// deliveryAddress, contactPhone, paymentMethod, couponCode?} → 201, priced
// on the server; the cart is left alone.
func handleCreateOrder(d orderDeps) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		req, err := decode[placeRequest](r)
		if err != nil {
			return err
		}
		var probs problems
		choices := req.validLines(&probs)
		if err := probs.err(); err != nil {
			return err
		}
		coupon := strings.ToUpper(strings.TrimSpace(req.CouponCode))
		q, err := d.pr.price(r.Context(), choices, coupon)
		if err != nil {
			return err
		}
		for _, l := range q.lines {
			if l.product == nil {
				return apperr.NotFoundf("Product not found: %s", l.choice.product.Hex())
			}
		}
		o, err := d.place(r.Context(), userFrom(r.Context()), req, q, coupon)
		if err != nil {
			return err
		}
		respond(w, http.StatusCreated, "Order placed successfully", orderView(o))
		return nil
	}
}

// itemLabel is "2x Margherita (Large) +3 toppings".
func itemLabel(it order.Item) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%dx %s", it.Quantity, it.ProductSnapshot.Name)
	if it.Size != "" {
		b.WriteString(" (" + strings.ToUpper(it.Size[:1]) + it.Size[1:] + ")")
	}
	switch n := len(it.CustomToppings); {
	case n == 1:
		b.WriteString(" +1 topping")
	case n > 1:
		fmt.Fprintf(&b, " +%d toppings", n)
	}
	return b.String()
}

// myOrderView is one row of the customer's my-orders (CONTRACT §3.3).
func myOrderView(o *order.Order) map[string]any {
	labels := make([]string, 0, len(o.Items))
	count := 0
	var firstImage any
	for i, it := range o.Items {
		labels = append(labels, itemLabel(it))
		count += it.Quantity
		if i == 0 && it.ProductSnapshot.ImageURL != "" {
			firstImage = it.ProductSnapshot.ImageURL
		}
	}
	var estimated, agent any
	if o.Status.IsActive() {
		estimated = fmt.Sprintf("%d-%d min", o.EstimatedDeliveryTime, o.EstimatedDeliveryTime+5)
	}
	if d := o.DeliveryAgentDetails; d != nil {
		agent = map[string]any{"name": d.Name, "phone": d.Phone, "vehicleNumber": d.VehicleNumber}
	}
	return map[string]any{
		"id": o.OrderNumber, "_id": o.ID.Hex(), "orderNumber": o.OrderNumber,
		"status": o.Status.Display(), "statusType": o.Status.Type(), "rawStatus": o.Status,
		"items": labels, "itemsCount": count, "firstItemImage": firstImage,
		"total": o.TotalAmount, "subtotal": o.Subtotal, "tax": o.Tax, "deliveryFee": o.DeliveryFee, "discount": o.Discount,
		"paymentMethod": o.PaymentMethod, "paymentStatus": o.PaymentStatus,
		"deliveryAddress": strings.Join(nonBlank(o.DeliveryAddress.Street, o.DeliveryAddress.City), ", "),
		"contactPhone":    o.ContactPhone,
		"date":            jsTime(o.CreatedAt), "time": o.CreatedAt.In(displayZone).Format("3:04 PM"),
		"estimatedTime": estimated, "deliveryAgent": agent,
		"deliveredAt": jsTimePtr(o.DeliveredAt),
	}
}

// handleMyOrders: GET /orders/my-orders?limit&skip&status (the caller's
// own orders, newest first) → data {orders, pagination}.
func handleMyOrders(orders *store.Orders) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := newQuery(r)
		limit := q.int("limit", 20, 1, 100)
		skip := q.int("skip", 0, 0, 1_000_000)
		status := q.oneOf("status", statusNames()...)
		if err := q.err(); err != nil {
			return err
		}
		me := userFrom(r.Context()).ID
		f := store.OrderFilter{User: &me, Skip: int64(skip), Limit: int64(limit)}
		if status != "" {
			f.Statuses = []order.Status{order.Status(status)}
		}
		os, total, err := orders.ListOrders(r.Context(), f)
		if err != nil {
			return err
		}
		rows := make([]map[string]any, 0, len(os))
		for _, o := range os {
			rows = append(rows, myOrderView(o))
		}
		respond(w, http.StatusOK, "Orders retrieved successfully", map[string]any{
			"orders":     rows,
			"pagination": map[string]any{"total": total, "limit": limit, "skip": skip, "hasMore": int64(skip+len(rows)) < total},
		})
		return nil
	}
}

func statusNames() []string {
	var out []string
	for _, s := range order.Statuses() {
		out = append(out, string(s))
	}
	return out
}

// handleListOrders: GET /orders?status&limit&skip (admin) → data: a bare
// array of orders, newest first.
func handleListOrders(orders *store.Orders) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := newQuery(r)
		status := q.oneOf("status", statusNames()...)
		limit := q.int("limit", 200, 1, 500)
		skip := q.int("skip", 0, 0, 1_000_000)
		if err := q.err(); err != nil {
			return err
		}
		f := store.OrderFilter{Skip: int64(skip), Limit: int64(limit)}
		if status != "" {
			f.Statuses = []order.Status{order.Status(status)}
		}
		os, _, err := orders.ListOrders(r.Context(), f)
		if err != nil {
			return err
		}
		rows := make([]map[string]any, 0, len(os))
		for _, o := range os {
			rows = append(rows, orderView(o))
		}
		respond(w, http.StatusOK, "Orders retrieved successfully", rows)
		return nil
	}
}

// handleGetOrder: GET /orders/{id} → data {order}, for its customer, its
// assigned agent and admins only.
func handleGetOrder(orders *store.Orders) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		o, err := orders.OrderByID(r.Context(), id)
		if err != nil {
			return err
		}
		u := userFrom(r.Context())
		if u.Role != auth.RoleAdmin && !o.IsParty(u.ID.Hex()) {
			return apperr.Forbiddenf("Not authorized to view this order")
		}
		respond(w, http.StatusOK, "Order retrieved successfully", map[string]any{"order": orderView(o)})
		return nil
	}
}

// transition runs one order method on the stored order, conditioned on the
// status it was decided from (store.UpdateOrder).
func transition(ctx context.Context, orders *store.Orders, r *http.Request, change func(*order.Order, time.Time) error) (*order.Order, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return orders.UpdateOrder(ctx, id, func(o *order.Order) error {
		return change(o, time.Now().UTC().Truncate(time.Millisecond))
	})
}

// handleAcceptOrder: POST /orders/{id}/accept (admin) → data {order}.
func handleAcceptOrder(orders *store.Orders) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		o, err := transition(r.Context(), orders, r, func(o *order.Order, at time.Time) error { return o.Accept(at) })
		if err != nil {
			return err
		}
		respond(w, http.StatusOK, "Order accepted successfully", map[string]any{"order": orderView(o)})
		return nil
	}
}

// handleMarkReady: POST /orders/{id}/mark-ready (admin) → data {order}.
func handleMarkReady(orders *store.Orders) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		o, err := transition(r.Context(), orders, r, func(o *order.Order, at time.Time) error { return o.MarkReady(at) })
		if err != nil {
			return err
		}
		respond(w, http.StatusOK, "Order marked as ready", map[string]any{"order": orderView(o)})
		return nil
	}
}

type rejectRequest struct {
	Reason string `json:"reason"`
}

func (q *rejectRequest) valid(p *problems) {
	q.Reason = strings.TrimSpace(q.Reason)
	if len([]rune(q.Reason)) > 500 {
		p.add("reason", "Reason must be at most 500 characters", nil)
	}
}

// handleRejectOrder: POST /orders/{id}/reject {reason} (admin) → data
// {order} cancelled, reason stored; the agent (if any) is freed.
func handleRejectOrder(orders *store.Orders, users *store.Users) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		req, err := decode[rejectRequest](r)
		if err != nil {
			return err
		}
		if req.Reason == "" {
			req.Reason = "Rejected by admin"
		}
		o, err := transition(r.Context(), orders, r, func(o *order.Order, at time.Time) error {
			return o.Reject(req.Reason, auth.RoleAdmin, at)
		})
		if err != nil {
			return err
		}
		if err := releaseAgent(r.Context(), orders, users, o, false); err != nil {
			return err
		}
		respond(w, http.StatusOK, "Order rejected successfully", map[string]any{"order": orderView(o)})
		return nil
	}
}

type assignRequest struct {
	DeliveryAgentID string `json:"deliveryAgentId"`
}

// handleAssignDelivery: PATCH /orders/{id}/assign-delivery
// {deliveryAgentId} (admin) → data <Order>. The agent must be an approved,
// active, online agent with room for another order; it becomes busy.
func handleAssignDelivery(orders *store.Orders, users *store.Users) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		req, err := decode[assignRequest](r)
		if err != nil {
			return err
		}
		if strings.TrimSpace(req.DeliveryAgentID) == "" {
			return apperr.Invalidf("Delivery agent ID is required")
		}
		agentID, err := store.ParseID(strings.TrimSpace(req.DeliveryAgentID))
		if err != nil {
			return err
		}
		agent, err := users.UserByID(r.Context(), agentID)
		if apperr.KindOf(err) == apperr.NotFound {
			return apperr.NotFoundf("Delivery agent not found")
		}
		if err != nil {
			return err
		}
		switch {
		case !agent.IsAgent():
			return apperr.Invalidf("User is not a delivery agent")
		case !agent.IsApproved || agent.IsRejected:
			return apperr.Invalidf("Delivery agent is not approved")
		case !agent.IsActive:
			return apperr.Invalidf("Delivery agent account is inactive")
		case !agent.IsOnline():
			return apperr.Invalidf("Delivery agent is offline")
		}
		held, err := orders.CountOrders(r.Context(), store.OrderFilter{DeliveryAgent: &agentID,
			Statuses: []order.Status{order.Assigned, order.OutForDelivery}})
		if err != nil {
			return err
		}
		if held >= maxAgentOrders {
			return apperr.Invalidf("Delivery agent already has %d active deliveries", held)
		}
		ref := order.Agent{ID: agent.ID, Name: agent.Name, Phone: agent.Phone, Email: agent.Email}
		if agent.ProfileImage != nil {
			ref.ProfileImage = *agent.ProfileImage
		}
		if agent.VehicleInfo != nil {
			ref.VehicleNumber = agent.VehicleInfo.Number
		}
		o, err := orders.UpdateOrder(r.Context(), id, func(o *order.Order) error {
			return o.Assign(ref, time.Now().UTC().Truncate(time.Millisecond))
		})
		if err != nil {
			return err
		}
		// The agent is busy now: delivery.agent_status_changed from the
		// agent's own document (a separate write; a crash in between leaves
		// the agent shown free until their next change).
		if _, err := users.SetAgentState(r.Context(), agentID, true, store.AgentBusy); err != nil {
			return err
		}
		respond(w, http.StatusOK, "Delivery agent assigned successfully", orderView(o))
		return nil
	}
}

type statusRequest struct {
	Status             string `json:"status"`
	PaymentStatus      string `json:"paymentStatus"`
	CancellationReason string `json:"cancellationReason"`
	Reason             string `json:"reason"`
	status             order.Status
}

func (q *statusRequest) valid(p *problems) {
	st, ok := order.ParseStatus(q.Status)
	if !ok {
		p.add("status", "Status must be one of "+strings.Join(statusNames(), ", "), q.Status)
	}
	q.status = st
	if q.PaymentStatus != "" && !order.ValidPaymentStatus(q.PaymentStatus) {
		p.add("paymentStatus", "Payment status must be pending, completed or failed", q.PaymentStatus)
	}
	if q.CancellationReason == "" {
		q.CancellationReason = q.Reason
	}
	q.CancellationReason = strings.TrimSpace(q.CancellationReason)
	if len([]rune(q.CancellationReason)) > 500 {
		p.add("cancellationReason", "Cancellation reason must be at most 500 characters", nil)
	}
}

// handleUpdateOrderStatus: PATCH /orders/{id}/status {status,
// paymentStatus?, cancellationReason?} → data <Order>. Admins make any
// allowed transition, agents move their own orders on (pickup, delivery,
// payment collection), customers cancel their own pending orders; the
// state machine in package order decides.
func handleUpdateOrderStatus(orders *store.Orders, users *store.Users) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		req, err := decode[statusRequest](r)
		if err != nil {
			return err
		}
		u := userFrom(r.Context())
		actor := order.Actor{ID: u.ID.Hex(), Role: u.Role}
		var before order.Status
		o, err := orders.UpdateOrder(r.Context(), id, func(o *order.Order) error {
			before = o.Status
			return o.SetStatus(actor, req.status, req.PaymentStatus, req.CancellationReason, time.Now().UTC().Truncate(time.Millisecond))
		})
		if err != nil {
			return err
		}
		if before != o.Status && (o.Status == order.Delivered || o.Status == order.Cancelled) {
			if err := releaseAgent(r.Context(), orders, users, o, o.Status == order.Delivered); err != nil {
				return err
			}
		}
		respond(w, http.StatusOK, "Order status updated successfully", orderView(o))
		return nil
	}
}

// releaseAgent updates the agent of an order that just ended: one more
// delivery counted if delivered, and free again (if still online) once
// they hold no other order.
func releaseAgent(ctx context.Context, orders *store.Orders, users *store.Users, o *order.Order, delivered bool) error {
	if o.DeliveryAgent == nil {
		return nil
	}
	agentID := *o.DeliveryAgent
	if delivered {
		if _, err := users.UpdateUser(ctx, agentID, func(u *store.User) ([]event.Payload, error) {
			u.TotalDeliveries++
			return nil, nil
		}); err != nil && apperr.KindOf(err) != apperr.NotFound {
			return err
		}
	}
	held, err := orders.CountOrders(ctx, store.OrderFilter{DeliveryAgent: &agentID,
		Statuses: []order.Status{order.Assigned, order.OutForDelivery}})
	if err != nil || held > 0 {
		return err
	}
	agent, err := users.UserByID(ctx, agentID)
	if apperr.KindOf(err) == apperr.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if agent.IsOnline() && agent.AgentState() == store.AgentBusy {
		_, err = users.SetAgentState(ctx, agentID, true, store.AgentFree)
	}
	return err
}

// agentOrderView is one row of GET /orders/delivery-agent/my-orders.
func agentOrderView(o *order.Order, rs *store.RestaurantSettings) map[string]any {
	items := make([]map[string]any, 0, len(o.Items))
	for _, it := range o.Items {
		price := 0.0
		if it.Quantity > 0 {
			price = order.Round2(it.Subtotal / float64(it.Quantity))
		}
		items = append(items, map[string]any{"name": it.ProductSnapshot.Name, "quantity": it.Quantity, "price": price,
			"subtotal": it.Subtotal, "size": nilIfBlank(it.Size)})
	}
	step := 0
	if o.Status == order.OutForDelivery {
		step = 2
	}
	pm := o.PaymentMethod
	switch pm {
	case "cash":
		pm = "cod"
	case "":
		pm = "online"
	}
	a := o.DeliveryAddress
	return map[string]any{
		"id": o.OrderNumber, "_id": o.ID.Hex(), "orderNumber": o.OrderNumber,
		"customerName": o.Customer.Name, "customerPhone": o.Customer.Phone, "customerEmail": o.Customer.Email,
		"profileImage": nilIfBlank(o.Customer.ProfileImage), "contactPhone": o.ContactPhone,
		"deliveryAddress": map[string]any{"street": a.Street, "city": a.City, "state": a.State, "pincode": a.Pincode, "instructions": a.Instructions},
		"restaurant":      rs.Name, "restaurantAddress": rs.Address, "restaurantPhone": rs.Phone,
		"distance": "N/A", "estimatedTime": fmt.Sprintf("%d min", o.EstimatedDeliveryTime),
		"status": o.Status, "total": "₹" + strconv.FormatFloat(o.TotalAmount, 'f', 2, 64), "totalAmount": o.TotalAmount,
		"items": items, "subtotal": o.Subtotal, "tax": o.Tax, "deliveryFee": o.DeliveryFee, "discount": o.Discount,
		"earnings":  "₹" + strconv.FormatFloat(order.Round2(o.TotalAmount*0.10), 'f', 2, 64),
		"orderTime": jsTime(o.CreatedAt), "assignedAt": jsTimePtr(o.AssignedAt), "currentStep": step,
		"paymentMethod": pm, "paymentStatus": o.PaymentStatus,
	}
}

// handleAgentOrders: GET /orders/delivery-agent/my-orders?status&limit →
// data {orders}: the caller's orders that are assigned or out for delivery.
func handleAgentOrders(orders *store.Orders, settings *store.Settings) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := newQuery(r)
		status := q.oneOf("status", string(order.Assigned), string(order.OutForDelivery))
		limit := q.int("limit", 50, 1, 100)
		if err := q.err(); err != nil {
			return err
		}
		me := userFrom(r.Context()).ID
		f := store.OrderFilter{DeliveryAgent: &me, Statuses: []order.Status{order.Assigned, order.OutForDelivery}, Limit: int64(limit)}
		if status != "" {
			f.Statuses = []order.Status{order.Status(status)}
		}
		os, _, err := orders.ListOrders(r.Context(), f)
		if err != nil {
			return err
		}
		rs, err := settings.Get(r.Context())
		if err != nil {
			return err
		}
		rows := make([]map[string]any, 0, len(os))
		for _, o := range os {
			rows = append(rows, agentOrderView(o, rs))
		}
		respond(w, http.StatusOK, "Orders retrieved successfully", map[string]any{"orders": rows, "count": len(rows)})
		return nil
	}
}

// deliveryAddressView is an order's deliveryAddress, with its drop point when known.
func deliveryAddressView(a order.Address) map[string]any {
	v := map[string]any{"street": a.Street, "city": a.City, "state": a.State, "pincode": a.Pincode, "instructions": a.Instructions}
	if a.Location != nil {
		v["location"] = a.Location
	}
	return v
}
