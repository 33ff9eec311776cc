package directory

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
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

// TestConnectionReuse: bursts of concurrent lookups, like a connect ramp,
// reuse the connections to orderapi. Each burst holds `width` requests in
// flight at once (the handler waits for all of them), so it needs width
// connections; with Go's default transport (2 idle per host) every burst
// after the first would open about width-2 new ones.
func TestConnectionReuse(t *testing.T) {
	t.Parallel()
	const width, bursts = 32, 5
	var (
		newConns atomic.Int32
		mu       sync.Mutex
		inFlight int
		release  = make(chan struct{})
	)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		if inFlight == width {
			close(release)
		}
		wait := release
		mu.Unlock()
		select {
		case <-wait:
		case <-r.Context().Done():
		}
		id := strings.TrimPrefix(r.URL.Path, "/internal/v1/users/")
		_, _ = w.Write([]byte(`{"id":"` + id + `","role":"customer","isActive":true}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			newConns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	var results sync.Map // result → *atomic.Int32
	c := New(Config{BaseURL: srv.URL, Token: "tok", OnLookup: func(r string) {
		n, _ := results.LoadOrStore(r, new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
	}})
	for b := range bursts {
		mu.Lock()
		inFlight, release = 0, make(chan struct{})
		mu.Unlock()
		var wg sync.WaitGroup
		errs := make(chan error, width)
		for i := range width {
			wg.Go(func() {
				if _, err := c.User(context.Background(), fmt.Sprintf("u%d-%d", b, i)); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("burst %d: %v", b, err)
		}
	}
	// Every burst needs width connections at once; a few more may be
	// dialled while a finished one is on its way back to the idle pool.
	if got := newConns.Load(); got < width || got > 2*width {
		t.Fatalf("got %d new connections for %d bursts of %d concurrent lookups, want %d to %d",
			got, bursts, width, width, 2*width)
	}
	t.Logf("%d bursts of %d concurrent lookups opened %d connections", bursts, width, newConns.Load())
	if n, _ := results.Load(LookupMiss); n == nil || n.(*atomic.Int32).Load() != width*bursts {
		t.Fatalf("got %v misses, want %d", n, width*bursts)
	}
}

func TestLookupResults(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/internal/v1/users/u1":
			_, _ = w.Write([]byte(`{"id":"u1","role":"customer","isActive":true}`))
		case "/internal/v1/users/boom":
			w.WriteHeader(http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	var got []string
	c := New(Config{BaseURL: srv.URL, OnLookup: func(r string) { got = append(got, r) }})
	ctx := context.Background()
	for _, id := range []string{"u1", "u1", "nobody", "nobody", "boom", "boom"} {
		_, _ = c.User(ctx, id)
	}
	want := []string{LookupMiss, LookupHit, LookupMiss, LookupHit, LookupError, LookupError}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
