package infra

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// ferretNewMu serialises ferretdb.New, which writes a package-level
// version variable of FerretDB's and would race when parallel tests each
// start their own server.
var ferretNewMu sync.Mutex

// Ferret is an embedded FerretDB v1 server (MongoDB wire protocol) storing
// its data as SQLite files in a directory.
type Ferret struct {
	uri    string
	cancel context.CancelFunc
	done   chan struct{}
}

// StartFerret starts FerretDB on a free loopback port with its data in a
// temporary directory and stops it when the test ends. Give each test its
// own database with NewDatabaseName.
func StartFerret(tb testing.TB) *Ferret {
	tb.Helper()
	f, err := RunFerret(context.Background(), tb.TempDir(), "127.0.0.1:0", nil)
	if err != nil {
		tb.Fatalf("start ferretdb: %v", err)
	}
	tb.Cleanup(f.Close)
	return f
}

// RunFerret starts FerretDB listening on addr (host:port; port 0 picks a
// free one) with SQLite files in dir, which is created if missing. A nil
// logger logs errors only to stderr (FerretDB is noisy at warn level). The
// server stops when ctx ends or Close is called.
func RunFerret(ctx context.Context, dir, addr string, logger *slog.Logger) (*Ferret, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("ferretdb data dir: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	ferretNewMu.Lock()
	fdb, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + strings.TrimSuffix(dir, "/") + "/", // must be a directory URL ending in "/"
	})
	ferretNewMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("ferretdb on %s: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	f := &Ferret{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(f.done)
		_ = fdb.Run(ctx)
	}()
	// MongoDBURI blocks until Run has the listener up.
	f.uri = withSinglePool(fdb.MongoDBURI())
	return f, nil
}

// URI returns the mongodb:// URI with maxPoolSize=1: FerretDB v1 runs
// conditional updates as read-modify-write, which is only atomic when one
// client funnels all writes through a single connection.
func (f *Ferret) URI() string { return f.uri }

// Close stops the server and waits until its listener and storage are closed.
func (f *Ferret) Close() {
	f.cancel()
	<-f.done
}

// Database connects to the server and returns a database of tb's own
// (NewDatabaseName); the connection closes when tb ends.
func (f *Ferret) Database(tb testing.TB) *mongo.Database {
	tb.Helper()
	client, err := mongo.Connect(context.Background(), options.Client().ApplyURI(f.URI()))
	if err != nil {
		tb.Fatalf("connect to ferretdb: %v", err)
	}
	tb.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client.Database(NewDatabaseName(tb))
}

// SharedFerret is one FerretDB server for all the tests of a package, each
// test with a database of its own:
//
//	var ferret infra.SharedFerret
//
//	func TestMain(m *testing.M) { os.Exit(ferret.Run(m)) }
//
//	func TestX(t *testing.T) { db := ferret.Database(t); ... }
type SharedFerret struct{ f *Ferret }

// Run starts the server with its data in a temporary directory, runs the
// package's tests (m.Run), then stops the server and removes the
// directory. It returns m.Run's exit code, or 1 if the server did not
// start.
func (s *SharedFerret) Run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "ferret-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	f, err := RunFerret(context.Background(), dir, "127.0.0.1:0", nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer f.Close()
	s.f = f
	return m.Run()
}

// Database is Ferret.Database on the shared server.
func (s *SharedFerret) Database(tb testing.TB) *mongo.Database {
	tb.Helper()
	if s.f == nil {
		tb.Fatal("infra.SharedFerret: call Run from the package's TestMain")
	}
	return s.f.Database(tb)
}

func withSinglePool(uri string) string {
	sep := "?"
	if strings.Contains(uri, "?") {
		sep = "&"
	}
	return uri + sep + "maxPoolSize=1"
}

// NewDatabaseName returns a database name unique to this call, readable
// from the test name, so parallel tests sharing a server never collide.
func NewDatabaseName(tb testing.TB) string {
	tb.Helper()
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(tb.Name()) {
		if b.Len() >= 40 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	return b.String() + "_" + hex.EncodeToString(suffix[:])
}
