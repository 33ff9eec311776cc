package sio

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
)

// memRecovery is a Recovery over a map, with a replay and a position the
// test sets, and a hook run inside Sync (to broadcast while a recovering
// socket is between its join and its replay).
type memRecovery struct {
	mu      sync.Mutex
	saved   map[string]Saved
	pos     string
	missed  [][]byte
	inSync  func()
	history []string // "save <sid> <rooms>" / "gone <sid> <reason>"
}

func (m *memRecovery) Find(_ context.Context, pid, offset string) (Saved, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.saved[pid]
	if ok && offset != "" {
		s.Offset = offset
	}
	return s, ok
}

func (m *memRecovery) Sync(fn func(string)) {
	m.mu.Lock()
	pos := m.pos
	m.mu.Unlock()
	fn(pos)
}

func (m *memRecovery) Missed(context.Context, []string, string, string) ([][]byte, error) {
	if m.inSync != nil {
		m.inSync() // live events broadcast after the join, before the replay is sent
	}
	return m.missed, nil
}

func (m *memRecovery) Save(s *Socket) {
	rooms := s.Rooms()
	slices.Sort(rooms)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.history = append(m.history, "save "+s.ID()+" "+strings.Join(rooms, ","))
	m.saved[s.PID()] = Saved{SID: s.ID(), PID: s.PID(), Rooms: rooms, Data: s.Data(), Offset: s.Since()}
}

func (m *memRecovery) Gone(s *Socket, r DisconnectReason) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.history = append(m.history, "gone "+s.ID()+" "+string(r))
}

func TestRecoveryOnTheWire(t *testing.T) {
	rec := &memRecovery{saved: map[string]Saved{}, pos: "5-0"}
	ts := newTestServer(t, Config{Recovery: rec}, nil)

	// A new session: the CONNECT reply carries a pid; room events carry
	// their offset as the last argument, direct emits do not.
	c := ts.dial(t, nil)
	c.send("40")
	var reply struct{ SID, PID string }
	if r := c.read(); !strings.HasPrefix(r, "40") || json.Unmarshal([]byte(r[2:]), &reply) != nil || len(reply.PID) < 22 {
		t.Fatalf("CONNECT reply %q: want sid and a pid of at least 128 bits", r)
	}
	c.send(`421["join","r1"]`)
	if r := c.read(); r != `431["joined"]` {
		t.Fatalf("join ack %q", r)
	}
	ts.srv.BroadcastAt("6-0", []string{"r1"}, nil, "ev", map[string]int{"n": 6})
	if r := c.read(); r != `42["ev",{"n":6},"6-0"]` {
		t.Fatalf("room event %q, want the offset as last argument", r)
	}
	_ = c.conn.Close()
	<-ts.gone

	// Recovery: same sid and pid, its rooms back, the replay first, then
	// what was broadcast meanwhile, and nothing up to the client's offset.
	rec.missed = [][]byte{[]byte(`2["ev",{"n":7},"7-0"]`)}
	rec.inSync = func() {
		ts.srv.BroadcastAt("6-0", []string{"r1"}, nil, "ev", map[string]int{"n": 6}) // already seen: skipped
		ts.srv.BroadcastAt("8-0", []string{"r1"}, nil, "ev", map[string]int{"n": 8}) // held until the replay is out
	}
	c2 := ts.dial(t, nil)
	c2.send(`40{"pid":"` + reply.PID + `","offset":"6-0","token":"x"}`)
	want := []string{
		`40{"sid":"` + reply.SID + `","pid":"` + reply.PID + `"}`,
		`42["ev",{"n":7},"7-0"]`,
		`42["ev",{"n":8},"8-0"]`,
	}
	for _, w := range want {
		if r := c2.read(); r != w {
			t.Fatalf("got %q, want %q", r, w)
		}
	}
	if n := ts.srv.RoomSize("r1"); n != 1 {
		t.Errorf("room r1 has %d sockets after recovery, want 1", n)
	}

	// An unknown pid: a new session.
	c3 := ts.dial(t, nil)
	c3.send(`40{"pid":"unknown","offset":"6-0"}`)
	if r := c3.read(); strings.Contains(r, reply.SID) || strings.Contains(r, `"unknown"`) {
		t.Fatalf("unknown pid restored something: %q", r)
	}
}

func TestRefuseRecovery(t *testing.T) {
	rec := &memRecovery{saved: map[string]Saved{"p1": {SID: "old-sid", PID: "p1", Rooms: []string{"secret"}, Offset: "1-0"}}, pos: "1-0"}
	ts := newTestServer(t, Config{Recovery: rec}, func(s *Socket) (Session, error) {
		s.RefuseRecovery() // say, the credentials name another user
		return &echoSession{sock: s}, nil
	})
	c := ts.dial(t, nil)
	c.send(`40{"pid":"p1","offset":"1-0"}`)
	if r := c.read(); strings.Contains(r, "old-sid") || strings.Contains(r, `"p1"`) {
		t.Fatalf("refused recovery still restored: %q", r)
	}
	if n := ts.srv.RoomSize("secret"); n != 0 {
		t.Errorf("refused recovery joined the old rooms (%d)", n)
	}
}

func TestRecoveryOffMeansNodeWithoutIt(t *testing.T) {
	ts := newTestServer(t, Config{}, nil)
	c := ts.dial(t, nil)
	c.send("40")
	if r := c.read(); strings.Contains(r, "pid") {
		t.Fatalf("CONNECT reply %q carries a pid with recovery off", r)
	}
	ts.srv.BroadcastAt("6-0", []string{RoomAll}, nil, "ev", nil)
	if r := c.read(); r != `42["ev"]` {
		t.Fatalf("room event %q, want no offset with recovery off", r)
	}
}

// TestDrain: a drain refuses new handshakes at once (the load balancer
// moves them on), closes every socket as "server shutting down" (a
// recoverable reason) and returns once none is left.
func TestDrain(t *testing.T) {
	ts := newTestServer(t, Config{}, nil)
	for range 2 {
		c := ts.dial(t, nil)
		c.send("40")
		if r := c.read(); !strings.HasPrefix(r, "40") {
			t.Fatalf("CONNECT reply %q", r)
		}
	}
	if n := ts.srv.Drain(context.Background(), 0); n != 2 {
		t.Fatalf("Drain closed %d sockets, want 2", n)
	}
	if n := ts.srv.SocketCount(); n != 0 {
		t.Fatalf("%d sockets left after the drain", n)
	}
	for range 2 {
		if r := <-ts.gone; r != ReasonServerShutdown || !r.Recoverable() {
			t.Fatalf("socket gone with %q, want a recoverable %q", r, ReasonServerShutdown)
		}
	}
	res, err := http.Get(ts.http.URL + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("handshake while draining: status %d, want 503", res.StatusCode)
	}
}
