package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/auth"
	"github.com/friendspizzahut/platform/shared/event"
)

func TestProducts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, adminTok := e.mustUser(auth.RoleAdmin)
	_, custTok := e.mustUser(auth.RoleCustomer)
	ctx := context.Background()
	for _, p := range []*store.Product{
		{Name: "Margherita", Description: "Classic cheese", Category: "pizza", ImageURL: "/m.jpg", IsAvailable: true, IsVegetarian: true, SalesCount: 50, Rating: 4.5,
			Pricing: store.Pricing{Sizes: map[string]float64{"small": 199, "large": 399}}},
		{Name: "Pepperoni", Category: "pizza", ImageURL: "/p.jpg", IsAvailable: true, SalesCount: 80, Rating: 4.0,
			Pricing: store.Pricing{Sizes: map[string]float64{"medium": 349}}},
		{Name: "Coke", Category: "cold-drinks", ImageURL: "/c.jpg", IsAvailable: true, IsVegetarian: true, SalesCount: 10, Pricing: store.Pricing{Flat: 49}},
		{Name: "Brownie (sold out)", Category: "sweets", ImageURL: "/b.jpg", IsAvailable: false, IsVegetarian: true, Pricing: store.Pricing{Flat: 99}},
	} {
		if err := e.stores.Products.CreateProduct(ctx, p); err != nil {
			t.Fatal(err)
		}
	}

	names := func(r resp) string {
		var out []string
		for _, p := range r.body["data"].([]any) {
			out = append(out, str(p.(map[string]any), "name"))
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct {
		query     string
		want      string
		wantTotal float64
		wantMore  bool
	}{
		{"?limit=6&sortBy=popular&sortOrder=desc&isAvailable=true", "Pepperoni,Margherita,Coke", 3, false},
		{"?sortBy=price&sortOrder=asc&limit=2", "Coke,Brownie (sold out)", 4, true},
		{"?sortBy=price&sortOrder=asc&limit=2&page=2", "Margherita,Pepperoni", 4, false},
		{"?category=pizza&sortBy=name&sortOrder=asc", "Margherita,Pepperoni", 2, false},
		{"?search=CLASSIC", "Margherita", 1, false},
		{"?search=.*", "", 0, false},
		{"?isVegetarian=false", "Pepperoni", 1, false},
	} {
		t.Run(tc.query, func(t *testing.T) {
			r := e.do("GET", "/api/v1/products"+tc.query, "", nil).want(t, 200)
			if got := names(r); got != tc.want || r.body["total"] != tc.wantTotal || r.body["hasMore"] != tc.wantMore {
				t.Fatalf("got %q total %v hasMore %v, want %q total %v hasMore %v", got, r.body["total"], r.body["hasMore"], tc.want, tc.wantTotal, tc.wantMore)
			}
			if _, ok := r.body["statusCode"]; ok || r.body["page"] == nil || r.body["totalPages"] == nil {
				t.Fatalf("want top-level pagination and no statusCode: %s", r)
			}
		})
	}
	for _, q := range []string{"?page=0", "?limit=1000", "?category=cars", "?isAvailable=maybe", "?sortOrder=sideways"} {
		t.Run("bad "+q, func(t *testing.T) { e.do("GET", "/api/v1/products"+q, "", nil).want(t, 400) })
	}

	var id string
	t.Run("admin creates", func(t *testing.T) {
		r := e.do("POST", "/api/v1/products", adminTok, map[string]any{
			"name": "Farmhouse", "category": "pizza", "imageUrl": "/f.jpg", "pricing": map[string]any{"small": 249, "medium": 379},
			"toppings": []any{map[string]any{"name": "Mushroom", "category": "vegetables"}},
		}).want(t, 201)
		d := r.data()
		id = str(d, "_id")
		if d["basePrice"] != 249.0 || d["isAvailable"] != true || d["preparationTime"] != 20.0 || dig(d, "pricing", "medium") != 379.0 {
			t.Fatalf("got %s", r)
		}
	})
	for _, tc := range []struct {
		name string
		body map[string]any
	}{
		{"no name", map[string]any{"category": "pizza", "imageUrl": "/x.jpg", "pricing": map[string]any{"small": 1}}},
		{"pizza with one price", map[string]any{"name": "X", "category": "pizza", "imageUrl": "/x.jpg", "pricing": 100}},
		{"burger by size", map[string]any{"name": "X", "category": "burger", "imageUrl": "/x.jpg", "pricing": map[string]any{"small": 1}}},
		{"negative price", map[string]any{"name": "X", "category": "burger", "imageUrl": "/x.jpg", "pricing": -5}},
		{"unknown size", map[string]any{"name": "X", "category": "pizza", "imageUrl": "/x.jpg", "pricing": map[string]any{"jumbo": 500}}},
		{"bad category", map[string]any{"name": "X", "category": "cars", "imageUrl": "/x.jpg", "pricing": 5}},
		{"no image", map[string]any{"name": "X", "category": "sides", "pricing": 5}},
		{"discount over 100", map[string]any{"name": "X", "category": "sides", "imageUrl": "/x.jpg", "pricing": 5, "discountPercent": 150}},
	} {
		t.Run("create refused: "+tc.name, func(t *testing.T) {
			r := e.do("POST", "/api/v1/products", adminTok, tc.body).want(t, 400)
			if r.body["message"] != "Validation failed" {
				t.Fatalf("got %s", r)
			}
		})
	}
	t.Run("customer cannot create", func(t *testing.T) {
		e.do("POST", "/api/v1/products", custTok, map[string]any{"name": "X"}).want(t, 403)
	})
	t.Run("get, toggle, delete", func(t *testing.T) {
		r := e.do("GET", "/api/v1/products/"+id, "", nil).want(t, 200)
		if str(r.data(), "name") != "Farmhouse" {
			t.Fatalf("got %s", r)
		}
		r = e.do("PATCH", "/api/v1/products/"+id, adminTok, map[string]any{"isAvailable": false}).want(t, 200)
		if r.data()["isAvailable"] != false || str(r.data(), "name") != "Farmhouse" {
			t.Fatalf("got %s", r)
		}
		e.do("PATCH", "/api/v1/products/"+id, adminTok, map[string]any{"pricing": 10}).want(t, 400)
		e.do("GET", "/api/v1/products/nope", "", nil).want(t, 400)
		e.do("DELETE", "/api/v1/products/"+id, adminTok, nil).want(t, 200)
		e.do("GET", "/api/v1/products/"+id, "", nil).want(t, 404)
		e.do("DELETE", "/api/v1/products/"+id, adminTok, nil).want(t, 404)
	})
}

func TestSettingsAndBusinessStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, adminTok := e.mustUser(auth.RoleAdmin)
	_, custTok := e.mustUser(auth.RoleCustomer)

	r := e.do("GET", "/api/v1/restaurant-settings/public", "", nil).want(t, 200)
	if d := r.data(); d["minOrderAmount"] != 100.0 || d["taxRate"] != 8.5 || d["deliveryFee"] != 40.0 || d["freeDeliveryThreshold"] != 2490.0 {
		t.Fatalf("got defaults %s", r)
	}
	for _, tc := range []struct {
		name string
		tok  string
		body any
		want int
	}{
		{"customer refused", custTok, map[string]any{"taxRate": 5}, 403},
		{"negative fee", adminTok, map[string]any{"deliveryFee": -1}, 400},
		{"tax over 100", adminTok, map[string]any{"taxRate": 101}, 400},
		{"string tax", adminTok, map[string]any{"taxRate": "5"}, 400},
		{"bad topping", adminTok, map[string]any{"availableToppings": []any{map[string]any{"name": "Gold", "category": "metal", "price": 1}}}, 400},
		{"subset", adminTok, map[string]any{"taxRate": 5, "deliveryFee": 30, "availableToppings": []any{map[string]any{"name": "Olives", "category": "vegetables", "price": 30}}}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("PUT", "/api/v1/admin/restaurant-settings", tc.tok, tc.body).want(t, tc.want)
			if tc.want >= 400 && (r.body["success"] != false || str(r.body, "message") == "") {
				t.Fatalf("got %s", r)
			}
		})
	}
	r = e.do("GET", "/api/v1/admin/restaurant-settings", adminTok, nil).want(t, 200)
	if d := r.data(); d["taxRate"] != 5.0 || d["deliveryFee"] != 30.0 || d["minOrderAmount"] != 100.0 || len(d["availableToppings"].([]any)) != 1 || str(d, "lastUpdatedBy") == "" {
		t.Fatalf("got %s", r)
	}

	r = e.do("GET", "/api/v1/business/status", "", nil).want(t, 200)
	if r.data()["isOpen"] != true {
		t.Fatalf("got %s, want open by default", r)
	}
	e.do("PATCH", "/api/v1/business/status", custTok, map[string]any{"isOpen": false}).want(t, 403)
	e.do("PATCH", "/api/v1/business/status", adminTok, map[string]any{}).want(t, 400)
	e.do("PATCH", "/api/v1/business/status", adminTok, map[string]any{"isOpen": "no"}).want(t, 400)
	r = e.do("PATCH", "/api/v1/business/status", adminTok, map[string]any{"isOpen": false, "message": "Closed for Diwali"}).want(t, 200)
	if r.data()["isOpen"] != false || r.data()["message"] != "Closed for Diwali" {
		t.Fatalf("got %s", r)
	}
	if r := e.do("GET", "/api/v1/business/status", "", nil).want(t, 200); r.data()["isOpen"] != false {
		t.Fatalf("got %s", r)
	}
	var doc struct {
		Outbox []struct{ Type, Data string } `bson:"outbox"`
	}
	if err := e.db.Collection(store.BusinessCollection).FindOne(context.Background(), map[string]any{"_id": "business"}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Outbox) != 1 || doc.Outbox[0].Type != string(event.BusinessStatusChanged) || !strings.Contains(doc.Outbox[0].Data, `"isOpen":false`) {
		t.Fatalf("got outbox %+v", doc.Outbox)
	}
}
