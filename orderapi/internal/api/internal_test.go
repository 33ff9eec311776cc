package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/friendspizzahut/platform/orderapi/internal/api"
	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/auth"
)

func TestInternalAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pizza, _, _ := e.mustMenu()
	cust, custTok := e.mustUser(auth.RoleCustomer)
	agent, _ := e.mustUser(auth.RoleDelivery, func(u *store.User) { u.IsApproved = false })
	rejected, _ := e.mustUser(auth.RoleDelivery, func(u *store.User) { u.IsApproved, u.IsRejected = false, true })
	orderID := e.mustOrder(custTok, pizza)
	tok := []string{"X-Internal-Token", "internal-token"}

	for _, tc := range []struct {
		name    string
		path    string
		headers []string
		want    int
		check   func(t *testing.T, r resp)
	}{
		{"no token", "/internal/v1/users/" + cust.ID.Hex(), nil, 401, nil},
		{"wrong token", "/internal/v1/users/" + cust.ID.Hex(), []string{"X-Internal-Token", "internal-tokem"}, 401, nil},
		{"bearer is not enough", "/internal/v1/users/" + cust.ID.Hex(), []string{"Authorization", "Bearer " + custTok}, 401, nil},
		{"user", "/internal/v1/users/" + cust.ID.Hex(), tok, 200, func(t *testing.T, r resp) {
			if r.body["id"] != cust.ID.Hex() || r.body["role"] != "customer" || r.body["isActive"] != true || r.body["isApproved"] != true || r.body["name"] != cust.Name {
				t.Fatalf("got %s", r)
			}
		}},
		{"unapproved agent", "/internal/v1/users/" + agent.ID.Hex(), tok, 200, func(t *testing.T, r resp) {
			if r.body["role"] != "delivery" || r.body["isApproved"] != false || r.body["isRejected"] != false {
				t.Fatalf("got %s", r)
			}
		}},
		{"rejected agent", "/internal/v1/users/" + rejected.ID.Hex(), tok, 200, func(t *testing.T, r resp) {
			if r.body["role"] != "delivery" || r.body["isApproved"] != false || r.body["isRejected"] != true {
				t.Fatalf("got %s", r)
			}
		}},
		{"unknown user", "/internal/v1/users/0123456789abcdef01234567", tok, 404, nil},
		{"bad user id", "/internal/v1/users/xyz", tok, 400, nil},
		{"parties", "/internal/v1/orders/" + orderID.Hex() + "/parties", tok, 200, func(t *testing.T, r resp) {
			if r.body["orderId"] != orderID.Hex() || r.body["customerId"] != cust.ID.Hex() || r.body["deliveryAgentId"] != "" ||
				r.body["status"] != "pending" || !strings.HasPrefix(str(r.body, "orderNumber"), "ORD-") {
				t.Fatalf("got %s", r)
			}
		}},
		{"unknown order", "/internal/v1/orders/0123456789abcdef01234567/parties", tok, 404, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", tc.path, "", nil, tc.headers...).want(t, tc.want)
			if tc.want != 200 && str(r.body, "message") == "" {
				t.Fatalf("got %s, want {message}", r)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func TestAdminStatic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "index.html"), []byte("<html>dashboard</html>"), 0o644))
	must(os.MkdirAll(filepath.Join(dir, "assets"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "assets", "app.js"), []byte("console.log(1)"), 0o644))
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	stores := newEnv(t).stores
	serve := func(adminDir string) *httptest.Server {
		srv := httptest.NewServer(api.NewServer(api.Deps{Logger: logger, Signer: auth.NewSigner(testSecret, nil), AdminDir: adminDir, Stores: stores,
			Checks: map[string]func(context.Context) error{}}))
		t.Cleanup(srv.Close)
		return srv
	}
	with, without, missing := serve(dir), serve(""), serve(filepath.Join(dir, "nope"))
	for _, tc := range []struct {
		srv      *httptest.Server
		path     string
		want     int
		contains string
	}{
		{with, "/admin", 200, "dashboard"},
		{with, "/admin/", 200, "dashboard"},
		{with, "/admin/orders/123", 200, "dashboard"}, // client-side route
		{with, "/admin/assets/app.js", 200, "console.log"},
		{with, "/admin/assets/missing.js", 404, `"success":false`},
		{with, "/admin/../../etc/passwd", 400, "invalid URL path"}, // never outside ADMIN_DIR
		{without, "/admin", 404, "ADMIN_DIR"},
		{missing, "/admin/", 404, "ADMIN_DIR"},
	} {
		res, err := http.Get(tc.srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.want || !strings.Contains(string(body), tc.contains) {
			t.Errorf("GET %s: got %d %q, want %d containing %q", tc.path, res.StatusCode, body, tc.want, tc.contains)
		}
	}

	// /admin itself redirects, so the page's relative asset URLs resolve
	// under /admin/ from the first request on.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(with.URL + "/admin?x=1")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "/admin/?x=1" {
		t.Errorf("GET /admin: got %d Location %q, want 301 to /admin/?x=1", res.StatusCode, res.Header.Get("Location"))
	}
}
