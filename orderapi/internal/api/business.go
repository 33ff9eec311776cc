package api

import (
	"net/http"
	"strings"

	"github.com/friendspizzahut/platform/orderapi/internal/store"
)

func businessView(b *store.BusinessStatus) map[string]any {
	return map[string]any{"isOpen": b.IsOpen, "message": b.Message, "updatedAt": jsTimePtr(b.UpdatedAt)}
}

// handleBusinessStatus: GET /business/status (public).
func handleBusinessStatus(business *store.Business) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		b, err := business.Status(r.Context())
		if err != nil {
			return err
		}
		respond(w, http.StatusOK, "Business status retrieved successfully", businessView(b))
		return nil
	}
}

type businessRequest struct {
	IsOpen  *bool   `json:"isOpen"`
	Message *string `json:"message"`
}

func (q *businessRequest) valid(p *problems) {
	if q.IsOpen == nil {
		p.add("isOpen", "isOpen is required and must be a boolean value", nil)
	}
	if q.Message != nil && len([]rune(*q.Message)) > 200 {
		p.add("message", "message must be at most 200 characters", nil)
	}
}

// handleSetBusinessStatus: PATCH /business/status {isOpen, message?}
// (admin) → business.status_changed to every socket.
func handleSetBusinessStatus(business *store.Business, settings *store.Settings) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		req, err := decode[businessRequest](r)
		if err != nil {
			return err
		}
		rs, err := settings.Get(r.Context())
		if err != nil {
			return err
		}
		msg := ""
		if req.Message != nil {
			msg = strings.TrimSpace(*req.Message)
		}
		if msg == "" {
			msg = "We are closed right now"
			if *req.IsOpen {
				msg = "We are open and taking orders"
			}
		}
		b, err := business.SetStatus(r.Context(), *req.IsOpen, msg, rs.Name, userFrom(r.Context()).ID.Hex())
		if err != nil {
			return err
		}
		respond(w, http.StatusOK, "Business status updated successfully", businessView(b))
		return nil
	}
}
