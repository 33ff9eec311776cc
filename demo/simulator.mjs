#!/usr/bin/env node
// simulator.mjs: brings the Friends Pizza Hut stack to life through its public surface only:
// the REST API under /api/v1 and real socket.io-client connections on /socket.io/.
//
// It registers demo customers and delivery agents (unique per run, so re-running is safe), has the
// admin approve the agents, puts the agents online with live sockets, places orders at RATE per
// minute and drives each one through accept → assign → pick-up → GPS stream → COD → delivered.
// One progress line per second; SIGINT/SIGTERM or DURATION stop it cleanly with a summary.
//
// Environment (all optional):
//   BASE_URL        origin of the stack                      http://127.0.0.1:5000
//   RATE            orders per minute                        6
//   AGENTS          delivery agents                          3
//   CUSTOMERS       customers                                5
//   DURATION        seconds to run, 0 = until Ctrl-C         0
//   ADMIN_EMAIL     admin account (seeded by orderapi)       admin@friendspizzahut.test
//   ADMIN_PASSWORD                                           Admin12345
//   GPS_INTERVAL    seconds between an agent's positions     2 (at least 1: the gateway's limit)
//   PATH_STEPS      GPS positions per delivery               10
//   DRAIN           seconds to let in-flight orders finish after Ctrl-C, 0 = stop at once   30
// Ctrl-C stops placing orders and drains; Ctrl-C again or SIGTERM stops at once.

import { setMaxListeners } from 'node:events';
import { pathToFileURL } from 'node:url';
import { io } from 'socket.io-client';

// ---- configuration -------------------------------------------------------------------------

/** readConfig validates the environment and returns the config, or throws one error listing every problem. */
export function readConfig(env) {
  const problems = [];
  const num = (name, def, { min = 0, max = Infinity, int = false } = {}) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return def;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < min || v > max || (int && !Number.isInteger(v))) {
      problems.push(`${name}=${JSON.stringify(raw)}: want ${int ? 'an integer' : 'a number'} in [${min}, ${max}]`);
      return def;
    }
    return v;
  };
  let baseURL = env.BASE_URL || 'http://127.0.0.1:5000';
  try {
    const u = new URL(baseURL);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
    baseURL = u.origin;
  } catch {
    problems.push(`BASE_URL=${JSON.stringify(baseURL)}: want an http(s) URL such as http://127.0.0.1:5000`);
  }
  const cfg = {
    baseURL,
    rate: num('RATE', 6, { min: 0.1, max: 600 }),
    agents: num('AGENTS', 3, { min: 1, max: 200, int: true }),
    customers: num('CUSTOMERS', 5, { min: 1, max: 500, int: true }),
    duration: num('DURATION', 0, { min: 0 }),
    // The gateway takes one position per second per order; faster would only collect refusals.
    gpsInterval: num('GPS_INTERVAL', 2, { min: 1, max: 60 }),
    pathSteps: num('PATH_STEPS', 10, { min: 2, max: 500, int: true }),
    drain: num('DRAIN', 30, { min: 0, max: 3600 }),
    adminEmail: env.ADMIN_EMAIL || 'admin@friendspizzahut.test',
    adminPassword: env.ADMIN_PASSWORD || 'Admin12345',
  };
  if (problems.length) throw new Error(`bad configuration:\n  ${problems.join('\n  ')}`);
  return cfg;
}

// ---- small helpers -------------------------------------------------------------------------

/** ApiError is a REST call the API refused (status ≥ 400) or could not answer (status 0). */
export class ApiError extends Error {
  constructor(method, path, status, message) {
    super(`${method} ${path} → ${status || 'network error'} ${message}`);
    this.status = status;
    this.apiMessage = message;
  }
}

/** sleep waits ms milliseconds, or rejects with signal's reason as soon as it aborts. */
function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    const t = setTimeout(() => {
      if (signal) signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
  });
}

const pick = (arr, rnd = Math.random) => arr[Math.floor(rnd() * arr.length)];

const FIRST = ['Aarav', 'Diya', 'Ishaan', 'Kavya', 'Rohan', 'Saanvi', 'Vivaan', 'Ananya', 'Arjun', 'Meera', 'Kabir', 'Tara'];
const LAST = ['Sharma', 'Patel', 'Iyer', 'Reddy', 'Khan', 'Das', 'Joshi', 'Nair', 'Gupta', 'Mehta'];
const STREETS = ['MG Road', 'FC Road', 'JM Road', 'Baner Road', 'Law College Road', 'Koregaon Park Lane 5', 'Aundh Road', 'Karve Road'];
const SHOP = { lat: 18.5204, lng: 73.8567 }; // the pizza shop, Pune

/** phoneFor returns a 10-digit phone number that is unique for (runId, n). */
export function phoneFor(runNum, n) {
  return `9${String((runNum * 1000 + n) % 1e9).padStart(9, '0')}`;
}

/**
 * deliveryPath returns steps+1 GPS points from the shop to a drop-off 1–3 km away, along two
 * street-like legs (first east/west, then north/south) with a little jitter, as a rider would go.
 */
export function deliveryPath(steps, rnd = Math.random, from = SHOP) {
  const dLat = (rnd() * 2 - 1) * 0.02 || 0.01;
  const dLng = (rnd() * 2 - 1) * 0.02 || 0.01;
  const corner = { lat: from.lat, lng: from.lng + dLng };
  const to = { lat: from.lat + dLat, lng: from.lng + dLng };
  const legA = Math.abs(dLng);
  const total = legA + Math.abs(dLat);
  const pts = [];
  for (let i = 0; i <= steps; i++) {
    const d = (i / steps) * total;
    const p =
      d <= legA
        ? { lat: from.lat, lng: from.lng + (dLng * d) / legA }
        : { lat: corner.lat + (dLat * (d - legA)) / Math.abs(dLat), lng: corner.lng };
    const jitter = i === 0 || i === steps ? 0 : 0.00015;
    pts.push({
      latitude: Number((p.lat + (rnd() - 0.5) * jitter).toFixed(6)),
      longitude: Number((p.lng + (rnd() - 0.5) * jitter).toFixed(6)),
    });
  }
  return pts;
}

// ---- the simulator -------------------------------------------------------------------------

class Simulator {
  constructor(cfg, out = process.stdout, err = process.stderr) {
    this.cfg = cfg;
    this.out = out;
    this.err = err;
    const runNum = Math.floor(Date.now() / 1000) % 1e6;
    this.runNum = runNum;
    this.runId = `${runNum.toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
    this.stats = { placed: 0, delivered: 0, cancelled: 0, failed: 0, events: 0, errors: 0, missedAssign: 0 };
    this.eventsByName = new Map();
    this.deliveryMs = [];
    this.customers = [];
    this.agents = [];
    this.sockets = [];
    this.flows = new Map(); // order id -> promise of the order's life, for orders in flight
    this.routes = new Map(); // order id -> the planned GPS route; its last point is the drop point
    this.waitingForAgent = []; // resolvers of orders waiting for a free agent
    this.products = [];
    this.stopPlacing = new AbortController();
    this.abort = new AbortController(); // hard stop: every wait ends
    // Every order in flight waits on these signals; many at once is normal, not a leak.
    setMaxListeners(0, this.stopPlacing.signal, this.abort.signal);
    this.startedAt = Date.now();
    this.lastErrors = new Map(); // message -> count, to keep repeated errors short
  }

  log(line) {
    this.out.write(`${line}\n`);
  }

  error(line) {
    this.stats.errors++;
    this.err.write(`error: ${line}\n`);
  }

  async api(method, path, body, token) {
    const headers = { Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(this.cfg.baseURL + '/api/v1' + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(15000)]),
      });
    } catch (e) {
      if (this.abort.signal.aborted) throw this.abort.signal.reason;
      throw new ApiError(method, path, 0, e.cause ? e.cause.message || String(e.cause) : e.message);
    }
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!res.ok || (json && json.success === false)) {
      throw new ApiError(method, path, res.status, (json && json.message) || text.slice(0, 200) || res.statusText);
    }
    return json ? json.data ?? json : undefined;
  }

  // ---- setup ----

  async setup() {
    const c = this.cfg;
    this.log(`simulator run ${this.runId}: ${c.baseURL}, ${c.rate} orders/min, ${c.agents} agents, ${c.customers} customers` +
      (c.duration ? `, ${c.duration}s` : ', until Ctrl-C'));
    let admin;
    try {
      admin = await this.api('POST', '/auth/login', { email: c.adminEmail, password: c.adminPassword });
    } catch (e) {
      throw new Error(`cannot log in as admin ${c.adminEmail}: ${e.message}\n` +
        '  (is the stack running, with orderapi SEED=true, or are ADMIN_EMAIL/ADMIN_PASSWORD right?)');
    }
    if (!admin.user || admin.user.role !== 'admin') throw new Error(`${c.adminEmail} is not an admin account`);
    this.admin = { token: admin.accessToken, id: admin.user.id };
    this.adminSocket = this.socket('admin', this.admin);

    try {
      const b = await this.api('GET', '/business/status', undefined, this.admin.token);
      if (b && b.isOpen === false) this.log(`note: the shop is closed (${b.message || 'no message'}); orders may be refused`);
    } catch {
      // Older servers have no business status; not a reason to stop.
    }

    const products = await this.api('GET', '/products?limit=50&isAvailable=true');
    this.products = (Array.isArray(products) ? products : (products && products.products) || []).filter(
      (p) => p && (p._id || p.id) && p.isAvailable !== false,
    );
    if (!this.products.length) throw new Error('GET /products returned no available product (seed the menu: SEED=true)');

    await Promise.all(Array.from({ length: c.customers }, (_, i) => this.addCustomer(i)));
    await Promise.all(Array.from({ length: c.agents }, (_, i) => this.addAgent(i)));
    if (!this.customers.length) throw new Error('no customer could be registered');
    if (!this.agents.length) throw new Error('no delivery agent could be registered and put online');
    this.log(`ready: ${this.customers.length} customers, ${this.agents.length} agents online, ${this.products.length} products`);
  }

  person(kind, i) {
    const name = `${pick(FIRST)} ${pick(LAST)}`;
    return {
      name,
      email: `sim-${this.runId}-${kind}${i}@demo.friendspizzahut.test`,
      password: 'Demo12345',
    };
  }

  async register(body, i) {
    // Phones must be unique too; a clash with an earlier run gets a second number.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.api('POST', '/auth/register', { ...body, phone: phoneFor(this.runNum + attempt * 7919, i) });
      } catch (e) {
        if (attempt < 2 && e.status === 400 && /exist/i.test(e.apiMessage)) continue;
        throw e;
      }
    }
  }

  async addCustomer(i) {
    const p = this.person('c', i);
    try {
      const r = await this.register({ ...p, role: 'customer' }, i);
      let token = r.accessToken;
      let id = r.user && r.user.id;
      if (!token) {
        const l = await this.api('POST', '/auth/login', { email: p.email, password: p.password });
        token = l.accessToken;
        id = l.user.id;
      }
      this.customers.push({ ...p, id, token, phone: r.user && r.user.phone, busy: false });
    } catch (e) {
      this.error(`customer ${p.email}: ${e.message}`);
    }
  }

  async addAgent(i) {
    const p = this.person('d', i);
    try {
      const r = await this.register(
        {
          ...p,
          role: 'delivery',
          vehicleInfo: { type: pick(['bike', 'scooter']), number: `MH12AB${String(1000 + ((this.runNum + i) % 9000))}`, model: 'Activa' },
        },
        500 + i,
      );
      const id = r.user && (r.user.id || r.user._id);
      await this.api('PATCH', `/users/${id}`, { isApproved: true, isRejected: false, rejectionReason: null, isActive: true }, this.admin.token);
      const l = await this.api('POST', '/auth/login', { email: p.email, password: p.password });
      const agent = { ...p, id, token: l.accessToken, busy: false, assigned: new Map() };
      agent.socket = this.socket('delivery', agent);
      agent.socket.on('order:assigned', (payload) => {
        const orderId = payload && (payload.orderId || payload._id);
        const waiter = orderId && agent.assigned.get(orderId);
        if (waiter) waiter();
      });
      await this.api('PATCH', '/delivery-agent/status', { isOnline: true }, agent.token);
      this.agents.push(agent);
    } catch (e) {
      this.error(`agent ${p.email}: ${e.message}`);
    }
  }

  /** socket opens a real socket.io-client connection that registers on every (re)connect. */
  socket(role, who) {
    const s = io(this.cfg.baseURL, {
      auth: { token: who.token },
      transports: ['websocket'],
      reconnectionDelay: 500,
      reconnectionDelayMax: 3000,
    });
    s.on('connect', () => s.emit('register', { userId: who.id, role }));
    s.onAny((name) => {
      this.stats.events++;
      this.eventsByName.set(name, (this.eventsByName.get(name) || 0) + 1);
    });
    let warned = false;
    s.on('connect_error', (e) => {
      if (!warned) this.error(`${role} socket: connect_error: ${e.message}`);
      warned = true;
    });
    s.on('connect', () => {
      warned = false;
    });
    s.on('error', (p) => this.error(`${role} socket got error event: ${(p && p.message) || JSON.stringify(p)}`));
    this.sockets.push(s);
    return s;
  }

  // ---- one order's life ----

  async placeOrder() {
    const idle = this.customers.filter((c) => !c.busy);
    if (!idle.length) return; // every customer is checking out; skip this tick
    const customer = pick(idle);
    customer.busy = true;
    let order;
    try {
      await this.api('DELETE', '/cart', undefined, customer.token).catch(() => {});
      const n = 1 + Math.floor(Math.random() * 3);
      for (let k = 0; k < n; k++) {
        const p = pick(this.products);
        const item = { productId: p._id || p.id, quantity: 1 + Math.floor(Math.random() * 2) };
        if (p.pricing && typeof p.pricing === 'object') item.size = pick(Object.keys(p.pricing));
        await this.api('POST', '/cart/items', item, customer.token);
      }
      // The route is chosen now so that the order carries its drop point (the board's live map).
      const route = deliveryPath(this.cfg.pathSteps);
      const drop = route[route.length - 1];
      order = await this.api(
        'POST',
        '/orders/from-cart',
        {
          deliveryAddress: {
            location: { latitude: drop.latitude, longitude: drop.longitude },
            street: `${1 + Math.floor(Math.random() * 200)} ${pick(STREETS)}`,
            city: 'Pune',
            state: 'Maharashtra',
            pincode: pick(['411001', '411004', '411005', '411007', '411045']),
            instructions: pick(['', 'Ring the bell', 'Leave at the gate', 'Call on arrival']),
          },
          contactPhone: customer.phone || phoneFor(this.runNum, 1),
          paymentMethod: 'cash',
        },
        customer.token,
      );
      if (order && order._id) this.routes.set(order._id, route);
    } catch (e) {
      if (!this.abort.signal.aborted) this.error(`customer ${customer.email} placing an order: ${e.message}`);
      return;
    } finally {
      customer.busy = false;
    }
    this.stats.placed++;
    const flow = this.runOrder(order).catch((e) => {
      if (this.abort.signal.aborted) return;
      this.stats.failed++;
      this.error(`order ${order.orderNumber || order._id}: ${e.message}`);
    });
    const id = order._id || order.id;
    this.flows.set(id, flow);
    flow.finally(() => this.flows.delete(id));
  }

  async runOrder(order) {
    const id = order._id || order.id;
    const placedAt = Date.now();
    const signal = this.abort.signal;
    await sleep(1000 + Math.random() * 2000, signal); // the admin notices the order
    await this.api('POST', `/orders/${id}/accept`, undefined, this.admin.token);
    await sleep(1000 + Math.random() * 1500, signal); // kitchen starts, admin picks an agent
    const agent = await this.freeAgent(signal);
    try {
      const assigned = new Promise((resolve) => agent.assigned.set(id, resolve));
      await this.api('PATCH', `/orders/${id}/assign-delivery`, { deliveryAgentId: agent.id }, this.admin.token);
      // The agent acts on the order:assigned socket event, like the app; if it never comes the
      // delivery still goes on (so the demo keeps moving) and the miss is counted.
      const got = await Promise.race([assigned.then(() => true), sleep(5000, signal).then(() => false)]);
      if (!got) {
        this.stats.missedAssign++;
        this.error(`agent ${agent.name} got no order:assigned for ${order.orderNumber} within 5 s`);
      }
      await this.deliver(agent, order, signal);
    } finally {
      agent.assigned.delete(id);
      this.releaseAgent(agent);
    }
    this.stats.delivered++;
    this.deliveryMs.push(Date.now() - placedAt);
  }

  async deliver(agent, order, signal) {
    const id = order._id || order.id;
    await sleep(1500 + Math.random() * 1500, signal); // ride to the shop, pick up
    await this.api('PATCH', `/orders/${id}/status`, { status: 'out_for_delivery' }, agent.token);
    const path = this.routes.get(id) || deliveryPath(this.cfg.pathSteps);
    this.routes.delete(id);
    for (const p of path) {
      this.sendLocation(agent, order, p);
      await sleep(this.cfg.gpsInterval * 1000, signal);
    }
    const amount = Number(order.totalAmount) || 0;
    await this.api(
      'POST',
      '/payments',
      { order: id, user: agent.id, amount, paymentMethod: 'cod', collectionMethod: 'cash', paymentStatus: 'completed' },
      agent.token,
    );
    await this.api('PATCH', `/orders/${id}/status`, { status: 'out_for_delivery', paymentStatus: 'completed' }, agent.token);
    await this.api('PATCH', `/orders/${id}/status`, { status: 'delivered' }, agent.token);
  }

  /** sendLocation emits one GPS position and reports a refusal (the gateway acks every position). */
  sendLocation(agent, order, p) {
    const id = order._id || order.id;
    agent.socket
      .timeout(5000)
      .emit('delivery:location', { orderId: id, latitude: p.latitude, longitude: p.longitude }, (err, reply) => {
        if (this.abort.signal.aborted) return;
        if (err) this.error(`delivery:location for ${order.orderNumber}: no answer within 5 s`);
        else if (reply && reply.success === false) this.error(`delivery:location for ${order.orderNumber} refused: ${reply.message}`);
      });
  }

  freeAgent(signal) {
    const a = this.agents.find((x) => !x.busy);
    if (a) {
      a.busy = true;
      return Promise.resolve(a);
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      this.waitingForAgent.push({
        resolve: (agent) => {
          signal.removeEventListener('abort', onAbort);
          resolve(agent);
        },
      });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  releaseAgent(agent) {
    const w = this.waitingForAgent.shift();
    if (w) w.resolve(agent);
    else agent.busy = false;
  }

  // ---- main loop ----

  progress() {
    const s = this.stats;
    const secs = Math.round((Date.now() - this.startedAt) / 1000);
    const busy = this.agents.filter((a) => a.busy).length;
    const connected = this.sockets.filter((x) => x.connected).length;
    this.log(
      `[${String(Math.floor(secs / 60)).padStart(2, '0')}:${String(secs % 60).padStart(2, '0')}] ` +
        `placed ${s.placed} · in flight ${this.flows.size} · delivered ${s.delivered} · ` +
        `events ${s.events} · errors ${s.errors} · agents busy ${busy}/${this.agents.length} · ` +
        `sockets ${connected}/${this.sockets.length}`,
    );
  }

  async run() {
    this.running = true;
    const ticker = setInterval(() => this.progress(), 1000);
    try {
      const gap = 60000 / this.cfg.rate;
      const until = this.cfg.duration ? Date.now() + this.cfg.duration * 1000 : Infinity;
      const placing = this.stopPlacing.signal;
      while (!placing.aborted && Date.now() < until) {
        this.placeOrder(); // not awaited: a slow checkout must not slow the rate down
        try {
          await sleep(Math.min(gap, Math.max(0, until - Date.now())), placing);
        } catch {
          break;
        }
      }
      this.stopPlacing.abort();
      if (this.flows.size && this.cfg.drain > 0 && !this.abort.signal.aborted) {
        this.log(`stopping: no new orders; letting ${this.flows.size} in-flight orders finish (up to ${this.cfg.drain}s; Ctrl-C again to quit now)`);
        await Promise.race([
          Promise.allSettled([...this.flows.values()]),
          sleep(this.cfg.drain * 1000, this.abort.signal).catch(() => {}),
        ]);
      }
    } finally {
      clearInterval(ticker);
      const abandoned = this.flows.size;
      this.abort.abort(new Error('stopped'));
      await this.shutdown();
      this.summary(abandoned);
    }
  }

  /**
   * stop is the signal handler. SIGINT (Ctrl-C) stops placing orders and lets the ones in flight
   * finish for up to DRAIN seconds; a second SIGINT, or SIGTERM (a supervisor such as `make run
   * DEMO=1` stopping the stack), or any signal during setup stops at once.
   */
  stop(signal) {
    if (!this.running || signal === 'SIGTERM' || this.cfg.drain === 0 || this.stopPlacing.signal.aborted) {
      this.stopPlacing.abort(new Error('stopped'));
      this.abort.abort(new Error('stopped'));
    } else {
      this.stopPlacing.abort(new Error('stopped'));
    }
  }

  /**
   * shutdown leaves the shop tidy: orders still in flight are cancelled by the admin (so no demo
   * order stays "out for delivery" forever), then the agents go offline and the sockets close.
   * Each call is best effort with a short timeout: the stack may be stopping too.
   */
  async shutdown() {
    const quick = (method, path, body, token) =>
      fetch(`${this.cfg.baseURL}/api/v1${path}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(3000),
      }).catch(() => {});
    if (this.admin) {
      await Promise.allSettled(
        [...this.flows.keys()].map((id) =>
          quick('POST', `/orders/${id}/reject`, { reason: 'Demo simulator stopped before delivery' }, this.admin.token),
        ),
      );
    }
    await Promise.allSettled(this.agents.map((a) => quick('PATCH', '/delivery-agent/status', { isOnline: false }, a.token)));
    for (const s of this.sockets) s.disconnect();
  }

  summary(abandoned) {
    const s = this.stats;
    const secs = ((Date.now() - this.startedAt) / 1000).toFixed(1);
    const avg = this.deliveryMs.length
      ? `${(this.deliveryMs.reduce((a, b) => a + b, 0) / this.deliveryMs.length / 1000).toFixed(1)}s`
      : 'n/a';
    const top = [...this.eventsByName.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
    this.log(`summary: run ${this.runId} ran ${secs}s: placed ${s.placed}, delivered ${s.delivered}, failed ${s.failed}, ` +
      `left in flight ${abandoned}, errors ${s.errors}, missed order:assigned ${s.missedAssign}, ` +
      `average order time ${avg}`);
    this.log(`summary: socket events received ${s.events}${top ? ` (${top})` : ''}`);
  }
}

async function main() {
  let cfg;
  try {
    cfg = readConfig(process.env);
  } catch (e) {
    process.stderr.write(`simulator: ${e.message}\n`);
    process.exit(2);
  }
  const sim = new Simulator(cfg);
  process.on('SIGINT', () => sim.stop('SIGINT'));
  process.on('SIGTERM', () => sim.stop('SIGTERM'));
  try {
    await sim.setup();
  } catch (e) {
    process.stderr.write(`simulator: ${e.message}\n`);
    await sim.shutdown();
    process.exit(1);
  }
  await sim.run();
  process.exit(0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
