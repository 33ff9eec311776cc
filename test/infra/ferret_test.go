package infra_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/friendspizzahut/platform/test/infra"
)

func TestFerret(t *testing.T) {
	t.Parallel()
	// Two servers at once also checks that parallel starts do not race.
	for _, name := range []string{"first", "second"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			f := infra.StartFerret(t)
			if !strings.Contains(f.URI(), "maxPoolSize=1") {
				t.Fatalf("URI %q lacks maxPoolSize=1", f.URI())
			}
			client, err := mongo.Connect(ctx, options.Client().ApplyURI(f.URI()))
			if err != nil {
				t.Fatalf("connect %s: %v", f.URI(), err)
			}
			defer client.Disconnect(context.Background())
			if err := client.Ping(ctx, nil); err != nil {
				t.Fatalf("ping: %v", err)
			}

			coll := client.Database(infra.NewDatabaseName(t)).Collection("things")
			if _, err := coll.InsertOne(ctx, bson.M{"_id": "a", "n": 1}); err != nil {
				t.Fatalf("insert: %v", err)
			}
			var doc struct{ N int }
			if err := coll.FindOne(ctx, bson.M{"_id": "a"}).Decode(&doc); err != nil {
				t.Fatalf("find: %v", err)
			}
			if doc.N != 1 {
				t.Fatalf("got n=%d, want 1", doc.N)
			}
		})
	}
}

func TestNewDatabaseNameUnique(t *testing.T) {
	a, b := infra.NewDatabaseName(t), infra.NewDatabaseName(t)
	if a == b {
		t.Fatalf("got %q twice, want distinct names", a)
	}
	if len(a) > 63 || strings.ContainsAny(a, "/. $\"") {
		t.Fatalf("name %q is not a safe database name", a)
	}
}
