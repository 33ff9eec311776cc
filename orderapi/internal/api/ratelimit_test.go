package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/orderapi/internal/api"
	"github.com/friendspizzahut/platform/shared/auth"
)

func TestRateLimit(t *testing.T) {
	t.Parallel()
	e := limitedEnv(t, api.RateLimit{Max: 3, Window: time.Hour, AuthFailures: 2})
	_, tokA := e.mustUser(auth.RoleCustomer)
	_, tokB := e.mustUser(auth.RoleCustomer)

	for i := 0; i < 3; i++ {
		e.do("GET", "/api/v1/offers/active", tokA, nil).want(t, 200)
	}
	r := e.do("GET", "/api/v1/offers/active", tokA, nil).want(t, 429)
	if r.body["status"] != "fail" || r.body["code"] != "TOO_MANY_REQUESTS" || str(r.body, "message") == "" || str(r.body, "timestamp") == "" {
		t.Fatalf("got %s, want the original's 429 body", r)
	}
	if _, has := r.body["success"]; has {
		t.Fatalf("the 429 body has no success field: %s", r)
	}
	// Keyed per user: another user from the same address is unaffected,
	// and so are probes outside /api/v1.
	e.do("GET", "/api/v1/offers/active", tokB, nil).want(t, 200)
	for i := 0; i < 5; i++ {
		e.do("GET", "/healthz", "", nil).want(t, 200)
	}
	// Anonymous requests share the address's bucket.
	for i := 0; i < 3; i++ {
		e.do("GET", "/api/v1/offers/active", "", nil).want(t, 200)
	}
	e.do("GET", "/api/v1/offers/active", "", nil).want(t, 429)
}

func TestRateLimitAuthFailures(t *testing.T) {
	t.Parallel()
	e := limitedEnv(t, api.RateLimit{AuthFailures: 2})
	u, _ := e.mustUser(auth.RoleCustomer)
	bad := map[string]any{"email": u.Email, "password": "Wrong123"}
	good := map[string]any{"email": u.Email, "password": "Secret123"}
	other, _ := e.mustUser(auth.RoleCustomer)
	e.do("POST", "/api/v1/auth/login", "", good).want(t, 200) // successes do not count
	e.do("POST", "/api/v1/auth/login", "", bad).want(t, 401)
	e.do("POST", "/api/v1/auth/login", "", bad).want(t, 401)
	res := e.do("POST", "/api/v1/auth/login", "", good).want(t, 429)
	if res.body["code"] != "TOO_MANY_REQUESTS" {
		t.Fatalf("got %s", res)
	}
	// Another account from the same address is not locked out.
	e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": other.Email, "password": "Secret123"}).want(t, 200)
}

func TestRateLimitRetryAfterAndDisabled(t *testing.T) {
	t.Parallel()
	e := limitedEnv(t, api.RateLimit{Max: 1, Window: time.Minute})
	e.do("GET", "/api/v1/offers/active", "", nil).want(t, 200)
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/offers/active", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("got %d Retry-After %q, want 429 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}

	off := limitedEnv(t, api.RateLimit{Disabled: true, Max: 1})
	for i := 0; i < 5; i++ {
		off.do("GET", "/api/v1/offers/active", "", nil).want(t, 200)
	}
}

// TestRateLimitUploads: each upload may store megabytes, so uploads have a
// limit of their own per client (RATE_LIMIT_UPLOADS), far below the
// general one.
func TestRateLimitUploads(t *testing.T) {
	t.Parallel()
	e := limitedEnv(t, api.RateLimit{Uploads: 2})
	_, tokA := e.mustUser(auth.RoleCustomer)
	_, tokB := e.mustUser(auth.RoleCustomer)
	img := pngImage(t, 4, 4)
	var url string
	for range 2 {
		r := e.postFile("/api/v1/upload/avatar", tokA, "image", "a.png", "image/png", img, nil).want(t, 200)
		url = str(r.data(), "url")
	}
	r := e.postFile("/api/v1/upload/avatar", tokA, "image", "a.png", "image/png", img, nil).want(t, 429)
	if r.body["code"] != "TOO_MANY_REQUESTS" || str(r.body, "message") != "Too many uploads, please try again later." {
		t.Fatalf("got %s", r)
	}
	e.postFile("/api/v1/upload/avatar", tokB, "image", "b.png", "image/png", img, nil).want(t, 200)
	e.do("GET", "/api/v1/offers/active", tokA, nil).want(t, 200) // only uploads are limited
	if res, err := http.Get(url); err != nil || res.StatusCode != 200 {
		t.Fatalf("serving an upload: %v %v", res, err)
	} else {
		res.Body.Close()
	}
}

// TestRateLimitPaymentWrites: writes to /payments have a limit of their
// own per client (RATE_LIMIT_PAYMENT_WRITES); reading them does not count.
func TestRateLimitPaymentWrites(t *testing.T) {
	t.Parallel()
	e := limitedEnv(t, api.RateLimit{PaymentWrites: 1})
	_, adminTok := e.mustUser(auth.RoleAdmin)
	e.do("POST", "/api/v1/payments", adminTok, map[string]any{}).want(t, 400) // counted, then refused by the handler
	r := e.do("POST", "/api/v1/payments", adminTok, map[string]any{}).want(t, 429)
	if r.body["code"] != "TOO_MANY_REQUESTS" || str(r.body, "message") != "Too many payment requests, please try again later." {
		t.Fatalf("got %s", r)
	}
	e.do("GET", "/api/v1/payments", adminTok, nil).want(t, 200)
}
