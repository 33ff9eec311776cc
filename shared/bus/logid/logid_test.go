package logid

import "testing"

func TestValid(t *testing.T) {
	for s, want := range map[string]bool{
		"0-0": true, "1700000000000-3": true, "18446744073709551615-18446744073709551615": true,
		"": false, "12": false, "a-1": false, "1-b": false, "-1": false, "1-": false, "1-2-3": false,
		"18446744073709551616-0": false, "0000000000000000000001-00000000000000000001": false,
	} {
		if got := Valid(s); got != want {
			t.Errorf("Valid(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestAfter(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"2-0", "1-9", true},
		{"1-10", "1-9", true}, // numeric, not lexical
		{"1-9", "1-10", false},
		{"1-1", "1-1", false},
		{"1-1", "", true},  // no position yet: every id is after it
		{"", "1-1", false}, // a malformed id is after nothing
		{"x", "", false},
	} {
		if got := After(tt.a, tt.b); got != tt.want {
			t.Errorf("After(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
