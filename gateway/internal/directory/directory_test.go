package directory

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/shared/apperr"
)

func TestLookups(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("X-Internal-Token") != "tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/internal/v1/users/u1":
			_, _ = w.Write([]byte(`{"id":"u1","name":"Ann","role":"delivery","isActive":true,"isApproved":true}`))
		case "/internal/v1/orders/o1/parties":
			_, _ = w.Write([]byte(`{"orderId":"o1","customerId":"c1","deliveryAgentId":"u1","status":"assigned"}`))
		case "/internal/v1/users/boom":
			w.WriteHeader(http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	c := New(Config{BaseURL: srv.URL + "/", Token: "tok"})
	ctx := context.Background()

	u, err := c.User(ctx, "u1")
	if err != nil || u.Role != "delivery" || !u.IsApproved {
		t.Fatalf("got %+v, %v", u, err)
	}
	if _, err := c.User(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	if got := calls.Load(); got != 1 {
		t.Fatalf("got %d calls, want 1 (cached)", got)
	}
	p, err := c.OrderParties(ctx, "o1")
	if err != nil || p.CustomerID != "c1" || p.DeliveryAgentID != "u1" {
		t.Fatalf("got %+v, %v", p, err)
	}
	if _, err := c.User(ctx, "nobody"); !IsNotFound(err) {
		t.Fatalf("got %v, want not found", err)
	}
	if _, err := c.User(ctx, "nobody"); !IsNotFound(err) {
		t.Fatalf("got %v, want cached not found", err)
	}
	if _, err := c.User(ctx, "../admin"); !IsNotFound(err) {
		t.Fatalf("got %v, want not found without a request", err)
	}
	if _, err := c.User(ctx, "boom"); apperr.KindOf(err) != apperr.Unavailable {
		t.Fatalf("got %v, want unavailable", err)
	}
	if got := calls.Load(); got != 4 {
		t.Fatalf("got %d calls, want 4", got)
	}
}

var farFuture = mustTime()

func TestCacheBounded(t *testing.T) {
	t.Parallel()
	c := newCache[int](100)
	for i := range 1000 {
		c.put(string(rune('a'+i%26))+string(rune(i)), i, nil, farFuture)
	}
	if n := len(c.entries); n > 100 {
		t.Fatalf("got %d entries, want <= 100", n)
	}
}

func mustTime() time.Time { return time.Now().Add(time.Hour) }
