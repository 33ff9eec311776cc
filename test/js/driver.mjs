// driver.mjs holds many socket.io-client sockets in one Node process for Go
// tests (test/jsclient). It reads one JSON command per line on stdin and
// writes one JSON report per line on stdout. Binary values travel as
// {"$bin": "<base64>"} in both directions.
//
// Commands:
//   {"cmd":"connect","id","url","path?","transports?","auth?","query?",
//    "extraHeaders?","reconnection?","timeout?","forceNew?"}
//   {"cmd":"emit","id","event","args":[...],"ack?":"<ref>"}
//   {"cmd":"disconnect","id"}      client-side disconnect (no reconnect)
//   {"cmd":"close-engine","id"}    drop the Engine.IO connection like a network
//                                  failure; the manager reconnects if enabled
//   {"cmd":"cut","id","ms"}        close-engine, then reconnect only after ms
//                                  (a transport cut of that length)
//   {"cmd":"quit"}                 close everything and exit (also on stdin EOF)
// Reports (each also has "ts", milliseconds since the epoch, fractional):
//   ready {version} · connect {id,sid,pid,transport,recovered} · upgrade {id,transport}
//   connect_error {id,message,data} · disconnect {id,reason,description}
//   reconnect_attempt {id,attempt} · reconnect {id,attempt}
//   event {id,event,args,ackRequested} · ack {id,ref,args} · error {id?,message}
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { io } from "socket.io-client";

const require = createRequire(import.meta.url);
const { version } = require("socket.io-client/package.json");

const sockets = new Map();

function now() {
  return performance.timeOrigin + performance.now();
}

function report(msg) {
  msg.ts = now();
  process.stdout.write(JSON.stringify(msg) + "\n");
}

// toWire replaces binary values by {"$bin": base64}, recursively.
function toWire(v) {
  if (v === null || typeof v !== "object") return v;
  if (Buffer.isBuffer(v)) return { $bin: v.toString("base64") };
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString("base64") };
  if (ArrayBuffer.isView(v)) return { $bin: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") };
  if (Array.isArray(v)) return v.map(toWire);
  const out = {};
  for (const [k, x] of Object.entries(v)) out[k] = toWire(x);
  return out;
}

// fromWire turns {"$bin": base64} back into Buffers, recursively.
function fromWire(v) {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(fromWire);
  const keys = Object.keys(v);
  if (keys.length === 1 && keys[0] === "$bin" && typeof v.$bin === "string") return Buffer.from(v.$bin, "base64");
  const out = {};
  for (const [k, x] of Object.entries(v)) out[k] = fromWire(x);
  return out;
}

function connect(c) {
  if (sockets.has(c.id)) throw new Error(`socket ${c.id} already exists`);
  const opts = { forceNew: c.forceNew ?? true };
  for (const k of ["path", "transports", "auth", "query", "extraHeaders", "reconnection", "timeout"]) {
    if (c[k] !== undefined && c[k] !== null) opts[k] = c[k];
  }
  const id = c.id;
  const s = io(c.url, opts);
  sockets.set(id, s);

  // Each (re)connection opens a new engine; its upgrade may finish before
  // or after the Socket.IO "connect".
  s.io.on("open", () => s.io.engine.once("upgrade", (t) => report({ type: "upgrade", id, transport: t.name })));
  s.on("connect", () =>
    // _pid is the private session id of connection state recovery: tests
    // read it to check the server's side of recovery.
    report({ type: "connect", id, sid: s.id, pid: s._pid ?? null, transport: s.io.engine.transport.name, recovered: s.recovered }),
  );
  s.on("connect_error", (err) =>
    report({ type: "connect_error", id, message: String(err?.message ?? err), data: toWire(err?.data ?? null) }),
  );
  s.on("disconnect", (reason, details) =>
    report({ type: "disconnect", id, reason, description: details?.description?.message ?? details?.message ?? null }),
  );
  s.io.on("reconnect_attempt", (attempt) => report({ type: "reconnect_attempt", id, attempt }));
  s.io.on("reconnect", (attempt) => report({ type: "reconnect", id, attempt }));
  s.onAny((event, ...args) => {
    // The server asked for an acknowledgement: the client library passes the
    // ack callback as the last argument. Tests only observe the request.
    const ackRequested = args.length > 0 && typeof args[args.length - 1] === "function";
    if (ackRequested) args.pop();
    report({ type: "event", id, event, args: toWire(args), ackRequested });
  });
}

function socketOf(c) {
  const s = sockets.get(c.id);
  if (!s) throw new Error(`unknown socket ${c.id}`);
  return s;
}

function quit() {
  for (const s of sockets.values()) s.disconnect();
  sockets.clear();
  // Let stdout drain before exiting.
  process.stdout.write("", () => process.exit(0));
}

function handle(c) {
  switch (c.cmd) {
    case "connect":
      return connect(c);
    case "emit": {
      const s = socketOf(c);
      const args = fromWire(c.args ?? []);
      if (c.ack !== undefined && c.ack !== null) {
        s.emit(c.event, ...args, (...resp) => report({ type: "ack", id: c.id, ref: c.ack, args: toWire(resp) }));
      } else {
        s.emit(c.event, ...args);
      }
      return;
    }
    case "disconnect":
      socketOf(c).disconnect();
      return;
    case "close-engine":
      socketOf(c).io.engine?.close();
      return;
    case "cut": {
      const m = socketOf(c).io;
      const [delay, max, rand] = [m.reconnectionDelay(), m.reconnectionDelayMax(), m.randomizationFactor()];
      m.reconnectionDelay(c.ms).reconnectionDelayMax(c.ms).randomizationFactor(0);
      m.once("reconnect_attempt", () => m.reconnectionDelay(delay).reconnectionDelayMax(max).randomizationFactor(rand));
      m.engine?.close();
      return;
    }
    case "quit":
      return quit();
    default:
      throw new Error(`unknown command ${JSON.stringify(c.cmd)}`);
  }
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on("line", (line) => {
  if (!line.trim()) return;
  let c;
  try {
    c = JSON.parse(line);
    handle(c);
  } catch (err) {
    report({ type: "error", id: c?.id ?? null, message: String(err?.message ?? err) });
  }
});
rl.on("close", quit);
report({ type: "ready", version });
