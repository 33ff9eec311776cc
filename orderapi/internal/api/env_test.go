package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"golang.org/x/crypto/bcrypt"

	"github.com/friendspizzahut/platform/orderapi/internal/api"
	"github.com/friendspizzahut/platform/orderapi/internal/outbox"
	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/orderapi/internal/upload"
	"github.com/friendspizzahut/platform/shared/auth"
	"github.com/friendspizzahut/platform/shared/event"
	"github.com/friendspizzahut/platform/test/infra"
)

// ferret is the FerretDB server shared by this package's tests; each test
// has its own database.
var ferret infra.SharedFerret

func TestMain(m *testing.M) { os.Exit(ferret.Run(m)) }

const testSecret = "test-secret-0123456789abcdef"

// env is one test's orderapi: its own database, the real handler over
// httptest, no relay (events stay in the outbox, where tests read them).
type env struct {
	t      *testing.T
	srv    *httptest.Server
	db     *mongo.Database
	stores *store.Stores
	signer *auth.Signer
	seq    atomic.Int64
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return limitedEnv(t, api.RateLimit{})
}

// limitedEnv is newEnv with the rate limits rl (zero fields: the defaults).
func limitedEnv(t *testing.T, rl api.RateLimit) *env {
	t.Helper()
	ctx := context.Background()
	db := ferret.Database(t)
	stores := store.New(db, nil, nil)
	if err := stores.EnsureIndexes(ctx); err != nil {
		t.Fatalf("indexes: %v", err)
	}
	signer := auth.NewSigner(testSecret, nil)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	uploads, err := upload.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	h := api.NewServer(api.Deps{
		Logger: logger, Signer: signer, Stores: stores, InternalToken: "internal-token", RateLimit: rl,
		Checks:    map[string]func(context.Context) error{"mongo": func(ctx context.Context) error { return db.Client().Ping(ctx, nil) }},
		Uploads:   uploads,
		Dashboard: api.DashboardConfig{Location: kolkata},
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, db: db, stores: stores, signer: signer}
}

// resp is a decoded JSON response.
type resp struct {
	status int
	body   map[string]any
	raw    []byte
	header http.Header
}

// data returns body.data as an object.
func (r resp) data() map[string]any {
	m, _ := r.body["data"].(map[string]any)
	return m
}

func (r resp) String() string { return fmt.Sprintf("%d %s", r.status, r.raw) }

// do sends a JSON request; body may be nil, a string (sent raw) or any value.
func (e *env) do(method, path, token string, body any, headers ...string) resp {
	e.t.Helper()
	var rdr io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rdr = bytes.NewBufferString(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rdr = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rdr)
	if err != nil {
		e.t.Fatal(err)
	}
	if rdr != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, raw: raw, header: res.Header}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			e.t.Fatalf("%s %s: bad JSON %q: %v", method, path, raw, err)
		}
	}
	return out
}

// want fails unless r has the status.
func (r resp) want(t *testing.T, status int) resp {
	t.Helper()
	if r.status != status {
		t.Fatalf("got %s, want status %d", r, status)
	}
	return r
}

// userOpt adjusts a user before it is stored.
type userOpt func(*store.User)

func inactive(u *store.User) { u.IsActive = false }
func online(u *store.User) {
	now := time.Now()
	u.Status = &store.AgentStatus{IsOnline: true, State: store.AgentFree, LastOnline: &now}
}

// mustUser stores a user of role (agents approved and active) and returns
// it with an access token.
func (e *env) mustUser(role string, opts ...userOpt) (*store.User, string) {
	e.t.Helper()
	n := e.seq.Add(1)
	hash, _ := bcrypt.GenerateFromPassword([]byte("Secret123"), bcrypt.MinCost)
	u := &store.User{
		Name: fmt.Sprintf("%s %d", role, n), Email: fmt.Sprintf("%s%d@example.test", role, n),
		Phone: fmt.Sprintf("90000%05d", n), Password: string(hash), Role: role, IsActive: true,
		Address: []store.Address{},
	}
	if role == auth.RoleDelivery {
		u.IsApproved = true
		u.Status = &store.AgentStatus{State: store.AgentOffline}
		u.VehicleInfo = &event.VehicleInfo{Type: "bike", Number: "MH12AB1234"}
		u.Rating = &event.Rating{Average: 4.5, Count: 2}
	}
	for _, o := range opts {
		o(u)
	}
	if err := e.stores.Users.CreateUser(context.Background(), u); err != nil {
		e.t.Fatalf("create user: %v", err)
	}
	tok, err := e.signer.IssueAccess(u.ID.Hex(), u.Email, u.Role)
	if err != nil {
		e.t.Fatal(err)
	}
	return u, tok
}

// events returns the types of the events waiting in a document's outbox.
func (e *env) events(coll string, id primitive.ObjectID) []outbox.Record {
	e.t.Helper()
	var doc struct {
		Outbox []outbox.Record `bson:"outbox"`
	}
	if err := e.db.Collection(coll).FindOne(context.Background(), bson.M{"_id": id}).Decode(&doc); err != nil {
		e.t.Fatalf("read outbox of %s %s: %v", coll, id.Hex(), err)
	}
	return doc.Outbox
}

// eventTypes lists the types of records.
func eventTypes(recs []outbox.Record) []string {
	out := []string{}
	for _, r := range recs {
		out = append(out, r.Type)
	}
	return out
}

// payload decodes the record's payload.
func payload[T any](t *testing.T, r outbox.Record) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.Data), &v); err != nil {
		t.Fatalf("decode %s payload: %v", r.Type, err)
	}
	return v
}

// str digs a string out of nested maps: str(m, "data", "user", "id").
func str(m map[string]any, path ...string) string {
	v := dig(m, path...)
	s, _ := v.(string)
	return s
}

func dig(m map[string]any, path ...string) any {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}
