package gateway

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/shared/auth"
	"github.com/friendspizzahut/platform/shared/event"
	"github.com/friendspizzahut/platform/test/jsclient"
	"github.com/friendspizzahut/platform/test/testapi"
)

// TestSessionCookieIdentity drives the unchanged apps' proof of identity
// through the front door: the session cookie orderapi sets at sign-in,
// sent by the real socket.io-client as a native app's cookie store would
// (extraHeaders), on websocket and on polling.
func TestSessionCookieIdentity(t *testing.T) {
	e := sharedEnv(t)
	admin := e.API.Admin(t) // a fresh sign-in: its own cookie
	customer := e.API.RegisterCustomer(t, "Cookie Customer")
	signer := e.Stack.Signer()
	const signInAgain = "Sign in again to receive live updates as admin: this connection carries no proof of sign-in."
	withCookie := func(tr jsclient.Transport, cookie string, extra ...string) jsclient.Options {
		h := map[string]string{"Cookie": "theme=dark; " + cookie}
		for i := 0; i+1 < len(extra); i += 2 {
			h[extra[i]] = extra[i+1]
		}
		return jsclient.Options{Transports: tr, Headers: h}
	}
	// adminEvent publishes an event for role:admin and returns its matcher.
	adminEvent := func() func(args []json.RawMessage) bool {
		ev := e.Bus.Publish(t, &event.AgentStatus{DeliveryAgentID: testapi.NewID(), Name: "Dev", IsOnline: true, State: "free"})
		return testapi.FieldIs("timestamp", testapi.ISO(ev.At))
	}

	for _, tr := range []jsclient.Transport{jsclient.WebSocketOnly, jsclient.PollingOnly} {
		t.Run(string(tr), func(t *testing.T) {
			t.Run("signed in, registers as itself and gets its events", func(t *testing.T) {
				s := e.connect(t, tr, withCookie(tr, admin.Cookie))
				if got := register(t, s, admin.ID, "admin"); got["success"] != true || got["userId"] != admin.ID || got["role"] != "admin" {
					t.Fatalf("got %v", got)
				}
				s.WaitEvent(t, "delivery:agent:status:update", wait, adminEvent())
				c := e.connect(t, tr, withCookie(tr, customer.Cookie))
				if got := register(t, c, customer.ID, "customer"); got["success"] != true {
					t.Fatalf("got %v", got)
				}
			})
			t.Run("as another user: refused", func(t *testing.T) {
				s := e.connect(t, tr, withCookie(tr, customer.Cookie))
				for _, claim := range [][2]string{{admin.ID, "admin"}, {testapi.NewID(), "customer"}} {
					if got := register(t, s, claim[0], claim[1]); got["success"] != false || !strings.Contains(got["message"].(string), "sign in again") {
						t.Fatalf("register %v: got %v, want refused with advice", claim, got)
					}
				}
			})
			t.Run("admin without proof: refused, gets no admin events", func(t *testing.T) {
				s := e.connect(t, tr, jsclient.Options{})
				if got := register(t, s, admin.ID, "admin"); got["success"] != false || got["message"] != signInAgain {
					t.Fatalf("got %v", got)
				}
				proof := e.connect(t, tr, withCookie(tr, admin.Cookie))
				register(t, proof, admin.ID, "admin")
				proof.WaitEvent(t, "delivery:agent:status:update", wait, adminEvent())
				s.AssertNoEvent(t, "delivery:agent:status:update", 200*time.Millisecond)
			})
			t.Run("bad cookies: connect_error", func(t *testing.T) {
				expired, _ := auth.NewSigner(e.Stack.JWTSecret, func() time.Time { return time.Now().Add(-8 * 24 * time.Hour) }).IssueSocket(admin.ID, "admin")
				forged, _ := auth.NewSigner("not-the-secret", nil).IssueSocket(admin.ID, "admin")
				refresh, _ := signer.IssueRefresh(admin.ID)
				for _, c := range []struct{ name, value, msg, code string }{
					{"expired", expired, "Authentication failed: Your session has expired. Please sign in again.", "SESSION_EXPIRED"},
					{"forged", forged, "Authentication failed: Your session is not valid. Please sign in again.", "INVALID_SESSION"},
					{"refresh token", refresh, "Authentication failed: Your session is not valid. Please sign in again.", "INVALID_SESSION"},
					{"access token", admin.Token, "Authentication failed: Your session is not valid. Please sign in again.", "INVALID_SESSION"},
				} {
					opts := withCookie(tr, auth.SocketCookie+"="+c.value)
					opts.NoReconnect = true
					s := e.js.Connect(t, e.Stack.URL(), opts)
					msg, data := s.WaitConnectErrorData(t)
					if msg != c.msg || !strings.Contains(string(data), c.code) {
						t.Errorf("%s: got %q %s, want %q %s", c.name, msg, data, c.msg, c.code)
					}
					s.Disconnect()
				}
			})
			t.Run("Origin: foreign means no proof, own origin counts", func(t *testing.T) {
				foreign := e.connect(t, tr, withCookie(tr, admin.Cookie, "Origin", "https://evil.example"))
				if got := register(t, foreign, admin.ID, "admin"); got["success"] != false || got["message"] != signInAgain {
					t.Fatalf("foreign Origin: got %v, want the cookie ignored", got)
				}
				own := e.connect(t, tr, withCookie(tr, admin.Cookie, "Origin", e.Stack.URL()))
				if got := register(t, own, admin.ID, "admin"); got["success"] != true {
					t.Fatalf("own Origin (React Native sends it): got %v", got)
				}
			})
		})
	}

	t.Run("an app signed in before the switch gets the cookie on its next call", func(t *testing.T) {
		status, raw, h := e.API.Exchange(t, http.MethodGet, "/api/v1/users/"+customer.ID, customer.Token, nil, nil)
		if status != http.StatusOK || testapi.SessionCookie(h) == "" {
			t.Fatalf("got %d %s with Set-Cookie %v, want the session cookie", status, raw, h["Set-Cookie"])
		}
		// With its own cookie, the next call sets none.
		_, _, h = e.API.Exchange(t, http.MethodGet, "/api/v1/users/"+customer.ID, customer.Token,
			http.Header{"Cookie": {testapi.SessionCookie(h)}}, nil)
		if got := h["Set-Cookie"]; len(got) != 0 {
			t.Fatalf("got Set-Cookie %v, want none", got)
		}
	})
	t.Run("after logout the cookie is gone", func(t *testing.T) {
		u := e.API.Login(t, customer.Email, testapi.Password)
		status, raw, h := e.API.Exchange(t, http.MethodPost, "/api/v1/auth/logout", u.Token, http.Header{"Cookie": {u.Cookie}}, nil)
		if status != http.StatusOK {
			t.Fatalf("logout: got %d %s", status, raw)
		}
		cleared := false
		for _, c := range (&http.Response{Header: h}).Cookies() {
			cleared = cleared || c.Name == auth.SocketCookie && c.Value == "" && c.MaxAge < 0
		}
		if !cleared || testapi.SessionCookie(h) != "" {
			t.Fatalf("got Set-Cookie %v, want %s cleared (Max-Age=0)", h["Set-Cookie"], auth.SocketCookie)
		}
	})
}
