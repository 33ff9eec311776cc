package api_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/friendspizzahut/platform/shared/auth"
)

// fcmToken is a plausible FCM registration token (≥100 characters).
func fcmToken(tag string) string {
	return "fcm" + tag + ":APA91b" + strings.Repeat("x9Z_-", 30)
}

// TestDeviceTokens checks POST/GET/DELETE /device-tokens against the
// original's shapes and messages, idempotent registration, owner-or-admin
// removal and the logout cleanup.
func TestDeviceTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, cTok := e.mustUser(auth.RoleCustomer)
	_, otherTok := e.mustUser(auth.RoleCustomer)
	_, adminTok := e.mustUser(auth.RoleAdmin)
	tok := fcmToken("a")

	e.do("POST", "/api/v1/device-tokens", "", map[string]any{"token": tok, "deviceType": "android"}).want(t, 401)
	for _, c := range []struct {
		name string
		body any
		msg  string
	}{
		{"no token", map[string]any{"deviceType": "android"}, "Device token is required"},
		{"token not a string", map[string]any{"token": 12, "deviceType": "android"}, "Validation failed"},
		{"bad device type", map[string]any{"token": tok, "deviceType": "fridge", "platform": "fcm"}, "Valid deviceType is required (android, ios, or web)"},
		{"expo by default, bad format", map[string]any{"token": tok, "deviceType": "ios"}, "Invalid Expo push token format"},
		{"short fcm token", map[string]any{"token": "abc", "deviceType": "android", "platform": "fcm"}, "Invalid FCM push token format"},
		{"unknown platform", map[string]any{"token": tok, "deviceType": "android", "platform": "apns"}, "Valid platform is required"},
		{"not JSON", "{", "Invalid JSON"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.do("POST", "/api/v1/device-tokens", cTok, c.body).want(t, 400).wantMessage(t, c.msg)
		})
	}

	// The app's exact body: userId and userRole are ignored, the owner is the caller.
	appBody := map[string]any{"token": tok, "userId": "000000000000000000000000", "userRole": "admin", "deviceType": "android", "platform": "fcm"}
	r := e.do("POST", "/api/v1/device-tokens", cTok, appBody).want(t, 201)
	if r.body["success"] != true || r.body["message"] != "Device token registered successfully" || r.data()["isNew"] != true || str(r.data(), "id") == "" {
		t.Fatalf("register: got %s", r)
	}
	id := str(r.data(), "id")
	r = e.do("POST", "/api/v1/device-tokens", cTok, appBody).want(t, 200)
	if r.data()["isNew"] != false || str(r.data(), "id") != id || r.body["message"] != "Device token updated successfully" {
		t.Fatalf("register again: got %s, want the same id with isNew false", r)
	}
	e.do("POST", "/api/v1/device-tokens", cTok, map[string]any{"token": "ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]", "deviceType": "ios"}).want(t, 201)

	l := e.do("GET", "/api/v1/device-tokens", cTok, nil).want(t, 200)
	if num(l.body, "count") != 2 || strings.Contains(string(l.raw), tok) {
		t.Fatalf("list: got %s, want 2 tokens and never the token itself", l)
	}
	first := l.body["data"].([]any)[1].(map[string]any)
	if first["userId"] != c.ID.Hex() || first["userRole"] != "customer" || first["platform"] != "fcm" || first["isActive"] != true {
		t.Errorf("stored token: got %v, want the caller as owner", first)
	}

	// Only the owner or an admin removes a token; others cannot tell it exists.
	path := "/api/v1/device-tokens/" + url.PathEscape(tok)
	e.do("DELETE", path, otherTok, nil).want(t, 404).wantMessage(t, "Device token not found or already removed")
	e.do("DELETE", "/api/v1/device-tokens/"+url.PathEscape(fcmToken("unknown")), cTok, nil).want(t, 404)
	r = e.do("DELETE", path, adminTok, nil).want(t, 200)
	if r.body["message"] != "Device token removed successfully" {
		t.Errorf("admin removal: got %s", r)
	}
	e.do("DELETE", path, cTok, nil).want(t, 200) // removing again is harmless
	// The app's logout sends encodeURIComponent(token): ":" of FCM, "[" and "]" of Expo escaped.
	expo := "ExponentPushToken[yyyyyyyyyyyyyyyyyyyyyy]"
	e.do("POST", "/api/v1/device-tokens", cTok, map[string]any{"token": expo, "deviceType": "android"}).want(t, 201)
	e.do("DELETE", "/api/v1/device-tokens/"+encodeURIComponent(expo), cTok, nil).want(t, 200)
	e.do("DELETE", "/api/v1/device-tokens/"+encodeURIComponent(tok), cTok, nil).want(t, 200)
	if l := e.do("GET", "/api/v1/device-tokens", cTok, nil).want(t, 200); num(l.body, "count") != 1 {
		t.Errorf("after removal: got %s, want 1 active token", l)
	}

	// The same install signed in as another user: the token moves to them.
	e.do("POST", "/api/v1/device-tokens", otherTok, appBody).want(t, 200)
	if l := e.do("GET", "/api/v1/device-tokens", otherTok, nil).want(t, 200); num(l.body, "count") != 1 {
		t.Errorf("new owner: got %s, want 1", l)
	}
	e.do("DELETE", path, cTok, nil).want(t, 404) // no longer the customer's

	// Logout deactivates all the caller's tokens, as the original did, and
	// says how many.
	e.do("POST", "/api/v1/device-tokens", cTok, map[string]any{"token": "ExponentPushToken[second]", "deviceType": "ios", "platform": "expo"}).want(t, 201)
	active := num(e.do("GET", "/api/v1/device-tokens", cTok, nil).want(t, 200).body, "count")
	if active != 2 {
		t.Fatalf("before logout: %v active tokens, want 2", active)
	}
	if out := e.do("POST", "/api/v1/auth/logout", cTok, map[string]any{}).want(t, 200); num(out.data(), "tokensDeactivated") != active {
		t.Errorf("logout: got %s, want tokensDeactivated %v", out, active)
	}
	if l := e.do("GET", "/api/v1/device-tokens", cTok, nil).want(t, 200); num(l.body, "count") != 0 {
		t.Errorf("after logout: got %s, want no active token", l)
	}
	if l := e.do("GET", "/api/v1/device-tokens", otherTok, nil).want(t, 200); num(l.body, "count") != 1 {
		t.Errorf("someone else's logout: got %s, want the other user's token kept", l)
	}
}

// encodeURIComponent escapes like JavaScript's (what the app's logout uses).
func encodeURIComponent(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}
