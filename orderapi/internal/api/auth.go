package api

import (
	"errors"
	"net/http"
	"net/mail"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/crypto/bcrypt"

	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/apperr"
	"github.com/friendspizzahut/platform/shared/auth"
	"github.com/friendspizzahut/platform/shared/event"
)

// expiresIn is the token lifetime in seconds, added to the login, register
// and refresh responses so the app stops assuming 24 h (CONTRACT §6.14).
const expiresIn = int(auth.TokenTTL / 1e9)

// bcryptCost is the original's 10 rounds.
const bcryptCost = 10

var (
	phonePattern   = regexp.MustCompile(`^[0-9]{10}$`)
	vehiclePattern = regexp.MustCompile(`^[A-Z]{2}[0-9]{1,2}[A-Z]{1,3}[0-9]{4}$`)
)

type vehicleInput struct {
	Type   string `json:"type"`
	Number string `json:"number"`
	Model  string `json:"model"`
}

type documentImage struct {
	ImageURL string `json:"imageUrl"`
}

type documentsInput struct {
	DrivingLicense *documentImage `json:"drivingLicense"`
	AadharCard     *documentImage `json:"aadharCard"`
	VehicleRC      *documentImage `json:"vehicleRC"`
}

type registerRequest struct {
	Name         string          `json:"name"`
	Email        string          `json:"email"`
	Phone        string          `json:"phone"`
	Password     string          `json:"password"`
	Role         string          `json:"role"`
	ProfileImage string          `json:"profileImage"`
	Address      []addressInput  `json:"address"`
	VehicleInfo  *vehicleInput   `json:"vehicleInfo"`
	Documents    *documentsInput `json:"documents"`
}

func (q *registerRequest) valid(p *problems) {
	q.Name = strings.TrimSpace(q.Name)
	q.Email = store.NormalizeEmail(q.Email)
	q.Phone = strings.TrimSpace(q.Phone)
	if n := len([]rune(q.Name)); n < 2 || n > 50 {
		p.add("name", "Name must be between 2 and 50 characters", q.Name)
	}
	if !validEmail(q.Email) {
		p.add("email", "Please provide a valid email", q.Email)
	}
	if !phonePattern.MatchString(q.Phone) {
		p.add("phone", "Phone number must be exactly 10 digits", q.Phone)
	}
	checkPassword(p, "password", q.Password)
	if q.Role == "" {
		q.Role = auth.RoleCustomer
	}
	switch q.Role {
	case auth.RoleCustomer, auth.RoleDelivery, auth.RoleAdmin: // admin is refused by the handler with 403
	default:
		p.add("role", "Role must be customer or delivery", q.Role)
	}
	for i := range q.Address {
		q.Address[i].valid(p, "address")
	}
	if v := q.VehicleInfo; v != nil {
		checkVehicle(p, v)
	}
}

// checkPassword applies the original's rule: at least 6 characters with an
// upper-case letter, a lower-case letter and a digit (and at most 72 bytes,
// bcrypt's limit).
func checkPassword(p *problems, field, pw string) {
	var upper, lower, digit bool
	for _, r := range pw {
		upper = upper || unicode.IsUpper(r)
		lower = lower || unicode.IsLower(r)
		digit = digit || unicode.IsDigit(r)
	}
	switch {
	case len(pw) < 6:
		p.add(field, "Password must be at least 6 characters long", nil)
	case len(pw) > 72:
		p.add(field, "Password must be at most 72 characters long", nil)
	case !upper || !lower || !digit:
		p.add(field, "Password must contain at least one uppercase letter, one lowercase letter, and one number", nil)
	}
}

func validEmail(s string) bool {
	if len(s) > 254 {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && strings.Contains(s[strings.LastIndex(s, "@"):], ".")
}

// handleRegister: POST /auth/register. Customers get tokens at once;
// delivery agents wait for approval and get none. Nobody registers as
// admin here: admins come from the seed or from another admin.
func handleRegister(users *store.Users, sess sessions) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		req, err := decode[registerRequest](r)
		if err != nil {
			return err
		}
		if req.Role == auth.RoleAdmin {
			return apperr.Forbiddenf("Admin accounts cannot be self-registered. Ask an existing admin to create one.")
		}
		u, err := req.newUser()
		if err != nil {
			return err
		}
		if u.IsAgent() {
			u.IsActive = false // until an admin approves
			if d := req.Documents; d != nil {
				u.Documents = documentsDoc(d)
			}
		}
		if err := users.CreateUser(r.Context(), u); err != nil {
			return err
		}
		if u.IsAgent() {
			const msg = "Registration successful! Your account is pending admin approval."
			respond(w, http.StatusCreated, msg, map[string]any{
				"user": userView(u), "message": msg, "requiresApproval": true,
			})
			return nil
		}
		data, err := tokens(sess.signer, u)
		if err != nil {
			return err
		}
		if err := sess.setCookie(w, r, u); err != nil {
			return err
		}
		respond(w, http.StatusCreated, "User registered successfully", data)
		return nil
	}
}

// newUser is the active user q describes, its password hashed. An agent
// starts offline, unrated, with the vehicle q gives (or an empty one).
func (q *registerRequest) newUser() (*store.User, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(q.Password), bcryptCost)
	if err != nil {
		return nil, err
	}
	u := &store.User{
		Name: q.Name, Email: q.Email, Phone: q.Phone, Password: string(hash), Role: q.Role,
		IsActive: true, Address: []store.Address{},
	}
	if q.ProfileImage != "" {
		img := q.ProfileImage
		u.ProfileImage = &img
	}
	for _, a := range q.Address {
		u.Address = append(u.Address, a.toStore())
	}
	if u.IsAgent() {
		u.Status = &store.AgentStatus{State: store.AgentOffline}
		u.Rating = &event.Rating{}
		u.VehicleInfo = &event.VehicleInfo{}
		if v := q.VehicleInfo; v != nil {
			u.VehicleInfo = &event.VehicleInfo{Type: v.Type, Number: v.Number, Model: v.Model}
		}
	}
	return u, nil
}

func documentsDoc(d *documentsInput) map[string]any {
	out := map[string]any{}
	add := func(name string, img *documentImage) {
		if img != nil && img.ImageURL != "" {
			out[name] = map[string]any{"imageUrl": img.ImageURL, "verified": false}
		}
	}
	add("drivingLicense", d.DrivingLicense)
	add("aadharCard", d.AadharCard)
	add("vehicleRC", d.VehicleRC)
	return out
}

// tokens is the data of a successful login or register.
func tokens(signer *auth.Signer, u *store.User) (map[string]any, error) {
	access, err := signer.IssueAccess(u.ID.Hex(), u.Email, u.Role)
	if err != nil {
		return nil, err
	}
	refresh, err := signer.IssueRefresh(u.ID.Hex())
	if err != nil {
		return nil, err
	}
	return map[string]any{"user": userView(u), "accessToken": access, "refreshToken": refresh, "expiresIn": expiresIn}, nil
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (q *loginRequest) valid(p *problems) {
	q.Email = store.NormalizeEmail(q.Email)
	if q.Email == "" {
		p.add("email", "Email is required", nil)
	} else if !validEmail(q.Email) {
		p.add("email", "Please provide a valid email", q.Email)
	}
	if q.Password == "" {
		p.add("password", "Password is required", nil)
	}
}

var errBadCredentials = apperr.Unauthorizedf("Invalid email or password")

// handleLogin: POST /auth/login.
func handleLogin(users *store.Users, sess sessions) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		req, err := decode[loginRequest](r)
		if err != nil {
			return err
		}
		u, err := users.UserByEmail(r.Context(), req.Email)
		if apperr.KindOf(err) == apperr.NotFound {
			return errBadCredentials
		}
		if err != nil {
			return err
		}
		if !passwordMatches(u.Password, req.Password) {
			return errBadCredentials
		}
		if err := canLogIn(u); err != nil {
			return err
		}
		data, err := tokens(sess.signer, u)
		if err != nil {
			return err
		}
		if err := sess.setCookie(w, r, u); err != nil {
			return err
		}
		respond(w, http.StatusOK, "Login successful", data)
		return nil
	}
}

// passwordMatches compares with the stored bcrypt hash. Users migrated from
// the original had their password HTML-escaped before hashing (CONTRACT
// §3.1), so the escaped form is tried too when it differs.
func passwordMatches(hash, pw string) bool {
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil {
		return true
	}
	if esc := escapeLikeValidator(pw); esc != pw {
		return bcrypt.CompareHashAndPassword([]byte(hash), []byte(esc)) == nil
	}
	return false
}

// escapeLikeValidator is validator.js's escape(), which the original ran
// on every body string, passwords included, before hashing.
var escapeLikeValidator = strings.NewReplacer(
	"&", "&amp;", `"`, "&quot;", "'", "&#x27;", "<", "&lt;", ">", "&gt;",
	"/", "&#x2F;", `\`, "&#x5C;", "`", "&#96;",
).Replace

// canLogIn applies the login rules: agents must be approved, not rejected
// and active (403 with a readable message); others must be active.
func canLogIn(u *store.User) error {
	if u.IsAgent() {
		switch {
		case u.IsRejected:
			msg := "Your delivery partner application has been rejected."
			if u.RejectionReason != nil && *u.RejectionReason != "" {
				msg += " Reason: " + *u.RejectionReason
			}
			return apperr.Forbiddenf("%s", msg)
		case !u.IsApproved:
			return apperr.Forbiddenf("Your account is pending admin approval. You will be able to log in once an admin approves it.")
		case !u.IsActive:
			return apperr.Forbiddenf("Your account has been deactivated. Please contact support.")
		}
		return nil
	}
	if !u.IsActive {
		return apperr.Forbiddenf("Your account has been deactivated. Please contact support.")
	}
	return nil
}

type refreshRequest struct {
	RefreshToken string `json:"refreshToken"`
}

// handleRefresh: POST /auth/refresh. Only refresh tokens are accepted.
// data carries {accessToken, expiresIn}; the top level also carries
// token and expiresIn, which the app's cold-start path reads (CONTRACT §6.14).
func handleRefresh(users *store.Users, sess sessions) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		req, err := decode[refreshRequest](r)
		if err != nil {
			return err
		}
		if strings.TrimSpace(req.RefreshToken) == "" {
			return apperr.Invalidf("Refresh token is required")
		}
		id, err := sess.signer.VerifyRefresh(req.RefreshToken)
		if err != nil {
			return apperr.Unauthorizedf("Invalid or expired refresh token")
		}
		oid, err := store.ParseID(id)
		if err != nil {
			return apperr.Unauthorizedf("Invalid or expired refresh token")
		}
		u, err := users.UserByID(r.Context(), oid)
		if err != nil {
			return err
		}
		if err := canLogIn(u); err != nil {
			return err
		}
		access, err := sess.signer.IssueAccess(u.ID.Hex(), u.Email, u.Role)
		if err != nil {
			return err
		}
		if err := sess.setCookie(w, r, u); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"success": true, "statusCode": http.StatusOK, "message": "Token refreshed successfully",
			"data":  map[string]any{"accessToken": access, "expiresIn": expiresIn},
			"token": access, "expiresIn": expiresIn,
		})
		return nil
	}
}

// handleLogout: POST /auth/logout. Tokens are stateless, so there is
// nothing to revoke; the session cookie is cleared (the app's next socket
// carries no proof), an agent is taken offline (which publishes
// delivery.agent_status_changed, so the admin's board is right), and, as
// the original's logoutUser, every device token of the user is
// deactivated so a signed-out phone gets no more pushes (a failure there is
// logged and does not fail the logout).
func handleLogout(users *store.Users, tokens *store.DeviceTokens, sess sessions) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		sess.clearCookie(w, r)
		var deactivated int64
		if u := userFrom(r.Context()); u != nil {
			n, err := tokens.DeactivateUserDeviceTokens(r.Context(), u.ID)
			if err != nil && !errors.Is(err, r.Context().Err()) {
				loggerFrom(r.Context()).Warn("logout: device tokens not deactivated", "user_id", u.ID.Hex(), "err", err)
			}
			deactivated = n
			if u.IsAgent() {
				_, err := users.SetAgentState(r.Context(), u.ID, false, store.AgentOffline)
				if err != nil && !errors.Is(err, r.Context().Err()) {
					return err
				}
			}
		}
		respond(w, http.StatusOK, "Logout successful", map[string]any{
			"message": "Logged out successfully", "success": true, "tokensDeactivated": deactivated,
		})
		return nil
	}
}
