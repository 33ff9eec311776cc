package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

const secret = "test-secret-0123456789"

func fixedNow(t time.Time) func() time.Time { return func() time.Time { return t } }

func TestAccessTokenMatchesTheOriginal(t *testing.T) {
	now := time.Unix(1_790_000_000, 0)
	s := NewSigner(secret, fixedNow(now))
	raw, err := s.IssueAccess("6745a1b2c3d4e5f6a7b8c9d0", "a@b.test", RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	header, claims := decodeParts(t, raw)
	if header["alg"] != "HS256" {
		t.Errorf("got alg %v, want HS256", header["alg"])
	}
	if claims["id"] != "6745a1b2c3d4e5f6a7b8c9d0" || claims["email"] != "a@b.test" || claims["role"] != "admin" {
		t.Errorf("got claims %v, want id, email, role", claims)
	}
	if exp, iat := claims["exp"].(float64), claims["iat"].(float64); exp-iat != 604800 {
		t.Errorf("got exp-iat %v, want 604800", exp-iat)
	}
	c, err := s.VerifyAccess("Bearer " + raw)
	if err != nil {
		t.Fatalf("VerifyAccess: %v", err)
	}
	if c.UserID != "6745a1b2c3d4e5f6a7b8c9d0" || c.Role != RoleAdmin || c.Email != "a@b.test" {
		t.Errorf("got %+v", c)
	}
}

func TestVerifyAccessRefuses(t *testing.T) {
	now := time.Unix(1_790_000_000, 0)
	s := NewSigner(secret, fixedNow(now))
	refresh, _ := s.IssueRefresh("u1")
	expired, _ := NewSigner(secret, fixedNow(now.Add(-8*24*time.Hour))).IssueAccess("u1", "e", RoleCustomer)
	otherKey, _ := NewSigner("another-secret", fixedNow(now)).IssueAccess("u1", "e", RoleCustomer)
	good, _ := s.IssueAccess("u1", "e", RoleCustomer)
	hs384 := signWith(t, jwa.HS384, map[string]any{"id": "u1", "email": "e", "role": "admin"}, now)
	noExp := signWith(t, jwa.HS256, map[string]any{"id": "u1", "email": "e", "role": "admin", "noexp": true}, now)
	// The original's refresh token: only id, no typ. Must not pass as access.
	legacyRefresh := signWith(t, jwa.HS256, map[string]any{"id": "u1"}, now)
	socket, _ := s.IssueSocket("u1", RoleCustomer)
	oddTyp := signWith(t, jwa.HS256, map[string]any{"id": "u1", "email": "e", "role": "admin", "typ": 7}, now)

	cases := []struct {
		name string
		raw  string
		want error
	}{
		{"refresh token", refresh, ErrInvalid},
		{"legacy refresh token", legacyRefresh, ErrInvalid},
		{"socket-session token", socket, ErrInvalid},
		{"typ not a string", oddTyp, ErrInvalid},
		{"expired", expired, ErrExpired},
		{"bad signature", otherKey, ErrInvalid},
		{"alg none", algNone(good), ErrInvalid},
		{"HS384", hs384, ErrInvalid},
		{"no expiry", noExp, ErrInvalid},
		{"garbage", "not.a.token", ErrInvalid},
		{"empty", "", ErrInvalid},
		{"bearer only", "Bearer ", ErrInvalid},
		{"huge", strings.Repeat("a", 10000), ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := s.VerifyAccess(c.raw); !errors.Is(err, c.want) {
				t.Errorf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestVerifyRefresh(t *testing.T) {
	s := NewSigner(secret, nil)
	refresh, _ := s.IssueRefresh("u1")
	access, _ := s.IssueAccess("u1", "e", RoleCustomer)
	if id, err := s.VerifyRefresh(refresh); err != nil || id != "u1" {
		t.Errorf("got %q, %v; want u1", id, err)
	}
	if _, err := s.VerifyRefresh(access); !errors.Is(err, ErrInvalid) {
		t.Errorf("access token accepted as refresh token: %v", err)
	}
}

// TestSocketToken: the session cookie's token verifies only as itself, and
// no other token passes for it.
func TestSocketToken(t *testing.T) {
	now := time.Unix(1_790_000_000, 0)
	s := NewSigner(secret, fixedNow(now))
	raw, err := s.IssueSocket("u1", RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.VerifySocket(raw)
	if err != nil || c.UserID != "u1" || c.Role != RoleAdmin || c.ExpiresAt.Sub(c.IssuedAt) != TokenTTL {
		t.Fatalf("got %+v, %v; want u1 admin living TokenTTL", c, err)
	}
	if _, err := s.VerifyRefresh(raw); !errors.Is(err, ErrInvalid) {
		t.Errorf("socket token accepted as refresh token: %v", err)
	}
	access, _ := s.IssueAccess("u1", "e", RoleAdmin)
	refresh, _ := s.IssueRefresh("u1")
	expired, _ := NewSigner(secret, fixedNow(now.Add(-8*24*time.Hour))).IssueSocket("u1", RoleAdmin)
	forged, _ := NewSigner("another-secret", fixedNow(now)).IssueSocket("u1", RoleAdmin)
	noRole := signWith(t, jwa.HS256, map[string]any{"id": "u1", "typ": "socket"}, now)
	for name, c := range map[string]struct {
		raw  string
		want error
	}{
		"access token":  {access, ErrInvalid},
		"refresh token": {refresh, ErrInvalid},
		"expired":       {expired, ErrExpired},
		"forged":        {forged, ErrInvalid},
		"no role":       {noRole, ErrInvalid},
		"alg none":      {algNone(raw), ErrInvalid},
	} {
		if _, err := s.VerifySocket(c.raw); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", name, err, c.want)
		}
	}
}

func TestStripBearer(t *testing.T) {
	for in, want := range map[string]string{"Bearer abc": "abc", "bearer  abc ": "abc", "abc": "abc", " BEARER x": "x", "": ""} {
		if got := StripBearer(in); got != want {
			t.Errorf("StripBearer(%q) = %q, want %q", in, got, want)
		}
	}
}

func signWith(t *testing.T, alg jwa.SignatureAlgorithm, claims map[string]any, now time.Time) string {
	t.Helper()
	b := jwt.NewBuilder().IssuedAt(now)
	if claims["noexp"] == nil {
		b = b.Expiration(now.Add(time.Hour))
	}
	for k, v := range claims {
		if k != "noexp" {
			b = b.Claim(k, v)
		}
	}
	tok, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	out, err := jwt.Sign(tok, jwt.WithKey(alg, []byte(secret)))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// algNone rewrites a token's header to alg "none" and drops the signature.
func algNone(raw string) string {
	parts := strings.Split(raw, ".")
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	return h + "." + parts[1] + "."
}

func decodeParts(t *testing.T, raw string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, claims
}
