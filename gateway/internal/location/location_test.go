package location

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/friendspizzahut/platform/shared/event"
	"github.com/friendspizzahut/platform/test/infra"
)

func TestSaveAndLast(t *testing.T) {
	t.Parallel()
	r := infra.StartRedis(t)
	opts, _ := redis.ParseURL(r.URL())
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	s := New(rdb, time.Minute)
	ctx := context.Background()

	if _, ok, err := s.Last(ctx, "o1"); ok || err != nil {
		t.Fatalf("got ok=%v err=%v, want nothing", ok, err)
	}
	speed := 4.5
	rep := event.LocationReport{OrderID: "o1", CustomerID: "c1", DeliveryAgentID: "d1",
		Location: event.Location{Latitude: 12.5, Longitude: 77.5}, Speed: &speed, ReportedAt: time.Now().UTC().Truncate(time.Millisecond)}
	if err := s.Save(ctx, rep); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Last(ctx, "o1")
	if err != nil || !ok || got.Location != rep.Location || *got.Speed != speed || !got.ReportedAt.Equal(rep.ReportedAt) {
		t.Fatalf("got %+v ok=%v err=%v", got, ok, err)
	}
	if ttl := rdb.TTL(ctx, KeyPrefix+"o1").Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("got TTL %v, want (0, 1m]", ttl)
	}
}
