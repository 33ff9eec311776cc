// Package apperr is the small error vocabulary shared by both services: a
// kind (invalid, unauthorized, ...) and a message that is safe to show to a
// client. Each service has exactly one place that turns an error into an HTTP
// status or a socket error reply, and logs it.
package apperr

import (
	"errors"
	"fmt"
)

// Kind classifies an error for clients.
type Kind string

// The kinds. Anything that is not an *Error is Internal.
const (
	Invalid         Kind = "invalid"
	Unauthorized    Kind = "unauthorized"
	Forbidden       Kind = "forbidden"
	NotFound        Kind = "not_found"
	Conflict        Kind = "conflict"
	TooManyRequests Kind = "too_many_requests"
	Unavailable     Kind = "unavailable"
	Internal        Kind = "internal"
)

// FieldError describes one invalid input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	Value   any    `json:"value,omitempty"`
}

// Error is an error with a kind and a client-safe message.
type Error struct {
	Kind    Kind
	Message string
	Fields  []FieldError // optional, for Invalid
	Extra   map[string]any
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Kind, e.Message) }

// New returns an *Error of the given kind.
func New(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Errorf constructors for each kind, for readability at call sites.
func Invalidf(format string, args ...any) *Error      { return New(Invalid, format, args...) }
func Unauthorizedf(format string, args ...any) *Error { return New(Unauthorized, format, args...) }
func Forbiddenf(format string, args ...any) *Error    { return New(Forbidden, format, args...) }
func NotFoundf(format string, args ...any) *Error     { return New(NotFound, format, args...) }
func Conflictf(format string, args ...any) *Error     { return New(Conflict, format, args...) }

// KindOf returns the kind of err, or Internal when err carries none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// MessageOf returns the client-safe message of err. Errors without a kind
// get a generic message, so internal details never reach a client.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal server error"
}

// As returns err as *Error, if it is one.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
