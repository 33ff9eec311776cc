package eio

import "encoding/binary"

// Message is one outgoing Engine.IO packet, immutable once built, with its
// complete websocket frame: a broadcast builds one Message and the same
// bytes are queued on every socket, websocket or polling.
type Message struct {
	frame  []byte // websocket frame header followed by the packet
	off    int    // where the packet starts in frame
	binary bool   // a binary message: the packet is the raw data
}

// Websocket opcodes.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// TextMessage returns an Engine.IO "message" packet carrying data.
func TextMessage(data []byte) *Message { return newPacket(PacketMessage, data) }

// BinaryMessage returns a binary Engine.IO message carrying data.
func BinaryMessage(data []byte) *Message {
	m := newFrame(opBinary, len(data))
	m.frame = append(m.frame, data...)
	m.binary = true
	return m
}

// newPacket builds a text packet of type t.
func newPacket(t PacketType, data []byte) *Message {
	m := newFrame(opText, 1+len(data))
	m.frame = append(m.frame, byte('0'+t))
	m.frame = append(m.frame, data...)
	return m
}

// newFrame starts an unmasked, final websocket frame for n payload bytes.
func newFrame(op byte, n int) *Message {
	b := make([]byte, 0, 10+n)
	b = appendFrameHeader(b, op, n)
	return &Message{frame: b, off: len(b)}
}

func appendFrameHeader(b []byte, op byte, n int) []byte {
	b = append(b, 0x80|op)
	switch {
	case n < 126:
		b = append(b, byte(n))
	case n <= 0xFFFF:
		b = append(b, 126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return b
}

// Packet returns the Engine.IO encoding of a text packet ("4hello"), or
// the raw data of a binary message.
func (m *Message) Packet() []byte { return m.frame[m.off:] }

// Payload returns the message's data (without the packet type for text).
func (m *Message) Payload() []byte {
	if m.binary {
		return m.frame[m.off:]
	}
	return m.frame[m.off+1:]
}

// Binary reports whether m is a binary message.
func (m *Message) Binary() bool { return m.binary }

// size is what m counts against a socket's queue bound.
func (m *Message) size() int { return len(m.frame) }

// Shared control packets.
var (
	msgPing      = newPacket(PacketPing, nil)
	msgPongProbe = newPacket(PacketPong, []byte("probe"))
	msgNoop      = newPacket(PacketNoop, nil)
	msgClose     = newPacket(PacketClose, nil)
	// A websocket close frame without a status code, like ws's close().
	wsCloseFrame = []byte{0x80 | opClose, 0}
)
