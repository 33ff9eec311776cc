package order

import "math"

// Rules are the restaurant settings prices are computed with.
type Rules struct {
	TaxRate               float64 // percent
	DeliveryFee           float64
	FreeDeliveryThreshold float64 // 0 = never free
	MinOrderAmount        float64
}

// Totals are what a cart or an order costs.
type Totals struct {
	Subtotal    float64
	Tax         float64
	DeliveryFee float64
	Discount    float64
	Total       float64
}

// Round2 rounds a rupee amount to paise.
func Round2(v float64) float64 { return math.Round(v*100) / 100 }

// Price computes the totals as the original did: tax = subtotal × rate /
// 100; the delivery fee is waived from the free-delivery threshold on; the
// discount never exceeds the subtotal; total = subtotal + tax + fee −
// discount. Everything is rounded to 2 decimals.
func Price(subtotal, discount float64, r Rules) Totals {
	subtotal = Round2(subtotal)
	discount = Round2(math.Max(0, math.Min(discount, subtotal)))
	fee := r.DeliveryFee
	if subtotal == 0 || (r.FreeDeliveryThreshold > 0 && subtotal >= r.FreeDeliveryThreshold) {
		fee = 0
	}
	tax := Round2(subtotal * r.TaxRate / 100)
	return Totals{
		Subtotal: subtotal, Tax: tax, DeliveryFee: Round2(fee), Discount: discount,
		Total: Round2(subtotal + tax + fee - discount),
	}
}

// LineSubtotal is one item's cost: (unit price + toppings) × quantity.
func LineSubtotal(unit float64, toppings []Topping, quantity int) float64 {
	for _, t := range toppings {
		unit += t.Price
	}
	return Round2(unit * float64(quantity))
}
