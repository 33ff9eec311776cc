package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/friendspizzahut/platform/shared/apperr"
)

// The response envelopes of CONTRACT §3.2 and their documented exceptions.
// Every handler answers through these functions and writeError, so the
// shapes live in one file.

// respond writes the standard success envelope
// {success, statusCode, message, data}; data is left out when nil.
func respond(w http.ResponseWriter, status int, message string, data any) {
	body := map[string]any{"success": true, "statusCode": status, "message": message}
	if data != nil {
		body["data"] = data
	}
	writeJSON(w, status, body)
}

// respondNoCode writes {success, message, data} without statusCode: the
// shape of cart, restaurant-settings and delivery-agent routes.
func respondNoCode(w http.ResponseWriter, status int, message string, data any) {
	body := map[string]any{"success": true, "message": message}
	if data != nil {
		body["data"] = data
	}
	writeJSON(w, status, body)
}

// writeJSON writes v as the JSON body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client went away; nothing useful to do
}

// statusOf maps an error kind to its HTTP status.
func statusOf(k apperr.Kind) int {
	switch k {
	case apperr.Invalid:
		return http.StatusBadRequest
	case apperr.Unauthorized:
		return http.StatusUnauthorized
	case apperr.Forbidden:
		return http.StatusForbidden
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.Conflict:
		return http.StatusConflict
	case apperr.TooManyRequests:
		return http.StatusTooManyRequests
	case apperr.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// writeError is the one place an error becomes an HTTP response, and the one
// place errors are logged (server faults at Error with the cause; client
// mistakes at Debug, since the request log line already has the status).
//
// Shapes: validation errors (Invalid with Fields) use the express-validator
// envelope {success:false, message, errors[]} with no statusCode; 429 uses
// the rate limiter's {status:'fail', code, message, timestamp}; everything
// else the central handler's {success:false, statusCode, message,
// timestamp, path}, plus any Extra fields (e.g. activeOrders).
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	kind := apperr.KindOf(err)
	status := statusOf(kind)
	msg := apperr.MessageOf(err)
	log := loggerFrom(r.Context())
	if status >= 500 {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	} else {
		log.Debug("request refused", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}

	e, _ := apperr.As(err)
	if e != nil && len(e.Fields) > 0 {
		writeJSON(w, status, map[string]any{"success": false, "message": msg, "errors": e.Fields})
		return
	}
	if status == http.StatusTooManyRequests {
		writeJSON(w, status, map[string]any{"status": "fail", "code": "TOO_MANY_REQUESTS", "message": msg, "timestamp": jsNow()})
		return
	}
	body := map[string]any{"success": false, "statusCode": status, "message": msg, "timestamp": jsNow(), "path": r.URL.Path}
	if e != nil {
		for k, v := range e.Extra {
			if _, taken := body[k]; !taken {
				body[k] = v
			}
		}
	}
	writeJSON(w, status, body)
}

// apiFunc is a handler that returns its error instead of writing it; the
// error goes through writeError.
type apiFunc func(w http.ResponseWriter, r *http.Request) error

func (f apiFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := f(w, r); err != nil {
		writeError(w, r, err)
	}
}

// validationError is the 400 of a body or query that failed validation.
func validationError(fields []apperr.FieldError) error {
	return &apperr.Error{Kind: apperr.Invalid, Message: "Validation failed", Fields: fields}
}

// problems collects field errors while a request is validated.
type problems []apperr.FieldError

func (p *problems) add(field, message string, value any) {
	*p = append(*p, apperr.FieldError{Field: field, Message: message, Value: value})
}

// err returns the validation error, or nil when nothing was added.
func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return validationError(p)
}

// jsTime formats t as JavaScript's Date#toISOString does (UTC, milliseconds).
func jsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// jsTimePtr is jsTime for optional times (nil → JSON null).
func jsTimePtr(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return jsTime(*t)
}

func jsNow() string { return jsTime(time.Now()) }

// errNotFoundRoute is the 404 for an unknown route, in Express's words.
func notFoundRoute(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, apperr.NotFoundf("Route %s %s not found", r.Method, r.URL.Path))
}
