package api

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"
)

func TestWindowLimiter(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)
	l := newWindowLimiter(time.Minute, 3, 100)
	for i := 0; i < 3; i++ {
		if ok, _ := l.allow("a", start.Add(time.Duration(i)*time.Second)); !ok {
			t.Fatalf("request %d refused, want allowed", i+1)
		}
	}
	ok, retry := l.allow("a", start.Add(10*time.Second))
	if ok || retry <= 0 || retry > time.Minute {
		t.Fatalf("got ok=%v retry=%v, want refused with a retry within the window", ok, retry)
	}
	if ok, _ := l.allow("b", start.Add(10*time.Second)); !ok {
		t.Fatal("another client is refused")
	}
	// Sliding: right after the window turns the previous window still
	// weighs (3 × ~0.98 ≥ 3 - 1), a full window later it does not.
	if ok, _ := l.allow("a", start.Add(61*time.Second)); ok {
		t.Fatal("allowed right after the window turned; the sliding estimate should still refuse")
	}
	if ok, _ := l.allow("a", start.Add(2*time.Minute+time.Second)); !ok {
		t.Fatal("refused two windows later")
	}
}

func TestWindowLimiterBoundedMemory(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)
	l := newWindowLimiter(time.Minute, 1, 10)
	for i := 0; i < 1000; i++ {
		l.allow(fmt.Sprint("client-", i), now)
	}
	if n := len(l.cur) + len(l.prev); n > 20 {
		t.Fatalf("tracking %d clients, want at most 2 × 10", n)
	}
}

func TestClientIP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, peer, trust, want string
	}{
		{"private peer is our proxy", "10.0.0.9:5555", ProxyPrivate, "5.6.7.8"},
		{"loopback peer is our proxy", "127.0.0.1:5555", ProxyPrivate, "5.6.7.8"},
		{"public peer is the client", "203.0.113.7:5555", ProxyPrivate, "203.0.113.7"},
		{"never trust", "10.0.0.9:5555", ProxyNone, "10.0.0.9"},
		{"always trust", "203.0.113.7:5555", ProxyAll, "5.6.7.8"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.peer
		r.Header.Set("X-Forwarded-For", "1.2.3.4, 5.6.7.8")
		if got := clientIP(r, tc.trust); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestUploadOrigin: uploaded images' URLs follow X-Forwarded-Proto/-Host
// only from a proxy TrustProxy believes; PUBLIC_URL overrides both.
func TestUploadOrigin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, peer, trust, public, want string
	}{
		{"our proxy", "127.0.0.1:5555", ProxyPrivate, "", "https://shop.example"},
		{"default mode is private", "10.0.0.9:5555", "", "", "https://shop.example"},
		{"a client's own headers", "203.0.113.7:5555", ProxyPrivate, "", "http://api.internal:5000"},
		{"never trust", "127.0.0.1:5555", ProxyNone, "", "http://api.internal:5000"},
		{"always trust", "203.0.113.7:5555", ProxyAll, "", "https://shop.example"},
		{"configured", "203.0.113.7:5555", ProxyAll, "https://cdn.example/", "https://cdn.example"},
	} {
		r := httptest.NewRequest("POST", "http://api.internal:5000/api/v1/upload/image", nil)
		r.RemoteAddr = tc.peer
		r.Header.Set("X-Forwarded-Proto", "https")
		r.Header.Set("X-Forwarded-Host", "shop.example")
		if got := (origin{public: tc.public, trust: tc.trust}).base(r); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}
