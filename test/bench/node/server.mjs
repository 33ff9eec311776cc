// The Node socket.io 4.8 reference gateway of `make bench` (test/bench).
//
// It does what our gateway does for the events the bench uses, the way a
// Node server naturally does it: register {userId, role} looks the user up
// in orderapi's internal API (cached like gateway/internal/directory) and
// joins role:<role> and user:<id>; it subscribes to the Redis channel
// fph:events, parses the same envelope and routes the same socket events to
// the same rooms as gateway/internal/routing/matrix.go; delivery:location
// checks the assigned agent, stores the last location and publishes
// delivery.location_reported like shared/bus (MULTI PUBLISH + XADD).
//
// Environment: PORT, REDIS_URL, ORDERAPI_URL, INTERNAL_TOKEN, EVENTS_CHANNEL.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { Server } from 'socket.io';
import { createClient } from 'redis';

const port = Number(process.env.PORT || 5002);
const redisURL = process.env.REDIS_URL;
const orderapi = (process.env.ORDERAPI_URL || 'http://127.0.0.1:5001').replace(/\/+$/, '');
const internalToken = process.env.INTERNAL_TOKEN || '';
const channel = process.env.EVENTS_CHANNEL || 'fph:events';
if (!redisURL) {
  console.error('REDIS_URL is required');
  process.exit(2);
}

// --- directory: orderapi's internal API, cached (users 30 s, parties 5 s) ---
const userCache = new Map();
const partyCache = new Map();
const inflight = new Map();

async function lookup(cache, ttl, path) {
  const hit = cache.get(path);
  if (hit && hit.exp > Date.now()) return hit.v;
  if (inflight.has(path)) return inflight.get(path);
  const p = (async () => {
    const res = await fetch(orderapi + path, {
      headers: { 'X-Internal-Token': internalToken, Accept: 'application/json' },
      signal: AbortSignal.timeout(3000),
    });
    let v = null;
    if (res.status === 200) v = await res.json();
    else if (res.status !== 404 && res.status !== 400) throw new Error(`directory answered HTTP ${res.status}`);
    else await res.arrayBuffer();
    if (cache.size > 20000) cache.clear();
    cache.set(path, { v, exp: Date.now() + ttl });
    return v;
  })();
  inflight.set(path, p);
  try {
    return await p;
  } finally {
    inflight.delete(path);
  }
}
const validID = (id) => typeof id === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(id);
const userOf = (id) => lookup(userCache, 30000, `/internal/v1/users/${id}`);
const partiesOf = (id) => lookup(partyCache, 5000, `/internal/v1/orders/${id}/parties`);

// --- Redis: one client for commands, one for the subscription ---
const cmd = createClient({ url: redisURL });
cmd.on('error', (err) => console.error('redis:', err.message));
const sub = cmd.duplicate();
sub.on('error', (err) => console.error('redis sub:', err.message));

const httpServer = http.createServer((req, res) => {
  if (req.url === '/readyz' || req.url === '/healthz' || req.url === '/health') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"status":"ok"}');
    return;
  }
  res.writeHead(404);
  res.end();
});
const io = new Server(httpServer, {
  cors: { origin: '*' },
  pingInterval: 25000,
  pingTimeout: 20000,
  maxHttpBufferSize: 1e6,
  serveClient: false,
  // RECOVERY=1 turns on Node's connection state recovery (one server, in
  // memory): the bench's own test of its generator's recovery uses it.
  ...(process.env.RECOVERY === '1' ? { connectionStateRecovery: { maxDisconnectionDuration: 120000, skipMiddlewares: true } } : {}),
});

io.on('connection', (socket) => {
  socket.on('register', async (data) => {
    try {
      const userId = data && data.userId;
      const role = (data && data.role) || 'customer';
      if (!validID(userId)) return refuse(socket, 'userId is required');
      const u = await userOf(userId);
      if (!u) return refuse(socket, 'User not found');
      if (!u.isActive) return refuse(socket, 'User account is inactive');
      if (u.role !== role) return refuse(socket, `User is not registered as ${role}`);
      if (role === 'delivery' && !u.isApproved) return refuse(socket, 'Delivery account is pending admin approval');
      const prev = socket.data.user;
      if (prev && (prev.userId !== userId || prev.role !== role)) {
        socket.leave(`role:${prev.role}`);
        socket.leave(`user:${prev.userId}`);
      }
      socket.data.user = { userId, role };
      socket.join([`role:${role}`, `user:${userId}`]);
      socket.emit('registered', { success: true, userId, role, message: 'Successfully connected to real-time updates' });
    } catch {
      refuse(socket, 'Registration is temporarily unavailable, please retry');
    }
  });

  socket.on('delivery:location', async (data, ack) => {
    try {
      await reportLocation(socket, data);
      if (typeof ack === 'function') ack({ success: true });
    } catch (err) {
      const message = err.message || 'Could not relay the location, please retry';
      if (typeof ack === 'function') ack({ success: false, message });
      else socket.emit('error', { message, event: 'delivery:location' });
    }
  });
});

function refuse(socket, message) {
  socket.emit('registered', { success: false, message });
}

async function reportLocation(socket, data) {
  const id = socket.data.user;
  if (!id || id.role !== 'delivery') throw new Error('Only the assigned delivery agent can report a location');
  const { orderId, latitude, longitude, speed, heading, accuracy } = data || {};
  if (!validID(orderId)) throw new Error('orderId is required and must be a valid id');
  if (typeof latitude !== 'number' || typeof longitude !== 'number' || Math.abs(latitude) > 90 || Math.abs(longitude) > 180) {
    throw new Error('latitude must be within [-90, 90] and longitude within [-180, 180]');
  }
  const now = Date.now();
  const last = (socket.data.lastLoc ||= new Map());
  if (now - (last.get(orderId) || 0) < 900) throw new Error('Location updates are limited to one per second per order');
  last.set(orderId, now);
  const p = await partiesOf(orderId);
  if (!p) throw new Error('Order not found');
  if (!p.deliveryAgentId || p.deliveryAgentId !== id.userId) throw new Error('You are not the delivery agent assigned to this order');
  if (['delivered', 'cancelled', 'refunded'].includes(p.status)) throw new Error(`Order is ${p.status}: no more location updates`);
  const at = new Date(now).toISOString();
  const rep = {
    orderId, customerId: p.customerId, deliveryAgentId: id.userId, deliveryAgentName: p.deliveryAgentName,
    location: { latitude, longitude }, reportedAt: at,
  };
  if (typeof speed === 'number' && speed >= 0 && speed < 1000) rep.speed = speed;
  if (typeof heading === 'number' && heading >= 0 && heading <= 360) rep.heading = heading;
  if (typeof accuracy === 'number' && accuracy >= 0 && Number.isFinite(accuracy)) rep.accuracy = accuracy;
  const msg = JSON.stringify({ v: 1, id: newID(now), type: 'delivery.location_reported', at, data: rep });
  await cmd.set(`fph:loc:${orderId}`, JSON.stringify(rep), { EX: 6 * 3600 });
  await cmd.multi()
    .publish(channel, msg)
    .xAdd(`${channel}:log`, '*', { e: msg }, { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: 10000 } })
    .exec();
}

function newID(ms) {
  return ms.toString(16).padStart(12, '0').slice(-12) + randomBytes(10).toString('hex');
}

// --- routing: the rows of gateway/internal/routing/matrix.go the bench uses ---
const seen = new Set(); // envelope ids, bounded: the bus delivers at least once
function route(raw) {
  let env;
  try {
    env = JSON.parse(raw);
  } catch {
    return;
  }
  if (!env || env.v !== 1 || typeof env.id !== 'string' || !env.data) return;
  if (seen.has(env.id)) return;
  seen.add(env.id);
  if (seen.size > 20000) seen.clear();
  const d = env.data;
  const timestamp = new Date(env.at).toISOString();
  switch (env.type) {
    case 'business.status_changed':
      io.emit('business:status:update', {
        isOpen: !!d.isOpen, businessName: d.businessName || '',
        message: d.message || (d.isOpen ? 'We are open' : 'We are closed right now'), timestamp,
      });
      break;
    case 'order.status_changed': {
      const p = { orderId: d.orderId, orderNumber: d.orderNumber || '', status: d.status };
      if (d.previousStatus) p.previousStatus = d.previousStatus;
      if (d.paymentStatus) p.paymentStatus = d.paymentStatus;
      p.message = d.message || `Order is ${d.status}`;
      if (d.estimatedDeliveryTime) p.estimatedDeliveryTime = d.estimatedDeliveryTime;
      if (d.deliveryAgentDetails) p.deliveryAgentDetails = d.deliveryAgentDetails;
      p.timestamp = timestamp;
      const rooms = [`user:${d.customerId}`, `order:${d.orderId}`, 'role:admin'];
      if (d.deliveryAgentId) rooms.push(`user:${d.deliveryAgentId}`);
      io.to(rooms).emit('order:status:update', p);
      io.to('role:admin').emit('order:status:changed', p);
      if (d.status === 'delivered' && d.deliveryAgentId) {
        io.to(`user:${d.deliveryAgentId}`).emit('order:delivered', {
          orderId: d.orderId, orderNumber: d.orderNumber || '', status: d.status, message: p.message, timestamp,
        });
      }
      break;
    }
    case 'notification.created':
      io.to(`user:${d.userId}`).emit('notification:new', {
        _id: d.notificationId, notificationId: d.notificationId, type: d.type || '', title: d.title || '',
        message: d.message || '', priority: d.priority || '', isRead: !!d.isRead, relatedEntity: d.relatedEntity || {},
        createdAt: d.createdAt ? new Date(d.createdAt).toISOString() : timestamp, timestamp,
      });
      break;
    case 'delivery.location_reported': {
      const p = { orderId: d.orderId, deliveryBoyId: d.deliveryAgentId };
      if (d.deliveryAgentName) p.deliveryBoyName = d.deliveryAgentName;
      p.location = d.location;
      if (d.speed !== undefined) p.speed = d.speed;
      if (d.heading !== undefined) p.heading = d.heading;
      if (d.accuracy !== undefined) p.accuracy = d.accuracy;
      p.timestamp = timestamp;
      io.to([`order:${d.orderId}`, `user:${d.customerId}`, 'role:admin']).except('role:delivery').emit('delivery:location:update', p);
      break;
    }
    default:
      break; // types the bench does not publish
  }
}

await cmd.connect();
await sub.connect();
await sub.subscribe(channel, route);
httpServer.listen(port, '127.0.0.1', () => console.log(`bench node gateway on 127.0.0.1:${port}`));

const stop = () => {
  io.close();
  Promise.allSettled([sub.quit(), cmd.quit()]).finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
