package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/friendspizzahut/platform/orderapi/internal/order"
	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/apperr"
)

// The cart routes answer {success, message, data: <cart>} with no
// statusCode, like the original. data carries the server's prices.

const maxCartItems = 50
const maxQuantity = 50

func cartChoices(c *store.Cart) []choice {
	out := make([]choice, 0, len(c.Items))
	for _, it := range c.Items {
		names := make([]string, 0, len(it.CustomToppings))
		for _, t := range it.CustomToppings {
			names = append(names, t.Name)
		}
		out = append(out, choice{cartItem: it.ID, product: it.Product, quantity: it.Quantity,
			size: it.Size, toppings: names, instructions: it.SpecialInstructions})
	}
	return out
}

func couponOf(c *store.Cart) string {
	if c.AppliedCoupon == nil {
		return ""
	}
	return *c.AppliedCoupon
}

// cartView is the cart with its prices.
func cartView(c *store.Cart, q *quote) map[string]any {
	items := make([]map[string]any, 0, len(q.lines))
	totalItems := 0
	for _, l := range q.lines {
		v := map[string]any{
			"_id": l.cartItem.Hex(), "quantity": l.quantity, "size": nilIfBlank(l.size),
			"specialInstructions": l.instructions, "isAvailable": l.problem == "",
		}
		if l.product != nil {
			p := l.product
			v["product"] = map[string]any{
				"_id": p.ID.Hex(), "name": p.Name, "imageUrl": p.ImageURL, "category": p.Category,
				"pricing": p.Pricing, "basePrice": p.BasePrice, "isAvailable": p.IsAvailable, "isVegetarian": p.IsVegetarian,
			}
		} else {
			v["product"] = map[string]any{"_id": l.choice.product.Hex(), "name": "Unavailable item"}
		}
		if l.problem == "" {
			v["size"] = nilIfBlank(l.item.Size)
			v["selectedPrice"] = l.item.SelectedPrice
			v["customToppings"] = l.item.CustomToppings
			v["subtotal"] = l.item.Subtotal
			totalItems += l.quantity
		} else {
			v["selectedPrice"], v["customToppings"], v["subtotal"], v["problem"] = 0, []any{}, 0, l.problem
		}
		items = append(items, v)
	}
	var coupon any
	if code := couponOf(c); code != "" {
		cv := map[string]any{"code": code, "discountAmount": q.totals.Discount, "isValid": q.couponErr == nil}
		if q.offer != nil {
			cv["offerId"], cv["title"], cv["discountType"], cv["discountValue"] = q.offer.ID.Hex(), q.offer.Title, q.offer.DiscountType, q.offer.DiscountValue
		}
		if q.couponErr != nil {
			cv["message"] = apperr.MessageOf(q.couponErr)
		}
		coupon = cv
	}
	var id any
	if !c.ID.IsZero() {
		id = c.ID.Hex()
	}
	return map[string]any{
		"_id": id, "user": c.User.Hex(), "items": items, "totalItems": totalItems,
		"subtotal": q.totals.Subtotal, "tax": q.totals.Tax, "taxRate": q.rules.TaxRate,
		"deliveryFee": q.totals.DeliveryFee, "discount": q.totals.Discount, "total": q.totals.Total,
		"appliedCoupon": coupon, "minOrderAmount": q.rules.MinOrderAmount,
		"freeDeliveryThreshold": q.rules.FreeDeliveryThreshold, "isEmpty": len(items) == 0,
		"createdAt": jsTimeOrNil(c.CreatedAt), "updatedAt": jsTimeOrNil(c.UpdatedAt),
	}
}

// minOrderMessage refuses a cart below the minimum order amount.
func minOrderMessage(min float64) string {
	return fmt.Sprintf("Minimum order amount is ₹%s", strconv.FormatFloat(min, 'f', -1, 64))
}

func nilIfBlank(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// cartDeps are the stores the cart routes use.
type cartDeps struct {
	carts *store.Carts
	pr    pricer
}

func (d cartDeps) respondCart(ctx context.Context, w http.ResponseWriter, status int, msg string, c *store.Cart) error {
	q, err := d.pr.price(ctx, cartChoices(c), couponOf(c))
	if err != nil {
		return err
	}
	respondNoCode(w, status, msg, cartView(c, q))
	return nil
}

// handleGetCart: GET /cart.
func handleGetCart(d cartDeps) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := d.carts.CartOf(r.Context(), userFrom(r.Context()).ID)
		if err != nil {
			return err
		}
		return d.respondCart(r.Context(), w, http.StatusOK, "Cart retrieved successfully", c)
	}
}

type addItemRequest struct {
	ProductID           string          `json:"productId"`
	Quantity            *int            `json:"quantity"`
	Size                string          `json:"size"`
	CustomToppings      []toppingChoice `json:"customToppings"`
	SpecialInstructions string          `json:"specialInstructions"`
	productID           primitive.ObjectID
}

func (q *addItemRequest) valid(p *problems) {
	id, err := primitive.ObjectIDFromHex(q.ProductID)
	switch {
	case q.ProductID == "":
		p.add("productId", "Product ID is required", nil)
	case err != nil:
		p.add("productId", "Invalid product ID", q.ProductID)
	}
	q.productID = id
	if q.Quantity == nil {
		one := 1
		q.Quantity = &one
	}
	if *q.Quantity < 1 || *q.Quantity > maxQuantity {
		p.add("quantity", "Quantity must be between 1 and 50", *q.Quantity)
	}
	switch q.Size {
	case "", "small", "medium", "large":
	default:
		p.add("size", "Size must be small, medium or large", q.Size)
	}
	if len(q.CustomToppings) > 20 {
		p.add("customToppings", "At most 20 custom toppings", nil)
	}
	q.SpecialInstructions = strings.TrimSpace(q.SpecialInstructions)
	if len([]rune(q.SpecialInstructions)) > 200 {
		p.add("specialInstructions", "Special instructions must be at most 200 characters", nil)
	}
}

// handleAddCartItem: POST /cart/items. The product must exist and be
// available in that size; the same choice twice adds up the quantity.
func handleAddCartItem(d cartDeps) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		req, err := decode[addItemRequest](r)
		if err != nil {
			return err
		}
		ch := choice{product: req.productID, quantity: *req.Quantity, size: req.Size,
			toppings: toppingNames(req.CustomToppings), instructions: req.SpecialInstructions}
		q, err := d.pr.price(r.Context(), []choice{ch}, "")
		if err != nil {
			return err
		}
		l := q.lines[0]
		if l.product == nil {
			return apperr.NotFoundf("Product not found")
		}
		if l.problem != "" {
			return apperr.Invalidf("%s", l.problem)
		}
		c, err := d.carts.UpdateCart(r.Context(), userFrom(r.Context()).ID, func(c *store.Cart) error {
			for i, it := range c.Items {
				if it.Product == ch.product && it.Size == l.item.Size && it.SpecialInstructions == ch.instructions &&
					sameToppings(it.CustomToppings, l.item.CustomToppings) {
					if it.Quantity+ch.quantity > maxQuantity {
						return apperr.Invalidf("Quantity must be between 1 and 50")
					}
					c.Items[i].Quantity += ch.quantity
					return nil
				}
			}
			if len(c.Items) >= maxCartItems {
				return apperr.Invalidf("Your cart is full (at most %d different items)", maxCartItems)
			}
			c.Items = append(c.Items, store.CartItem{ID: primitive.NewObjectID(), Product: ch.product,
				Quantity: ch.quantity, Size: l.item.Size, CustomToppings: l.item.CustomToppings,
				SpecialInstructions: ch.instructions, AddedAt: d.pr.now().UTC()})
			return nil
		})
		if err != nil {
			return err
		}
		return d.respondCart(r.Context(), w, http.StatusOK, "Item added to cart", c)
	}
}

func sameToppings(a, b []order.Topping) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.EqualFold(a[i].Name, b[i].Name) {
			return false
		}
	}
	return true
}

type quantityRequest struct {
	Quantity *int `json:"quantity"`
}

func (q *quantityRequest) valid(p *problems) {
	if q.Quantity == nil {
		p.add("quantity", "Quantity is required", nil)
	} else if *q.Quantity < 0 || *q.Quantity > maxQuantity {
		p.add("quantity", "Quantity must be between 0 and 50", *q.Quantity)
	}
}

var errCartItemNotFound = apperr.NotFoundf("Item not found in cart")

// handleUpdateCartItem: PATCH /cart/items/{itemId} {quantity}; 0 removes.
func handleUpdateCartItem(d cartDeps) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		itemID, err := pathID(r, "itemId")
		if err != nil {
			return err
		}
		req, err := decode[quantityRequest](r)
		if err != nil {
			return err
		}
		c, err := d.carts.UpdateCart(r.Context(), userFrom(r.Context()).ID, func(c *store.Cart) error {
			for i, it := range c.Items {
				if it.ID == itemID {
					if *req.Quantity == 0 {
						c.Items = append(c.Items[:i], c.Items[i+1:]...)
					} else {
						c.Items[i].Quantity = *req.Quantity
					}
					return nil
				}
			}
			return errCartItemNotFound
		})
		if err != nil {
			return err
		}
		return d.respondCart(r.Context(), w, http.StatusOK, "Cart updated", c)
	}
}

// handleRemoveCartItem: DELETE /cart/items/{itemId}.
func handleRemoveCartItem(d cartDeps) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		itemID, err := pathID(r, "itemId")
		if err != nil {
			return err
		}
		c, err := d.carts.UpdateCart(r.Context(), userFrom(r.Context()).ID, func(c *store.Cart) error {
			for i, it := range c.Items {
				if it.ID == itemID {
					c.Items = append(c.Items[:i], c.Items[i+1:]...)
					return nil
				}
			}
			return errCartItemNotFound
		})
		if err != nil {
			return err
		}
		return d.respondCart(r.Context(), w, http.StatusOK, "Item removed from cart", c)
	}
}

// handleClearCart: DELETE /cart.
func handleClearCart(d cartDeps) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := d.carts.UpdateCart(r.Context(), userFrom(r.Context()).ID, func(c *store.Cart) error {
			c.Items, c.AppliedCoupon = []store.CartItem{}, nil
			return nil
		})
		if err != nil {
			return err
		}
		return d.respondCart(r.Context(), w, http.StatusOK, "Cart cleared", c)
	}
}

type couponRequest struct {
	CouponCode string `json:"couponCode"`
	Code       string `json:"code"` // accepted too
}

func (q *couponRequest) valid(p *problems) {
	if q.CouponCode == "" {
		q.CouponCode = q.Code
	}
	q.CouponCode = strings.ToUpper(strings.TrimSpace(q.CouponCode))
	if q.CouponCode == "" {
		p.add("couponCode", "Coupon code is required", nil)
	} else if len(q.CouponCode) > 20 {
		p.add("couponCode", "Invalid coupon code", q.CouponCode)
	}
}

// handleApplyCoupon: POST /cart/coupon {couponCode}. The offer must give a
// discount on this cart now, or the answer is 400 with the reason.
func handleApplyCoupon(d cartDeps) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		req, err := decode[couponRequest](r)
		if err != nil {
			return err
		}
		user := userFrom(r.Context()).ID
		c, err := d.carts.CartOf(r.Context(), user)
		if err != nil {
			return err
		}
		if len(c.Items) == 0 {
			return apperr.Invalidf("Cart is empty")
		}
		q, err := d.pr.price(r.Context(), cartChoices(c), req.CouponCode)
		if err != nil {
			return err
		}
		if q.couponErr != nil {
			return q.couponErr
		}
		c, err = d.carts.UpdateCart(r.Context(), user, func(c *store.Cart) error {
			code := req.CouponCode
			c.AppliedCoupon = &code
			return nil
		})
		if err != nil {
			return err
		}
		return d.respondCart(r.Context(), w, http.StatusOK, "Coupon applied successfully", c)
	}
}

// handleRemoveCoupon: DELETE /cart/coupon.
func handleRemoveCoupon(d cartDeps) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := d.carts.UpdateCart(r.Context(), userFrom(r.Context()).ID, func(c *store.Cart) error {
			c.AppliedCoupon = nil
			return nil
		})
		if err != nil {
			return err
		}
		return d.respondCart(r.Context(), w, http.StatusOK, "Coupon removed", c)
	}
}

// handleValidateCart: GET /cart/validate → data {isValid, issues[], cart}:
// every line orderable, the coupon still good, the minimum order reached.
func handleValidateCart(d cartDeps) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := d.carts.CartOf(r.Context(), userFrom(r.Context()).ID)
		if err != nil {
			return err
		}
		q, err := d.pr.price(r.Context(), cartChoices(c), couponOf(c))
		if err != nil {
			return err
		}
		issues := q.problems()
		if len(c.Items) == 0 {
			issues = append(issues, "Cart is empty")
		}
		if q.couponErr != nil {
			issues = append(issues, apperr.MessageOf(q.couponErr))
		}
		if len(c.Items) > 0 && q.totals.Subtotal < q.rules.MinOrderAmount {
			issues = append(issues, minOrderMessage(q.rules.MinOrderAmount))
		}
		if issues == nil {
			issues = []string{}
		}
		respondNoCode(w, http.StatusOK, "Cart validated", map[string]any{
			"isValid": len(issues) == 0, "valid": len(issues) == 0, "issues": issues, "errors": issues, "cart": cartView(c, q),
		})
		return nil
	}
}
