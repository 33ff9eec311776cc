package eio

import "sync"

// Buffers for frames in flight (a frame split across reads, a fragmented
// message), pooled so that only connections with a frame in flight hold
// one, in a few size classes.
var bufPools = [...]struct {
	size int
	pool sync.Pool
}{{size: 512}, {size: 4 << 10}, {size: 32 << 10}}

func getBuf(n int) []byte {
	for i := range bufPools {
		p := &bufPools[i]
		if n <= p.size {
			if b, ok := p.pool.Get().(*[]byte); ok {
				return (*b)[:0]
			}
			return make([]byte, 0, p.size)
		}
	}
	return make([]byte, 0, n)
}

func putBuf(b []byte) {
	if b == nil {
		return
	}
	for i := range bufPools {
		p := &bufPools[i]
		if cap(b) == p.size {
			b = b[:0]
			p.pool.Put(&b)
			return
		}
	}
}
