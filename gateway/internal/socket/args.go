package socket

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"strings"

	"github.com/friendspizzahut/platform/gateway/internal/directory"
	"github.com/friendspizzahut/platform/shared/apperr"
	"github.com/friendspizzahut/platform/shared/auth"
	"github.com/friendspizzahut/platform/shared/event"
)

// This file is the only place that sees the clients' raw arguments: it
// turns them into typed inputs or an apperr Invalid error with a message
// fit for the client.

// maxTokenLen bounds a handshake token before any parsing.
const maxTokenLen = 8192

// RegisterInput is the payload of register: {userId, role}. Both may be
// empty when the socket authenticated with a token.
type RegisterInput struct {
	UserID string
	Role   string
}

// LocationInput is the payload of delivery:location.
type LocationInput struct {
	OrderID   string
	Latitude  float64
	Longitude float64
	Speed     *float64
	Heading   *float64
	Accuracy  *float64
}

// first returns the first argument, or nil when there is none.
func first(args []json.RawMessage) json.RawMessage {
	if len(args) == 0 {
		return nil
	}
	return bytes.TrimSpace(args[0])
}

func isNull(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

func isObject(raw json.RawMessage) bool { return len(raw) > 0 && raw[0] == '{' }

// DecodeRegister reads register's {userId, role}. A missing or null
// payload is an empty input (allowed for token sockets).
func DecodeRegister(args []json.RawMessage) (RegisterInput, error) {
	raw := first(args)
	if isNull(raw) {
		return RegisterInput{}, nil
	}
	if !isObject(raw) {
		return RegisterInput{}, apperr.Invalidf("register expects {userId, role}")
	}
	var w struct {
		UserID *string `json:"userId"`
		Role   *string `json:"role"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return RegisterInput{}, apperr.Invalidf("register expects {userId: string, role: string}")
	}
	var in RegisterInput
	if w.UserID != nil {
		if *w.UserID != "" && !directory.ValidID(*w.UserID) {
			return RegisterInput{}, apperr.Invalidf("userId is not a valid id")
		}
		in.UserID = *w.UserID
	}
	if w.Role != nil {
		if len(*w.Role) > 32 {
			return RegisterInput{}, apperr.Invalidf("role is not a valid role")
		}
		in.Role = *w.Role
	}
	return in, nil
}

// DecodeOrderRef reads join:order / leave:order: a plain order id or
// {orderId}.
func DecodeOrderRef(args []json.RawMessage) (string, error) {
	raw := first(args)
	var id string
	switch {
	case isNull(raw):
		return "", apperr.Invalidf("orderId is required")
	case raw[0] == '"':
		if err := json.Unmarshal(raw, &id); err != nil {
			return "", apperr.Invalidf("orderId must be a string")
		}
	case isObject(raw):
		var w struct {
			OrderID *string `json:"orderId"`
		}
		if err := json.Unmarshal(raw, &w); err != nil || w.OrderID == nil {
			return "", apperr.Invalidf("expected an order id or {orderId: string}")
		}
		id = *w.OrderID
	default:
		return "", apperr.Invalidf("expected an order id or {orderId: string}")
	}
	if !directory.ValidID(id) {
		return "", apperr.Invalidf("orderId is not a valid id")
	}
	return id, nil
}

// DecodeLocation reads delivery:location's {orderId, latitude, longitude}
// and the optional speed, heading and accuracy.
func DecodeLocation(args []json.RawMessage) (LocationInput, error) {
	raw := first(args)
	if !isObject(raw) {
		return LocationInput{}, apperr.Invalidf("delivery:location expects {orderId, latitude, longitude}")
	}
	var w struct {
		OrderID   *string  `json:"orderId"`
		Latitude  *float64 `json:"latitude"`
		Longitude *float64 `json:"longitude"`
		Speed     *float64 `json:"speed"`
		Heading   *float64 `json:"heading"`
		Accuracy  *float64 `json:"accuracy"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return LocationInput{}, apperr.Invalidf("delivery:location expects {orderId: string, latitude: number, longitude: number}")
	}
	if w.OrderID == nil || !directory.ValidID(*w.OrderID) {
		return LocationInput{}, apperr.Invalidf("orderId is required and must be a valid id")
	}
	if w.Latitude == nil || w.Longitude == nil || !event.ValidCoordinates(*w.Latitude, *w.Longitude) {
		return LocationInput{}, apperr.Invalidf("latitude must be within [-90, 90] and longitude within [-180, 180]")
	}
	in := LocationInput{OrderID: *w.OrderID, Latitude: *w.Latitude, Longitude: *w.Longitude}
	if w.Speed != nil && *w.Speed >= 0 && *w.Speed < 1000 {
		in.Speed = w.Speed
	}
	if w.Heading != nil && *w.Heading >= 0 && *w.Heading <= 360 {
		in.Heading = w.Heading
	}
	if w.Accuracy != nil && *w.Accuracy >= 0 && !math.IsInf(*w.Accuracy, 0) {
		in.Accuracy = w.Accuracy
	}
	return in, nil
}

// ProofFrom finds the handshake's proof of identity, the first present of:
// auth.token (with or without "Bearer "), the Authorization header, the
// token query parameter (all ProofToken: an access token), then the
// session cookie (ProofCookie: a socket-session token). It returns
// ProofNone and "" when none is present, and auth.ErrInvalid when
// auth.token is not a string or a proof is absurdly long.
//
// Whether the cookie may count at all (no Origin, or an allowed one) is
// decided before the request reaches the engine: see CookieGuard.
func ProofFrom(authPayload json.RawMessage, query url.Values, header http.Header) (Proof, string, error) {
	raw := bytes.TrimSpace(authPayload)
	if isObject(raw) {
		var w struct {
			Token json.RawMessage `json:"token"`
		}
		if err := json.Unmarshal(raw, &w); err == nil && !isNull(w.Token) {
			var tok string
			if err := json.Unmarshal(w.Token, &tok); err != nil {
				return ProofToken, "", auth.ErrInvalid
			}
			if t := auth.StripBearer(tok); t != "" {
				return checkLen(ProofToken, t)
			}
		}
	}
	if t := auth.StripBearer(header.Get("Authorization")); t != "" {
		return checkLen(ProofToken, t)
	}
	if t := auth.StripBearer(query.Get("token")); t != "" {
		return checkLen(ProofToken, t)
	}
	if t := sessionCookie(header); t != "" {
		return checkLen(ProofCookie, t)
	}
	return ProofNone, "", nil
}

// sessionCookie is the value of the first session cookie in header.
func sessionCookie(header http.Header) string {
	if len(header["Cookie"]) == 0 {
		return ""
	}
	c, err := (&http.Request{Header: header}).Cookie(auth.SocketCookie)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(c.Value)
}

func checkLen(p Proof, t string) (Proof, string, error) {
	if len(t) > maxTokenLen {
		return p, "", auth.ErrInvalid
	}
	return p, t, nil
}
