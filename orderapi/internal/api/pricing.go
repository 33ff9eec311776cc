package api

import (
	"context"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/friendspizzahut/platform/orderapi/internal/order"
	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/apperr"
)

// Prices are computed here, on the server, from the products and the
// restaurant settings: carts and orders store choices, never client prices.

// choice is one line as a customer chose it.
type choice struct {
	cartItem     primitive.ObjectID // zero for POST /orders lines
	product      primitive.ObjectID
	quantity     int
	size         string
	toppings     []string // names; priced from the settings' available toppings
	instructions string
}

// line is a priced choice. problem is set when it cannot be ordered
// (product gone or unavailable, size or topping not offered).
type line struct {
	choice
	product *store.Product
	item    order.Item
	problem string
}

// quote is a priced cart or order draft.
type quote struct {
	lines     []line
	totals    order.Totals
	rules     order.Rules
	offer     *store.Offer
	couponErr error // why the applied coupon gives no discount, if it does not
}

// problems returns the reasons lines cannot be ordered.
func (q *quote) problems() []string {
	var out []string
	for _, l := range q.lines {
		if l.problem != "" {
			out = append(out, l.problem)
		}
	}
	return out
}

func rulesOf(rs *store.RestaurantSettings) order.Rules {
	return order.Rules{TaxRate: rs.TaxRate, DeliveryFee: rs.DeliveryFee,
		FreeDeliveryThreshold: rs.FreeDeliveryThreshold, MinOrderAmount: rs.MinOrderAmount}
}

// pricer prices choices. It is built per request.
type pricer struct {
	products *store.Products
	settings *store.Settings
	offers   *store.Offers
	now      func() time.Time
}

// price prices the choices and applies the coupon (code "" for none).
// Lines with problems are kept, unpriced, with problem set.
func (p pricer) price(ctx context.Context, choices []choice, coupon string) (*quote, error) {
	rs, err := p.settings.Get(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]primitive.ObjectID, 0, len(choices))
	for _, c := range choices {
		ids = append(ids, c.product)
	}
	prods, err := p.products.ProductsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	q := &quote{rules: rulesOf(rs)}
	subtotal := 0.0
	for _, c := range choices {
		l := priceLine(c, prods[c.product], rs)
		if l.problem == "" {
			subtotal += l.item.Subtotal
		}
		q.lines = append(q.lines, l)
	}
	discount := 0.0
	if coupon != "" {
		q.offer, err = p.offers.OfferByCode(ctx, coupon)
		if err == nil {
			discount, err = q.offer.Discount(order.Round2(subtotal), p.now())
		}
		if err != nil {
			if apperr.KindOf(err) == apperr.Internal {
				return nil, err
			}
			if apperr.KindOf(err) == apperr.NotFound {
				err = apperr.Invalidf("Invalid coupon code")
			}
			q.couponErr, discount = err, 0
		}
	}
	q.totals = order.Price(subtotal, discount, q.rules)
	return q, nil
}

// priceLine prices one choice against its product (nil if it is gone).
func priceLine(c choice, p *store.Product, rs *store.RestaurantSettings) line {
	l := line{choice: c, product: p}
	if p == nil {
		l.problem = "A product in your cart is no longer on the menu"
		return l
	}
	if !p.IsAvailable {
		l.problem = p.Name + " is currently unavailable"
		return l
	}
	unit, size, err := p.Pricing.Price(c.size)
	if err != nil {
		l.problem = apperr.MessageOf(err)
		return l
	}
	tops := make([]order.Topping, 0, len(c.toppings))
	for _, name := range c.toppings {
		t, ok := availableTopping(rs, name)
		if !ok {
			l.problem = "Topping " + name + " is not available"
			return l
		}
		tops = append(tops, t)
	}
	l.item = order.Item{
		Product:         p.ID,
		ProductSnapshot: order.ProductSnapshot{Name: p.Name, ImageURL: p.ImageURL, BasePrice: p.BasePrice, Category: p.Category},
		Quantity:        c.quantity, Size: size, SelectedPrice: unit, CustomToppings: tops,
		SpecialInstructions: c.instructions,
		Subtotal:            order.LineSubtotal(unit, tops, c.quantity),
	}
	return l
}

func availableTopping(rs *store.RestaurantSettings, name string) (order.Topping, bool) {
	for _, t := range rs.AvailableToppings {
		if t.IsActive && strings.EqualFold(t.Name, strings.TrimSpace(name)) {
			return order.Topping{Name: t.Name, Category: t.Category, Price: t.Price}, true
		}
	}
	return order.Topping{}, false
}

// toppingInput is a custom topping as the app sends it; only the name
// counts, the price comes from the settings.
type toppingChoice struct {
	Name     string  `json:"name"`
	Category string  `json:"category"`
	Price    float64 `json:"price"`
}

func toppingNames(ts []toppingChoice) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, strings.TrimSpace(t.Name))
	}
	return out
}
