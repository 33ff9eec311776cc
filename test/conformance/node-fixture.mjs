// node-fixture.mjs: the Node reference for `make conformance`. It serves,
// on PORT (default 3000), what the official protocol test suites expect,
// with the real socket.io 4.8 server from test/js/node_modules: an echoing
// engine.io server at /engine.io/, and socket.io at /socket.io/ with the
// namespaces "/" and "/custom" (each emits "auth" with the handshake payload
// AUTH_DELAY ms after connecting; "/" echoes "message" as "message-back" and
// acks "message-with-ack"). Same settings as `gateway --conformance`.
import { createServer } from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const jsDir = process.env.FPH_JS_DIR || path.join(here, "..", "js");
const require = createRequire(path.join(jsDir, "package.json"));
const { Server } = require("socket.io");
const engine = require("engine.io");

const port = Number(process.env.PORT || 3000);
const authDelay = Number(process.env.AUTH_DELAY ?? 20);
const common = { pingInterval: 300, pingTimeout: 200, maxHttpBufferSize: 1e6 };

const httpServer = createServer();
const io = new Server(httpServer, { ...common, connectTimeout: Number(process.env.CONNECT_TIMEOUT ?? 1500), destroyUpgrade: false });
const echo = engine.attach(httpServer, { ...common, path: "/engine.io/", destroyUpgrade: false });
echo.on("connection", (socket) => socket.on("message", (data) => socket.send(data)));

function onConnection(socket) {
  setTimeout(() => socket.emit("auth", socket.handshake.auth), authDelay);
  socket.on("message", (...args) => socket.emit("message-back", ...args));
  socket.on("message-with-ack", (...args) => {
    const ack = args.pop();
    ack(...args);
  });
}
io.on("connection", onConnection);
io.of("/custom").on("connection", (socket) => {
  setTimeout(() => socket.emit("auth", socket.handshake.auth), authDelay);
});

httpServer.listen(port, () => console.log(`node conformance fixture on :${port}`));
process.on("SIGTERM", () => {
  io.close();
  echo.close();
  httpServer.close(() => process.exit(0));
});
