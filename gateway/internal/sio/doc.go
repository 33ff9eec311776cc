// Package sio is the gateway's Socket.IO v5 protocol layer on top of our
// own Engine.IO v4 server, package eio (or, with Config.Engine =
// EngineZishang, zishang520's servers/engine/v3 for comparison; see
// docs/engine.md).
//
// No library's Socket.IO server is used. Owning this layer lets us:
//   - register a socket in our registry before its CONNECT reply is written,
//     so a client that emits right after connecting is never dropped (the
//     library stores the socket only after queueing the reply);
//   - control the write path: a broadcast is encoded once, each socket has a
//     bounded queue, and a socket that cannot keep up is cut (it reconnects)
//     instead of growing memory or blocking the broadcaster;
//   - deliver a server DISCONNECT before closing (the library's
//     Disconnect(true) usually loses it).
//
// What it supports: namespaces (only those configured; others get
// CONNECT_ERROR "Invalid namespace" like Node), the handshake auth payload,
// query and headers for a connect hook that can refuse with a message and
// data, events with any JSON arguments, binary attachments, acks in both
// directions, rooms, connectTimeout, and closing the connection on invalid
// packets like Node does, connection state recovery (recovery.go: Node's
// pid and offsets on the wire, state kept by a Recovery, so a session can
// come back on any replica) and a drain (Server.Drain). What it does not:
// Engine.IO v3 clients, cluster adapters (fan-out across replicas is the
// gateway's own, over Redis).
package sio
