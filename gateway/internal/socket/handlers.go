package socket

import (
	"context"
	"time"

	"github.com/friendspizzahut/platform/gateway/internal/directory"
	"github.com/friendspizzahut/platform/gateway/internal/routing"
	"github.com/friendspizzahut/platform/gateway/internal/sio"
	"github.com/friendspizzahut/platform/shared/apperr"
	"github.com/friendspizzahut/platform/shared/auth"
	"github.com/friendspizzahut/platform/shared/event"
)

// RegisteredMessage is the original's success text.
const RegisteredMessage = "Successfully connected to real-time updates"

// Registered is the registered event's payload (CONTRACT §2.3).
type Registered struct {
	Success bool   `json:"success"`
	UserID  string `json:"userId,omitempty"`
	Role    string `json:"role,omitempty"`
	Message string `json:"message"`
}

// OrderReply acknowledges join:order / leave:order when the client asked.
type OrderReply struct {
	Success bool   `json:"success"`
	OrderID string `json:"orderId"`
}

// Pong is the pong event's payload: milliseconds since the epoch, like the
// original's Date.now().
type Pong struct {
	Timestamp int64 `json:"timestamp"`
}

// OK acknowledges an accepted delivery:location.
type OK struct {
	Success bool `json:"success"`
}

func validRole(r string) bool {
	return r == auth.RoleCustomer || r == auth.RoleAdmin || r == auth.RoleDelivery
}

// onRegister: register {userId, role} → rooms role:<role> and user:<id>,
// and always a registered reply (success or not).
func (s *session) onRegister(ctx context.Context, e *sio.Event) {
	in, err := DecodeRegister(e.Args)
	if err != nil {
		s.replyError(e, err)
		return
	}
	id, err := s.register(ctx, in)
	if err != nil {
		s.outcome = outcomeOf(apperr.KindOf(err))
		s.unregister()
		s.log.Debug("register refused", "kind", string(apperr.KindOf(err)), "claimed_role", truncate(in.Role, 32), "proven", s.proven != nil, "err", err)
		reply := Registered{Success: false, Message: apperr.MessageOf(err)}
		if apperr.KindOf(err) == apperr.Unavailable {
			reply.Message = "Registration is temporarily unavailable, please retry"
		}
		_ = s.sock.Emit(EvRegistered, reply)
		_ = e.Ack(reply)
		return
	}
	s.setIdentity(id)
	reply := Registered{Success: true, UserID: id.UserID, Role: id.Role, Message: RegisteredMessage}
	_ = s.sock.Emit(EvRegistered, reply)
	_ = e.Ack(reply)
}

// register decides who the socket may register as. With a proof the
// identity is the proof's and the payload may only repeat it; without one
// the role must be tokenless and the claim must match an existing, active
// user with that role (and an approved one, for agents). Refusals say what
// the user can do about them.
func (s *session) register(ctx context.Context, in RegisterInput) (Identity, error) {
	claim := Identity{UserID: in.UserID, Role: in.Role, Proof: ProofNone}
	if p := s.proven; p != nil {
		if in.UserID != "" && in.UserID != p.UserID {
			return Identity{}, apperr.Forbiddenf("This connection is signed in as another user. Sign out, then sign in again as this user.")
		}
		if in.Role != "" && in.Role != p.Role {
			return Identity{}, apperr.Forbiddenf("This connection is signed in as %s, not %s. Sign in again with %s account.", p.Role, truncate(in.Role, 32), article(in.Role))
		}
		claim = *p
	}
	if claim.UserID == "" {
		return Identity{}, apperr.Invalidf("userId is required")
	}
	if claim.Role == "" {
		claim.Role = auth.RoleCustomer // the original's default
	}
	if !validRole(claim.Role) {
		return Identity{}, apperr.Invalidf("role must be customer, admin or delivery")
	}
	if !claim.Proof.Proven() && !s.h.tokenless[claim.Role] {
		return Identity{}, apperr.Unauthorizedf("Sign in again to receive live updates as %s: this connection carries no proof of sign-in.", claim.Role)
	}
	u, err := s.h.deps.Directory.User(ctx, claim.UserID)
	switch {
	case directory.IsNotFound(err):
		return Identity{}, apperr.Forbiddenf("User not found. Please sign in again.")
	case err != nil:
		return Identity{}, err
	case u.Role != claim.Role && claim.Proof.Proven():
		return Identity{}, apperr.Forbiddenf("Your account has changed since you signed in. Please sign in again.")
	case u.Role != claim.Role:
		return Identity{}, apperr.Forbiddenf("User is not registered as %s. Sign in with %s account.", claim.Role, article(claim.Role))
	case u.Role == auth.RoleDelivery && u.IsRejected:
		return Identity{}, apperr.Forbiddenf("Your delivery partner application has been rejected, so there are no live updates for this account.")
	case u.Role == auth.RoleDelivery && !u.IsApproved:
		return Identity{}, apperr.Forbiddenf("Your account is pending admin approval. Live updates start once an admin approves it.")
	case !u.IsActive:
		return Identity{}, apperr.Forbiddenf("Your account has been deactivated. Please contact support.")
	}
	return claim, nil
}

// article names a role's account for refusal messages: "an admin", "a
// customer", "a delivery".
func article(role string) string {
	if role == auth.RoleAdmin {
		return "an admin"
	}
	return "a " + truncate(role, 32)
}

// setIdentity moves the socket into the identity's rooms (leaving those of
// an earlier, different registration).
func (s *session) setIdentity(id Identity) {
	s.mu.Lock()
	prev := s.registered
	s.registered = &id
	gone := s.disconnected
	if !gone {
		s.countAs(&id)
	}
	s.mu.Unlock()
	if gone {
		return
	}
	var leave []string
	if prev != nil && *prev != id {
		leave = []string{routing.RoleRoom(prev.Role), routing.UserRoom(prev.UserID)}
	}
	s.sock.Update(s.identityData(), leave, []string{routing.RoleRoom(id.Role), routing.UserRoom(id.UserID)})
	if s.h.deps.Presence != nil {
		s.h.deps.Presence.Registered(s.sock.ID(), id.UserID, id.Role, id.Proof.Proven())
	}
	s.log.Debug("socket registered", "user_id", id.UserID, "role", id.Role, "proof", string(id.Proof), "identity", id.Proof.Kind())
}

// unregister drops an earlier registration after a refused one: the
// socket no longer gets that identity's events.
func (s *session) unregister() {
	s.mu.Lock()
	prev := s.registered
	s.registered = nil
	s.countAs(nil)
	s.mu.Unlock()
	if prev == nil {
		return
	}
	s.sock.Update(s.identityData(), []string{routing.RoleRoom(prev.Role), routing.UserRoom(prev.UserID)}, nil)
	if s.h.deps.Presence != nil {
		s.h.deps.Presence.Unregistered(s.sock.ID())
	}
}

// onJoinOrder: join:order → room order:<id> for the order's customer, its
// assigned agent or an admin, then the last known location if any.
func (s *session) onJoinOrder(ctx context.Context, e *sio.Event) {
	orderID, err := DecodeOrderRef(e.Args)
	if err == nil {
		err = s.joinOrder(ctx, orderID)
	}
	if err != nil {
		s.replyError(e, err)
		return
	}
	_ = e.Ack(OrderReply{Success: true, OrderID: orderID})
	if id := s.identity(); id != nil && id.Role != auth.RoleDelivery { // locations never go back to agents
		s.sendLastLocation(ctx, orderID)
	}
}

func (s *session) joinOrder(ctx context.Context, orderID string) error {
	id := s.identity()
	if id == nil {
		return apperr.Unauthorizedf("Register before joining an order")
	}
	p, err := s.h.deps.Directory.OrderParties(ctx, orderID)
	switch {
	case directory.IsNotFound(err):
		return apperr.NotFoundf("Order not found")
	case err != nil:
		return err
	}
	if !mayFollow(*id, p) {
		return apperr.Forbiddenf("Not allowed to follow this order")
	}
	s.sock.Join(routing.OrderRoom(orderID))
	return nil
}

// mayFollow: only the order's customer, its assigned agent, or an admin.
func mayFollow(id Identity, p directory.Parties) bool {
	switch {
	case id.Role == auth.RoleAdmin:
		return true
	case id.UserID == p.CustomerID:
		return true
	case p.DeliveryAgentID != "" && id.UserID == p.DeliveryAgentID:
		return true
	}
	return false
}

// sendLastLocation replays the stored location, rendered by the routing
// table like a live delivery:location:update.
func (s *session) sendLastLocation(ctx context.Context, orderID string) {
	rep, ok, err := s.h.deps.Locations.Last(ctx, orderID)
	if err != nil {
		s.log.Warn("last location unavailable", "order_id", orderID, "err", err)
		return
	}
	if !ok {
		return
	}
	env := event.Envelope{V: event.Version, Type: event.DeliveryLocationReported, At: rep.ReportedAt}
	for _, d := range s.h.deps.Router.Route(env, &rep) {
		if d.Event == EvLocationUpdate {
			_ = s.sock.Emit(EvLocationUpdate, d.Payload)
			return
		}
	}
}

// onLeaveOrder: leave:order → out of room order:<id>.
func (s *session) onLeaveOrder(e *sio.Event) {
	orderID, err := DecodeOrderRef(e.Args)
	if err != nil {
		s.replyError(e, err)
		return
	}
	s.sock.Leave(routing.OrderRoom(orderID))
	_ = e.Ack(OrderReply{Success: true, OrderID: orderID})
}

// onLocation: delivery:location from the assigned agent → last location in
// Redis and a delivery.location_reported event on the bus. It is not
// emitted locally: every replica's fanout delivers it from the bus.
func (s *session) onLocation(ctx context.Context, e *sio.Event) {
	in, err := DecodeLocation(e.Args)
	if err == nil {
		err = s.reportLocation(ctx, in)
	}
	if err != nil {
		s.replyError(e, err)
		return
	}
	_ = e.Ack(OK{Success: true})
}

func (s *session) reportLocation(ctx context.Context, in LocationInput) error {
	id := s.identity()
	if id == nil || id.Role != auth.RoleDelivery {
		return apperr.Forbiddenf("Only the assigned delivery agent can report a location")
	}
	now := s.h.deps.Now()
	if !s.allowLocation(in.OrderID, now) {
		return apperr.New(apperr.TooManyRequests, "Location updates are limited to one per second per order")
	}
	p, err := s.h.deps.Directory.OrderParties(ctx, in.OrderID)
	switch {
	case directory.IsNotFound(err):
		return apperr.NotFoundf("Order not found")
	case err != nil:
		return err
	case p.DeliveryAgentID == "" || p.DeliveryAgentID != id.UserID:
		return apperr.Forbiddenf("You are not the delivery agent assigned to this order")
	case p.Status == "delivered" || p.Status == "cancelled" || p.Status == "refunded":
		return apperr.Forbiddenf("Order is %s: no more location updates", p.Status)
	}
	rep := event.LocationReport{
		OrderID:           in.OrderID,
		CustomerID:        p.CustomerID,
		DeliveryAgentID:   id.UserID,
		DeliveryAgentName: p.DeliveryAgentName,
		Location:          event.Location{Latitude: in.Latitude, Longitude: in.Longitude},
		Speed:             in.Speed,
		Heading:           in.Heading,
		Accuracy:          in.Accuracy,
		ReportedAt:        now.UTC(),
	}
	env, err := event.New(&rep, now)
	if err != nil {
		return apperr.Invalidf("invalid location report")
	}
	if err := s.h.deps.Locations.Save(ctx, rep); err != nil {
		return &apperr.Error{Kind: apperr.Unavailable, Message: "Could not relay the location, please retry", Extra: map[string]any{"cause": err.Error()}}
	}
	if err := s.h.deps.Publisher.Publish(ctx, env); err != nil {
		return &apperr.Error{Kind: apperr.Unavailable, Message: "Could not relay the location, please retry", Extra: map[string]any{"cause": err.Error()}}
	}
	return nil
}

// allowLocation admits one report per order per interval (10% slack for
// a client timer that fires a little early). The map is bounded: an agent
// carries a handful of orders.
func (s *session) allowLocation(orderID string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if last, ok := s.lastLoc[orderID]; ok && now.Sub(last) < s.h.cfg.LocationInterval*9/10 {
		return false
	}
	if len(s.lastLoc) >= 16 {
		for k, t := range s.lastLoc {
			if now.Sub(t) >= s.h.cfg.LocationInterval {
				delete(s.lastLoc, k)
			}
		}
		if len(s.lastLoc) >= 16 {
			return false
		}
	}
	s.lastLoc[orderID] = now
	return true
}

// onPing: ping → pong {timestamp}.
func (s *session) onPing(e *sio.Event) {
	p := Pong{Timestamp: s.h.deps.Now().UnixMilli()}
	_ = s.sock.Emit(EvPong, p)
	_ = e.Ack(p)
}
