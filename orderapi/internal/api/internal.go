package api

import (
	"crypto/subtle"
	"net/http"

	"github.com/friendspizzahut/platform/orderapi/internal/store"
	"github.com/friendspizzahut/platform/shared/apperr"
	"github.com/friendspizzahut/platform/shared/auth"
)

// The internal API answers the gateway's identity and order-party lookups
// (PLAN.md). Its error bodies are {"message"} only.

// requireInternalToken lets through only requests carrying the service
// token, compared in constant time. An empty configured token refuses all.
func requireInternalToken(token string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got := r.Header.Get("X-Internal-Token")
			if token == "" || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
				writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Invalid or missing internal token"})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// internalError writes an internal API error as {"message"}.
func internalError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(apperr.KindOf(err))
	if status >= 500 {
		loggerFrom(r.Context()).Error("internal api failed", "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, map[string]string{"message": apperr.MessageOf(err)})
}

// handleInternalUser: GET /internal/v1/users/{id} → {id, name, email, role,
// isActive, isApproved, isRejected}.
func handleInternalUser(users *store.Users) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err != nil {
			internalError(w, r, err)
			return
		}
		u, err := users.UserByID(r.Context(), id)
		if err != nil {
			internalError(w, r, err)
			return
		}
		approved := u.IsApproved && !u.IsRejected
		if u.Role != auth.RoleDelivery {
			approved = true // only agents need approval
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"id": u.ID.Hex(), "name": u.Name, "email": u.Email, "role": u.Role,
			"isActive": u.IsActive, "isApproved": approved, "isRejected": u.Role == auth.RoleDelivery && u.IsRejected,
		})
	})
}

// handleInternalParties: GET /internal/v1/orders/{id}/parties → {orderId,
// orderNumber, customerId, deliveryAgentId ("" if none), deliveryAgentName,
// status}.
func handleInternalParties(orders *store.Orders) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err != nil {
			internalError(w, r, err)
			return
		}
		o, err := orders.OrderByID(r.Context(), id)
		if err != nil {
			internalError(w, r, err)
			return
		}
		agentID, agentName := "", ""
		if o.DeliveryAgent != nil {
			agentID = o.DeliveryAgent.Hex()
		}
		if o.DeliveryAgentDetails != nil {
			agentName = o.DeliveryAgentDetails.Name
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"orderId": o.ID.Hex(), "orderNumber": o.OrderNumber, "customerId": o.User.Hex(),
			"deliveryAgentId": agentID, "deliveryAgentName": agentName, "status": string(o.Status),
		})
	})
}
