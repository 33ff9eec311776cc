// echo-server.mjs is a real Node socket.io 4.8 server used to test the
// client driver (test/jsclient) without our gateway. It listens on
// 127.0.0.1 with an ephemeral port and prints {"port": N} on stdout.
//
// Behaviour: "echo" emits the args back as "echo"; an event with an ack
// callback is acknowledged with its args; "binary" replies with a 3-byte
// Buffer; an auth {reject: "<msg>"} refuses the handshake with that message
// and data {code: 4001}; each connect emits "welcome" {sid, auth}.
// It exits when stdin closes.
import { createServer } from "node:http";
import { Server } from "socket.io";

const httpServer = createServer();
const io = new Server(httpServer, {
  cors: { origin: "*" },
  connectionStateRecovery: { maxDisconnectionDuration: 60_000 },
});

io.use((socket, next) => {
  const reject = socket.handshake.auth?.reject;
  if (reject) {
    const err = new Error(reject);
    err.data = { code: 4001 };
    return next(err);
  }
  next();
});

io.on("connection", (socket) => {
  socket.emit("welcome", { sid: socket.id, auth: socket.handshake.auth, query: socket.handshake.query });
  socket.onAny((event, ...args) => {
    const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
    if (ack) return ack(...args);
    if (event === "echo") socket.emit("echo", ...args);
    if (event === "binary") socket.emit("binary", Buffer.from([1, 2, 3]));
  });
});

httpServer.listen(0, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ port: httpServer.address().port }) + "\n");
});
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
