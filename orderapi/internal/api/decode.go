package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/apperr"
)

// validator is a request body that can check itself.
type validator interface {
	// valid adds every problem of the value to p.
	valid(p *problems)
}

// decode reads the JSON body into a T and validates it. Unknown fields are
// ignored (the apps send extras); since bodies only ever land in typed
// structs, no client-sent "$" key can reach a query. An empty body decodes
// as {} so that missing fields are reported by validation. A wrong JSON type
// is reported as a field error ("isOnline must be a boolean value").
func decode[T any](r *http.Request) (T, error) {
	var v T
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return v, apperr.Invalidf("Request body too large (limit %d bytes)", tooBig.Limit)
		}
		return v, apperr.Invalidf("Could not read the request body")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, &v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			field := typeErr.Field
			if field == "" {
				return v, apperr.Invalidf("Request body must be a JSON object")
			}
			return v, validationError([]apperr.FieldError{{Field: field, Message: field + " must be " + jsonKind(typeErr.Type), Value: typeErr.Value}})
		}
		return v, apperr.Invalidf("Invalid JSON in request body")
	}
	if val, ok := any(&v).(validator); ok {
		var p problems
		val.valid(&p)
		if err := p.err(); err != nil {
			return v, err
		}
	}
	return v, nil
}

// jsonKind names a Go type the way a client thinks of JSON.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean value"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "of a different type"
}

// pathID parses the chi URL parameter name as an ObjectId, or fails with
// the original's 400 "Invalid _id: <v>. Please provide a valid ID.".
func pathID(r *http.Request, name string) (primitive.ObjectID, error) {
	return store.ParseID(urlParam(r, name))
}

// query reads and checks query parameters, collecting problems.
type query struct {
	r *http.Request
	p problems
}

func newQuery(r *http.Request) *query { return &query{r: r} }

func (q *query) str(name string) string { return strings.TrimSpace(q.r.URL.Query().Get(name)) }

// int returns the parameter as an integer in [min, max], or def when absent.
func (q *query) int(name string, def, min, max int) int {
	s := q.str(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		q.p.add(name, fmt.Sprintf("%s must be an integer between %d and %d", name, min, max), s)
		return def
	}
	return n
}

// boolPtr returns the parameter as a boolean, or nil when absent.
func (q *query) boolPtr(name string) *bool {
	s := q.str(name)
	if s == "" {
		return nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		q.p.add(name, name+" must be true or false", s)
		return nil
	}
	return &b
}

// oneOf returns the parameter if it is one of allowed, "" when absent.
func (q *query) oneOf(name string, allowed ...string) string {
	s := q.str(name)
	if s == "" {
		return ""
	}
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	q.p.add(name, name+" must be one of "+strings.Join(allowed, ", "), s)
	return ""
}

// err returns the validation error of all bad parameters, or nil.
func (q *query) err() error { return q.p.err() }
