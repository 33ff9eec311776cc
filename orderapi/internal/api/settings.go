package api

import (
	"math"
	"net/http"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/apperr"
	"github.com/friendspizzahut/platform/shared/auth"
)

func settingsView(rs *store.RestaurantSettings) map[string]any {
	tops := make([]map[string]any, 0, len(rs.AvailableToppings))
	for _, t := range rs.AvailableToppings {
		tops = append(tops, map[string]any{"_id": t.ID.Hex(), "name": t.Name, "category": t.Category, "price": t.Price, "isActive": t.IsActive})
	}
	var by any
	if rs.LastUpdatedBy != nil {
		by = rs.LastUpdatedBy.Hex()
	}
	var id any
	if !rs.ID.IsZero() {
		id = rs.ID.Hex()
	}
	return map[string]any{
		"_id": id, "name": rs.Name, "phone": rs.Phone, "email": rs.Email, "address": rs.Address,
		"minOrderAmount": rs.MinOrderAmount, "taxRate": rs.TaxRate, "deliveryFee": rs.DeliveryFee,
		"freeDeliveryThreshold": rs.FreeDeliveryThreshold, "availableToppings": tops,
		"lastUpdatedBy": by, "createdAt": jsTimeOrNil(rs.CreatedAt), "updatedAt": jsTimeOrNil(rs.UpdatedAt),
	}
}

func jsTimeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return jsTime(t)
}

// handlePublicSettings: GET /restaurant-settings/public → {success,
// message, data: {minOrderAmount, taxRate, deliveryFee,
// freeDeliveryThreshold}} (no statusCode, like the original).
func handlePublicSettings(settings *store.Settings) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rs, err := settings.Get(r.Context())
		if err != nil {
			return err
		}
		respondNoCode(w, http.StatusOK, "Restaurant settings retrieved successfully", map[string]any{
			"minOrderAmount": rs.MinOrderAmount, "taxRate": rs.TaxRate,
			"deliveryFee": rs.DeliveryFee, "freeDeliveryThreshold": rs.FreeDeliveryThreshold,
		})
		return nil
	}
}

// handleGetSettings: GET /admin/restaurant-settings (admin).
func handleGetSettings(settings *store.Settings) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rs, err := settings.Get(r.Context())
		if err != nil {
			return err
		}
		respondNoCode(w, http.StatusOK, "Restaurant settings retrieved successfully", settingsView(rs))
		return nil
	}
}

type toppingInput struct {
	ID       string  `json:"_id"`
	Name     string  `json:"name"`
	Category string  `json:"category"`
	Price    float64 `json:"price"`
	IsActive *bool   `json:"isActive"`
}

type settingsRequest struct {
	Name                  *string         `json:"name"`
	Phone                 *string         `json:"phone"`
	Email                 *string         `json:"email"`
	Address               *string         `json:"address"`
	MinOrderAmount        *float64        `json:"minOrderAmount"`
	TaxRate               *float64        `json:"taxRate"`
	DeliveryFee           *float64        `json:"deliveryFee"`
	FreeDeliveryThreshold *float64        `json:"freeDeliveryThreshold"`
	AvailableToppings     *[]toppingInput `json:"availableToppings"`
}

func (q *settingsRequest) valid(p *problems) {
	money := func(name string, v *float64) {
		if v != nil && (*v < 0 || math.IsInf(*v, 0) || *v > 1e7) {
			p.add(name, name+" must be a non-negative amount", *v)
		}
	}
	money("minOrderAmount", q.MinOrderAmount)
	money("deliveryFee", q.DeliveryFee)
	money("freeDeliveryThreshold", q.FreeDeliveryThreshold)
	if q.TaxRate != nil && (*q.TaxRate < 0 || *q.TaxRate > 100) {
		p.add("taxRate", "Tax rate must be between 0 and 100", *q.TaxRate)
	}
	for _, s := range []struct {
		name string
		v    *string
	}{{"name", q.Name}, {"phone", q.Phone}, {"email", q.Email}, {"address", q.Address}} {
		if s.v != nil && len(*s.v) > 300 {
			p.add(s.name, s.name+" is too long", nil)
		}
	}
	if q.AvailableToppings != nil {
		for _, t := range *q.AvailableToppings {
			if strings.TrimSpace(t.Name) == "" {
				p.add("availableToppings", "Topping name is required", nil)
			}
			switch t.Category {
			case "vegetables", "meat", "cheese", "sauce":
			default:
				p.add("availableToppings", "Topping category must be vegetables, meat, cheese or sauce", t.Category)
			}
			if t.Price < 0 {
				p.add("availableToppings", "Topping price must not be negative", t.Price)
			}
		}
	}
}

// handleUpdateSettings: PUT /admin/restaurant-settings (admin), any subset
// of the fields. Bad values give 400 {success:false, message, errors}.
func handleUpdateSettings(settings *store.Settings) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		req, err := decode[settingsRequest](r)
		if err != nil {
			return err
		}
		u := userFrom(r.Context())
		if u == nil || u.Role != auth.RoleAdmin {
			return apperr.Forbiddenf("Access denied. Admin privileges required.")
		}
		rs, err := settings.Update(r.Context(), u.ID, func(rs *store.RestaurantSettings) error {
			setStr(&rs.Name, req.Name)
			setStr(&rs.Phone, req.Phone)
			setStr(&rs.Email, req.Email)
			setStr(&rs.Address, req.Address)
			setNum(&rs.MinOrderAmount, req.MinOrderAmount)
			setNum(&rs.TaxRate, req.TaxRate)
			setNum(&rs.DeliveryFee, req.DeliveryFee)
			setNum(&rs.FreeDeliveryThreshold, req.FreeDeliveryThreshold)
			if req.AvailableToppings != nil {
				rs.AvailableToppings = []store.Topping{}
				for _, t := range *req.AvailableToppings {
					id, err := primitive.ObjectIDFromHex(t.ID)
					if err != nil {
						id = primitive.NewObjectID()
					}
					active := t.IsActive == nil || *t.IsActive
					rs.AvailableToppings = append(rs.AvailableToppings, store.Topping{
						ID: id, Name: strings.TrimSpace(t.Name), Category: t.Category, Price: t.Price, IsActive: active})
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		respondNoCode(w, http.StatusOK, "Restaurant settings updated successfully", settingsView(rs))
		return nil
	}
}

func setStr(dst *string, v *string) {
	if v != nil {
		*dst = strings.TrimSpace(*v)
	}
}

func setNum(dst *float64, v *float64) {
	if v != nil {
		*dst = *v
	}
}
