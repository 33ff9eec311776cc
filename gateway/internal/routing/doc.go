// Package routing decides who gets which socket event for a domain event.
//
// matrix.go holds the one declarative table (DESIGN §4): domain type →
// socket event → audiences → payload mapping. route.go applies it to one
// envelope and returns Deliveries, one per row that fires; payloads.go holds
// one typed struct per socket payload shape (CONTRACT.md field names plus
// timestamp).
//
// It is pure: no I/O, no sockets, no Redis. The caller (fanout) hands each
// Delivery to the socket layer, which sends it once to every local socket in
// the union of Rooms and in none of Except.
package routing
