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

	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	"github.com/zishang520/socket.io/v3/pkg/types"
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

	// writeMu keeps the frames of one packet (a binary packet and its
	// attachments) together, and the CONNECT reply first.
	writeMu  sync.Mutex
	inflight atomic.Int64 // packets queued on the engine and not yet written
	onSent   func(transports.Transport)

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
	held     [][]byte
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

// frame is one Engine.IO message.
type frame struct {
	b      []byte
	binary bool
}

func newSocket(c *client, ns *namespace, hs Handshake) *Socket {
	s := &Socket{id: newID(), client: c, nsp: ns, hs: hs, rooms: map[string]struct{}{}}
	s.onSent = func(transports.Transport) { s.inflight.Add(-1) }
	return s
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
func (s *Socket) Join(rooms ...string) {
	s.client.srv.join(s, rooms...)
	s.saveState()
}

// Leave removes the socket from rooms.
func (s *Socket) Leave(rooms ...string) {
	s.client.srv.leave(s, rooms...)
	s.saveState()
}

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
// "io server disconnect" and does not reconnect by itself), waits for it to
// be written, and closes the connection when no other namespace uses it.
func (s *Socket) Disconnect() {
	if s.gone.Load() {
		return
	}
	c := s.client
	last := c.removeSocket(s)
	done := make(chan struct{})
	var once sync.Once
	finish := func() {
		once.Do(func() {
			close(done)
			if last {
				c.closeGracefully(ReasonServerDisconnect)
			}
		})
	}
	s.writeMu.Lock()
	s.inflight.Add(1)
	c.conn.Send(frameReader(frame{b: encodeObject(PacketDisconnect, s.hs.Namespace, noID, nil)}), nil, func(transports.Transport) {
		s.inflight.Add(-1)
		// Called on the engine's write goroutine once the frame is out;
		// close from elsewhere so its queue is not closed under it.
		c.srv.async(finish)
	})
	s.writeMu.Unlock()
	s.onClose(ReasonServerDisconnect)
	c.srv.async(func() {
		t := time.NewTimer(c.srv.cfg.CloseGrace)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			finish()
		}
	})
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
	frames := make([]frame, 0, 1+len(atts))
	frames = append(frames, frame{b: encodeArray(t, s.hs.Namespace, id, len(atts), head, args)})
	for _, a := range atts {
		frames = append(frames, frame{b: a, binary: true})
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.gone.Load() {
		return errNotConnected
	}
	s.sendLocked(frames)
	return nil
}

// sendLocked queues frames on the engine without waiting for the network.
// A socket whose queue is full is cut (asynchronously: closing runs the
// disconnect path, which must not run under writeMu or on the caller's
// goroutine, typically the broadcaster).
func (s *Socket) sendLocked(frames []frame) bool {
	if s.inflight.Load()+int64(len(frames)) > int64(s.client.srv.cfg.MaxQueue) {
		if s.client.closeReason.CompareAndSwap(nil, ptr(DisconnectSlow)) {
			s.client.srv.logger.Warn("socket.io: cutting slow socket", "socket_id", s.id, "queued", s.inflight.Load())
			s.client.srv.async(func() { s.client.conn.Close(true) })
		}
		return false
	}
	for _, f := range frames {
		s.inflight.Add(1)
		s.client.conn.Send(frameReader(f), nil, s.onSent)
	}
	return true
}

func ptr[T any](v T) *T { return &v }

func frameReader(f frame) types.BufferInterface {
	if f.binary {
		return types.NewBytesBuffer(f.b)
	}
	return types.NewStringBuffer(f.b)
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
