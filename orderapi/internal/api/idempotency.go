package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/apperr"
)

// Idempotency-Key support for the POSTs that create something (orders,
// payments). The app's axios instance retries a POST after a 5xx or a
// network error; with a key, such a retry gets the first response again
// instead of creating a second order or payment.
//
// Rules:
//   - The key is scoped to the authenticated user; the record stores the
//     user, the key, a hash of method+path+body, the state and, once
//     answered, the status and body to replay (header Idempotent-Replayed).
//   - The same key with a different request → 409.
//   - While the first request runs, a second one → 409 with Retry-After.
//   - A 5xx (or 429) answer is not kept: the retry runs again. A handler
//     that commits before it can fail derives its document id from the key
//     (idempotentObjectID), so running again finds what the first attempt
//     wrote instead of writing it twice (payments do this).
//   - Records expire after IdempotencyTTL (FerretDB has no TTL index: they
//     are ignored on read once expired and purged by a loop in run).

// DefaultIdempotencyTTL is how long a key is remembered.
const DefaultIdempotencyTTL = 24 * time.Hour

// idempotencyLock is how long a claimed key waits for its request before
// a retry may take it over (a crash mid-request).
const idempotencyLock = 30 * time.Second

// maxReplayBody bounds the response stored for replay.
const maxReplayBody = 1 << 20

type idemCtxKey struct{}

// idempotentObjectID returns an ObjectId derived from the request's
// Idempotency-Key (user, key and request hash), or the zero id when the
// request carries none.
func idempotentObjectID(ctx context.Context) primitive.ObjectID {
	seed, _ := ctx.Value(idemCtxKey{}).(string)
	if seed == "" {
		return primitive.NilObjectID
	}
	sum := sha256.Sum256([]byte(seed))
	var id primitive.ObjectID
	copy(id[:], sum[:12])
	return id
}

// validIdempotencyKey accepts 1–255 visible ASCII characters.
func validIdempotencyKey(k string) bool {
	if k == "" || len(k) > 255 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// idempotent wraps h with Idempotency-Key handling. It must run after
// authentication (the key is per user).
func idempotent(d Deps, h http.Handler) http.Handler {
	return apiFunc(func(w http.ResponseWriter, r *http.Request) error {
		key := r.Header.Get("Idempotency-Key")
		me := userFrom(r.Context())
		if key == "" || me == nil {
			h.ServeHTTP(w, r)
			return nil
		}
		if !validIdempotencyKey(key) {
			return apperr.Invalidf("Idempotency-Key must be 1 to 255 visible ASCII characters")
		}
		keys := d.Stores.Idempotency
		body, err := io.ReadAll(r.Body)
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return apperr.Invalidf("Request body too large (limit %d bytes)", tooBig.Limit)
			}
			return apperr.Invalidf("Could not read the request body")
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.New()
		sum.Write([]byte(r.Method + "\n" + r.URL.Path + "\n"))
		sum.Write(body)
		hash := hex.EncodeToString(sum.Sum(nil))

		now := d.Now().UTC().Truncate(time.Millisecond)
		rec := &store.IdemRecord{
			ID: store.IdemID(me.ID, key), User: me.ID, Key: key, Method: r.Method, Path: r.URL.Path,
			RequestHash: hash, State: store.IdemProcessing, LockedUntil: now.Add(idempotencyLock),
			CreatedAt: now, ExpiresAt: now.Add(d.IdempotencyTTL),
		}
		prev, err := keys.Begin(r.Context(), rec)
		if err != nil {
			return err
		}
		if prev != nil {
			if prev.RequestHash != hash {
				return apperr.Conflictf("This Idempotency-Key was already used with a different request. Use a new key for a new request.")
			}
			if prev.State == store.IdemDone {
				if prev.ContentType != "" {
					w.Header().Set("Content-Type", prev.ContentType)
				}
				w.Header().Set("Idempotent-Replayed", "true")
				w.WriteHeader(prev.Status)
				_, _ = w.Write(prev.Body)
				return nil
			}
			busy := apperr.Conflictf("A request with this Idempotency-Key is still being processed. Retry in a moment.")
			if prev.LockedUntil.After(now) {
				w.Header().Set("Retry-After", "1")
				return busy
			}
			won, err := keys.TakeOver(r.Context(), prev, now.Add(idempotencyLock))
			if err != nil {
				return err
			}
			if !won {
				w.Header().Set("Retry-After", "1")
				return busy
			}
		}

		// Whatever happens to the client, the outcome is recorded.
		finish := func(status int, contentType string, out []byte) {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
			defer cancel()
			var err error
			if status >= 500 || status == http.StatusTooManyRequests || status == 0 || len(out) > maxReplayBody {
				err = keys.Release(ctx, rec.ID)
			} else {
				err = keys.Finish(ctx, rec.ID, status, contentType, out)
			}
			if err != nil {
				loggerFrom(r.Context()).Warn("idempotency record not updated; it expires on its own", "key_id", rec.ID, "err", err)
			}
		}
		capture := &captureWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				finish(http.StatusInternalServerError, "", nil)
				panic(v)
			}
		}()
		h.ServeHTTP(capture, r.WithContext(context.WithValue(r.Context(), idemCtxKey{}, rec.ID+hash)))
		finish(capture.status, capture.Header().Get("Content-Type"), capture.body.Bytes())
		return nil
	})
}

// captureWriter passes a response through and keeps a copy for replay.
type captureWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if c.body.Len() <= maxReplayBody {
		c.body.Write(b)
	}
	return c.ResponseWriter.Write(b)
}

func (c *captureWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
