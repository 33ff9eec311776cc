package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/auth"
)

// The session cookie (docs/sockets.md): the unchanged apps send no token
// on their socket, but React Native sends the cookies of the API's origin
// with the WebSocket handshake and with polling requests. So every
// response that starts or proves a session sets an HttpOnly cookie holding
// a socket-session token (auth.IssueSocket); the gateway accepts it as the
// socket's proof of identity. REST never reads it: REST stays on Bearer
// tokens, so the cookie opens no CSRF surface.

// sessions issues a session's socket cookie.
type sessions struct {
	signer *auth.Signer
	secure bool // SESSION_COOKIE_SECURE: Secure even on plain-HTTP requests
	now    func() time.Time
}

// setCookie sets the session cookie for u, valid as long as an access token.
func (s sessions) setCookie(w http.ResponseWriter, r *http.Request, u *store.User) error {
	tok, err := s.signer.IssueSocket(u.ID.Hex(), u.Role)
	if err != nil {
		return err
	}
	http.SetCookie(w, s.cookie(r, tok, int(auth.TokenTTL/time.Second), s.now().Add(auth.TokenTTL)))
	return nil
}

// clearCookie deletes the session cookie.
func (s sessions) clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, s.cookie(r, "", -1, time.Unix(0, 0)))
}

func (s sessions) cookie(r *http.Request, value string, maxAge int, expires time.Time) *http.Cookie {
	return &http.Cookie{
		Name: auth.SocketCookie, Value: value, Path: "/",
		MaxAge: maxAge, Expires: expires.UTC(),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secureFor(r),
	}
}

// secureFor: Secure when configured, when the request came over TLS, or
// when the front proxy says it did (the first X-Forwarded-Proto hop).
func (s sessions) secureFor(r *http.Request) bool {
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return s.secure || r.TLS != nil || strings.EqualFold(strings.TrimSpace(proto), "https")
}

// cookieIsFor reports whether the request carries a valid session cookie
// for u as it is stored now (same id and role).
func (s sessions) cookieIsFor(r *http.Request, u *store.User) bool {
	c, err := r.Cookie(auth.SocketCookie)
	if err != nil {
		return false
	}
	claims, err := s.signer.VerifySocket(c.Value)
	return err == nil && claims.UserID == u.ID.Hex() && claims.Role == u.Role
}
