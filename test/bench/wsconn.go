package bench

import (
	"bufio"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// wsConn is the smallest websocket client the bench needs: text frames
// only, no extensions, one small read buffer per connection. It is written
// here rather than taken from a library so that the load generator's own
// cost per socket stays small and visible (one goroutine, ~1 KB buffer).
type wsConn struct {
	c  net.Conn
	br *bufio.Reader

	wmu  sync.Mutex
	wbuf []byte
}

// maxFrame bounds what the generator accepts from a server.
const maxFrame = 1 << 20

// dialWS opens a websocket to addr (host:port) at path.
func dialWS(addr, path string, timeout time.Duration) (*wsConn, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(timeout))
	var key [16]byte
	_, _ = crand.Read(key[:])
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " +
		base64.StdEncoding.EncodeToString(key[:]) + "\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		c.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(c, 1024)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("upgrade: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") {
		c.Close()
		return nil, fmt.Errorf("upgrade: %s", resp.Status)
	}
	_ = c.SetDeadline(time.Time{})
	return &wsConn{c: c, br: br}, nil
}

// readText returns the next text message, answering pings and joining
// fragments. buf is reused for the result when large enough.
func (w *wsConn) readText(buf []byte) ([]byte, error) {
	msg := buf[:0]
	for {
		var h [2]byte
		if _, err := io.ReadFull(w.br, h[:]); err != nil {
			return nil, err
		}
		fin, op := h[0]&0x80 != 0, h[0]&0x0f
		if h[1]&0x80 != 0 {
			return nil, errors.New("masked frame from server")
		}
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(w.br, b[:]); err != nil {
				return nil, err
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(w.br, b[:]); err != nil {
				return nil, err
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		if n > maxFrame || uint64(len(msg))+n > maxFrame {
			return nil, fmt.Errorf("frame of %d bytes", n)
		}
		start := len(msg)
		msg = append(msg, make([]byte, n)...)[:start+int(n)]
		if _, err := io.ReadFull(w.br, msg[start:]); err != nil {
			return nil, err
		}
		switch op {
		case 0x8: // close
			return nil, io.EOF
		case 0x9: // ping → pong with the same payload
			p := append([]byte(nil), msg[start:]...)
			msg = msg[:start]
			if err := w.write(0xA, p); err != nil {
				return nil, err
			}
			continue
		case 0xA:
			msg = msg[:start]
			continue
		}
		if fin {
			return msg, nil
		}
	}
}

// writeText sends one masked text frame.
func (w *wsConn) writeText(p []byte) error { return w.write(0x1, p) }

func (w *wsConn) write(op byte, p []byte) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	b := w.wbuf[:0]
	b = append(b, 0x80|op)
	switch n := len(p); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n < 1<<16:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	var mask [4]byte
	binary.LittleEndian.PutUint32(mask[:], rand.Uint32())
	b = append(b, mask[:]...)
	off := len(b)
	b = append(b, p...)
	for i := range p {
		b[off+i] ^= mask[i&3]
	}
	if cap(b) <= 512 {
		w.wbuf = b
	}
	_ = w.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := w.c.Write(b)
	return err
}

func (w *wsConn) close() error { return w.c.Close() }
