// Package auth issues and verifies the platform's JWTs, exactly as the
// original app expects them (HS256 with JWT_SECRET; access claims id, email,
// role; 7 days), and closes the original's hole where a refresh token was
// also accepted as an access token.
package auth

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// TokenTTL is the lifetime of access and refresh tokens (the original's "7d").
const TokenTTL = 7 * 24 * time.Hour

// Roles of users.
const (
	RoleCustomer = "customer"
	RoleAdmin    = "admin"
	RoleDelivery = "delivery"
)

// typClaim marks every token that is not an access token: refresh tokens
// and socket-session tokens. Access tokens carry no typ, like the
// original's; refresh tokens issued by the original carry neither email nor
// role, so they are refused as access tokens too.
const (
	typClaim   = "typ"
	typRefresh = "refresh"
	typSocket  = "socket"
)

// SocketCookie names the HttpOnly cookie orderapi sets when a session
// starts or is proven. It holds a socket-session token (IssueSocket), which
// authenticates Socket.IO handshakes and nothing else.
const SocketCookie = "fph_socket"

// Claims are the verified contents of an access token.
type Claims struct {
	UserID    string
	Email     string
	Role      string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Errors returned by Verify. Their texts are safe to show to clients.
var (
	ErrExpired = errors.New("Token has expired. Please login again.")
	ErrInvalid = errors.New("Invalid token.")
)

// Signer issues and verifies tokens with one HMAC secret.
type Signer struct {
	secret []byte
	now    func() time.Time
}

// NewSigner returns a Signer for secret. now may be nil (time.Now).
func NewSigner(secret string, now func() time.Time) *Signer {
	if now == nil {
		now = time.Now
	}
	return &Signer{secret: []byte(secret), now: now}
}

// IssueAccess returns a signed access token for the user.
func (s *Signer) IssueAccess(userID, email, role string) (string, error) {
	now := s.now()
	tok, err := jwt.NewBuilder().
		IssuedAt(now).
		Expiration(now.Add(TokenTTL)).
		Claim("id", userID).
		Claim("email", email).
		Claim("role", role).
		Build()
	if err != nil {
		return "", fmt.Errorf("build access token: %w", err)
	}
	return s.sign(tok)
}

// IssueRefresh returns a signed refresh token for the user.
func (s *Signer) IssueRefresh(userID string) (string, error) {
	now := s.now()
	tok, err := jwt.NewBuilder().
		IssuedAt(now).
		Expiration(now.Add(TokenTTL)).
		Claim("id", userID).
		Claim(typClaim, typRefresh).
		Build()
	if err != nil {
		return "", fmt.Errorf("build refresh token: %w", err)
	}
	return s.sign(tok)
}

// IssueSocket returns a signed socket-session token for the user: the
// session cookie's value. It lives as long as an access token, but only
// VerifySocket accepts it, so it cannot call the REST API.
func (s *Signer) IssueSocket(userID, role string) (string, error) {
	now := s.now()
	tok, err := jwt.NewBuilder().
		IssuedAt(now).
		Expiration(now.Add(TokenTTL)).
		Claim("id", userID).
		Claim("role", role).
		Claim(typClaim, typSocket).
		Build()
	if err != nil {
		return "", fmt.Errorf("build socket token: %w", err)
	}
	return s.sign(tok)
}

func (s *Signer) sign(tok jwt.Token) (string, error) {
	b, err := jwt.Sign(tok, jwt.WithKey(jwa.HS256, s.secret))
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return string(b), nil
}

// parse verifies the signature (HS256 only: "none" and every other
// algorithm are refused) and the expiry.
func (s *Signer) parse(raw string) (jwt.Token, error) {
	raw = StripBearer(raw)
	if raw == "" || len(raw) > 8192 {
		return nil, ErrInvalid
	}
	tok, err := jwt.ParseString(raw,
		jwt.WithKey(jwa.HS256, s.secret),
		jwt.WithValidate(true),
		jwt.WithClock(jwt.ClockFunc(s.now)),
		jwt.WithAcceptableSkew(5*time.Second),
	)
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired()) {
			return nil, ErrExpired
		}
		return nil, ErrInvalid
	}
	if tok.Expiration().IsZero() { // a token that never expires is not one we issued
		return nil, ErrInvalid
	}
	return tok, nil
}

// VerifyAccess checks an access token and returns its claims. Refresh and
// socket-session tokens (anything with a typ) are refused.
func (s *Signer) VerifyAccess(raw string) (Claims, error) {
	return s.verifyTyped(raw, "")
}

// VerifySocket checks a socket-session token (the session cookie) and
// returns its claims. Access and refresh tokens are refused.
func (s *Signer) VerifySocket(raw string) (Claims, error) {
	return s.verifyTyped(raw, typSocket)
}

// verifyTyped checks a token whose typ claim is exactly typ ("" = none)
// and that names a user and a role.
func (s *Signer) verifyTyped(raw, typ string) (Claims, error) {
	tok, err := s.parse(raw)
	if err != nil {
		return Claims{}, err
	}
	got, isString := stringClaim(tok, typClaim)
	if _, has := tok.Get(typClaim); has && (!isString || got != typ) || !has && typ != "" {
		return Claims{}, ErrInvalid
	}
	id, _ := stringClaim(tok, "id")
	email, _ := stringClaim(tok, "email")
	role, _ := stringClaim(tok, "role")
	if id == "" || role == "" {
		return Claims{}, ErrInvalid
	}
	return Claims{UserID: id, Email: email, Role: role, IssuedAt: tok.IssuedAt(), ExpiresAt: tok.Expiration()}, nil
}

// VerifyRefresh checks a refresh token and returns the user id it carries.
// Access tokens are refused: a refresh token has typ "refresh".
func (s *Signer) VerifyRefresh(raw string) (string, error) {
	tok, err := s.parse(raw)
	if err != nil {
		return "", err
	}
	if typ, _ := stringClaim(tok, typClaim); typ != typRefresh {
		return "", ErrInvalid
	}
	id, _ := stringClaim(tok, "id")
	if id == "" {
		return "", ErrInvalid
	}
	return id, nil
}

func stringClaim(tok jwt.Token, name string) (string, bool) {
	v, ok := tok.Get(name)
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}

// StripBearer removes an optional "Bearer " prefix (any case) and spaces.
func StripBearer(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 7 && strings.EqualFold(s[:7], "bearer ") {
		s = strings.TrimSpace(s[7:])
	}
	return s
}
