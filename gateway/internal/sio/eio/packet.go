package eio

import (
	"bytes"
	"encoding/base64"
	"errors"
)

// PacketType is an Engine.IO v4 packet type.
type PacketType byte

// The Engine.IO v4 packet types.
const (
	PacketOpen    PacketType = 0
	PacketClose   PacketType = 1
	PacketPing    PacketType = 2
	PacketPong    PacketType = 3
	PacketMessage PacketType = 4
	PacketUpgrade PacketType = 5
	PacketNoop    PacketType = 6
)

// recordSeparator separates the packets of a polling payload.
const recordSeparator = '\x1e'

// ErrInvalidPacket reports an undecodable packet; Node closes the session
// ("parse error") on one and so do we.
var ErrInvalidPacket = errors.New("invalid engine.io packet")

// Packet is one decoded Engine.IO packet. Data aliases the input.
type Packet struct {
	Type   PacketType
	Data   []byte
	Binary bool // a binary message (websocket binary frame or "b" record)
}

// DecodePacket decodes one text packet the way engine.io-parser's
// decodePacket does for a string: the first character is the type, the
// rest is the data; "b" starts a base64 binary message.
func DecodePacket(s []byte) (Packet, error) {
	if len(s) == 0 {
		return Packet{}, ErrInvalidPacket
	}
	if s[0] == 'b' {
		data, err := decodeBase64(s[1:])
		if err != nil {
			return Packet{}, ErrInvalidPacket
		}
		return Packet{Type: PacketMessage, Data: data, Binary: true}, nil
	}
	t := s[0] - '0'
	if s[0] < '0' || t > byte(PacketNoop) {
		return Packet{}, ErrInvalidPacket
	}
	return Packet{Type: PacketType(t), Data: s[1:]}, nil
}

// decodeBase64 decodes standard, padded base64 (what engine.io-client
// sends).
func decodeBase64(s []byte) ([]byte, error) {
	out := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(out, s)
	return out[:n], err
}

// DecodePayload splits a polling payload into its packets. Like
// engine.io-parser's decodePayload, an undecodable record ends the payload:
// the packets before it are returned together with the error.
func DecodePayload(body []byte) ([]Packet, error) {
	var out []Packet
	for {
		i := bytes.IndexByte(body, recordSeparator)
		rec := body
		if i >= 0 {
			rec = body[:i]
		}
		p, err := DecodePacket(rec)
		if err != nil {
			return out, err
		}
		out = append(out, p)
		if i < 0 {
			return out, nil
		}
		body = body[i+1:]
	}
}

// appendPayloadRecord appends one packet to a polling payload being built.
func appendPayloadRecord(dst []byte, m *Message) []byte {
	if len(dst) > 0 {
		dst = append(dst, recordSeparator)
	}
	if m.binary {
		dst = append(dst, 'b')
		return base64.StdEncoding.AppendEncode(dst, m.Payload())
	}
	return append(dst, m.Packet()...)
}
