package sio

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/friendspizzahut/platform/gateway/internal/sio/eio"
)

// Handshake is what a client presented when its socket connected.
type Handshake struct {
	Namespace  string
	Auth       json.RawMessage // the CONNECT payload; "{}" when none was sent
	Query      url.Values
	Header     http.Header
	RemoteAddr string
	Time       time.Time
}

// Socket is one client connected to one namespace. Its methods are safe for
// concurrent use.
type Socket struct {
	id     string
	client *client
	nsp    *namespace
	hs     Handshake

	session Session

	// writeMu keeps the CONNECT reply first. (The engine queues the
	// frames of one packet, a binary packet and its attachments, at once.)
	writeMu sync.Mutex

	rooms map[string]struct{} // guarded by Server.mu

	ackMu   sync.Mutex
	nextAck int64
	acks    map[int64]*pendingAck

	gone atomic.Bool

	// Recovery (recovery.go). pid and restored are set before the socket
	// is registered and not changed after; holding, held and skipTo are
	// guarded by writeMu.
	pid      string
	restored *Saved
	since    string // the offset the saved session replays after
	holding  bool   // queue broadcasts in held until the replay is sent
	held     []*eio.Message
	skipTo   string // drop broadcasts up to this offset (already seen)
	dataMu   sync.Mutex
	data     json.RawMessage
	saveMu   sync.Mutex
	tracked  atomic.Bool // saved to Recovery since connect
	replaced atomic.Bool // a recovered socket with the same id took over
}

type pendingAck struct {
	timer *time.Timer
	fn    func(args []json.RawMessage, err error)
}

func newSocket(c *client, ns *namespace, hs Handshake) *Socket {
	return &Socket{id: newID(), client: c, nsp: ns, hs: hs, rooms: map[string]struct{}{}}
}

// newID returns a random 20-character id, like Node's socket ids.
func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ID returns the socket id sent to the client in the CONNECT reply.
func (s *Socket) ID() string { return s.id }

// Handshake returns what the client presented on connect.
func (s *Socket) Handshake() Handshake { return s.hs }

// Connected reports whether the socket is still connected.
func (s *Socket) Connected() bool { return !s.gone.Load() }

// Join adds the socket to rooms (main-namespace rooms are what Broadcast
// targets). Joining after the socket is gone does nothing.
func (s *Socket) Join(rooms ...string) { s.Update(nil, nil, rooms) }

// Leave removes the socket from rooms.
func (s *Socket) Leave(rooms ...string) { s.Update(nil, rooms, nil) }

// Rooms returns the rooms the socket is in.
func (s *Socket) Rooms() []string { return s.client.srv.roomsOf(s) }

// Emit sends an event. Arguments are JSON-encoded; a []byte argument is
// sent as a binary attachment.
func (s *Socket) Emit(event string, args ...any) error {
	name, err := eventNameJSON(event)
	if err != nil {
		return err
	}
	raw, atts, err := encodeArgs(args)
	if err != nil {
		return err
	}
	return s.sendPacket(PacketEvent, noID, name, raw, atts)
}

// EmitRaw sends an event with pre-encoded arguments and attachments that
// the arguments reference through placeholders.
func (s *Socket) EmitRaw(event string, args []json.RawMessage, attachments [][]byte) error {
	name, err := eventNameJSON(event)
	if err != nil {
		return err
	}
	return s.sendPacket(PacketEvent, noID, name, args, attachments)
}

// EmitWithAck sends an event that asks the client for an acknowledgement.
// fn receives the client's ack arguments, or an error when the client does
// not answer within timeout or the socket goes away first.
func (s *Socket) EmitWithAck(event string, timeout time.Duration, fn func(args []json.RawMessage, err error), args ...any) error {
	name, err := eventNameJSON(event)
	if err != nil {
		return err
	}
	raw, atts, err := encodeArgs(args)
	if err != nil {
		return err
	}
	s.ackMu.Lock()
	if s.acks == nil {
		s.acks = map[int64]*pendingAck{}
	}
	id := s.nextAck
	s.nextAck++
	pa := &pendingAck{fn: fn}
	s.acks[id] = pa
	pa.timer = time.AfterFunc(timeout, func() {
		if s.takeAck(id) != nil {
			fn(nil, ErrAckTimeout)
		}
	})
	s.ackMu.Unlock()
	if err := s.sendPacket(PacketEvent, id, name, raw, atts); err != nil {
		if s.takeAck(id) != nil {
			pa.timer.Stop()
		}
		return err
	}
	return nil
}

// Errors passed to EmitWithAck callbacks.
var (
	ErrAckTimeout   = errors.New("operation has timed out")
	ErrDisconnected = errors.New("socket has been disconnected")
)

func (s *Socket) takeAck(id int64) *pendingAck {
	s.ackMu.Lock()
	defer s.ackMu.Unlock()
	pa := s.acks[id]
	delete(s.acks, id)
	return pa
}

// Disconnect sends the client a DISCONNECT packet (the client then gets
// "io server disconnect" and does not reconnect by itself) and closes the
// connection when no other namespace uses it; the engine closes only
// after the DISCONNECT is written.
func (s *Socket) Disconnect() {
	if s.gone.Load() {
		return
	}
	c := s.client
	last := c.removeSocket(s)
	s.writeMu.Lock()
	_ = c.conn.Send(eio.TextMessage(encodeObject(PacketDisconnect, s.hs.Namespace, noID, nil)))
	s.writeMu.Unlock()
	s.onClose(ReasonServerDisconnect)
	if last {
		c.close(ReasonServerDisconnect)
	}
}

// onPacket handles a packet for this socket (client goroutine).
func (s *Socket) onPacket(p *Packet) {
	switch p.Type {
	case PacketEvent, PacketBinaryEvent:
		if s.gone.Load() {
			return
		}
		s.session.OnEvent(&Event{Name: p.Name, Args: p.Args, Attachments: p.Attachments, sock: s, id: p.ID})
	case PacketAck, PacketBinaryAck:
		if pa := s.takeAck(p.ID); pa != nil {
			pa.timer.Stop()
			pa.fn(p.Args, nil)
		}
	case PacketDisconnect:
		s.client.removeSocket(s)
		s.onClose(ReasonClientDisconnect)
	}
}

// onClose runs the disconnect once: leave every room, fail pending acks,
// tell the session.
func (s *Socket) onClose(reason DisconnectReason) {
	if s.gone.Swap(true) {
		return
	}
	s.client.srv.remove(s)
	s.ackMu.Lock()
	acks := s.acks
	s.acks = nil
	s.ackMu.Unlock()
	for _, pa := range acks {
		pa.timer.Stop()
		pa.fn(nil, ErrDisconnected)
	}
	s.client.srv.cfg.Observer.SocketDisconnected(reason)
	if rec := s.client.srv.cfg.Recovery; rec != nil && s.tracked.Load() {
		s.saveMu.Lock()
		rec.Gone(s, reason)
		s.saveMu.Unlock()
	}
	if s.session != nil {
		s.session.OnDisconnect(reason)
	}
}

// Since returns the offset a saved session of this socket replays after
// when the client quotes none.
func (s *Socket) Since() string { return s.since }

func (s *Socket) sendPacket(t PacketType, id int64, head json.RawMessage, args []json.RawMessage, atts [][]byte) error {
	msgs := make([]*eio.Message, 0, 1+len(atts))
	msgs = append(msgs, eio.TextMessage(encodeArray(t, s.hs.Namespace, id, len(atts), head, args)))
	for _, a := range atts {
		msgs = append(msgs, eio.BinaryMessage(a))
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.gone.Load() {
		return errNotConnected
	}
	s.sendLocked(msgs...)
	return nil
}

// sendLocked queues messages on the engine without waiting for the
// network. A connection whose queue is full is cut by the engine (the
// close reaches the sessions as DisconnectSlow, and client.onClose counts
// the cut).
func (s *Socket) sendLocked(msgs ...*eio.Message) bool {
	err := s.client.conn.Send(msgs...)
	if errors.Is(err, eio.ErrQueueFull) { // only the send that cuts it gets this
		s.client.srv.cfg.Observer.QueueDropped()
	}
	return err == nil
}

func eventNameJSON(event string) (json.RawMessage, error) {
	for _, r := range reservedEvents {
		if event == r {
			return nil, errReserved(event)
		}
	}
	return json.Marshal(event)
}

// encodeArgs JSON-encodes arguments, turning []byte ones into attachments.
func encodeArgs(args []any) ([]json.RawMessage, [][]byte, error) {
	raw := make([]json.RawMessage, 0, len(args))
	var atts [][]byte
	for _, a := range args {
		if b, ok := a.([]byte); ok {
			ph, _ := json.Marshal(struct {
				Placeholder bool `json:"_placeholder"`
				Num         int  `json:"num"`
			}{true, len(atts)})
			raw = append(raw, ph)
			atts = append(atts, b)
			continue
		}
		b, err := json.Marshal(a)
		if err != nil {
			return nil, nil, err
		}
		raw = append(raw, b)
	}
	return raw, atts, nil
}

// Event is one event received from a client.
type Event struct {
	Name        string
	Args        []json.RawMessage // JSON arguments; attachments appear as placeholders
	Attachments [][]byte

	sock  *Socket
	id    int64
	acked atomic.Bool
}

// Socket returns the socket the event came from.
func (e *Event) Socket() *Socket { return e.sock }

// WantsAck reports whether the client passed an acknowledgement callback.
func (e *Event) WantsAck() bool { return e.id != noID }

// Ack answers the client's callback with args (once; later calls and calls
// for events without a callback do nothing).
func (e *Event) Ack(args ...any) error {
	raw, atts, err := encodeArgs(args)
	if err != nil {
		return err
	}
	return e.AckRaw(raw, atts)
}

// AckRaw answers with pre-encoded arguments and attachments.
func (e *Event) AckRaw(args []json.RawMessage, attachments [][]byte) error {
	if !e.WantsAck() || e.acked.Swap(true) {
		return nil
	}
	return e.sock.sendPacket(PacketAck, e.id, nil, args, attachments)
}
