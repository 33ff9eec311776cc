package fanout

import (
	"sync"
	"time"
)

// seenSet remembers recent event ids, bounded both in count and in age.
// Entries sit in a ring in insertion order, which is also time order, so
// evicting the oldest and expiring the too old are both "pop the head".
type seenSet struct {
	mu   sync.Mutex
	ttl  time.Duration
	ids  map[string]uint64 // id → seq of its ring entry
	ring []seenEntry
	head int // oldest entry
	n    int // entries in the ring
	seq  uint64
}

type seenEntry struct {
	id  string
	at  time.Time
	seq uint64
}

func newSeenSet(size int, ttl time.Duration) *seenSet {
	return &seenSet{ttl: ttl, ids: make(map[string]uint64, min(size, 4096)), ring: make([]seenEntry, size)}
}

// add records id and reports whether it was new.
func (s *seenSet) add(id string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.n > 0 && now.Sub(s.ring[s.head].at) >= s.ttl {
		s.pop()
	}
	if _, ok := s.ids[id]; ok {
		return false
	}
	if s.n == len(s.ring) {
		s.pop()
	}
	s.seq++
	s.ring[(s.head+s.n)%len(s.ring)] = seenEntry{id: id, at: now, seq: s.seq}
	s.n++
	s.ids[id] = s.seq
	return true
}

// forget removes id; its ring entry stays until popped, and the seq check
// in pop keeps that stale entry from removing a later add of the same id.
func (s *seenSet) forget(id string) {
	s.mu.Lock()
	delete(s.ids, id)
	s.mu.Unlock()
}

func (s *seenSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

func (s *seenSet) pop() {
	e := s.ring[s.head]
	if seq, ok := s.ids[e.id]; ok && seq == e.seq {
		delete(s.ids, e.id)
	}
	s.ring[s.head] = seenEntry{}
	s.head = (s.head + 1) % len(s.ring)
	s.n--
}
