package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestReaderDefaultsAndValues(t *testing.T) {
	r := NewReader(env(map[string]string{"PORT": "8080", "ON": "yes", "D": "1500", "D2": "2s", "L": "a, b,,c", "MODE": "JSON"}))
	if got := r.Port("PORT", 5000); got != 8080 {
		t.Errorf("got port %d, want 8080", got)
	}
	if got := r.Port("UNSET", 5000); got != 5000 {
		t.Errorf("got %d, want default 5000", got)
	}
	if !r.Bool("ON", false) {
		t.Error("got false, want true")
	}
	if got := r.Duration("D", 0); got != 1500*time.Millisecond {
		t.Errorf("got %v, want 1.5s (bare numbers are milliseconds)", got)
	}
	if got := r.Duration("D2", 0); got != 2*time.Second {
		t.Errorf("got %v, want 2s", got)
	}
	if got := r.List("L", nil); strings.Join(got, "|") != "a|b|c" {
		t.Errorf("got %q", got)
	}
	if got := r.OneOf("MODE", "text", "text", "json"); got != "json" {
		t.Errorf("got %q, want json", got)
	}
	if err := r.Err(); err != nil {
		t.Errorf("unexpected error: %v", err)
	}
}

func TestReaderReportsEveryProblem(t *testing.T) {
	r := NewReader(env(map[string]string{
		"PORT": "http", "ON": "maybe", "D": "-5", "U": "redis://:secret@", "MODE": "xml", "N": "99",
	}))
	r.Port("PORT", 0)
	r.Bool("ON", false)
	r.Duration("D", 0)
	r.URL("U", "", "redis")
	r.OneOf("MODE", "text", "text", "json")
	r.Int("N", 0, 1, 10)
	err := r.Err()
	if err == nil {
		t.Fatal("want errors")
	}
	for _, name := range []string{"PORT", "ON", "D", "U", "MODE", "N"} {
		if !strings.Contains(err.Error(), name+":") {
			t.Errorf("error does not mention %s: %v", name, err)
		}
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error leaks a password: %v", err)
	}
}
