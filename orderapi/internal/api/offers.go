package api

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/friendspizzahut/platform/orderapi/internal/order"
	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/apperr"
)

// Offers (CONTRACT §3.3 "Offers"): public active list, customer code
// validation, admin CRUD and stats. The original's envelopes are kept:
// {success, count, data} for lists, top-level result fields for validate,
// and validation errors as 400 {success:false, message} (Joi's first
// problem; errors[] is added with all of them).

var offerCodePattern = regexp.MustCompile(`^[A-Z0-9]{3,20}$`)

// Defaults of an offer's looks when the admin leaves them out.
var defaultGradient = []string{"#FF6B6B", "#FF8E53"}

const defaultBgColor = "#FF6B6B"

// offerInput is the body of POST and PATCH /offers/admin. Every field is
// optional in a PATCH; POST requires title, code, discountType,
// discountValue and validUntil. Dates are ISO-8601 (date or date-time).
type offerInput struct {
	Title          *string   `json:"title"`
	Description    *string   `json:"description"`
	Code           *string   `json:"code"`
	Badge          *string   `json:"badge"`
	DiscountType   *string   `json:"discountType"`
	DiscountValue  *float64  `json:"discountValue"`
	MaxDiscount    *float64  `json:"maxDiscount"`
	MinOrderValue  *float64  `json:"minOrderValue"`
	IsActive       *bool     `json:"isActive"`
	ValidFrom      *string   `json:"validFrom"`
	ValidUntil     *string   `json:"validUntil"`
	UsageLimit     *int      `json:"usageLimit"`
	GradientColors *[]string `json:"gradientColors"`
	BgColor        *string   `json:"bgColor"`

	creating bool
	from     *time.Time
	until    *time.Time
}

// parseDate accepts an RFC 3339 date-time or a plain date (UTC midnight).
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Truncate(time.Millisecond), true
		}
	}
	return time.Time{}, false
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func (q *offerInput) valid(p *problems) {
	need := func(field string, present bool) {
		if q.creating && !present {
			p.add(field, `"`+field+`" is required`, nil)
		}
	}
	need("title", q.Title != nil && strings.TrimSpace(*q.Title) != "")
	need("code", q.Code != nil)
	need("discountType", q.DiscountType != nil)
	need("discountValue", q.DiscountValue != nil)
	need("validUntil", q.ValidUntil != nil)
	if q.Title != nil {
		*q.Title = strings.TrimSpace(*q.Title)
		if len(*q.Title) > 100 {
			p.add("title", `"title" must be at most 100 characters`, nil)
		}
	}
	if q.Description != nil && len(*q.Description) > 500 {
		p.add("description", `"description" must be at most 500 characters`, nil)
	}
	if q.Code != nil {
		*q.Code = store.NormalizeCode(*q.Code)
		if !offerCodePattern.MatchString(*q.Code) {
			p.add("code", `"code" must be 3-20 letters or digits`, *q.Code)
		}
	}
	if q.Badge != nil && len(*q.Badge) > 30 {
		p.add("badge", `"badge" must be at most 30 characters`, nil)
	}
	if q.DiscountType != nil && *q.DiscountType != store.DiscountPercentage && *q.DiscountType != store.DiscountFixed {
		p.add("discountType", `"discountType" must be one of [percentage, fixed]`, *q.DiscountType)
	}
	if v := q.DiscountValue; v != nil {
		if !finite(*v) || *v <= 0 {
			p.add("discountValue", `"discountValue" must be greater than 0`, *v)
		} else if q.DiscountType != nil && *q.DiscountType == store.DiscountPercentage && *v > 100 {
			p.add("discountValue", `"discountValue" must be at most 100 for a percentage offer`, *v)
		}
	}
	if v := q.MaxDiscount; v != nil && (!finite(*v) || *v < 0) {
		p.add("maxDiscount", `"maxDiscount" must be 0 or more`, *v)
	}
	if v := q.MinOrderValue; v != nil && (!finite(*v) || *v < 0) {
		p.add("minOrderValue", `"minOrderValue" must be 0 or more`, *v)
	}
	if q.ValidFrom != nil {
		if t, ok := parseDate(*q.ValidFrom); ok {
			q.from = &t
		} else {
			p.add("validFrom", `"validFrom" must be a valid date`, *q.ValidFrom)
		}
	}
	if q.ValidUntil != nil {
		if t, ok := parseDate(*q.ValidUntil); ok {
			q.until = &t
		} else {
			p.add("validUntil", `"validUntil" must be a valid date`, *q.ValidUntil)
		}
	}
	if q.UsageLimit != nil && *q.UsageLimit < 1 {
		p.add("usageLimit", `"usageLimit" must be at least 1 (or null for unlimited)`, *q.UsageLimit)
	}
	if g := q.GradientColors; g != nil && len(*g) != 2 {
		p.add("gradientColors", `"gradientColors" must contain exactly 2 colors`, nil)
	}
	if q.BgColor != nil && len(*q.BgColor) > 30 {
		p.add("bgColor", `"bgColor" must be at most 30 characters`, nil)
	}
}

// apply sets the present fields on o and checks the rules that span
// fields against the result.
func (q *offerInput) apply(o *store.Offer) error {
	if q.Title != nil {
		o.Title = *q.Title
	}
	if q.Description != nil {
		o.Description = strings.TrimSpace(*q.Description)
	}
	if q.Code != nil {
		o.Code = *q.Code
	}
	if q.Badge != nil {
		o.Badge = strings.TrimSpace(*q.Badge)
	}
	if q.DiscountType != nil {
		o.DiscountType = *q.DiscountType
	}
	if q.DiscountValue != nil {
		o.DiscountValue = *q.DiscountValue
	}
	if q.MaxDiscount != nil {
		v := *q.MaxDiscount
		o.MaxDiscount = &v
	}
	if q.MinOrderValue != nil {
		o.MinOrderValue = *q.MinOrderValue
	}
	if q.IsActive != nil {
		o.IsActive = *q.IsActive
	}
	if q.from != nil {
		o.ValidFrom = *q.from
	}
	if q.until != nil {
		o.ValidUntil = *q.until
	}
	if q.UsageLimit != nil {
		v := *q.UsageLimit
		o.UsageLimit = &v
	}
	if q.GradientColors != nil {
		o.GradientColors = append([]string(nil), (*q.GradientColors)...)
	}
	if q.BgColor != nil {
		o.BgColor = strings.TrimSpace(*q.BgColor)
	}
	if o.DiscountType == store.DiscountPercentage && o.DiscountValue > 100 {
		return joiError("discountValue", `"discountValue" must be at most 100 for a percentage offer`)
	}
	if o.DiscountType == store.DiscountFixed {
		o.MaxDiscount = nil // a cap means nothing on a fixed discount
	}
	if !o.ValidUntil.After(o.ValidFrom) {
		return joiError("validUntil", `"validUntil" must be after "validFrom"`)
	}
	return nil
}

// joiError is a 400 whose message is the (first) problem, like Joi's.
func joiError(field, msg string) error {
	return &apperr.Error{Kind: apperr.Invalid, Message: msg, Fields: []apperr.FieldError{{Field: field, Message: msg}}}
}

// decodeOffer decodes an offer body; validation problems come back as a
// Joi-style 400 (message = the first problem).
func decodeOffer(r *http.Request, creating bool) (offerInput, error) {
	var in offerInput
	raw, err := decode[json.RawMessage](r)
	if err != nil {
		return in, err
	}
	in.creating = creating
	if err := json.Unmarshal(raw, &in); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return in, joiError(typeErr.Field, `"`+typeErr.Field+`" must be `+jsonKind(typeErr.Type))
		}
		return in, apperr.Invalidf("Request body must be a JSON object")
	}
	var p problems
	in.valid(&p)
	if len(p) > 0 {
		return in, &apperr.Error{Kind: apperr.Invalid, Message: p[0].Message, Fields: p}
	}
	return in, nil
}

func offerView(o *store.Offer, now time.Time) map[string]any {
	var createdBy any
	if o.CreatedBy != nil {
		createdBy = o.CreatedBy.Hex()
	}
	gradient := o.GradientColors
	if len(gradient) != 2 {
		gradient = defaultGradient
	}
	return map[string]any{
		"_id": o.ID.Hex(), "id": o.ID.Hex(), "title": o.Title, "description": o.Description, "code": o.Code,
		"badge": o.Badge, "discountType": o.DiscountType, "discountValue": o.DiscountValue,
		"maxDiscount": o.MaxDiscount, "minOrderValue": o.MinOrderValue, "isActive": o.IsActive,
		"validFrom": jsTime(o.ValidFrom), "validUntil": jsTime(o.ValidUntil),
		"usageLimit": o.UsageLimit, "usageCount": o.UsageCount, "gradientColors": gradient,
		"bgColor": o.BgColor, "createdBy": createdBy, "isValid": o.IsUsable(now), "isExpired": o.IsExpired(now),
		"createdAt": jsTime(o.CreatedAt), "updatedAt": jsTime(o.UpdatedAt),
	}
}

func offerViews(os []*store.Offer, now time.Time) []map[string]any {
	out := make([]map[string]any, 0, len(os))
	for _, o := range os {
		out = append(out, offerView(o, now))
	}
	return out
}

// handleActiveOffers: GET /offers/active (P) → {success, count, data}.
func handleActiveOffers(offers *store.Offers, now func() time.Time) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		t := now()
		os, err := offers.ActiveOffers(r.Context(), t)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "count": len(os), "data": offerViews(os, t)})
		return nil
	}
}

type validateOfferRequest struct {
	Code      string   `json:"code"`
	CartValue *float64 `json:"cartValue"`
}

// handleValidateOffer: POST /offers/validate {code, cartValue} (C) → 200
// top-level {success, offer, discount, finalAmount, message}; a code that
// does not apply → 400 {success:false, message}.
func handleValidateOffer(offers *store.Offers, now func() time.Time) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		req, err := decode[validateOfferRequest](r)
		if err != nil {
			return err
		}
		switch {
		case strings.TrimSpace(req.Code) == "":
			return joiError("code", `"code" is required`)
		case req.CartValue == nil:
			return joiError("cartValue", `"cartValue" is required`)
		case !finite(*req.CartValue) || *req.CartValue < 0:
			return joiError("cartValue", `"cartValue" must be 0 or more`)
		}
		o, err := offers.OfferByCode(r.Context(), req.Code)
		if err != nil {
			return err
		}
		discount, err := o.Discount(*req.CartValue, now())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"success": true,
			"offer": map[string]any{"id": o.ID.Hex(), "code": o.Code, "title": o.Title,
				"discountType": o.DiscountType, "discountValue": o.DiscountValue},
			"discount": discount, "finalAmount": order.Round2(*req.CartValue - discount),
			"message": "Offer applied successfully! You save ₹" + strconv.FormatFloat(discount, 'f', -1, 64),
		})
		return nil
	}
}

// handleListOffers: GET /offers/admin?isActive&discountType&search (A) →
// {success, count, data}.
func handleListOffers(offers *store.Offers, now func() time.Time) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := newQuery(r)
		f := store.OfferFilter{
			IsActive:     q.boolPtr("isActive"),
			DiscountType: q.oneOf("discountType", store.DiscountPercentage, store.DiscountFixed),
			Search:       q.str("search"),
		}
		if len(f.Search) > 50 {
			q.p.add("search", "search must be at most 50 characters", nil)
		}
		if err := q.err(); err != nil {
			return err
		}
		os, err := offers.ListOffers(r.Context(), f)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "count": len(os), "data": offerViews(os, now())})
		return nil
	}
}

// handleGetOffer: GET /offers/admin/:id (A).
func handleGetOffer(offers *store.Offers, now func() time.Time) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		o, err := offers.OfferByID(r.Context(), id)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "data": offerView(o, now())})
		return nil
	}
}

// handleCreateOffer: POST /offers/admin (A) → 201; stores offer.created
// with the offer (offer:new to customers).
func handleCreateOffer(offers *store.Offers, now func() time.Time) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		in, err := decodeOffer(r, true)
		if err != nil {
			return err
		}
		me := userFrom(r.Context()).ID
		t := now().UTC().Truncate(time.Millisecond)
		o := &store.Offer{IsActive: true, ValidFrom: t, GradientColors: defaultGradient, BgColor: defaultBgColor, CreatedBy: &me}
		if err := in.apply(o); err != nil {
			return err
		}
		if err := offers.CreateOffer(r.Context(), o); err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, map[string]any{"success": true, "message": "Offer created successfully", "data": offerView(o, now())})
		return nil
	}
}

// handleUpdateOffer: PATCH /offers/admin/:id (A).
func handleUpdateOffer(offers *store.Offers, now func() time.Time) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		in, err := decodeOffer(r, false)
		if err != nil {
			return err
		}
		o, err := offers.UpdateOffer(r.Context(), id, in.apply)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "Offer updated successfully", "data": offerView(o, now())})
		return nil
	}
}

// handleToggleOffer: PATCH /offers/admin/:id/toggle (A) flips isActive.
func handleToggleOffer(offers *store.Offers, now func() time.Time) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		o, err := offers.UpdateOffer(r.Context(), id, func(o *store.Offer) error {
			o.IsActive = !o.IsActive
			return nil
		})
		if err != nil {
			return err
		}
		word := "deactivated"
		if o.IsActive {
			word = "activated"
		}
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "Offer " + word + " successfully", "data": offerView(o, now())})
		return nil
	}
}

// handleDeleteOffer: DELETE /offers/admin/:id (A).
func handleDeleteOffer(offers *store.Offers) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if err := offers.DeleteOffer(r.Context(), id); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "Offer deleted successfully"})
		return nil
	}
}

// handleOfferStats: GET /offers/admin/stats (A).
func handleOfferStats(offers *store.Offers, now func() time.Time) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		os, err := offers.ListOffers(r.Context(), store.OfferFilter{})
		if err != nil {
			return err
		}
		t := now()
		var active, inactive, expired, usable, usage int
		for _, o := range os {
			if o.IsActive {
				active++
			} else {
				inactive++
			}
			if o.IsExpired(t) {
				expired++
			}
			if o.IsUsable(t) {
				usable++
			}
			usage += o.UsageCount
		}
		top := append([]*store.Offer(nil), os...)
		sort.SliceStable(top, func(i, j int) bool { return top[i].UsageCount > top[j].UsageCount })
		if len(top) > 5 {
			top = top[:5]
		}
		mostUsed := make([]map[string]any, 0, len(top))
		for _, o := range top {
			mostUsed = append(mostUsed, map[string]any{"_id": o.ID.Hex(), "code": o.Code, "title": o.Title, "usageCount": o.UsageCount})
		}
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "data": map[string]any{
			"totalOffers": len(os), "activeOffers": active, "inactiveOffers": inactive,
			"expiredOffers": expired, "validOffers": usable, "totalUsage": usage, "mostUsed": mostUsed,
		}})
		return nil
	}
}
