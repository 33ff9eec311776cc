package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/apperr"
	"github.com/friendspizzahut/platform/shared/event"
)

// Saved addresses: POST /users/:id/address, PUT and DELETE
// /users/:id/address/:addressId, PATCH …/default. Only the user themself
// manages them. Envelope {success, message, data: {address}} without
// statusCode, as the original's address controller answered.

// maxAddresses bounds a user's saved addresses.
const maxAddresses = 20

var (
	errNotYourAddresses = apperr.Forbiddenf("You can only manage your own addresses")
	errAddressNotFound  = apperr.NotFoundf("Address not found")
)

// ownAddressTarget returns the {id} of the path if it is the caller.
func ownAddressTarget(r *http.Request) (primitive.ObjectID, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return id, err
	}
	if userFrom(r.Context()).ID != id {
		return id, errNotYourAddresses
	}
	return id, nil
}

// addressPatch is an address body where every field is optional (PUT).
type addressPatch struct {
	Label     *string `json:"label"`
	Street    *string `json:"street"`
	City      *string `json:"city"`
	State     *string `json:"state"`
	Pincode   *string `json:"pincode"`
	Landmark  *string `json:"landmark"`
	IsDefault *bool   `json:"isDefault"`
}

func (q *addressPatch) valid(p *problems) {
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{{"label", q.Label, 30}, {"street", q.Street, 200}, {"city", q.City, 100}, {"state", q.State, 100}, {"pincode", q.Pincode, 10}, {"landmark", q.Landmark, 200}} {
		if f.v == nil {
			continue
		}
		*f.v = strings.TrimSpace(*f.v)
		if len(*f.v) > f.max {
			p.add(f.name, f.name+" must be at most "+strconv.Itoa(f.max)+" characters", *f.v)
		}
	}
}

// required reports whether the address-forming fields are all present.
func (q *addressPatch) required() bool {
	for _, v := range []*string{q.Street, q.City, q.State, q.Pincode} {
		if v == nil || *v == "" {
			return false
		}
	}
	return true
}

// apply sets the present fields on a.
func (q *addressPatch) apply(a *store.Address) error {
	for _, f := range []struct {
		v   *string
		dst *string
	}{{q.Street, &a.Street}, {q.City, &a.City}, {q.State, &a.State}, {q.Pincode, &a.Pincode}} {
		if f.v != nil {
			if *f.v == "" {
				return apperr.Invalidf("Street, city, state, and pincode cannot be empty")
			}
			*f.dst = *f.v
		}
	}
	if q.Label != nil {
		a.Label = *q.Label
		if a.Label == "" {
			a.Label = "Home"
		}
	}
	if q.Landmark != nil {
		a.Landmark = *q.Landmark
	}
	return nil
}

func addressView(a store.Address) map[string]any { return addressViews([]store.Address{a})[0] }

// setDefault makes the address at i the only default.
func setDefault(as []store.Address, i int) {
	for j := range as {
		as[j].IsDefault = j == i
	}
}

// handleAddAddress: POST /users/:id/address → 201 data {address}. The
// first address, or one sent with isDefault, becomes the default.
func handleAddAddress(users *store.Users) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := ownAddressTarget(r)
		if err != nil {
			return err
		}
		req, err := decode[addressPatch](r)
		if err != nil {
			return err
		}
		if !req.required() {
			return apperr.Invalidf("Street, city, state, and pincode are required")
		}
		var added store.Address
		_, err = users.UpdateUser(r.Context(), id, func(u *store.User) ([]event.Payload, error) {
			if len(u.Address) >= maxAddresses {
				return nil, apperr.Invalidf("You can save at most %d addresses", maxAddresses)
			}
			a := store.Address{ID: primitive.NewObjectID(), Label: "Home"}
			if err := req.apply(&a); err != nil {
				return nil, err
			}
			u.Address = append(u.Address, a)
			if len(u.Address) == 1 || (req.IsDefault != nil && *req.IsDefault) {
				setDefault(u.Address, len(u.Address)-1)
			}
			added = u.Address[len(u.Address)-1]
			return nil, nil
		})
		if err != nil {
			return err
		}
		respondNoCode(w, http.StatusCreated, "Address added successfully", map[string]any{"address": addressView(added)})
		return nil
	}
}

// ownAddressPath returns the {id} and {addressId} of the path if {id} is
// the caller.
func ownAddressPath(r *http.Request) (id, addrID primitive.ObjectID, err error) {
	if id, err = ownAddressTarget(r); err != nil {
		return id, addrID, err
	}
	addrID, err = pathID(r, "addressId")
	return id, addrID, err
}

// changeAddress lets change modify user id, given the index i of its
// address addrID, in one update of the user (NotFound "Address not found"
// if it has no such address). An error from change is returned as is, with
// nothing written.
func changeAddress(ctx context.Context, users *store.Users, id, addrID primitive.ObjectID, change func(u *store.User, i int) error) error {
	_, err := users.UpdateUser(ctx, id, func(u *store.User) ([]event.Payload, error) {
		for i, a := range u.Address {
			if a.ID == addrID {
				return nil, change(u, i)
			}
		}
		return nil, errAddressNotFound
	})
	return err
}

// handleUpdateAddress: PUT /users/:id/address/:addressId → data {address}.
func handleUpdateAddress(users *store.Users) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, addrID, err := ownAddressPath(r)
		if err != nil {
			return err
		}
		req, err := decode[addressPatch](r)
		if err != nil {
			return err
		}
		var updated store.Address
		err = changeAddress(r.Context(), users, id, addrID, func(u *store.User, i int) error {
			if err := req.apply(&u.Address[i]); err != nil {
				return err
			}
			if req.IsDefault != nil {
				if *req.IsDefault {
					setDefault(u.Address, i)
				} else {
					u.Address[i].IsDefault = false
				}
			}
			updated = u.Address[i]
			return nil
		})
		if err != nil {
			return err
		}
		respondNoCode(w, http.StatusOK, "Address updated successfully", map[string]any{"address": addressView(updated)})
		return nil
	}
}

// handleDeleteAddress: DELETE /users/:id/address/:addressId. If it was the
// default, the first remaining address becomes the default.
func handleDeleteAddress(users *store.Users) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, addrID, err := ownAddressPath(r)
		if err != nil {
			return err
		}
		err = changeAddress(r.Context(), users, id, addrID, func(u *store.User, i int) error {
			wasDefault := u.Address[i].IsDefault
			u.Address = append(u.Address[:i], u.Address[i+1:]...)
			if wasDefault && len(u.Address) > 0 {
				setDefault(u.Address, 0)
			}
			return nil
		})
		if err != nil {
			return err
		}
		respondNoCode(w, http.StatusOK, "Address deleted successfully", nil)
		return nil
	}
}

// handleDefaultAddress: PATCH /users/:id/address/:addressId/default →
// data {address}.
func handleDefaultAddress(users *store.Users) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, addrID, err := ownAddressPath(r)
		if err != nil {
			return err
		}
		var def store.Address
		err = changeAddress(r.Context(), users, id, addrID, func(u *store.User, i int) error {
			setDefault(u.Address, i)
			def = u.Address[i]
			return nil
		})
		if err != nil {
			return err
		}
		respondNoCode(w, http.StatusOK, "Default address updated successfully", map[string]any{"address": addressView(def)})
		return nil
	}
}
