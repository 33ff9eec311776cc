package api

import (
	"encoding/json"
	"math"
	"net/http"
	"strings"

	"github.com/friendspizzahut/platform/orderapi/internal/store"
)

// productView is a product as the apps read it.
func productView(p *store.Product) map[string]any {
	return map[string]any{
		"_id": p.ID.Hex(), "id": p.ID.Hex(), "name": p.Name, "description": p.Description,
		"category": p.Category, "pricing": p.Pricing, "basePrice": p.BasePrice, "imageUrl": p.ImageURL,
		"isVegetarian": p.IsVegetarian, "toppings": p.Toppings, "preparationTime": p.PreparationTime,
		"discountPercent": p.DiscountPercent, "rating": p.Rating, "salesCount": p.SalesCount,
		"totalRevenue": p.TotalRevenue, "isAvailable": p.IsAvailable,
		"createdAt": jsTime(p.CreatedAt), "updatedAt": jsTime(p.UpdatedAt), "__v": 0,
	}
}

// handleListProducts: GET /products with the original's filters, sorting
// and top-level pagination fields.
func handleListProducts(products *store.Products) apiFunc {
	sortFields := map[string]string{"price": "basePrice", "rating": "rating", "popular": "salesCount", "name": "name"}
	return func(w http.ResponseWriter, r *http.Request) error {
		q := newQuery(r)
		page := q.int("page", 1, 1, 100000)
		limit := q.int("limit", 10, 1, 100)
		pq := store.ProductQuery{
			Category:     q.oneOf("category", store.ProductCategories()...),
			Search:       q.str("search"),
			IsAvailable:  q.boolPtr("isAvailable"),
			IsVegetarian: q.boolPtr("isVegetarian"),
			SortBy:       sortFields[q.str("sortBy")], // anything else sorts by createdAt, as the original
			Desc:         q.oneOf("sortOrder", "asc", "desc") != "asc",
			Skip:         int64((page - 1) * limit),
			Limit:        int64(limit),
		}
		if len(pq.Search) > 100 {
			q.p.add("search", "search must be at most 100 characters", nil)
		}
		if err := q.err(); err != nil {
			return err
		}
		ps, total, err := products.ListProducts(r.Context(), pq)
		if err != nil {
			return err
		}
		views := make([]map[string]any, 0, len(ps))
		for _, p := range ps {
			views = append(views, productView(p))
		}
		totalPages := int(math.Ceil(float64(total) / float64(limit)))
		writeJSON(w, http.StatusOK, map[string]any{
			"success": true, "message": "Products retrieved successfully", "data": views,
			"total": total, "page": page, "limit": limit, "totalPages": totalPages, "hasMore": page < totalPages,
		})
		return nil
	}
}

// handleGetProduct: GET /products/{id}.
func handleGetProduct(products *store.Products) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		p, err := products.ProductByID(r.Context(), id)
		if err != nil {
			return err
		}
		respond(w, http.StatusOK, "Product retrieved successfully", productView(p))
		return nil
	}
}

// productInput is a product body; every field is optional so that PATCH
// can send a subset. Pricing is a number or a {small, medium, large} object.
type productInput struct {
	Name            *string                 `json:"name"`
	Description     *string                 `json:"description"`
	Category        *string                 `json:"category"`
	Pricing         json.RawMessage         `json:"pricing"`
	ImageURL        *string                 `json:"imageUrl"`
	IsVegetarian    *bool                   `json:"isVegetarian"`
	Toppings        *[]store.ProductTopping `json:"toppings"`
	PreparationTime *int                    `json:"preparationTime"`
	DiscountPercent *float64                `json:"discountPercent"`
	IsAvailable     *bool                   `json:"isAvailable"`
	Rating          *float64                `json:"rating"`
}

// apply copies the given fields onto p and reports what is wrong with the
// result, so create and update validate the same way.
func (in *productInput) apply(p *store.Product, probs *problems) {
	if in.Name != nil {
		p.Name = strings.TrimSpace(*in.Name)
	}
	if in.Description != nil {
		p.Description = strings.TrimSpace(*in.Description)
	}
	if in.Category != nil {
		p.Category = *in.Category
	}
	if in.ImageURL != nil {
		p.ImageURL = strings.TrimSpace(*in.ImageURL)
	}
	if in.IsVegetarian != nil {
		p.IsVegetarian = *in.IsVegetarian
	}
	if in.Toppings != nil {
		p.Toppings = *in.Toppings
	}
	if in.PreparationTime != nil {
		p.PreparationTime = *in.PreparationTime
	}
	if in.DiscountPercent != nil {
		p.DiscountPercent = *in.DiscountPercent
	}
	if in.IsAvailable != nil {
		p.IsAvailable = *in.IsAvailable
	}
	if in.Rating != nil {
		p.Rating = *in.Rating
	}
	if len(in.Pricing) > 0 && string(in.Pricing) != "null" {
		pr, ok := parsePricing(in.Pricing)
		if !ok {
			probs.add("pricing", "Pricing must be a positive number, or an object with positive small, medium and/or large prices", string(in.Pricing))
		} else {
			p.Pricing = pr
		}
	}

	if p.Name == "" || len([]rune(p.Name)) > 100 {
		probs.add("name", "Product name is required (at most 100 characters)", p.Name)
	}
	if len([]rune(p.Description)) > 500 {
		probs.add("description", "Description must be at most 500 characters", nil)
	}
	if !store.IsProductCategory(p.Category) {
		probs.add("category", "Category must be one of "+strings.Join(store.ProductCategories(), ", "), p.Category)
	}
	if p.ImageURL == "" {
		probs.add("imageUrl", "Image URL is required", nil)
	}
	switch {
	case p.Pricing.IsSized() && p.Category != "pizza":
		probs.add("pricing", "Only pizzas are priced by size; use a single number", nil)
	case !p.Pricing.IsSized() && p.Category == "pizza":
		probs.add("pricing", "Pizza pricing must be an object with small, medium and/or large prices", nil)
	case !p.Pricing.IsSized() && !(p.Pricing.Flat > 0):
		probs.add("pricing", "Price must be greater than 0", nil)
	}
	if p.DiscountPercent < 0 || p.DiscountPercent > 100 {
		probs.add("discountPercent", "Discount must be between 0 and 100", p.DiscountPercent)
	}
	if p.Rating < 0 || p.Rating > 5 {
		probs.add("rating", "Rating must be between 0 and 5", p.Rating)
	}
	if p.PreparationTime < 0 || p.PreparationTime > 240 {
		probs.add("preparationTime", "Preparation time must be between 0 and 240 minutes", p.PreparationTime)
	}
	for i, t := range p.Toppings {
		switch t.Category {
		case "vegetables", "meat", "cheese", "sauce":
		default:
			probs.add("toppings", "Topping category must be vegetables, meat, cheese or sauce", t.Category)
		}
		if strings.TrimSpace(t.Name) == "" {
			probs.add("toppings", "Topping name is required", i)
		}
	}
}

// parsePricing accepts a positive number or an object of positive size prices.
func parsePricing(raw json.RawMessage) (store.Pricing, bool) {
	var flat float64
	if err := json.Unmarshal(raw, &flat); err == nil {
		return store.Pricing{Flat: flat}, flat > 0 && !math.IsInf(flat, 0)
	}
	var sizes map[string]float64
	if err := json.Unmarshal(raw, &sizes); err != nil || len(sizes) == 0 {
		return store.Pricing{}, false
	}
	allowed := map[string]bool{}
	for _, s := range store.PizzaSizes() {
		allowed[s] = true
	}
	for k, v := range sizes {
		if !allowed[k] || !(v > 0) {
			return store.Pricing{}, false
		}
	}
	return store.Pricing{Sizes: sizes}, true
}

// handleCreateProduct: POST /products (admin) → 201.
func handleCreateProduct(products *store.Products) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[productInput](r)
		if err != nil {
			return err
		}
		p := &store.Product{IsAvailable: true, Rating: 4.0}
		var probs problems
		in.apply(p, &probs)
		if err := probs.err(); err != nil {
			return err
		}
		if err := products.CreateProduct(r.Context(), p); err != nil {
			return err
		}
		respond(w, http.StatusCreated, "Product created successfully", productView(p))
		return nil
	}
}

// handleUpdateProduct: PATCH /products/{id} (admin), any subset of fields
// (the app sends {isAvailable} to toggle availability).
func handleUpdateProduct(products *store.Products) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		in, err := decode[productInput](r)
		if err != nil {
			return err
		}
		p, err := products.UpdateProduct(r.Context(), id, func(p *store.Product) error {
			var probs problems
			in.apply(p, &probs)
			return probs.err()
		})
		if err != nil {
			return err
		}
		respond(w, http.StatusOK, "Product updated successfully", productView(p))
		return nil
	}
}

// handleDeleteProduct: DELETE /products/{id} (admin). Orders keep their
// product snapshots, so deleting a product never breaks an order.
func handleDeleteProduct(products *store.Products) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if err := products.DeleteProduct(r.Context(), id); err != nil {
			return err
		}
		respond(w, http.StatusOK, "Product deleted successfully", nil)
		return nil
	}
}
