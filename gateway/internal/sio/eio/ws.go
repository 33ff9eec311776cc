package eio

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"strings"
)

// isWebsocketUpgrade reports whether r asks for a websocket (RFC 6455 §4.2.1).
func isWebsocketUpgrade(r *http.Request) bool {
	return r.Method == http.MethodGet &&
		headerHasToken(r.Header, "Connection", "upgrade") &&
		headerHasToken(r.Header, "Upgrade", "websocket")
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// acceptKey computes Sec-WebSocket-Accept.
func acceptKey(key string) string {
	h := sha1.New()
	h.Write([]byte(key))
	h.Write([]byte("258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// validKey checks Sec-WebSocket-Key: base64 of 16 bytes.
func validKey(key string) bool {
	b, err := base64.StdEncoding.DecodeString(key)
	return err == nil && len(b) == 16
}

var (
	errProtocol = errors.New("websocket protocol error")
	errTooBig   = errors.New("websocket message too big")
)

// wsReader reassembles the client's frames into messages. It holds no
// buffer between reads unless a frame is split across them; that partial
// frame (and a fragmented message) is all it keeps.
type wsReader struct {
	partial []byte // the start of a frame not complete yet
	frag    []byte // a fragmented message being assembled
	fragOp  byte
}

// wsHandler is called with one complete frame. Its payload is
// unmasked in place and only valid during the callback.
type wsHandler func(op byte, payload []byte) error

// feed parses data (which it may modify: payloads are unmasked in place),
// calling fn for every complete message and control frame. max bounds a
// message's size.
func (r *wsReader) feed(data []byte, max int64, fn wsHandler) error {
	if len(r.partial) > 0 {
		r.partial = append(r.partial, data...)
		data = r.partial
	}
	for {
		n, err := r.frame(data, max, fn)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		data = data[n:]
	}
	if len(data) == 0 {
		putBuf(r.partial)
		r.partial = nil
		return nil
	}
	if len(r.partial) > 0 && &data[0] == &r.partial[0] {
		return nil // still the same incomplete frame
	}
	rest := getBuf(len(data))
	rest = append(rest, data...)
	putBuf(r.partial)
	r.partial = rest
	return nil
}

// frame parses one frame at the start of b; it returns 0 when b does not
// hold a complete frame yet.
func (r *wsReader) frame(b []byte, max int64, fn wsHandler) (int, error) {
	if len(b) < 2 {
		return 0, nil
	}
	fin := b[0]&0x80 != 0
	if b[0]&0x70 != 0 { // no extension is negotiated
		return 0, errProtocol
	}
	op := b[0] & 0x0F
	if b[1]&0x80 == 0 { // client frames must be masked
		return 0, errProtocol
	}
	n := int64(b[1] & 0x7F)
	i := 2
	switch n {
	case 126:
		if len(b) < 4 {
			return 0, nil
		}
		n = int64(binary.BigEndian.Uint16(b[2:]))
		i = 4
	case 127:
		if len(b) < 10 {
			return 0, nil
		}
		u := binary.BigEndian.Uint64(b[2:])
		if u > 1<<62 {
			return 0, errTooBig
		}
		n = int64(u)
		i = 10
	}
	if op >= 0x8 && (n > 125 || !fin) {
		return 0, errProtocol
	}
	if n+int64(len(r.frag)) > max && op < 0x8 {
		return 0, errTooBig
	}
	if int64(len(b)-i-4) < n {
		return 0, nil
	}
	var mask [4]byte
	copy(mask[:], b[i:i+4])
	i += 4
	payload := b[i : i+int(n)]
	unmask(payload, mask)
	end := i + int(n)

	switch op {
	case opClose, opPing, opPong:
		return end, fn(op, payload)
	case opText, opBinary:
		if r.frag != nil {
			return 0, errProtocol
		}
		if fin {
			return end, fn(op, payload)
		}
		r.fragOp = op
		r.frag = append(getBuf(len(payload)), payload...)
		return end, nil
	case opContinuation:
		if r.frag == nil {
			return 0, errProtocol
		}
		r.frag = append(r.frag, payload...)
		if !fin {
			return end, nil
		}
		msg := r.frag
		r.frag = nil
		err := fn(r.fragOp, msg)
		putBuf(msg)
		return end, err
	}
	return 0, errProtocol
}

func unmask(b []byte, mask [4]byte) {
	if len(b) >= 8 {
		m := uint64(binary.LittleEndian.Uint32(mask[:]))
		m |= m << 32
		for len(b) >= 8 {
			binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^m)
			b = b[8:]
		}
	}
	for i := range b {
		b[i] ^= mask[i&3]
	}
}
