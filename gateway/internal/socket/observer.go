package socket

import "github.com/friendspizzahut/platform/shared/apperr"

// Observer is told how client events end and who sockets register as,
// for metrics (*metrics.Gateway). Its methods must be quick and must not
// block; event is one of ClientEvents() or "other".
type Observer interface {
	ClientEvent(event, outcome string)
	SocketRegistered(role string, proven bool)
	SocketUnregistered(role string, proven bool)
}

// The outcomes of a client event.
const (
	OutcomeOK          = "ok"
	OutcomeRefused     = "refused"
	OutcomeInvalid     = "invalid"
	OutcomeRateLimited = "rate_limited"
)

// ClientEvents lists the client events the handlers know (as eventLabel).
func ClientEvents() []string {
	return []string{EvRegister, EvJoinOrder, EvLeaveOrder, EvLocation, EvPing}
}

// outcomeOf is the client-event outcome of an error kind.
func outcomeOf(k apperr.Kind) string {
	switch k {
	case apperr.Invalid:
		return OutcomeInvalid
	case apperr.TooManyRequests:
		return OutcomeRateLimited
	}
	return OutcomeRefused
}

// eventLabel is a client event's metrics label: its name when known.
func eventLabel(name string) string {
	switch name {
	case EvRegister, EvJoinOrder, EvLeaveOrder, EvLocation, EvPing:
		return name
	}
	return "other"
}

// proven reports whether the socket's identity is proven (a verified
// handshake token) rather than a claim checked against orderapi.
func (s *session) isProven() bool { return s.proven != nil }

// countAs moves the Observer's count of this socket to id (nil: none).
// Callers hold s.mu.
func (s *session) countAs(id *Identity) {
	if s.counted != nil {
		s.h.deps.Observer.SocketUnregistered(s.counted.Role, s.isProven())
	}
	if id != nil {
		s.h.deps.Observer.SocketRegistered(id.Role, s.isProven())
	}
	s.counted = id
}

type nopObserver struct{}

func (nopObserver) ClientEvent(string, string)      {}
func (nopObserver) SocketRegistered(string, bool)   {}
func (nopObserver) SocketUnregistered(string, bool) {}
