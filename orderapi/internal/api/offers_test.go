package api_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/auth"
	"github.com/friendspizzahut/platform/shared/event"
)

func offerBody(code string, over map[string]any) map[string]any {
	b := map[string]any{
		"title": "Weekend feast", "description": "20% off big orders", "code": code, "badge": "20% OFF",
		"discountType": "percentage", "discountValue": 20, "maxDiscount": 150, "minOrderValue": 300,
		"validUntil": time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339),
	}
	for k, v := range over {
		b[k] = v
	}
	return b
}

func TestOffersAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, adminTok := e.mustUser(auth.RoleAdmin)
	_, cTok := e.mustUser(auth.RoleCustomer)

	r := e.do("POST", "/api/v1/offers/admin", adminTok, offerBody("feast20", nil)).want(t, 201).wantMessage(t, "created")
	d := r.data()
	if str(d, "code") != "FEAST20" || d["isActive"] != true || len(d["gradientColors"].([]any)) != 2 || d["isValid"] != true {
		t.Fatalf("got %s, want an active FEAST20 with defaults", r)
	}
	id, _ := store.ParseID(str(d, "_id"))
	evs := e.events(store.OffersCollection, id)
	if len(evs) != 1 || evs[0].Type != string(event.OfferCreated) {
		t.Fatalf("got %v, want offer.created", eventTypes(evs))
	}
	if p := payload[event.OfferData](t, evs[0]); p.Code != "FEAST20" || p.OfferID != id.Hex() || p.DiscountValue != 20 {
		t.Fatalf("got payload %+v", p)
	}

	for _, tc := range []struct {
		name string
		body map[string]any
		msg  string
	}{
		{"taken code", offerBody("FEAST20", nil), "already exists"},
		{"bad code", offerBody("no!", nil), `"code"`},
		{"percentage over 100", offerBody("BIG", map[string]any{"discountValue": 120}), "at most 100"},
		{"unknown type", offerBody("TYPE1", map[string]any{"discountType": "bogo"}), `"discountType"`},
		{"ends before it starts", offerBody("DATES", map[string]any{"validFrom": "2030-01-02", "validUntil": "2030-01-01"}), "after"},
		{"bad date", offerBody("DATE2", map[string]any{"validUntil": "soon"}), `"validUntil"`},
		{"three colours", offerBody("GRAD", map[string]any{"gradientColors": []string{"#1", "#2", "#3"}}), "exactly 2"},
		{"wrong type", offerBody("TYPE2", map[string]any{"discountValue": "ten"}), `"discountValue"`},
		{"missing fields", map[string]any{}, "is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/api/v1/offers/admin", adminTok, tc.body).want(t, 400).wantMessage(t, tc.msg)
			if r.body["success"] != false {
				t.Fatalf("got %s", r)
			}
		})
	}

	e.do("POST", "/api/v1/offers/admin", adminTok, offerBody("flat50", map[string]any{"discountType": "fixed", "discountValue": 50, "minOrderValue": 0})).want(t, 201)

	t.Run("list and filters", func(t *testing.T) {
		r := e.do("GET", "/api/v1/offers/admin", adminTok, nil).want(t, 200)
		if r.body["count"] != float64(2) || len(r.list()) != 2 {
			t.Fatalf("got %s, want 2 offers", r)
		}
		r = e.do("GET", "/api/v1/offers/admin?discountType=fixed&search=flat", adminTok, nil).want(t, 200)
		if l := r.list(); len(l) != 1 || str(l[0].(map[string]any), "code") != "FLAT50" {
			t.Fatalf("got %s, want FLAT50", r)
		}
		e.do("GET", "/api/v1/offers/admin?isActive=maybe", adminTok, nil).want(t, 400)
	})
	t.Run("update, toggle, get", func(t *testing.T) {
		r := e.do("PATCH", "/api/v1/offers/admin/"+id.Hex(), adminTok, map[string]any{"title": "Feast", "discountValue": 25}).want(t, 200)
		if str(r.data(), "title") != "Feast" || num(r.data(), "discountValue") != 25 || str(r.data(), "code") != "FEAST20" {
			t.Fatalf("got %s", r)
		}
		e.do("PATCH", "/api/v1/offers/admin/"+id.Hex(), adminTok, map[string]any{"code": "FLAT50"}).want(t, 400).wantMessage(t, "already exists")
		e.do("PATCH", "/api/v1/offers/admin/"+id.Hex(), adminTok, map[string]any{"validUntil": "2000-01-01"}).want(t, 400).wantMessage(t, "after")
		r = e.do("PATCH", "/api/v1/offers/admin/"+id.Hex()+"/toggle", adminTok, nil).want(t, 200).wantMessage(t, "deactivated")
		if r.data()["isActive"] != false {
			t.Fatalf("got %s", r)
		}
		if l := e.do("GET", "/api/v1/offers/active", "", nil).want(t, 200).list(); len(l) != 1 {
			t.Fatalf("got %d active offers, want only FLAT50", len(l))
		}
		e.do("PATCH", "/api/v1/offers/admin/"+id.Hex()+"/toggle", adminTok, nil).want(t, 200).wantMessage(t, "activated")
		e.do("GET", "/api/v1/offers/admin/"+id.Hex(), adminTok, nil).want(t, 200)
		e.do("GET", "/api/v1/offers/admin/0123456789abcdef01234567", adminTok, nil).want(t, 404)
	})
	t.Run("stats", func(t *testing.T) {
		d := e.do("GET", "/api/v1/offers/admin/stats", adminTok, nil).want(t, 200).data()
		if num(d, "totalOffers") != 2 || num(d, "activeOffers") != 2 || num(d, "expiredOffers") != 0 {
			t.Fatalf("got %v", d)
		}
	})
	t.Run("delete", func(t *testing.T) {
		e.do("DELETE", "/api/v1/offers/admin/"+id.Hex(), adminTok, nil).want(t, 409) // its offer.created is not published yet
		e.clearOutbox(store.OffersCollection, id)
		e.do("DELETE", "/api/v1/offers/admin/"+id.Hex(), adminTok, nil).want(t, 200)
		e.do("DELETE", "/api/v1/offers/admin/"+id.Hex(), adminTok, nil).want(t, 404)
	})
	t.Run("admin only", func(t *testing.T) {
		e.do("GET", "/api/v1/offers/admin", cTok, nil).want(t, 403)
		e.do("POST", "/api/v1/offers/admin", cTok, offerBody("HACK", nil)).want(t, 403)
		e.do("GET", "/api/v1/offers/admin/stats", "", nil).want(t, 401)
	})
}

func TestOffersPublicAndValidate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	_, adminTok := e.mustUser(auth.RoleAdmin)
	_, cTok := e.mustUser(auth.RoleCustomer)
	now := time.Now().UTC().Truncate(time.Millisecond)
	one := 1
	for _, o := range []*store.Offer{
		{Code: "PCT20", Title: "20%", DiscountType: "percentage", DiscountValue: 20, MaxDiscount: ptr(100.0), MinOrderValue: 200, IsActive: true, ValidFrom: now.Add(-time.Hour), ValidUntil: now.Add(time.Hour)},
		{Code: "FLAT50", Title: "50 off", DiscountType: "fixed", DiscountValue: 50, IsActive: true, ValidFrom: now.Add(-time.Hour), ValidUntil: now.Add(time.Hour)},
		{Code: "OLD", Title: "old", DiscountType: "fixed", DiscountValue: 10, IsActive: true, ValidFrom: now.Add(-48 * time.Hour), ValidUntil: now.Add(-24 * time.Hour)},
		{Code: "SOON", Title: "soon", DiscountType: "fixed", DiscountValue: 10, IsActive: true, ValidFrom: now.Add(24 * time.Hour), ValidUntil: now.Add(48 * time.Hour)},
		{Code: "OFF", Title: "off", DiscountType: "fixed", DiscountValue: 10, IsActive: false, ValidFrom: now.Add(-time.Hour), ValidUntil: now.Add(time.Hour)},
		{Code: "USEDUP", Title: "used", DiscountType: "fixed", DiscountValue: 10, IsActive: true, ValidFrom: now.Add(-time.Hour), ValidUntil: now.Add(time.Hour), UsageLimit: &one, UsageCount: 1},
	} {
		if err := e.stores.Offers.CreateOffer(ctx, o); err != nil {
			t.Fatal(err)
		}
	}

	r := e.do("GET", "/api/v1/offers/active", "", nil).want(t, 200)
	if r.body["count"] != float64(2) || len(r.list()) != 2 {
		t.Fatalf("got %s, want PCT20 and FLAT50", r)
	}
	if _, has := r.body["statusCode"]; has {
		t.Fatalf("offers list is {success, count, data}: %s", r)
	}
	for _, o := range r.list() {
		m := o.(map[string]any)
		for _, f := range []string{"_id", "badge", "title", "description", "code", "bgColor", "gradientColors"} {
			if _, ok := m[f]; !ok {
				t.Errorf("offer lacks %s: %v", f, m)
			}
		}
	}

	for _, tc := range []struct {
		name            string
		code            string
		cart            any
		want            int
		discount, final float64
		msg             string
	}{
		{"percentage", "pct20", 300, 200, 60, 240, "You save ₹60"},
		{"percentage capped", "PCT20", 1000, 200, 100, 900, ""},
		{"fixed", "FLAT50", 80, 200, 50, 30, ""},
		{"fixed never above the cart", "FLAT50", 30, 200, 30, 0, ""},
		{"below minimum", "PCT20", 100, 400, 0, 0, "Minimum order value of ₹200"},
		{"expired", "OLD", 500, 400, 0, 0, "expired"},
		{"not yet", "SOON", 500, 400, 0, 0, "not valid yet"},
		{"inactive", "OFF", 500, 400, 0, 0, "no longer active"},
		{"used up", "USEDUP", 500, 400, 0, 0, "usage limit"},
		{"unknown", "NOPE", 500, 400, 0, 0, "Invalid offer code"},
		{"no code", "", 500, 400, 0, 0, "required"},
		{"negative cart", "FLAT50", -5, 400, 0, 0, "cartValue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/api/v1/offers/validate", cTok, map[string]any{"code": tc.code, "cartValue": tc.cart}).want(t, tc.want)
			if tc.want != 200 {
				r.wantMessage(t, tc.msg)
				if r.body["success"] != false {
					t.Fatalf("got %s", r)
				}
				return
			}
			if r.body["success"] != true || num(r.body, "discount") != tc.discount || num(r.body, "finalAmount") != tc.final ||
				str(r.body, "offer", "code") == "" || str(r.body, "offer", "id") == "" {
				t.Fatalf("got %s, want discount %v final %v at the top level", r, tc.discount, tc.final)
			}
			if tc.msg == "You save ₹60" {
				r.wantMessage(t, tc.msg)
			}
		})
	}
	e.do("POST", "/api/v1/offers/validate", adminTok, map[string]any{"code": "FLAT50", "cartValue": 100}).want(t, 403)
	e.do("POST", "/api/v1/offers/validate", "", map[string]any{"code": "FLAT50", "cartValue": 100}).want(t, 401)
}

func ptr[T any](v T) *T { return &v }

// TestOfferUsageCounted: each order that uses an offer counts one use,
// atomically and within usageLimit. The order over the limit is refused and
// counts nothing; concurrent orders racing for the last uses get exactly
// as many as are left.
func TestOfferUsageCounted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	pizza, _, _ := e.mustMenu()
	now := time.Now().UTC().Truncate(time.Millisecond)
	mk := func(code string, limit *int) *store.Offer {
		o := &store.Offer{Code: code, Title: code, DiscountType: "fixed", DiscountValue: 10, IsActive: true,
			ValidFrom: now.Add(-time.Hour), ValidUntil: now.Add(time.Hour), UsageLimit: limit}
		if err := e.stores.Offers.CreateOffer(ctx, o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	count := func(o *store.Offer) int {
		got, err := e.stores.Offers.OfferByID(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.UsageCount
	}
	place := func(tok, code string) resp {
		return e.do("POST", "/api/v1/orders", tok, map[string]any{
			"items":           []any{map[string]any{"productId": pizza.Hex(), "quantity": 1, "size": "medium"}},
			"deliveryAddress": testAddress, "contactPhone": "9876543210", "couponCode": code,
		})
	}
	_, tok := e.mustUser(auth.RoleCustomer)

	twice := mk("TWICE", ptr(2))
	for i := 1; i <= 2; i++ {
		r := place(tok, "twice").want(t, 201)
		if num(r.data(), "discount") != 10 {
			t.Fatalf("order %d: got %s, want a discount of 10", i, r)
		}
		if got := count(twice); got != i {
			t.Fatalf("after order %d: usageCount %d, want %d", i, got, i)
		}
	}
	place(tok, "TWICE").want(t, 400).wantMessage(t, "usage limit")
	if got := count(twice); got != 2 {
		t.Fatalf("after the refused order: usageCount %d, want 2", got)
	}
	r := e.do("GET", "/api/v1/orders/my-orders", tok, nil).want(t, 200)
	if total := dig(r.data(), "pagination", "total"); total != 2.0 {
		t.Fatalf("customer has %v orders, want 2 (the refused one is not stored)", total)
	}

	unlimited := mk("ALWAYS", nil)
	place(tok, "ALWAYS").want(t, 201)
	place(tok, "ALWAYS").want(t, 201)
	if got := count(unlimited); got != 2 {
		t.Fatalf("unlimited offer: usageCount %d, want 2", got)
	}
	// No coupon: nothing counted anywhere.
	place(tok, "").want(t, 201)
	if count(twice) != 2 || count(unlimited) != 2 {
		t.Fatal("an order without a coupon counted a use")
	}

	// Six customers race for the last three uses.
	race := mk("RACE", ptr(3))
	const racers = 6
	toks := make([]string, racers)
	for i := range toks {
		_, toks[i] = e.mustUser(auth.RoleCustomer)
	}
	statuses := make([]int, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = place(toks[i], "RACE").status
		}()
	}
	wg.Wait()
	won, lost := 0, 0
	for _, s := range statuses {
		switch s {
		case 201:
			won++
		case 400:
			lost++
		}
	}
	if won != 3 || lost != 3 {
		t.Fatalf("statuses %v: want 3 orders placed and 3 refused", statuses)
	}
	if got := count(race); got != 3 {
		t.Fatalf("after the race: usageCount %d, want exactly 3", got)
	}
}
