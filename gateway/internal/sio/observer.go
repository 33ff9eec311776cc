package sio

// Observer is told what the server does, for metrics. Its methods run on
// the connection, broadcast and engine goroutines, sometimes under a
// socket's write lock: they must be quick, must not block and must not call
// back into the Server. Config.Observer nil means none.
type Observer interface {
	// ConnOpened and ConnClosed bracket one Engine.IO connection on the
	// named transport ("polling" or "websocket"); ConnUpgraded moves an open
	// connection from one transport to another.
	ConnOpened(transport string)
	ConnUpgraded(from, to string)
	ConnClosed(transport string)
	// SocketConnected: a socket's CONNECT was accepted. SocketDisconnected
	// runs once per connected socket, with the reason it went.
	SocketConnected()
	SocketDisconnected(reason DisconnectReason)
	// SocketRefused: a CONNECT was refused; reason is ConnectError.Reason,
	// "invalid_namespace", or "other".
	SocketRefused(reason string)
	// QueueDropped: a packet was not queued because the socket's queue was
	// full. SlowSocketCut: a socket was cut for it (once per socket).
	QueueDropped()
	SlowSocketCut()
}

// nopObserver is the Observer of a Config without one.
type nopObserver struct{}

func (nopObserver) ConnOpened(string)                   {}
func (nopObserver) ConnUpgraded(string, string)         {}
func (nopObserver) ConnClosed(string)                   {}
func (nopObserver) SocketConnected()                    {}
func (nopObserver) SocketDisconnected(DisconnectReason) {}
func (nopObserver) SocketRefused(string)                {}
func (nopObserver) QueueDropped()                       {}
func (nopObserver) SlowSocketCut()                      {}

// refusalReason is the metrics label of a refused CONNECT.
func refusalReason(err error) string {
	if ce, ok := err.(*ConnectError); ok && ce.Reason != "" {
		return ce.Reason
	}
	return "other"
}
