package socket

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/friendspizzahut/platform/shared/auth"
)

// CookieGuard returns middleware for the Socket.IO endpoint that removes
// the session cookie from requests with a foreign Origin, so Connect sees
// no cookie proof there. The cookie counts only with no Origin (a native
// app's polling request), this origin (the Host the client connected to:
// React Native's WebSocket sends that as its Origin), or one of allowed
// (CORS_ORIGINS, without "*"). A third-party web page cannot borrow a
// signed-in user's cookie that way (SameSite=Strict already stops
// browsers; this does not depend on them).
//
// It runs in front of the engine, which may drop a websocket's Origin
// before the handshake headers reach Connect.
func CookieGuard(allowed []string, logger *slog.Logger) func(http.Handler) http.Handler {
	ok := map[string]bool{}
	for _, o := range allowed {
		if o = normalOrigin(o); o != "" && o != "*" {
			ok[o] = true
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			if origin != "" && hasCookieNamed(r.Header) && !ok[normalOrigin(origin)] && !sameOrigin(origin, r) {
				logger.Debug("session cookie ignored: foreign Origin", "origin", truncate(origin, 128))
				r = r.Clone(r.Context())
				dropSessionCookie(r.Header)
			}
			next.ServeHTTP(w, r)
		})
	}
}

func normalOrigin(o string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(o)), "/")
}

// sameOrigin reports whether origin names the host the request was sent
// to. Only Host counts: X-Forwarded-Host is a header any web page may set
// on a polling request, so the front proxy must pass the client's Host on
// (nginx: proxy_set_header Host $http_host). Schemes are not compared:
// behind a TLS-terminating proxy the request's own is unknown.
func sameOrigin(origin string, r *http.Request) bool {
	u, err := url.Parse(strings.TrimSpace(origin))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false // includes "null"
	}
	return hostPort(u.Host) == hostPort(r.Host)
}

// hostPort lower-cases h and drops a default port (80, 443).
func hostPort(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	for _, p := range []string{":80", ":443"} {
		h = strings.TrimSuffix(h, p)
	}
	return h
}

// hasCookieNamed reports whether any Cookie header names the session
// cookie, even with an empty or malformed value.
func hasCookieNamed(h http.Header) bool {
	for _, line := range h["Cookie"] {
		for part := range strings.SplitSeq(line, ";") {
			if name, _, _ := strings.Cut(part, "="); strings.TrimSpace(name) == auth.SocketCookie {
				return true
			}
		}
	}
	return false
}

// dropSessionCookie removes the session cookie from h's Cookie headers,
// keeping the others.
func dropSessionCookie(h http.Header) {
	var lines []string
	for _, line := range h["Cookie"] {
		var keep []string
		for part := range strings.SplitSeq(line, ";") {
			if name, _, _ := strings.Cut(part, "="); strings.TrimSpace(name) != auth.SocketCookie && strings.TrimSpace(part) != "" {
				keep = append(keep, strings.TrimSpace(part))
			}
		}
		if len(keep) > 0 {
			lines = append(lines, strings.Join(keep, "; "))
		}
	}
	if len(lines) == 0 {
		h.Del("Cookie")
		return
	}
	h["Cookie"] = lines
}
