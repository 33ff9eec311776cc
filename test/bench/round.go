package bench

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// What a published item is, and so who may receive it and as which
// socket events (the rows of gateway/internal/routing/matrix.go the bench
// uses).
const (
	kindAll   = iota + 1 // business.status_changed → business:status:update to every socket
	kindOrder            // order.status_changed of order k → order:status:update to its customer, agent, admins; order:status:changed to admins
	kindNotif            // notification.created for customer j → notification:new to user:<j>
	kindLoc              // delivery:location of agent k → delivery:location:update to customer k and admins (never agents)
)

// entry is one published item. Fields are atomics: the publisher writes
// them and socket readers read them, ordered only through the gateway.
type entry struct {
	kind   atomic.Int32
	target atomic.Int32 // order or customer index
	at     atomic.Int64 // publish instant, unix ns
}

// round accounts one scenario: what was published, who should have got
// it, who did, and how late.
type round struct {
	base int64 // first seq of this round
	ent  []entry
	n    atomic.Int64 // entries published so far

	exp    []atomic.Int32 // per socket: targeted deliveries expected
	got    []atomic.Int32 // per socket: correct deliveries received
	allExp atomic.Int32   // broadcasts published: expected by every live socket

	totalExp, totalGot atomic.Int64
	misrouted          atomic.Int64 // a delivery to a socket outside the item's audience
	unordered          atomic.Int64 // a broadcast received after a later one, on the same socket
	late               atomic.Int64 // a seq of no item of this round
	refused            atomic.Int64 // location reports refused (error ack or error event)
	acked              atomic.Int64 // location reports accepted
	lastRecv           atomic.Int64 // unix ns of the last correct delivery
	hist               histogram
}

func newRound(base int64, capacity, sockets int) *round {
	return &round{base: base, ent: make([]entry, capacity), exp: make([]atomic.Int32, sockets), got: make([]atomic.Int32, sockets)}
}

// add records item i before it is published; it returns its seq, or -1
// when the round is full.
func (r *round) add(kind, target int, at time.Time) int64 {
	i := r.n.Load()
	if int(i) >= len(r.ent) {
		return -1
	}
	e := &r.ent[i]
	e.kind.Store(int32(kind))
	e.target.Store(int32(target))
	e.at.Store(at.UnixNano())
	r.n.Store(i + 1)
	return r.base + i
}

// deliver accounts one socket event with seq received by c at now.
func (r *round) deliver(c *client, name string, seq int64, now time.Time) {
	i := seq - r.base
	if seq < 0 || i < 0 || i >= r.n.Load() {
		r.late.Add(1)
		return
	}
	e := &r.ent[i]
	if !allowed(int(e.kind.Load()), int(e.target.Load()), c, name) {
		r.misrouted.Add(1)
		return
	}
	if e.kind.Load() == kindAll {
		if seq < c.lastAll.Load() {
			r.unordered.Add(1)
		} else {
			c.lastAll.Store(seq)
		}
	}
	r.got[c.idx].Add(1)
	r.totalGot.Add(1)
	ns := now.UnixNano()
	r.hist.add(time.Duration(ns - e.at.Load()))
	r.lastRecv.Store(ns)
}

// allowed is the bench's copy of the routing matrix rows it exercises.
func allowed(kind, target int, c *client, name string) bool {
	switch kind {
	case kindAll:
		return name == "business:status:update"
	case kindOrder:
		switch name {
		case "order:status:update":
			return c.role == roleAdmin || c.roleIdx == target
		case "order:status:changed":
			return c.role == roleAdmin
		}
	case kindNotif:
		return name == "notification:new" && c.role == roleCustomer && c.roleIdx == target
	case kindLoc:
		return name == "delivery:location:update" && (c.role == roleAdmin || (c.role == roleCustomer && c.roleIdx == target))
	}
	return false
}

// expectOne adds one expected delivery to c if it is live.
func (r *round) expectOne(c *client, n int32) {
	if c == nil || !c.live.Load() {
		return
	}
	r.exp[c.idx].Add(n)
	r.totalExp.Add(int64(n))
}

// refuse takes a refused location report out of the expectations.
func (r *round) refuse(f *fleet, seq int64) {
	r.refused.Add(1)
	i := seq - r.base
	if i < 0 || i >= r.n.Load() || r.ent[i].kind.Load() != kindLoc {
		return
	}
	k := int(r.ent[i].target.Load())
	for _, c := range f.locAudience(k) {
		if c.live.Load() {
			r.exp[c.idx].Add(-1)
			r.totalExp.Add(-1)
		}
	}
}

// tally returns lost and duplicated deliveries over the sockets that
// connected (a socket that died mid-round lost what it did not get), and
// how much of the loss is on sockets still connected.
func (r *round) tally(f *fleet) (lost, dup, lostLive int64) {
	all := r.allExp.Load()
	for _, c := range f.clients {
		if !c.ok || c.gone.Load() {
			continue // never connected (a failed connection), or retired
		}
		want := r.exp[c.idx].Load() + all
		got := r.got[c.idx].Load()
		if got < want {
			lost += int64(want - got)
			if c.live.Load() {
				lostLive += int64(want - got)
			}
		} else {
			dup += int64(got - want)
		}
	}
	return lost, dup, lostLive
}

// histogram is a lock-free log-linear histogram of microseconds: 16
// buckets per power of two, so a percentile is within ~6 %.
type histogram struct {
	b [1024]atomic.Uint64
	n atomic.Uint64
}

func bucketOf(us uint64) int {
	if us < 16 {
		return int(us)
	}
	l := bits.Len64(us)
	m := us >> (l - 5) // 16..31
	return (l-4)*16 + int(m-16)
}

// bucketMid is the middle of bucket i, in microseconds.
func bucketMid(i int) float64 {
	if i < 16 {
		return float64(i) + 0.5
	}
	l, m := i/16+4, uint64(i%16+16)
	lo := m << (l - 5)
	return float64(lo) + float64(uint64(1)<<(l-5))/2
}

func (h *histogram) add(d time.Duration) {
	us := uint64(0)
	if d > 0 {
		us = uint64(d / time.Microsecond)
	}
	h.b[bucketOf(us)].Add(1)
	h.n.Add(1)
}

// quantile returns the q-quantile in milliseconds (0 when empty).
func (h *histogram) quantile(q float64) float64 {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n-1)) + 1
	var seen uint64
	for i := range h.b {
		seen += h.b[i].Load()
		if seen >= rank {
			return bucketMid(i) / 1000
		}
	}
	return 0
}
