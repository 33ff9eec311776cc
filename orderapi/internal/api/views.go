package api

import (
	"strings"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/auth"
)

// userView is the original's getPublicProfile: what clients see of a user.
// `id` is the field the app stores and sends in socket register. The
// password hash never appears.
func userView(u *store.User) map[string]any {
	v := map[string]any{
		"id": u.ID.Hex(), "_id": u.ID.Hex(), "name": u.Name, "email": u.Email, "phone": u.Phone,
		"role": u.Role, "profileImage": u.ProfileImage, "isActive": u.IsActive,
		"createdAt": jsTime(u.CreatedAt), "updatedAt": jsTime(u.UpdatedAt),
	}
	switch u.Role {
	case auth.RoleCustomer:
		v["address"] = addressViews(u.Address)
		v["mostOrderedItems"] = []any{}
	case auth.RoleDelivery:
		st := map[string]any{"isOnline": u.IsOnline(), "state": u.AgentState(), "lastOnline": nil}
		if u.Status != nil {
			st["lastOnline"] = jsTimePtr(u.Status.LastOnline)
		}
		v["status"] = st
		v["isApproved"] = u.IsApproved
		v["isRejected"] = u.IsRejected
		v["rejectionReason"] = u.RejectionReason
		v["vehicleInfo"] = u.VehicleInfo
		v["documents"] = u.Documents
		v["totalDeliveries"] = u.TotalDeliveries
		v["rating"] = u.Rating
		v["availability"] = map[string]any{}
		v["address"] = addressViews(u.Address)
	case auth.RoleAdmin:
		v["username"] = u.Username
		v["adminRole"] = u.AdminRole
		v["permissions"] = u.Permissions
	}
	return v
}

func addressViews(as []store.Address) []map[string]any {
	out := make([]map[string]any, 0, len(as))
	for _, a := range as {
		out = append(out, map[string]any{
			"_id": a.ID.Hex(), "label": a.Label, "street": a.Street, "city": a.City, "state": a.State,
			"pincode": a.Pincode, "landmark": a.Landmark, "isDefault": a.IsDefault,
		})
	}
	return out
}

// addressInput is a saved address as clients send it.
type addressInput struct {
	Label     string `json:"label"`
	Street    string `json:"street"`
	City      string `json:"city"`
	State     string `json:"state"`
	Pincode   string `json:"pincode"`
	Landmark  string `json:"landmark"`
	IsDefault bool   `json:"isDefault"`
}

func (a *addressInput) valid(p *problems, prefix string) {
	a.Street, a.City, a.State = strings.TrimSpace(a.Street), strings.TrimSpace(a.City), strings.TrimSpace(a.State)
	a.Pincode = strings.TrimSpace(a.Pincode)
	for _, f := range []struct{ name, v string }{{"street", a.Street}, {"city", a.City}, {"state", a.State}, {"pincode", a.Pincode}} {
		if f.v == "" {
			p.add(prefix+"."+f.name, strings.ToUpper(f.name[:1])+f.name[1:]+" is required", nil)
		} else if len(f.v) > 200 {
			p.add(prefix+"."+f.name, f.name+" is too long", f.v)
		}
	}
}

func (a addressInput) toStore() store.Address {
	label := a.Label
	if label == "" {
		label = "Home"
	}
	return store.Address{ID: primitive.NewObjectID(), Label: label, Street: a.Street, City: a.City,
		State: a.State, Pincode: a.Pincode, Landmark: a.Landmark, IsDefault: a.IsDefault}
}
