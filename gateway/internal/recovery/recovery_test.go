package recovery

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/gateway/internal/routing"
	"github.com/friendspizzahut/platform/shared/bus"
	"github.com/friendspizzahut/platform/shared/event"
	"github.com/friendspizzahut/platform/test/infra"
)

// These tests run the store against a real redis-server and the real bus
// log; test/replicas covers whole replicas and the JS client.

type noSync struct{}

func (noSync) Sync(fn func(string)) { fn("") }

func setup(t *testing.T) (*Store, *bus.Bus) {
	t.Helper()
	r := infra.StartRedis(t)
	b, err := bus.New(bus.Config{URL: r.URL()}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return New(Config{Window: time.Minute}, b.Redis(), b, noSync{}, Hooks{}, slog.New(slog.DiscardHandler)), b
}

func publish(t *testing.T, b *bus.Bus, p event.Payload) string {
	t.Helper()
	env, err := event.New(p, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	id, err := b.LastID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func status(order, customer, s string) *event.OrderStatusChangedData {
	return &event.OrderStatusChangedData{OrderID: order, OrderNumber: order, CustomerID: customer, Status: s}
}

func location(order, customer string, lat float64) *event.LocationReport {
	return &event.LocationReport{OrderID: order, CustomerID: customer, DeliveryAgentID: "a1",
		Location: event.Location{Latitude: lat, Longitude: 1}, ReportedAt: time.Now()}
}

// frameArgs decodes a Socket.IO event packet `2["event",payload,"offset"]`.
func frameArgs(t *testing.T, f []byte) (string, json.RawMessage, string) {
	t.Helper()
	var arr []json.RawMessage
	if !strings.HasPrefix(string(f), "2[") || json.Unmarshal(f[1:], &arr) != nil || len(arr) != 3 {
		t.Fatalf("frame %s: want 2[event,payload,offset]", f)
	}
	var ev, off string
	_ = json.Unmarshal(arr[0], &ev)
	_ = json.Unmarshal(arr[2], &off)
	return ev, arr[1], off
}

func TestMissedKeepsOnlyTheSocketsEventsInOrder(t *testing.T) {
	s, b := setup(t)
	start := publish(t, b, status("o0", "c1", "pending")) // before the offset: not replayed
	want := []string{
		publish(t, b, status("o1", "c1", "accepted")),
	}
	publish(t, b, status("o2", "c2", "accepted")) // another customer's
	publish(t, b, location("o1", "c1", 1))        // coalesced away
	want = append(want, publish(t, b, status("o1", "c1", "preparing")))
	publish(t, b, location("o1", "c1", 2))                      // coalesced away
	want = append(want, publish(t, b, location("o1", "c1", 3))) // the latest position
	upTo := publish(t, b, status("o1", "c1", "ready"))
	publish(t, b, status("o1", "c1", "picked_up")) // after upTo: live, not replayed

	frames, err := s.Missed(context.Background(), []string{"all", routing.UserRoom("c1"), routing.RoleRoom("customer")}, start, upTo)
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, upTo)
	var got []string
	for _, f := range frames {
		ev, payload, off := frameArgs(t, f)
		got = append(got, off)
		if ev == routing.EvLocationUpdate && !strings.Contains(string(payload), `"latitude":3`) {
			t.Errorf("replayed location %s, want only the latest (3)", payload)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("replayed offsets %v, want %v", got, want)
	}
}

func TestFindRefuses(t *testing.T) {
	s, b := setup(t)
	ctx := context.Background()
	off := publish(t, b, status("o1", "c1", "accepted"))
	rec, _ := json.Marshal(record{SID: "sid1", PID: "pid1", Rooms: []string{"all"}, Since: off, Conn: "c"})
	if err := b.Redis().Set(ctx, s.key("pid1"), rec, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		pid, offset string
		ok          bool
	}{
		"saved offset":           {"pid1", "", true},
		"client offset":          {"pid1", off, true},
		"unknown pid":            {"nope", off, false},
		"offset not in the log":  {"pid1", "1-0", false},
		"offset from the future": {"pid1", "99999999999999-0", false},
		"not an offset":          {"pid1", "abc", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			saved, ok := s.Find(ctx, tc.pid, tc.offset)
			if ok != tc.ok {
				t.Fatalf("Find: %v, want %v", ok, tc.ok)
			}
			if ok && (saved.SID != "sid1" || saved.Offset != off) {
				t.Errorf("Find: %+v", saved)
			}
		})
	}
}
