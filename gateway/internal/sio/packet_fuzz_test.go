package sio

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzDecodePacket: any input either fails to decode, or decodes to a
// packet that encodes and decodes back to the same packet.
func FuzzDecodePacket(f *testing.F) {
	for _, s := range []string{
		"0", `0{"token":"123"}`, "0/custom,", `0/custom,{"token":"abc"}`, "1", "1/custom,",
		`2["message",1,"2",{"3":[true]}]`, `2456["message-with-ack",1]`, `3456[1,"2"]`,
		`4{"message":"Invalid namespace"}`, `52-["m",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`,
		`62-789[{"_placeholder":true,"num":0}]`, "abc", "2{}", `2abc["x"]`, `2["connect"]`, `2[7]`, "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := DecodePacket(s)
		if err != nil {
			return
		}
		for range p.Pending() {
			if err := p.AddAttachment([]byte{1}); err != nil {
				t.Fatalf("AddAttachment: %v", err)
			}
		}
		if p.AddAttachment(nil) == nil {
			t.Fatal("AddAttachment accepted one attachment too many")
		}
		text, atts := p.Encode()
		q, err := DecodePacket(text)
		if err != nil {
			t.Fatalf("re-decode %q (from %q): %v", text, s, err)
		}
		if q.Pending() != len(atts) {
			t.Fatalf("%q: got %d pending attachments, want %d", text, q.Pending(), len(atts))
		}
		if q.Type != p.Type && !(len(atts) == 0 && (p.Type == PacketBinaryEvent && q.Type == PacketEvent || p.Type == PacketBinaryAck && q.Type == PacketAck)) {
			t.Fatalf("%q → %q: type %d, want %d", s, text, q.Type, p.Type)
		}
		if q.Nsp != p.Nsp || q.ID != p.ID || q.Name != p.Name || len(q.Args) != len(p.Args) {
			t.Fatalf("%q → %q: got %+v, want %+v", s, text, q, p)
		}
		for i := range p.Args {
			if !jsonEqual(p.Args[i], q.Args[i]) {
				t.Fatalf("%q → %q: arg %d %s, want %s", s, text, i, q.Args[i], p.Args[i])
			}
		}
	})
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y bytes.Buffer
	if json.Compact(&x, a) != nil || json.Compact(&y, b) != nil {
		return false
	}
	return bytes.Equal(x.Bytes(), y.Bytes())
}
