package testapi

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/friendspizzahut/platform/test/jsclient"
)

// socketWait bounds the waits of the socket helpers.
const socketWait = 20 * time.Second

// Obj decodes one event argument as a JSON object.
func Obj(tb testing.TB, raw json.RawMessage) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		tb.Fatalf("arg %s is not an object: %v", raw, err)
	}
	return m
}

// Field returns the string field key of an event's first argument ("" if
// there is none).
func Field(args []json.RawMessage, key string) string {
	if len(args) == 0 {
		return ""
	}
	var m map[string]any
	if json.Unmarshal(args[0], &m) != nil {
		return ""
	}
	s, _ := m[key].(string)
	return s
}

// FieldIs matches events whose first argument has key == want.
func FieldIs(key, want string) func([]json.RawMessage) bool {
	return func(args []json.RawMessage) bool { return Field(args, key) == want }
}

// CountWith counts the socket's events named name whose key == want.
func CountWith(s *jsclient.Socket, name, key, want string) int {
	n := 0
	for _, args := range s.Events(name) {
		if Field(args, key) == want {
			n++
		}
	}
	return n
}

// Raw renders event arguments for failure messages.
func Raw(args []json.RawMessage) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		parts = append(parts, string(a))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// Register emits register {userId, role} like the apps and returns the
// registered reply, whether it says success or not.
func Register(tb testing.TB, s *jsclient.Socket, userID, role string) map[string]any {
	tb.Helper()
	s.Emit("register", map[string]any{"userId": userID, "role": role})
	return Obj(tb, s.WaitEvent(tb, "registered", socketWait, nil)[0])
}

// MustRegister registers the socket as u and fails unless it succeeds.
func MustRegister(tb testing.TB, s *jsclient.Socket, u User) {
	tb.Helper()
	if got := Register(tb, s, u.ID, u.Role); got["success"] != true || got["userId"] != u.ID || got["role"] != u.Role {
		tb.Fatalf("register %s %s: got %v, want success", u.Role, u.ID, got)
	}
}

// JoinOrder emits join:order with an ack and fails unless it succeeds.
func JoinOrder(tb testing.TB, s *jsclient.Socket, orderID string) {
	tb.Helper()
	ack := s.EmitWithAck(tb, socketWait, "join:order", orderID)
	if len(ack) == 0 || Obj(tb, ack[0])["success"] != true {
		tb.Fatalf("join:order %s: got %s, want success", orderID, Raw(ack))
	}
}
