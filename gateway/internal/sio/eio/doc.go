// Package eio is the gateway's Engine.IO v4 server: handshake, HTTP
// long-polling, websocket, upgrade, heartbeat, close, CORS and Node's
// error answers, built for a small cost per connection. Websockets are
// handed from net/http to nbio's epoll pollers, so an idle one holds no
// goroutine and no buffer; a message is built once with its websocket
// frame and shared by every socket it goes to; a pool of writers writes
// everything queued on a socket in one writev. See docs/engine.md.
package eio
