package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/friendspizzahut/platform/orderapi/internal/metrics"
	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/apperr"
	"github.com/friendspizzahut/platform/shared/auth"
)

type ctxKey int

const (
	reqInfoKey ctxKey = iota
	userKey
)

// reqInfo is the per-request state the middleware share: the request's
// logger (with request_id) and, once authenticated, the user id for the
// access log line.
type reqInfo struct {
	logger *slog.Logger
	userID string
}

// loggerFrom returns the request's logger (with request_id), or the
// default logger outside a request.
func loggerFrom(ctx context.Context) *slog.Logger {
	if ri, ok := ctx.Value(reqInfoKey).(*reqInfo); ok {
		return ri.logger
	}
	return slog.Default()
}

// userFrom returns the authenticated user, or nil on public routes.
func userFrom(ctx context.Context) *store.User {
	u, _ := ctx.Value(userKey).(*store.User)
	return u
}

func urlParam(r *http.Request, name string) string { return chi.URLParam(r, name) }

// requestID takes a sane X-Request-Id from the client or makes one.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 64 && !strings.ContainsAny(id, " \r\n\t") {
		return id
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusRecorder remembers the status and size of a response.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests gives each request an id and a logger carrying it, writes
// one access line per request and records it in m (which may be nil).
func logRequests(logger *slog.Logger, m *metrics.API) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			id := requestID(r)
			w.Header().Set("X-Request-Id", id)
			ri := &reqInfo{logger: logger.With("request_id", id)}
			rec := &statusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), reqInfoKey, ri)))
			m.ObserveRequest(r, rec.status, time.Since(start))
			level := slog.LevelInfo
			if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/health" || r.URL.Path == "/metrics" {
				level = slog.LevelDebug // probes and scrapes would drown everything else
			}
			ri.logger.Log(r.Context(), level, "request",
				"method", r.Method, "path", r.URL.Path, "status", rec.status, "bytes", rec.bytes,
				"duration_ms", time.Since(start).Milliseconds(), "user_id", ri.userID)
		})
	}
}

// recoverPanics turns a handler panic into a logged 500, so one bad request
// never takes the process down.
func recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v) // the server's own way to abort a response
			}
			loggerFrom(r.Context()).Error("handler panic", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if r.Header.Get("Connection") != "Upgrade" {
				writeError(w, r, errors.New("panic"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// limitBody caps every request body at max, and image uploads
// (/api/v1/upload/*) at uploads.
func limitBody(max, uploads int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body != nil {
				limit := max
				if strings.HasPrefix(r.URL.Path, v1+"/upload/") {
					limit = uploads
				}
				r.Body = http.MaxBytesReader(w, r.Body, limit)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// The auth middleware's messages (CONTRACT §3.2).
var (
	errNoToken      = apperr.Unauthorizedf("No token provided. Please authenticate.")
	errBadToken     = apperr.Unauthorizedf("Invalid token.")
	errExpiredToken = apperr.Unauthorizedf("Token has expired. Please login again.")
	errNoUser       = apperr.Unauthorizedf("User not found. Token is invalid.")
	errInactive     = apperr.Unauthorizedf("User account is inactive.")
)

// bearerToken returns the token of "Authorization: Bearer <t>", or "".
func bearerToken(r *http.Request) string {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return ""
	}
	return strings.TrimSpace(h[7:])
}

// currentUser verifies the bearer token and loads its user from the
// database: authorisation uses the stored role and isActive, never the
// token's claims (CONTRACT §4.6).
func currentUser(ctx context.Context, r *http.Request, users *store.Users, signer *auth.Signer) (*store.User, error) {
	raw := bearerToken(r)
	if raw == "" {
		return nil, errNoToken
	}
	claims, err := signer.VerifyAccess(raw)
	if errors.Is(err, auth.ErrExpired) {
		return nil, errExpiredToken
	}
	if err != nil {
		return nil, errBadToken
	}
	id, err := store.ParseID(claims.UserID)
	if err != nil {
		return nil, errBadToken
	}
	u, err := users.UserByID(ctx, id)
	if apperr.KindOf(err) == apperr.NotFound {
		return nil, errNoUser
	}
	if err != nil {
		return nil, err
	}
	if !u.IsActive {
		return nil, errInactive
	}
	return u, nil
}

// authenticate requires a valid access token of an active user and puts
// the user in the request context. It also sets the session cookie when
// the request's is missing or not this user's, so apps that signed in
// before the cookie existed (or as someone else) get it on their next call.
func authenticate(users *store.Users, sess sessions) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, err := currentUser(r.Context(), r, users, sess.signer)
			if err != nil {
				writeError(w, r, err)
				return
			}
			if !sess.cookieIsFor(r, u) {
				if err := sess.setCookie(w, r, u); err != nil {
					writeError(w, r, err)
					return
				}
			}
			next.ServeHTTP(w, withUser(r, u))
		})
	}
}

// authenticateOptional is authenticate for routes that also serve anonymous
// callers (logout): a missing or unusable token just means no user.
func authenticateOptional(users *store.Users, signer *auth.Signer) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, err := currentUser(r.Context(), r, users, signer)
			if err != nil && apperr.KindOf(err) == apperr.Internal {
				writeError(w, r, err)
				return
			}
			if u != nil {
				r = withUser(r, u)
			}
			next.ServeHTTP(w, r)
		})
	}
}

func withUser(r *http.Request, u *store.User) *http.Request {
	if ri, ok := r.Context().Value(reqInfoKey).(*reqInfo); ok {
		ri.userID = u.ID.Hex()
		ri.logger = ri.logger.With("user_id", ri.userID)
	}
	return r.WithContext(context.WithValue(r.Context(), userKey, u))
}

// requireRole lets through only users whose stored role is one of roles,
// with the original's 403 texts.
func requireRole(roles ...string) func(http.Handler) http.Handler {
	msg := "Access denied. Required role: " + strings.Join(roles, " or ") + "."
	if len(roles) == 1 && roles[0] == auth.RoleAdmin {
		msg = "Access denied. Admin privileges required."
	}
	denied := apperr.Forbiddenf("%s", msg)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u := userFrom(r.Context())
			if u == nil {
				writeError(w, r, errNoToken)
				return
			}
			for _, role := range roles {
				if u.Role == role {
					next.ServeHTTP(w, r)
					return
				}
			}
			writeError(w, r, denied)
		})
	}
}
