package api_test

import (
	"net/http"
	"testing"

	"github.com/friendspizzahut/platform/shared/auth"
)

// sessionCookie returns the session cookie a response sets, or nil.
func (r resp) sessionCookie() *http.Cookie {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == auth.SocketCookie {
			return c
		}
	}
	return nil
}

// TestSessionCookie: every response that starts or proves a session sets
// the socket cookie (HttpOnly, Path=/, SameSite=Strict, Secure over TLS,
// the access token's lifetime) holding a socket-session token; logout
// clears it; REST never accepts it.
func TestSessionCookie(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// wantCookie checks the attributes and returns the token's claims.
	wantCookie := func(t *testing.T, r resp, secure bool) auth.Claims {
		t.Helper()
		c := r.sessionCookie()
		if c == nil {
			t.Fatalf("no %s cookie in %v", auth.SocketCookie, r.header["Set-Cookie"])
		}
		if !c.HttpOnly || c.Path != "/" || c.SameSite != http.SameSiteStrictMode || c.MaxAge != 604800 || c.Secure != secure {
			t.Fatalf("got cookie %q, want HttpOnly, Path=/, SameSite=Strict, Max-Age=604800, Secure=%v", c.String(), secure)
		}
		claims, err := e.signer.VerifySocket(c.Value)
		if err != nil {
			t.Fatalf("cookie value is not a socket token: %v", err)
		}
		if _, err := e.signer.VerifyAccess(c.Value); err == nil {
			t.Fatal("cookie value passes as an access token")
		}
		return claims
	}

	body := map[string]any{"name": "Cookie Customer", "email": "cookie@example.test", "phone": "9876500001", "password": "Abcdef1"}
	reg := e.do("POST", "/api/v1/auth/register", "", body).want(t, 201)
	id := str(reg.data(), "user", "id")
	if c := wantCookie(t, reg, false); c.UserID != id || c.Role != auth.RoleCustomer {
		t.Fatalf("register: got claims %+v, want the new customer", c)
	}

	t.Run("login over TLS", func(t *testing.T) {
		r := e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "cookie@example.test", "password": "Abcdef1"},
			"X-Forwarded-Proto", "https").want(t, 200)
		if c := wantCookie(t, r, true); c.UserID != id {
			t.Fatalf("got %+v", c)
		}
	})
	t.Run("refresh", func(t *testing.T) {
		r := e.do("POST", "/api/v1/auth/refresh", "", map[string]any{"refreshToken": str(reg.data(), "refreshToken")}).want(t, 200)
		if c := wantCookie(t, r, false); c.UserID != id {
			t.Fatalf("got %+v", c)
		}
	})

	access := str(reg.data(), "accessToken")
	own := "fph_socket=" + reg.sessionCookie().Value
	t.Run("authenticated call without a cookie gets one", func(t *testing.T) {
		r := e.do("GET", "/api/v1/users/"+id, access, nil).want(t, 200)
		if c := wantCookie(t, r, false); c.UserID != id {
			t.Fatalf("got %+v", c)
		}
	})
	t.Run("authenticated call with its own cookie gets none", func(t *testing.T) {
		r := e.do("GET", "/api/v1/users/"+id, access, nil, "Cookie", own).want(t, 200)
		if c := r.sessionCookie(); c != nil {
			t.Fatalf("got %q, want no Set-Cookie", c.String())
		}
	})
	t.Run("someone else's or a bad cookie is replaced", func(t *testing.T) {
		other, _ := e.signer.IssueSocket("a00000000000000000000001", auth.RoleAdmin)
		for _, cookie := range []string{"fph_socket=" + other, "fph_socket=garbage", "fph_socket=" + access} {
			r := e.do("GET", "/api/v1/users/"+id, access, nil, "Cookie", cookie).want(t, 200)
			if c := wantCookie(t, r, false); c.UserID != id || c.Role != auth.RoleCustomer {
				t.Fatalf("got %+v", c)
			}
		}
	})
	t.Run("the cookie does not authenticate REST", func(t *testing.T) {
		e.do("GET", "/api/v1/users/"+id, "", nil, "Cookie", own).want(t, 401)
	})
	t.Run("a failed login sets none", func(t *testing.T) {
		r := e.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "cookie@example.test", "password": "Wrong1x"}).want(t, 401)
		if c := r.sessionCookie(); c != nil {
			t.Fatalf("got %q", c.String())
		}
	})
	t.Run("an agent awaiting approval gets none", func(t *testing.T) {
		r := e.do("POST", "/api/v1/auth/register", "", map[string]any{"name": "Pat Pending", "email": "pat@example.test",
			"phone": "9876500002", "password": "Abcdef1", "role": "delivery"}).want(t, 201)
		if c := r.sessionCookie(); c != nil {
			t.Fatalf("got %q", c.String())
		}
	})
	t.Run("logout clears it", func(t *testing.T) {
		for _, token := range []string{access, ""} { // with or without a valid token
			r := e.do("POST", "/api/v1/auth/logout", token, nil, "Cookie", own).want(t, 200)
			c := r.sessionCookie()
			if c == nil || c.Value != "" || c.MaxAge >= 0 || !c.HttpOnly || c.Path != "/" {
				t.Fatalf("got %v, want the cookie cleared (Max-Age=0)", r.header["Set-Cookie"])
			}
		}
	})
}
