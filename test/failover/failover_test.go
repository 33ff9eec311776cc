// Package failover proves that the platform survives the loss of Redis's
// primary when REDIS_URL names a Sentinel-managed Redis: a real primary, a
// replica and three redis-sentinel processes (test/infra), orderapi and two
// gateway processes (test/harness), and the real JS socket.io-client.
package failover

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/test/harness"
	"github.com/friendspizzahut/platform/test/infra"
	"github.com/friendspizzahut/platform/test/jsclient"
	"github.com/friendspizzahut/platform/test/testapi"
)

// TestSentinelFailoverMidStream places orders through the REST API while
// the Redis primary is SIGKILLed and Sentinel promotes the replica. Orders
// placed while there is no primary wait in orderapi's outbox and go out once
// the relay reaches the new primary; the gateways' subscriptions break,
// resubscribe on the new primary and replay its log. Every admin and agent
// socket, on both replicas and three transports, gets every order:new
// exactly once.
func TestSentinelFailoverMidStream(t *testing.T) {
	sen := infra.StartSentinel(t, infra.SentinelOptions{DownAfter: time.Second, FailoverTimeout: 3 * time.Second})
	e := testapi.StartEnv(t, harness.Options{Gateways: 2, RedisURL: sen.URL()})
	js := jsclient.Start(t)
	connect := func(gw int, tr jsclient.Transport) *jsclient.Socket {
		s := js.Connect(t, e.Stack.GatewayURL(gw), jsclient.Options{Transports: tr})
		t.Cleanup(s.Disconnect)
		s.WaitConnect(t)
		return s
	}
	agent := e.API.OnlineAgent(t, e.Admin, "Fay Agent")
	customer := e.API.RegisterCustomer(t, "Cora Customer")
	socks := map[string]*jsclient.Socket{
		"admin on g1 (websocket)": connect(0, jsclient.WebSocketOnly),
		"admin on g2 (polling)":   connect(1, jsclient.PollingOnly),
		"agent on g2 (default)":   connect(1, jsclient.Default),
	}
	testapi.MustRegister(t, socks["admin on g1 (websocket)"], e.Admin)
	testapi.MustRegister(t, socks["admin on g2 (polling)"], e.Admin)
	testapi.MustRegister(t, socks["agent on g2 (default)"], agent)
	all := make([]*jsclient.Socket, 0, len(socks))
	for _, s := range socks {
		all = append(all, s)
	}
	e.Bus.Barrier(t, all...)

	var orders []testapi.Order
	place := func(n int) {
		for range n {
			orders = append(orders, e.API.PlaceOrder(t, customer))
		}
	}
	place(2)
	old := sen.Primary.Addr()
	sen.Primary.Kill()
	killed := time.Now()
	place(6) // the first ones surely before Sentinel even declares the primary down
	during := time.Since(killed)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	primary, err := sen.WaitPromoted(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("primary %s killed; Sentinel promoted %s after %v; 6 orders placed in the first %v", old, primary, time.Since(killed).Round(time.Millisecond), during.Round(time.Millisecond))
	place(4)

	for _, o := range orders {
		for name, s := range socks {
			if s.WaitEvent(t, "order:new", 30*time.Second, testapi.FieldIs("orderId", o.ID)) == nil {
				t.Fatalf("%s: no order:new for %s", name, o.ID)
			}
		}
	}
	e.Bus.Barrier(t, all...) // through the new primary: duplicates would have arrived by now
	for _, o := range orders {
		for name, s := range socks {
			if got := testapi.CountWith(s, "order:new", "orderId", o.ID); got != 1 {
				t.Errorf("%s: order %s arrived %d times, want exactly once", name, o.Number, got)
			}
		}
	}
	if log := e.Stack.Log("orderapi"); !strings.Contains(log, "outbox relay: publishing failed") {
		t.Error("orderapi's relay never failed to publish: the orders were not held back by the outbox during the failover")
	}
	for _, g := range []string{"g1", "g2"} {
		if log := e.Stack.Log(g); !strings.Contains(log, "event bus: resubscribed") {
			t.Errorf("%s never resubscribed after the primary died", g)
		}
	}
}
