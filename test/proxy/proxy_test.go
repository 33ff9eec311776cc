package proxy_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/test/proxy"
)

// fakeGateway answers like an Engine.IO server as far as routing cares: a
// polling handshake returns an open packet with a sid it owns, a request
// with one of its sids says which gateway it reached, a foreign sid gets
// Engine.IO's 400 "Session ID unknown", and an Upgrade request is switched
// to a raw echo stream.
type fakeGateway struct {
	name string
	srv  *httptest.Server
	hits atomic.Int64

	mu   sync.Mutex
	sids map[string]bool
	n    int
}

func newFakeGateway(t *testing.T, name string) *fakeGateway {
	g := &fakeGateway{name: name, sids: map[string]bool{}}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGateway) serve(w http.ResponseWriter, r *http.Request) {
	g.hits.Add(1)
	if r.Header.Get("Upgrade") == "websocket" {
		g.upgrade(w, r)
		return
	}
	if r.URL.Path == "/presence" {
		fmt.Fprintf(w, "presence from %s", g.name)
		return
	}
	sid := r.URL.Query().Get("sid")
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case sid == "":
		g.n++
		sid = fmt.Sprintf("%s-%d", g.name, g.n)
		g.sids[sid] = true
		fmt.Fprintf(w, `0{"sid":%q,"upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`, sid)
	case g.sids[sid]:
		fmt.Fprintf(w, "%s has %s", g.name, sid)
	default:
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"code":1,"message":"Session ID unknown"}`)
	}
}

func (g *fakeGateway) upgrade(w http.ResponseWriter, r *http.Request) {
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Gateway: %s\r\n\r\n", g.name)
	rw.Flush()
	_, _ = io.Copy(conn, rw) // echo until the client closes
}

type fakeOrderAPI struct {
	srv   *httptest.Server
	mu    sync.Mutex
	paths []string
}

func newFakeOrderAPI(t *testing.T) *fakeOrderAPI {
	o := &fakeOrderAPI{}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.paths = append(o.paths, r.URL.Path)
		o.mu.Unlock()
		fmt.Fprintf(w, "orderapi %s host=%s", r.URL.Path, r.Host)
	}))
	t.Cleanup(o.srv.Close)
	return o
}

func startProxy(t *testing.T, orderapi string, gateways ...string) (*proxy.Proxy, string) {
	t.Helper()
	p, err := proxy.New(proxy.Config{OrderAPI: orderapi, Gateways: gateways})
	if err != nil {
		t.Fatalf("proxy.New: %v", err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	t.Cleanup(p.Close)
	return p, srv.URL
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

func handshake(t *testing.T, base string) string {
	t.Helper()
	code, body := get(t, base+"/socket.io/?EIO=4&transport=polling")
	if code != http.StatusOK || !strings.HasPrefix(body, `0{"sid":"`) {
		t.Fatalf("handshake: %d %q, want 200 open packet", code, body)
	}
	sid, _, _ := strings.Cut(strings.TrimPrefix(body, `0{"sid":"`), `"`)
	return sid
}

// TestRoundRobin: no stickiness; every request goes to the next replica,
// whatever session it belongs to (the replicas forward to the owner).
func TestRoundRobin(t *testing.T) {
	t.Parallel()
	g1, g2 := newFakeGateway(t, "g1"), newFakeGateway(t, "g2")
	_, base := startProxy(t, newFakeOrderAPI(t).srv.URL, g1.srv.URL, g2.srv.URL)

	owners := map[string]int{}
	for range 6 {
		owners[strings.Split(handshake(t, base), "-")[0]]++
	}
	if owners["g1"] != 3 || owners["g2"] != 3 {
		t.Fatalf("handshakes per gateway %v, want round-robin 3/3", owners)
	}
	before1, before2 := g1.hits.Load(), g2.hits.Load()
	for range 4 {
		get(t, base+"/socket.io/?EIO=4&transport=polling&sid=g1-1")
	}
	if d1, d2 := g1.hits.Load()-before1, g2.hits.Load()-before2; d1 != 2 || d2 != 2 {
		t.Fatalf("requests of one session per gateway %d/%d, want 2/2 (not pinned)", d1, d2)
	}
}

// TestDrainingGatewaySkipped: a replica that refuses new sessions (503,
// draining) sends the handshake on to the next one.
func TestDrainingGatewaySkipped(t *testing.T) {
	t.Parallel()
	draining := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"code":5,"message":"Server shutting down"}`, http.StatusServiceUnavailable)
	}))
	t.Cleanup(draining.Close)
	live := newFakeGateway(t, "live")
	_, base := startProxy(t, newFakeOrderAPI(t).srv.URL, draining.URL, live.srv.URL)
	for range 4 {
		if sid := handshake(t, base); !strings.HasPrefix(sid, "live-") {
			t.Fatalf("handshake reached %s, want the live gateway", sid)
		}
	}
}

func TestWebSocketUpgradePassthrough(t *testing.T) {
	t.Parallel()
	g1, g2 := newFakeGateway(t, "g1"), newFakeGateway(t, "g2")
	_, base := startProxy(t, newFakeOrderAPI(t).srv.URL, g1.srv.URL, g2.srv.URL)
	sid := handshake(t, base)
	owner := strings.Split(sid, "-")[0] // the next request goes to the other replica
	if owner == "g1" {
		owner = "g2"
	} else {
		owner = "g1"
	}

	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET /socket.io/?EIO=4&transport=websocket&sid=%s HTTP/1.1\r\nHost: example\r\n"+
		"Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", sid)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read upgrade response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("X-Gateway") != owner {
		t.Fatalf("upgrade: %d from %q, want 101 from %s", resp.StatusCode, resp.Header.Get("X-Gateway"), owner)
	}
	// The upgraded stream is relayed both ways.
	if _, err := conn.Write([]byte("2probe")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	if _, err := io.ReadFull(br, buf); err != nil || string(buf) != "2probe" {
		t.Fatalf("echo %q (%v), want \"2probe\"", buf, err)
	}
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	g := newFakeGateway(t, "g1")
	api := newFakeOrderAPI(t)
	_, base := startProxy(t, api.srv.URL, g.srv.URL)

	tests := map[string]struct {
		path     string
		wantCode int
		wantBody string
	}{
		"internal blocked":        {"/internal/v1/users/42", 404, `{"message":"Not found"}` + "\n"},
		"internal blocked nested": {"/internal/", 404, `{"message":"Not found"}` + "\n"},
		"metrics blocked":         {"/metrics", 404, `{"message":"Not found"}` + "\n"},
		"metrics blocked nested":  {"/metrics/x", 404, `{"message":"Not found"}` + "\n"},
		"api":                     {"/api/v1/orders", 200, "orderapi /api/v1/orders host=" + strings.TrimPrefix(base, "http://")},
		"health":                  {"/health", 200, "orderapi /health host=" + strings.TrimPrefix(base, "http://")},
		"admin":                   {"/admin", 200, "orderapi /admin host=" + strings.TrimPrefix(base, "http://")},
		"admin assets":            {"/admin/app.js", 200, "orderapi /admin/app.js host=" + strings.TrimPrefix(base, "http://")},
		"unknown to orderapi":     {"/nope", 200, "orderapi /nope host=" + strings.TrimPrefix(base, "http://")},
		"uploaded image":          {"/uploads/general-0123456789abcdef01234567.png", 200, "orderapi /uploads/general-0123456789abcdef01234567.png host=" + strings.TrimPrefix(base, "http://")},
		"presence to gateway":     {"/presence", 200, "presence from g1"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, body := get(t, base+tc.path)
			if code != tc.wantCode || body != tc.wantBody {
				t.Fatalf("GET %s: %d %q, want %d %q", tc.path, code, body, tc.wantCode, tc.wantBody)
			}
		})
	}
	t.Cleanup(func() {
		api.mu.Lock()
		defer api.mu.Unlock()
		for _, p := range api.paths {
			if strings.HasPrefix(p, "/internal") || strings.HasPrefix(p, "/metrics") {
				t.Errorf("orderapi received %s through the proxy", p)
			}
		}
	})
}

func TestDeadGatewaySkipped(t *testing.T) {
	t.Parallel()
	dead := newFakeGateway(t, "dead")
	deadURL := dead.srv.URL
	dead.srv.Close()
	live := newFakeGateway(t, "live")
	_, base := startProxy(t, newFakeOrderAPI(t).srv.URL, deadURL, live.srv.URL)

	for range 4 {
		if sid := handshake(t, base); !strings.HasPrefix(sid, "live-") {
			t.Fatalf("handshake reached %s, want the live gateway", sid)
		}
	}
	// A polling POST (it has a body) moves on too: nothing was sent.
	for range 4 {
		resp, err := http.Post(base+"/socket.io/?EIO=4&transport=polling&sid=live-1", "text/plain", strings.NewReader("40"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(b) != "live has live-1" {
			t.Fatalf("POST: %d %q, want it served by the live gateway", resp.StatusCode, b)
		}
	}
}

func TestServeStopsOnCancel(t *testing.T) {
	t.Parallel()
	p, err := proxy.New(proxy.Config{OrderAPI: newFakeOrderAPI(t).srv.URL, Gateways: []string{"http://127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- proxy.Serve(ctx, l, p) }()
	if code, _ := get(t, "http://"+l.Addr().String()+"/health"); code != 200 {
		t.Fatalf("health through Serve: %d, want 200", code)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve returned %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]proxy.Config{
		"no gateways":     {OrderAPI: "http://127.0.0.1:1"},
		"bad orderapi":    {OrderAPI: "127.0.0.1:1", Gateways: []string{"http://127.0.0.1:2"}},
		"bad gateway url": {OrderAPI: "http://127.0.0.1:1", Gateways: []string{"ftp://x"}},
	} {
		if _, err := proxy.New(cfg); err == nil {
			t.Errorf("%s: New succeeded, want error", name)
		}
	}
}
