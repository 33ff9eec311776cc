package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/friendspizzahut/platform/shared/event"
	"github.com/friendspizzahut/platform/test/jsclient"
)

// TestBarrage has many sockets send malformed packets and payloads in a
// loop while well-behaved JS clients on every transport keep receiving
// every broadcast and answer pings; the gateway survives it all.
func TestBarrage(t *testing.T) {
	e := sharedEnv(t)
	admin := e.Admin
	base := e.Stack.GatewayURL(0)

	var good []*jsclient.Socket
	for _, tr := range jsclient.Transports() {
		for range 2 {
			s := e.connectTo(t, 0, tr, admin.Token)
			if got := register(t, s, admin.ID, "admin"); got["success"] != true {
				t.Fatalf("register: %v", got)
			}
			good = append(good, s)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	var attackers sync.WaitGroup
	var attacks atomic.Int64
	for i := range 32 {
		attackers.Go(func() {
			for k := i; ctx.Err() == nil; k += 32 {
				attack(ctx, base, k%len(attacksList))
				attacks.Add(1)
			}
		})
	}
	defer func() {
		cancel()
		attackers.Wait()
	}()

	// Broadcasts while under attack, spread over a second or so.
	const k = 20
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for i := range k {
		<-tick.C
		e.Bus.Publish(t, &event.BusinessStatus{IsOpen: true, BusinessName: "FPH", Message: fmt.Sprintf("barrage %d", i)})
	}
	for _, s := range good {
		for i := range k {
			want := fmt.Sprintf("barrage %d", i)
			s.WaitEvent(t, "business:status:update", wait, func(a []json.RawMessage) bool { return obj(t, a[0])["message"] == want })
		}
		s.Emit("ping")
		s.WaitEvent(t, "pong", wait, nil)
	}
	cancel()
	attackers.Wait()
	t.Logf("%d malformed sessions while %d good sockets received %d broadcasts each", attacks.Load(), len(good), k)

	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("gateway unhealthy after the barrage: %v %v", resp, err)
	}
	_ = resp.Body.Close()
	if !e.Stack.GatewayRunning(0) {
		t.Fatal("gateway process died")
	}
}

// attacksList are the misbehaviours, each one short session.
var attacksList = []func(ctx context.Context, c *rawClient){
	// Invalid Socket.IO packets: the server closes the connection.
	func(ctx context.Context, c *rawClient) { sendAndDrain(ctx, c, "40", "4abc") },
	func(ctx context.Context, c *rawClient) { sendAndDrain(ctx, c, "40", "42{}") },
	func(ctx context.Context, c *rawClient) { sendAndDrain(ctx, c, "40", `42abc["ping"]`) },
	func(ctx context.Context, c *rawClient) { sendAndDrain(ctx, c, `42["register"]`) }, // event before CONNECT
	func(ctx context.Context, c *rawClient) { sendAndDrain(ctx, c, "40", `42["connect"]`) },
	func(ctx context.Context, c *rawClient) { sendAndDrain(ctx, c, "40", `4599-["x"]`) },
	func(ctx context.Context, c *rawClient) {
		sendAndDrain(ctx, c, "40", `451-["register",{"_placeholder":true,"num":0}]`, `42["ping"]`)
	},
	// Engine.IO garbage.
	func(ctx context.Context, c *rawClient) { sendAndDrain(ctx, c, "x") },
	func(ctx context.Context, c *rawClient) { sendAndDrain(ctx, c, "40", "2") },
	func(ctx context.Context, c *rawClient) {
		_ = c.conn.WriteMessage(websocket.BinaryMessage, []byte{0xff, 0, 1})
		sendAndDrain(ctx, c)
	},
	func(ctx context.Context, c *rawClient) {
		sendAndDrain(ctx, c, "40", `42["register","`+strings.Repeat("a", 1_100_000)+`"]`) // over maxHttpBufferSize
	},
	// Valid packets, malformed payloads: error replies, the socket stays.
	func(ctx context.Context, c *rawClient) {
		sendAndDrain(ctx, c, "40",
			`42["register",null]`, `42["register","x"]`, `42["register",{"userId":{"$ne":""},"role":"admin"}]`,
			`42["join:order",{"orderId":{"$gt":""}}]`, `42["join:order",null]`, `42["leave:order",[1,2]]`,
			`42["delivery:location",{"orderId":"x","latitude":1e999,"longitude":0}]`,
			`42["delivery:location",{"orderId":"x","latitude":"1","longitude":[]}]`,
			`42["`+strings.Repeat("e", 100_000)+`",1]`, `42[7,{"a":1}]`, `4212345678901234567890["ping"]`,
			`42["register",`+strings.Repeat("[", 5000)+strings.Repeat("]", 5000)+`]`,
		)
	},
	// A flood of events: rate limited, the socket stays.
	func(ctx context.Context, c *rawClient) {
		msgs := []string{"40"}
		for range 300 {
			msgs = append(msgs, `42["ping"]`)
		}
		sendAndDrain(ctx, c, msgs...)
	},
	// Never sends CONNECT, just hangs up.
	func(ctx context.Context, c *rawClient) {},
}

func attack(ctx context.Context, base string, kind int) {
	if kind == len(attacksList)-1 {
		pollingGarbage(ctx, base)
	}
	c, err := dialRaw(ctx, base)
	if err != nil {
		return
	}
	defer c.close()
	attacksList[kind](ctx, c)
}

// sendAndDrain sends msgs then reads until the server closes or goes quiet.
func sendAndDrain(ctx context.Context, c *rawClient, msgs ...string) {
	_ = c.send(msgs...)
	for ctx.Err() == nil {
		_ = c.conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if _, _, err := c.conn.ReadMessage(); err != nil {
			return
		}
	}
}

// pollingGarbage opens a polling session and posts an invalid payload.
func pollingGarbage(ctx context.Context, base string) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/socket.io/?EIO=4&transport=polling", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	var buf [512]byte
	n, _ := resp.Body.Read(buf[:])
	_ = resp.Body.Close()
	var open struct{ Sid string }
	if n < 2 || json.Unmarshal(buf[1:n], &open) != nil {
		return
	}
	post, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/socket.io/?EIO=4&transport=polling&sid="+open.Sid, strings.NewReader("abc\x1e40"))
	post.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	if resp, err := http.DefaultClient.Do(post); err == nil {
		_ = resp.Body.Close()
	}
}
