package api

import (
	"net/http"
	"net/url"
	"regexp"

	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/apperr"
	"github.com/friendspizzahut/platform/shared/auth"
)

// expoToken is what expo-server-sdk's Expo.isExpoPushToken accepts.
var expoToken = regexp.MustCompile(`^(?:(?:ExponentPushToken|ExpoPushToken)\[[^\]\s]+\]|(?i:[a-z\d]{8}-[a-z\d]{4}-[a-z\d]{4}-[a-z\d]{4}-[a-z\d]{12}))$`)

// maxDeviceToken bounds a push token (FCM tokens are about 160 characters).
const maxDeviceToken = 4096

// deviceTokenInput is POST /device-tokens. The app also sends userId and
// userRole; they are ignored, the owner is the authenticated user.
type deviceTokenInput struct {
	Token      *string              `json:"token"`
	DeviceType string               `json:"deviceType"`
	Platform   string               `json:"platform"`
	Metadata   store.DeviceMetadata `json:"metadata"`
}

// check applies the original's checks in its order, with its messages.
func (in *deviceTokenInput) check() error {
	if in.Token == nil || *in.Token == "" {
		return apperr.Invalidf("Device token is required")
	}
	if len(*in.Token) > maxDeviceToken {
		return apperr.Invalidf("Device token is too long")
	}
	switch in.DeviceType {
	case "android", "ios", "web":
	default:
		return apperr.Invalidf("Valid deviceType is required (android, ios, or web)")
	}
	if in.Platform == "" {
		in.Platform = "expo"
	}
	switch in.Platform {
	case "expo":
		if !expoToken.MatchString(*in.Token) {
			return apperr.Invalidf("Invalid Expo push token format")
		}
	case "fcm":
		if len(*in.Token) < 100 {
			return apperr.Invalidf("Invalid FCM push token format")
		}
	default:
		return apperr.Invalidf("Valid platform is required (expo or fcm)")
	}
	m := &in.Metadata
	if len(m.DeviceName) > 200 || len(m.OSVersion) > 100 || len(m.AppVersion) > 100 {
		return apperr.Invalidf("Device metadata is too long")
	}
	return nil
}

// handleRegisterDeviceToken: POST /device-tokens (any user). 201 {success,
// message, data: {id, isNew: true}} for a new token, 200 with isNew false
// when the token was known (it then belongs to the caller).
func handleRegisterDeviceToken(tokens *store.DeviceTokens) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[deviceTokenInput](r)
		if err != nil {
			return err
		}
		if err := in.check(); err != nil {
			return err
		}
		u := userFrom(r.Context())
		t, created, err := tokens.RegisterDeviceToken(r.Context(), store.DeviceToken{
			UserID: u.ID, UserRole: u.Role, Token: *in.Token, DeviceType: in.DeviceType,
			Platform: in.Platform, Metadata: in.Metadata,
		})
		if err != nil {
			return err
		}
		if created {
			respondNoCode(w, http.StatusCreated, "Device token registered successfully", map[string]any{"id": t.ID.Hex(), "isNew": true})
			return nil
		}
		respondNoCode(w, http.StatusOK, "Device token updated successfully", map[string]any{"id": t.ID.Hex(), "isNew": false})
		return nil
	}
}

// handleRemoveDeviceToken: DELETE /device-tokens/:token (the token's owner
// or an admin). The token is deactivated, not deleted. Someone else's token
// answers the same 404 as an unknown one, so tokens cannot be probed.
func handleRemoveDeviceToken(tokens *store.DeviceTokens) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		// The app sends encodeURIComponent(token): FCM tokens hold ":" and Expo
		// tokens "[" and "]", which chi hands over still escaped.
		raw, err := url.PathUnescape(urlParam(r, "token"))
		if err != nil || raw == "" {
			return apperr.Invalidf("Token parameter is required")
		}
		t, err := tokens.DeviceTokenByToken(r.Context(), raw)
		if err != nil {
			return err
		}
		u := userFrom(r.Context())
		if t.UserID != u.ID && u.Role != auth.RoleAdmin {
			return apperr.NotFoundf("Device token not found or already removed")
		}
		if err := tokens.DeactivateDeviceToken(r.Context(), t.ID); err != nil {
			return err
		}
		respondNoCode(w, http.StatusOK, "Device token removed successfully", nil)
		return nil
	}
}

// handleListDeviceTokens: GET /device-tokens (any user): the caller's active
// tokens without the token itself: {success, count, data}.
func handleListDeviceTokens(tokens *store.DeviceTokens) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		list, err := tokens.ActiveDeviceTokens(r.Context(), userFrom(r.Context()).ID)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "count": len(list), "data": list})
		return nil
	}
}
