package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/friendspizzahut/platform/test/infra"
)

const token = "internal-token-for-tests"

// replica is one Cluster in front of a handler that says who served.
type replica struct {
	c   *Cluster
	srv *httptest.Server
}

func startReplica(t *testing.T, rdb redis.UniversalClient, name string, local func(sid string) bool) *replica {
	t.Helper()
	return startReplicaWith(t, rdb, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		fmt.Fprintf(w, "%s forwarded=%t", name, req.Header.Get(HeaderForwarded) != "")
	}), local)
}

func startReplicaWith(t *testing.T, rdb redis.UniversalClient, next http.Handler, local func(sid string) bool) *replica {
	t.Helper()
	r := &replica{}
	r.srv = httptest.NewUnstartedServer(nil)
	c, err := New(Config{URL: "http://" + r.srv.Listener.Addr().String(), Token: token}, rdb, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	r.c = c
	r.srv.Config.Handler = c.Handler(next, local)
	r.srv.Start()
	t.Cleanup(r.srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	for deadline := time.Now().Add(5 * time.Second); rdb.Exists(context.Background(), c.key(c.ID())).Val() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("replica never advertised")
		}
		time.Sleep(5 * time.Millisecond) // polling a condition
	}
	return r
}

func get(t *testing.T, url string, header string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if header != "" {
		req.Header.Set(HeaderForwarded, header)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHandler(t *testing.T) {
	r := infra.StartRedis(t)
	opts, _ := redis.ParseURL(r.URL())
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	nobody := func(string) bool { return false }
	r1 := startReplica(t, rdb, "r1", nobody)
	r2 := startReplica(t, rdb, "r2", nobody)
	path := "/socket.io/?EIO=4&transport=polling&sid="

	cases := map[string]struct {
		to     *replica
		sid    string
		header string
		code   int
		body   string
	}{
		"handshake served here":        {r2, "", "", 200, "r2 forwarded=false"},
		"own session served here":      {r2, r2.c.SIDPrefix() + "abc", "", 200, "r2 forwarded=false"},
		"other replica's session":      {r2, r1.c.SIDPrefix() + "abc", "", 200, "r1 forwarded=true"},
		"unknown replica served here":  {r2, "zzzzzzzz.abc", "", 200, "r2 forwarded=false"},
		"sid without replica id":       {r2, "abc", "", 200, "r2 forwarded=false"},
		"forwarded once, never again":  {r2, r1.c.SIDPrefix() + "abc", token, 200, "r2 forwarded=true"},
		"forged forwarding header":     {r2, r1.c.SIDPrefix() + "abc", "guess", 403, `{"code":4,"message":"Forbidden"}` + "\n"},
		"forged header on a handshake": {r1, "", "guess", 403, `{"code":4,"message":"Forbidden"}` + "\n"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			code, body := get(t, tc.to.srv.URL+path+tc.sid, tc.header)
			if code != tc.code || body != tc.body {
				t.Fatalf("got %d %q, want %d %q", code, body, tc.code, tc.body)
			}
		})
	}
}

func TestOwnerGoneAnswersUnknownSession(t *testing.T) {
	r := infra.StartRedis(t)
	opts, _ := redis.ParseURL(r.URL())
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	r1 := startReplica(t, rdb, "r1", func(string) bool { return false })
	// A replica that advertised and died without withdrawing.
	if err := rdb.Set(context.Background(), r1.c.key("dead0000"), "http://127.0.0.1:1", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	code, body := get(t, r1.srv.URL+"/socket.io/?EIO=4&transport=polling&sid=dead0000.abc", "")
	if code != http.StatusBadRequest || body != `{"code":1,"message":"Session ID unknown"}` {
		t.Fatalf("got %d %q, want Engine.IO's unknown session", code, body)
	}
}

// TestForwardKeepsTheFrontsHeaders: the owner sees the Host and
// X-Forwarded-* the entry replica got, so the session cookie's Origin
// check (socket.CookieGuard) decides there as it would have at the entry.
func TestForwardKeepsTheFrontsHeaders(t *testing.T) {
	r := infra.StartRedis(t)
	opts, _ := redis.ParseURL(r.URL())
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	nobody := func(string) bool { return false }
	owner := startReplicaWith(t, rdb, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		fmt.Fprintf(w, "host=%s xfh=%s xfp=%s xff=%s", req.Host, req.Header.Get("X-Forwarded-Host"),
			req.Header.Get("X-Forwarded-Proto"), req.Header.Get("X-Forwarded-For"))
	}), nobody)
	entry := startReplica(t, rdb, "entry", nobody)
	req, _ := http.NewRequest(http.MethodGet, entry.srv.URL+"/socket.io/?EIO=4&transport=polling&sid="+owner.c.SIDPrefix()+"abc", nil)
	req.Host = "shop.example"
	req.Header.Set("X-Forwarded-Host", "front.example")
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if want := "host=shop.example xfh=front.example xfp=https xff=203.0.113.7"; string(b) != want {
		t.Fatalf("owner saw %q, want %q", b, want)
	}
}
