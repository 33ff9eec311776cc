// Package logid compares the ids of the bus's replay log ("<ms>-<seq>",
// Redis stream ids). The gateway uses them as Socket.IO recovery offsets,
// so every replica orders them alike.
package logid

import (
	"strconv"
	"strings"
)

// maxLen bounds an id: two uint64s and the dash.
const maxLen = 41

// Valid reports whether s is a log id.
func Valid(s string) bool {
	_, _, ok := parse(s)
	return ok
}

// After reports whether id a comes after b. A malformed a comes after
// nothing; a malformed b (say "", no position yet) comes before every id.
func After(a, b string) bool {
	am, as, aok := parse(a)
	bm, bs, bok := parse(b)
	switch {
	case !aok:
		return false
	case !bok:
		return true
	}
	return am > bm || am == bm && as > bs
}

func parse(s string) (ms, seq uint64, ok bool) {
	a, b, found := strings.Cut(s, "-")
	if !found || len(s) > maxLen {
		return 0, 0, false
	}
	ms, err1 := strconv.ParseUint(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	return ms, seq, err1 == nil && err2 == nil
}
