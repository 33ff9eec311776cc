package sio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// PacketType is a Socket.IO v5 packet type.
type PacketType byte

// The packet types of the Socket.IO v5 protocol.
const (
	PacketConnect      PacketType = 0
	PacketDisconnect   PacketType = 1
	PacketEvent        PacketType = 2
	PacketAck          PacketType = 3
	PacketConnectError PacketType = 4
	PacketBinaryEvent  PacketType = 5
	PacketBinaryAck    PacketType = 6
)

// Limits of the decoder. Attachments are bounded like socket.io-parser's
// maxAttachments; ack ids stay within JavaScript's exact integer range.
const (
	maxAttachments = 10
	maxIDDigits    = 15
)

// noID marks a packet without an ack id.
const noID int64 = -1

// reservedEvents cannot be sent by a client (socket.io-parser RESERVED_EVENTS).
var reservedEvents = [...]string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}

// ErrInvalidPacket is wrapped by every decoding error: Node closes the
// connection on such a packet, and so do we.
var ErrInvalidPacket = errors.New("invalid socket.io packet")

// Packet is one decoded Socket.IO packet. For events, Name is the event name
// and Args the remaining array elements; for acks, Args is the whole array.
// Binary attachments stay referenced by their {"_placeholder":true,"num":n}
// objects in Args, in the order of Attachments.
type Packet struct {
	Type        PacketType
	Nsp         string
	ID          int64 // noID when absent
	Data        json.RawMessage
	Name        string
	Args        []json.RawMessage
	Attachments [][]byte

	attachments int // announced attachment count (binary packets)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidPacket, fmt.Sprintf(format, args...))
}

// DecodePacket parses the text part of a Socket.IO packet, the way
// socket.io-parser's Decoder.decodeString does. A binary packet comes back
// with its announced attachment count in Pending(); the caller then feeds
// the binary frames to AddAttachment.
func DecodePacket(s string) (Packet, error) {
	p := Packet{Nsp: "/", ID: noID}
	if s == "" {
		return p, invalid("empty packet")
	}
	c := s[0]
	if c < '0' || c > '6' {
		return p, invalid("unknown packet type %q", c)
	}
	p.Type = PacketType(c - '0')
	i := 1

	if p.Type == PacketBinaryEvent || p.Type == PacketBinaryAck {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i || j >= len(s) || s[j] != '-' || j-i > 3 {
			return p, invalid("illegal attachments")
		}
		n, _ := strconv.Atoi(s[i:j])
		if n > maxAttachments {
			return p, invalid("too many attachments: %d", n)
		}
		p.attachments = n
		i = j + 1
	}

	if i < len(s) && s[i] == '/' {
		j := i
		for j < len(s) && s[j] != ',' {
			j++
		}
		p.Nsp = s[i:j]
		i = j
		if i < len(s) { // skip the comma
			i++
		}
	}

	if i < len(s) && s[i] >= '0' && s[i] <= '9' {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j-i > maxIDDigits {
			return p, invalid("ack id too long")
		}
		p.ID, _ = strconv.ParseInt(s[i:j], 10, 64)
		i = j
	}

	if i < len(s) {
		p.Data = json.RawMessage(s[i:])
		if !json.Valid(p.Data) {
			return p, invalid("payload is not JSON")
		}
	}
	if err := p.checkPayload(); err != nil {
		return p, err
	}
	return p, nil
}

// checkPayload applies socket.io-parser's isPayloadValid and splits event
// and ack arrays into Name and Args.
func (p *Packet) checkPayload() error {
	first := byte(0)
	if d := bytes.TrimLeft(p.Data, " \t\r\n"); len(d) > 0 {
		first = d[0]
	}
	switch p.Type {
	case PacketConnect:
		if p.Data != nil && first != '{' {
			return invalid("connect payload must be an object")
		}
	case PacketDisconnect:
		if p.Data != nil {
			return invalid("disconnect packet with payload")
		}
	case PacketConnectError:
		if p.Data != nil && first != '{' && first != '"' {
			return invalid("connect_error payload must be a string or an object")
		}
	case PacketEvent, PacketBinaryEvent:
		if first != '[' {
			return invalid("event payload must be an array")
		}
		var arr []json.RawMessage
		if err := json.Unmarshal(p.Data, &arr); err != nil || len(arr) == 0 {
			return invalid("event payload must be a non-empty array")
		}
		name, err := eventName(arr[0])
		if err != nil {
			return err
		}
		p.Name, p.Args = name, arr[1:]
	case PacketAck, PacketBinaryAck:
		if first != '[' {
			return invalid("ack payload must be an array")
		}
		if err := json.Unmarshal(p.Data, &p.Args); err != nil {
			return invalid("ack payload must be an array")
		}
		if p.ID == noID {
			return invalid("ack without id")
		}
	}
	return nil
}

// eventName accepts a string that is not reserved, or a number (both are
// valid for socket.io-parser).
func eventName(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var name string
		if err := json.Unmarshal(raw, &name); err != nil {
			return "", invalid("bad event name")
		}
		for _, r := range reservedEvents {
			if name == r {
				return "", invalid("reserved event name %q", name)
			}
		}
		return name, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", invalid("event name must be a string")
	}
	return n.String(), nil
}

// Pending reports how many binary attachments the packet still waits for.
func (p *Packet) Pending() int { return p.attachments - len(p.Attachments) }

// AddAttachment appends one binary frame to a binary packet.
func (p *Packet) AddAttachment(b []byte) error {
	if p.Pending() <= 0 {
		return invalid("unexpected binary frame")
	}
	p.Attachments = append(p.Attachments, b)
	return nil
}

// appendHeader writes "<type>[<n>-][<nsp>,][<id>]".
func appendHeader(dst []byte, t PacketType, nsp string, id int64, attachments int) []byte {
	dst = append(dst, byte('0'+t))
	if attachments > 0 {
		dst = strconv.AppendInt(dst, int64(attachments), 10)
		dst = append(dst, '-')
	}
	if nsp != "" && nsp != "/" {
		dst = append(dst, nsp...)
		dst = append(dst, ',')
	}
	if id >= 0 {
		dst = strconv.AppendInt(dst, id, 10)
	}
	return dst
}

// encodeArray builds a complete text packet whose payload is a JSON array
// of head (a pre-encoded event name, or nothing for acks) followed by args.
func encodeArray(t PacketType, nsp string, id int64, attachments int, head json.RawMessage, args []json.RawMessage) []byte {
	size := 16 + len(nsp) + len(head)
	for _, a := range args {
		size += len(a) + 1
	}
	b := make([]byte, 0, size)
	if attachments > 0 {
		if t == PacketEvent {
			t = PacketBinaryEvent
		} else if t == PacketAck {
			t = PacketBinaryAck
		}
	}
	b = appendHeader(b, t, nsp, id, attachments)
	b = append(b, '[')
	sep := false
	if head != nil {
		b = append(b, head...)
		sep = true
	}
	for _, a := range args {
		if sep {
			b = append(b, ',')
		}
		b = append(b, a...)
		sep = true
	}
	return append(b, ']')
}

// encodeObject builds a text packet with an optional object payload
// (CONNECT, CONNECT_ERROR, DISCONNECT).
func encodeObject(t PacketType, nsp string, id int64, payload json.RawMessage) []byte {
	b := appendHeader(make([]byte, 0, 8+len(nsp)+len(payload)), t, nsp, id, 0)
	return append(b, payload...)
}

// Encode returns the wire form of p: the text packet followed by its binary
// attachments. It is the inverse of DecodePacket for valid packets.
func (p *Packet) Encode() (string, [][]byte) {
	switch p.Type {
	case PacketEvent, PacketBinaryEvent:
		name, _ := json.Marshal(p.Name)
		return string(encodeArray(PacketEvent, p.Nsp, p.ID, len(p.Attachments), name, p.Args)), p.Attachments
	case PacketAck, PacketBinaryAck:
		return string(encodeArray(PacketAck, p.Nsp, p.ID, len(p.Attachments), nil, p.Args)), p.Attachments
	}
	return string(encodeObject(p.Type, p.Nsp, p.ID, p.Data)), nil
}
