package sio

import (
	"context"
	"encoding/json"
	"time"

	"github.com/friendspizzahut/platform/gateway/internal/sio/eio"
	"github.com/friendspizzahut/platform/shared/bus/logid"
)

// Recovery keeps sessions recoverable across reconnects, on any replica,
// the way Node's connectionStateRecovery looks on the wire: the CONNECT
// reply carries a private session id (pid), every event sent to rooms
// carries its offset as a last argument, and a CONNECT whose auth holds
// {pid, offset} gets the same socket id and rooms back, plus the events it
// missed. gateway/internal/recovery implements it over Redis.
type Recovery interface {
	// Find returns the session saved under pid, with Offset set to where
	// the client stands (its offset, or the saved one when it sent none);
	// false when pid is unknown or expired, or when the replay log no
	// longer holds everything after that offset.
	Find(ctx context.Context, pid, offset string) (Saved, bool)
	// Sync runs fn between two delivered events (see fanout.Sync), passing
	// the offset of the last one.
	Sync(fn func(offset string))
	// Missed returns the event frames a socket in rooms would have received
	// with after < offset <= upTo, in order, encoded by EventFrame.
	Missed(ctx context.Context, rooms []string, after, upTo string) ([][]byte, error)
	// Save stores the socket's state (sid, pid, rooms, data); it runs after
	// every change, one at a time per socket.
	Save(s *Socket)
	// Gone runs once the socket is gone; a recoverable reason keeps its
	// state for the window, others drop it.
	Gone(s *Socket, reason DisconnectReason)
}

// Saved is a session kept for recovery.
type Saved struct {
	SID    string
	PID    string
	Rooms  []string
	Data   json.RawMessage // the application's (SetData)
	Offset string          // replay after this log id
}

// Recoverable reports whether Node would keep a session closed for this
// reason: a client or server namespace disconnect is final.
func (r DisconnectReason) Recoverable() bool {
	return r != ReasonClientDisconnect && r != ReasonServerDisconnect
}

// recoveryAuth extracts the pid and offset a reconnecting socket.io-client
// adds to its auth ({pid, offset, ...auth}); offset is missing when the
// client got no room event since its pid was issued.
func recoveryAuth(auth json.RawMessage) (pid, offset string) {
	var a struct {
		PID    any `json:"pid"`
		Offset any `json:"offset"`
	}
	if json.Unmarshal(auth, &a) != nil {
		return "", ""
	}
	pid, _ = a.PID.(string)
	offset, _ = a.Offset.(string)
	if !logid.Valid(offset) {
		offset = ""
	}
	if len(pid) > 64 {
		pid = ""
	}
	return pid, offset
}

// EventFrame encodes an event for the main namespace as it is broadcast:
// the payload (nil: none), then the offset when not "".
func EventFrame(event string, payload any, offset string) ([]byte, error) {
	name, err := json.Marshal(event)
	if err != nil {
		return nil, err
	}
	var args []json.RawMessage
	if payload != nil {
		b, err := json.Marshal(payload)
		if err != nil {
			return nil, err
		}
		args = append(args, b)
	}
	if offset != "" {
		b, _ := json.Marshal(offset)
		args = append(args, b)
	}
	return encodeArray(PacketEvent, MainNamespace, noID, 0, name, args), nil
}

// BroadcastAt is Broadcast for an event at offset in the replay log: with
// recovery on, the offset travels as the last argument, and a socket that
// recovered from a later offset (its new replica lags the old one) skips it.
func (s *Server) BroadcastAt(offset string, rooms, except []string, event string, payload any) int {
	if s.cfg.Recovery == nil {
		offset = ""
	}
	packet, err := EventFrame(event, payload, offset)
	if err != nil {
		s.logger.Error("broadcast: encode payload", "event", event, "err", err)
		return 0
	}
	frame := eio.TextMessage(packet) // built once, the same bytes for every socket
	n := 0
	for _, sock := range s.targets(rooms, except) {
		if sock.sendAt(frame, offset) {
			n++
		}
	}
	return n
}

// PID returns the private session id sent in the CONNECT reply ("" with
// recovery off).
func (s *Socket) PID() string { return s.pid }

// Recovered reports whether the socket restored an earlier session.
func (s *Socket) Recovered() bool { return s.restored != nil }

// Replaced reports whether a recovered socket with the same id took this
// one's place (its old connection had not timed out yet): state keyed by
// the id now belongs to the new socket.
func (s *Socket) Replaced() bool { return s.replaced.Load() }

// Restored returns the data of the session the socket is restoring, for
// the ConnectFunc to check the new handshake against it.
func (s *Socket) Restored() (json.RawMessage, bool) {
	if s.restored == nil {
		return nil, false
	}
	return s.restored.Data, true
}

// RefuseRecovery makes a restoring socket a new session (new ids, no rooms
// or data of the old one), e.g. when its credentials do not match. Only
// valid inside the ConnectFunc.
func (s *Socket) RefuseRecovery() {
	if s.restored == nil {
		return
	}
	s.restored = nil
	s.id = newID()
	s.pid = newID() + newID()
}

// Data returns what the application stored with SetData.
func (s *Socket) Data() json.RawMessage {
	s.dataMu.Lock()
	defer s.dataMu.Unlock()
	return s.data
}

// SetData stores application state (say, the identity) that a recovered
// session gets back, and saves it for recovery (nil keeps what is stored).
func (s *Socket) SetData(d json.RawMessage) { s.Update(d, nil, nil) }

// Update stores data (nil keeps what is stored), leaves rooms, then joins
// rooms, and saves the socket's state for recovery once: a registration
// changes all three, and each save is a round trip to Redis.
func (s *Socket) Update(data json.RawMessage, leave, join []string) {
	if data != nil {
		s.dataMu.Lock()
		s.data = data
		s.dataMu.Unlock()
	}
	if len(leave) > 0 {
		s.client.srv.leave(s, leave...)
	}
	if len(join) > 0 {
		s.client.srv.join(s, join...)
	}
	s.saveState()
}

// saveState hands the socket's state to Recovery, one save at a time so
// that a later state is never overwritten by an earlier one.
func (s *Socket) saveState() {
	rec := s.client.srv.cfg.Recovery
	if rec == nil || !s.tracked.Load() {
		return
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	if s.gone.Load() {
		return
	}
	rec.Save(s)
}

// sendAt queues one pre-built message, a broadcast at offset. It reports
// false when the socket is gone or was just cut as slow.
func (s *Socket) sendAt(m *eio.Message, offset string) bool {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.gone.Load() {
		return false
	}
	if s.skipTo != "" && offset != "" {
		if !logid.After(offset, s.skipTo) {
			return false
		}
		s.skipTo = ""
	}
	if s.holding {
		s.held = append(s.held, m)
		return true
	}
	return s.sendLocked(m)
}

// resume runs after a recovered socket's CONNECT reply: it sends the
// missed events, then what was broadcast to it meanwhile, in order.
func (s *Socket) resume(upTo string) {
	rec := s.client.srv.cfg.Recovery
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	missed, err := rec.Missed(ctx, s.restored.Rooms, s.restored.Offset, upTo)
	if err != nil {
		// The session said it could be recovered: better cut the socket
		// (it reconnects and tries again) than let it miss events.
		s.client.srv.logger.Warn("socket.io: replay failed, closing", "socket_id", s.id, "err", err)
		s.writeMu.Lock()
		s.held, s.holding = nil, false // nothing more to hold for a closing socket
		s.writeMu.Unlock()
		s.client.close(ReasonTransportError)
		return
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	msgs := make([]*eio.Message, 0, len(missed)+len(s.held))
	for _, b := range missed {
		msgs = append(msgs, eio.TextMessage(b))
	}
	msgs = append(msgs, s.held...)
	s.held, s.holding = nil, false
	if s.gone.Load() {
		return
	}
	// Past the queue bounds on purpose: cutting the socket as slow would
	// only have it reconnect and ask for the same replay again.
	_ = s.client.conn.SendUnbounded(msgs...)
	s.client.srv.logger.Debug("socket.io: session recovered", "socket_id", s.id, "replayed", len(missed), "after", s.restored.Offset, "up_to", upTo)
}
