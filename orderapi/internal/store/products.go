package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/friendspizzahut/platform/shared/apperr"
	"github.com/friendspizzahut/platform/shared/event"
)

// Product categories (CONTRACT §4.3).
var productCategories = []string{
	"pizza", "burger", "grilled-sandwich", "special-combo", "pasta", "noodles",
	"snacks", "milkshakes", "cold-drinks", "rice-items", "sweets", "sides",
}

// ProductCategories lists the valid categories.
func ProductCategories() []string { return append([]string(nil), productCategories...) }

// IsProductCategory reports whether c is a valid category.
func IsProductCategory(c string) bool {
	for _, x := range productCategories {
		if x == c {
			return true
		}
	}
	return false
}

// Pizza sizes, smallest first.
var pizzaSizes = []string{"small", "medium", "large"}

// PizzaSizes lists the sizes a pizza may be priced in.
func PizzaSizes() []string { return append([]string(nil), pizzaSizes...) }

// Pricing is a product's price: one number, or (pizzas) a price per size.
// It is stored and shown exactly like the original: a number, or an object
// {small?, medium?, large?}.
type Pricing struct {
	Flat  float64
	Sizes map[string]float64
}

// IsSized reports whether the price depends on the size.
func (p Pricing) IsSized() bool { return len(p.Sizes) > 0 }

// Base is the lowest price (the original's basePrice).
func (p Pricing) Base() float64 {
	if !p.IsSized() {
		return p.Flat
	}
	min := math.Inf(1)
	for _, v := range p.Sizes {
		min = math.Min(min, v)
	}
	return min
}

// DefaultSize is the size used when a client names none: the cheapest.
func (p Pricing) DefaultSize() string {
	best, price := "", math.Inf(1)
	for _, s := range pizzaSizes {
		if v, ok := p.Sizes[s]; ok && v < price {
			best, price = s, v
		}
	}
	return best
}

// Price returns the unit price for size ("" for the default size) and the
// size actually priced ("" for unsized products).
func (p Pricing) Price(size string) (float64, string, error) {
	if !p.IsSized() {
		return p.Flat, "", nil
	}
	if size == "" {
		size = p.DefaultSize()
	}
	v, ok := p.Sizes[size]
	if !ok {
		return 0, "", apperr.Invalidf("Size %q is not available for this product", size)
	}
	return v, size, nil
}

// MarshalBSONValue stores a number or a {size: price} document.
func (p Pricing) MarshalBSONValue() (bsontype.Type, []byte, error) {
	if !p.IsSized() {
		return bson.MarshalValue(p.Flat)
	}
	d := bson.D{}
	for _, s := range pizzaSizes {
		if v, ok := p.Sizes[s]; ok {
			d = append(d, bson.E{Key: s, Value: v})
		}
	}
	return bson.MarshalValue(d)
}

// UnmarshalBSONValue reads a number (any numeric type) or a document.
func (p *Pricing) UnmarshalBSONValue(t bsontype.Type, data []byte) error {
	rv := bson.RawValue{Type: t, Value: data}
	switch t {
	case bson.TypeDouble, bson.TypeInt32, bson.TypeInt64, bson.TypeDecimal128:
		f, ok := number(rv)
		if !ok {
			return fmt.Errorf("pricing: bad number")
		}
		*p = Pricing{Flat: f}
		return nil
	case bson.TypeEmbeddedDocument:
		elems, err := rv.Document().Elements()
		if err != nil {
			return err
		}
		p.Sizes = map[string]float64{}
		for _, e := range elems {
			if f, ok := number(e.Value()); ok {
				p.Sizes[e.Key()] = f
			}
		}
		return nil
	case bson.TypeNull, bson.TypeUndefined:
		*p = Pricing{}
		return nil
	}
	return fmt.Errorf("pricing: unexpected BSON type %s", t)
}

func number(rv bson.RawValue) (float64, bool) {
	switch rv.Type {
	case bson.TypeDouble:
		return rv.DoubleOK()
	case bson.TypeInt32:
		n, ok := rv.Int32OK()
		return float64(n), ok
	case bson.TypeInt64:
		n, ok := rv.Int64OK()
		return float64(n), ok
	case bson.TypeDecimal128:
		d, ok := rv.Decimal128OK()
		if !ok {
			return 0, false
		}
		f, err := parseFloat(d.String())
		return f, err == nil
	}
	return 0, false
}

func parseFloat(s string) (float64, error) {
	var f float64
	_, err := fmt.Sscan(s, &f)
	return f, err
}

// MarshalJSON shows the price as the original did: a number or an object.
func (p Pricing) MarshalJSON() ([]byte, error) {
	if !p.IsSized() {
		return json.Marshal(p.Flat)
	}
	return json.Marshal(p.Sizes)
}

// ProductTopping is a topping a pizza comes with.
type ProductTopping struct {
	Name     string `bson:"name" json:"name"`
	Category string `bson:"category" json:"category"`
}

// Product is a menu item.
type Product struct {
	ID              primitive.ObjectID `bson:"_id"`
	Name            string             `bson:"name"`
	Description     string             `bson:"description"`
	Category        string             `bson:"category"`
	Pricing         Pricing            `bson:"pricing"`
	BasePrice       float64            `bson:"basePrice"`
	ImageURL        string             `bson:"imageUrl"`
	IsVegetarian    bool               `bson:"isVegetarian"`
	Toppings        []ProductTopping   `bson:"toppings"`
	PreparationTime int                `bson:"preparationTime"`
	DiscountPercent float64            `bson:"discountPercent"`
	Rating          float64            `bson:"rating"`
	SalesCount      int                `bson:"salesCount"`
	TotalRevenue    float64            `bson:"totalRevenue"`
	IsAvailable     bool               `bson:"isAvailable"`
	CreatedAt       time.Time          `bson:"createdAt"`
	UpdatedAt       time.Time          `bson:"updatedAt"`
}

// Normalize derives what the original's pre-save hook derived: basePrice
// from the pricing, no toppings on non-pizzas, and the preparation time of
// the category when none is set.
func (p *Product) Normalize() {
	p.BasePrice = p.Pricing.Base()
	if p.Category != "pizza" {
		p.Toppings = []ProductTopping{}
	}
	if p.Toppings == nil {
		p.Toppings = []ProductTopping{}
	}
	if p.PreparationTime <= 0 {
		p.PreparationTime = preparationTime(p.Category)
	}
}

func preparationTime(category string) int {
	switch category {
	case "pizza":
		return 20
	case "burger", "grilled-sandwich", "pasta", "noodles", "special-combo", "rice-items":
		return 15
	}
	return 5
}

// Products is the products collection (the menu).
type Products struct{ base }

var errProductNotFound = apperr.NotFoundf("Product not found")

func (s *Products) ensureIndexes(ctx context.Context) error {
	err := createIndexes(ctx, s.c, []mongo.IndexModel{
		{Keys: bson.D{{Key: "category", Value: 1}, {Key: "isAvailable", Value: 1}}, Options: options.Index().SetName("category_available")},
		{Keys: bson.D{{Key: "salesCount", Value: -1}}, Options: options.Index().SetName("salesCount")},
	})
	if err != nil {
		return fmt.Errorf("products indexes: %w", err)
	}
	return nil
}

// ProductByID returns the product, or NotFound "Product not found".
func (s *Products) ProductByID(ctx context.Context, id primitive.ObjectID) (*Product, error) {
	var p Product
	if err := s.findOne(ctx, byID(id), &p, errProductNotFound); err != nil {
		return nil, err
	}
	return &p, nil
}

// ProductsByID loads the given products, keyed by id. Missing ones are
// simply absent.
func (s *Products) ProductsByID(ctx context.Context, ids []primitive.ObjectID) (map[primitive.ObjectID]*Product, error) {
	out := make(map[primitive.ObjectID]*Product, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	cur, err := s.c.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, fmt.Errorf("load products: %w", err)
	}
	var ps []*Product
	if err := cur.All(ctx, &ps); err != nil {
		return nil, fmt.Errorf("load products: %w", err)
	}
	for _, p := range ps {
		out[p.ID] = p
	}
	return out, nil
}

// ProductQuery selects and orders products for the menu list.
type ProductQuery struct {
	Category     string
	Search       string // case-insensitive, in name or description; matched literally
	IsAvailable  *bool
	IsVegetarian *bool
	SortBy       string // basePrice, rating, salesCount, name or createdAt
	Desc         bool
	Skip, Limit  int64
}

// ListProducts returns one page of products and the number matching.
func (s *Products) ListProducts(ctx context.Context, q ProductQuery) ([]*Product, int64, error) {
	f := bson.D{}
	if q.Category != "" {
		f = append(f, bson.E{Key: "category", Value: q.Category})
	}
	if q.IsAvailable != nil {
		f = append(f, bson.E{Key: "isAvailable", Value: *q.IsAvailable})
	}
	if q.IsVegetarian != nil {
		f = append(f, bson.E{Key: "isVegetarian", Value: *q.IsVegetarian})
	}
	if q.Search != "" {
		re := primitive.Regex{Pattern: regexp.QuoteMeta(q.Search), Options: "i"}
		f = append(f, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "name", Value: re}}, bson.D{{Key: "description", Value: re}},
		}})
	}
	dir := 1
	if q.Desc {
		dir = -1
	}
	sortBy := q.SortBy
	if sortBy == "" {
		sortBy = "createdAt"
	}
	sort := bson.D{{Key: sortBy, Value: dir}, {Key: "_id", Value: dir}}
	return findPage[Product](ctx, s.c, f, sort, q.Skip, q.Limit, "products")
}

// CreateProduct inserts p (normalised; id and timestamps filled in).
func (s *Products) CreateProduct(ctx context.Context, p *Product) error {
	if p.ID.IsZero() {
		p.ID = primitive.NewObjectID()
	}
	now := s.nowMs()
	p.CreatedAt, p.UpdatedAt = now, now
	p.Normalize()
	return s.insert(ctx, p.ID, p, nil)
}

// UpdateProduct applies change to the product and stores it normalised.
func (s *Products) UpdateProduct(ctx context.Context, id primitive.ObjectID, change func(*Product) error) (*Product, error) {
	return update(ctx, s.base, byID(id), errProductNotFound, func(p *Product) ([]event.Payload, error) {
		if err := change(p); err != nil {
			return nil, err
		}
		p.Normalize()
		p.UpdatedAt = s.nowMs()
		return nil, nil
	})
}

// DeleteProduct removes the product, or returns NotFound.
func (s *Products) DeleteProduct(ctx context.Context, id primitive.ObjectID) error {
	res, err := s.c.DeleteOne(ctx, byID(id))
	if err != nil {
		return fmt.Errorf("delete product: %w", err)
	}
	if res.DeletedCount == 0 {
		return errProductNotFound
	}
	return nil
}

// CountProducts counts all products (the seed checks for an empty menu).
func (s *Products) CountProducts(ctx context.Context) (int64, error) {
	n, err := s.c.CountDocuments(ctx, bson.D{})
	if err != nil {
		return 0, fmt.Errorf("count products: %w", err)
	}
	return n, nil
}

// RecordSales adds sold quantities and revenue to products (salesCount
// drives the "popular" sort). Best effort per product: a deleted product is
// skipped.
func (s *Products) RecordSales(ctx context.Context, sold map[primitive.ObjectID][2]float64) error {
	ids := make([]primitive.ObjectID, 0, len(sold))
	for id := range sold {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].Hex() < ids[j].Hex() })
	var errs []error
	for _, id := range ids {
		v := sold[id]
		_, err := s.c.UpdateOne(ctx, byID(id), bson.D{{Key: "$inc", Value: bson.D{
			{Key: "salesCount", Value: int(v[0])}, {Key: "totalRevenue", Value: v[1]},
			{Key: "rev", Value: 1}, // so a concurrent UpdateProduct re-reads instead of overwriting
		}}})
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
