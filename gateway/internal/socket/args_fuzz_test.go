package socket

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The decoders get raw JSON from the Socket.IO layer, which has already
// checked it is valid JSON; inputs that are not are skipped.

// FuzzDecodeRegister: never panics; a decoded input re-encodes to the same.
func FuzzDecodeRegister(f *testing.F) {
	for _, s := range []string{`{"userId":"65f1c0ffee0000000000abcd","role":"delivery"}`, `{"userId":"a"}`, `null`, `"x"`, `{"userId":5}`, `{}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			return
		}
		in, err := DecodeRegister([]json.RawMessage{raw})
		if err != nil {
			return
		}
		again, _ := json.Marshal(map[string]string{"userId": in.UserID, "role": in.Role})
		in2, err := DecodeRegister([]json.RawMessage{again})
		if err != nil || in2 != in {
			t.Fatalf("%s: got %+v then %+v, %v", raw, in, in2, err)
		}
	})
}

// FuzzDecodeOrderRef: never panics; a decoded id is valid and re-decodes.
func FuzzDecodeOrderRef(f *testing.F) {
	for _, s := range []string{`"65f1c0ffee0000000000abcd"`, `{"orderId":"65f1c0ffee0000000000abcd"}`, `null`, `42`, `{"orderId":{"$gt":""}}`, `"../x"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			return
		}
		id, err := DecodeOrderRef([]json.RawMessage{raw})
		if err != nil {
			return
		}
		again, _ := json.Marshal(id)
		if id2, err := DecodeOrderRef([]json.RawMessage{again}); err != nil || id2 != id {
			t.Fatalf("%s: got %q then %q, %v", raw, id, id2, err)
		}
	})
}

// FuzzDecodeLocation: never panics; accepted coordinates are in range and
// re-decode to the same input.
func FuzzDecodeLocation(f *testing.F) {
	for _, s := range []string{
		`{"orderId":"65f1c0ffee0000000000abcd","latitude":12.97,"longitude":77.59}`,
		`{"orderId":"o1","latitude":90,"longitude":-180,"speed":3,"heading":359,"accuracy":5}`,
		`{"orderId":"o1","latitude":1e999,"longitude":0}`, `{"orderId":"o1","latitude":"1","longitude":2}`, `null`, `[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			return
		}
		in, err := DecodeLocation([]json.RawMessage{raw})
		if err != nil {
			return
		}
		if in.Latitude < -90 || in.Latitude > 90 || in.Longitude < -180 || in.Longitude > 180 {
			t.Fatalf("%s: accepted %+v", raw, in)
		}
		again, _ := json.Marshal(map[string]any{"orderId": in.OrderID, "latitude": in.Latitude, "longitude": in.Longitude,
			"speed": in.Speed, "heading": in.Heading, "accuracy": in.Accuracy})
		in2, err := DecodeLocation([]json.RawMessage{again})
		if err != nil || in2.OrderID != in.OrderID || in2.Latitude != in.Latitude || in2.Longitude != in.Longitude {
			t.Fatalf("%s: got %+v then %+v, %v", raw, in, in2, err)
		}
	})
}

// FuzzProofFrom: never panics; a found proof is bounded and trimmed, and
// a token is found exactly when the source says so.
func FuzzProofFrom(f *testing.F) {
	f.Add([]byte(`{"token":"Bearer abc.def.ghi"}`), "", "", "")
	f.Add([]byte(`{}`), "abc.def", "", "")
	f.Add([]byte(`{}`), "", "Bearer abc", "")
	f.Add([]byte(`{"token":5}`), "", "", "")
	f.Add([]byte(`{"token":null}`), "", "bearer  x ", "")
	f.Add([]byte(`{}`), "", "", "a=1; fph_socket=abc.def; b=2")
	f.Add([]byte(`{}`), "", "", `fph_socket="quoted"`)
	f.Fuzz(func(t *testing.T, authPayload []byte, query, header, cookie string) {
		if !json.Valid(authPayload) {
			return
		}
		proof, tok, err := ProofFrom(authPayload, url.Values{"token": {query}}, http.Header{"Authorization": {header}, "Cookie": {cookie}})
		if err != nil {
			return
		}
		if len(tok) > maxTokenLen || tok != strings.TrimSpace(tok) || (tok == "") != (proof == ProofNone) {
			t.Fatalf("got %s %q", proof, tok)
		}
	})
}
