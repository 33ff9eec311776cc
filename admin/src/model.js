// model.js: the dashboard's state, free of DOM and network so it can be tested with node --test.
// Orders arrive in two shapes (REST rows and socket payloads, CONTRACT §2.5 / §3.3); both are
// normalised into one view row. Status only moves forward, so a late REST reply or a duplicate
// event (admins get both order:status:update and order:status:changed) never undoes a newer change.

const STATUS_RANK = {
  pending: 0,
  accepted: 1,
  assigned: 2,
  out_for_delivery: 3,
  delivered: 4,
  cancelled: 4,
  refunded: 5,
};

/** ACTIVE_STATUSES are the statuses of orders that still need someone's attention. */
export const ACTIVE_STATUSES = new Set(['pending', 'accepted', 'assigned', 'out_for_delivery']);

/** STATUS_LABEL maps a status to the words shown on the board. */
export const STATUS_LABEL = {
  pending: 'Pending',
  accepted: 'Accepted',
  assigned: 'Assigned',
  out_for_delivery: 'Out for delivery',
  delivered: 'Delivered',
  cancelled: 'Cancelled',
  refunded: 'Refunded',
};

function idOf(v) {
  if (v == null) return '';
  if (typeof v === 'string') return v;
  return String(v._id || v.id || '');
}

function agentOf(src) {
  const a = src.deliveryAgent;
  const d = src.deliveryAgentDetails;
  if (!a && !d) return null;
  const id = idOf(a);
  const name = (a && typeof a === 'object' && a.name) || (d && d.name) || src.deliveryAgentName || '';
  if (!id && !name) return null;
  return { id, name, phone: (a && a.phone) || (d && d.phone) || '' };
}

function itemsOf(items) {
  if (!Array.isArray(items)) return [];
  return items.map((it) => ({
    name:
      (it.productSnapshot && it.productSnapshot.name) ||
      (it.product && typeof it.product === 'object' && it.product.name) ||
      it.name ||
      'Item',
    quantity: Number(it.quantity) || 1,
    size: it.size || '',
    subtotal: Number(it.subtotal) || 0,
  }));
}

/**
 * normalizeOrder turns a REST order or an order:new payload into a view row, or returns null when
 * the source carries no order id.
 */
export function normalizeOrder(src) {
  if (!src || typeof src !== 'object') return null;
  const o = src.order && typeof src.order === 'object' ? src.order : src;
  const id = idOf(o._id) || idOf(o.orderId) || idOf(o.id);
  if (!id) return null;
  const user = o.user && typeof o.user === 'object' ? o.user : null;
  return {
    id,
    number: o.orderNumber || id,
    customer: (user && user.name) || o.customerName || o.customer || 'Customer',
    customerPhone: (user && user.phone) || o.contactPhone || '',
    items: itemsOf(o.items),
    total: Number(o.totalAmount ?? o.total) || 0,
    subtotal: numOrNull(o.subtotal),
    tax: numOrNull(o.tax),
    deliveryFee: numOrNull(o.deliveryFee),
    discount: numOrNull(o.discount),
    status: o.status || 'pending',
    agent: agentOf(o),
    placedAt: o.createdAt || o.timestamp || new Date().toISOString(),
    paymentMethod: o.paymentMethod || '',
    paymentStatus: o.paymentStatus || '',
    address: o.deliveryAddress || null,
    drop: dropOf(o.deliveryAddress),
    instructions: o.orderInstructions || '',
    history: Array.isArray(o.statusHistory) ? o.statusHistory : [],
  };
}

/** dropOf reads an order's drop point {lat, lng} from deliveryAddress.location, or null. */
function dropOf(a) {
  const l = a && typeof a === 'object' && a.location;
  const lat = Number(l && l.latitude);
  const lng = Number(l && l.longitude);
  if (!l || !Number.isFinite(lat) || !Number.isFinite(lng) || Math.abs(lat) > 90 || Math.abs(lng) > 180) return null;
  return { lat, lng };
}

function numOrNull(v) {
  return v == null || Number.isNaN(Number(v)) ? null : Number(v);
}

/** isForward reports whether moving from status a to status b is not a step back. */
export function isForward(a, b) {
  if (!(b in STATUS_RANK)) return false;
  if (!(a in STATUS_RANK)) return true;
  if (a === 'delivered' || a === 'cancelled' || a === 'refunded') return b === a || b === 'refunded';
  return STATUS_RANK[b] >= STATUS_RANK[a];
}

/**
 * Board holds the orders newest first plus the agents and the tracked paths.
 * Every mutating method returns what changed so the view can redraw only that.
 */
export class Board {
  constructor({ maxOrders = 500, maxPathPoints = 400 } = {}) {
    this.orders = new Map(); // id -> row
    this.ids = []; // newest first
    this.agents = new Map(); // id -> agent
    this.paths = new Map(); // orderId -> [{lat, lng, at}]
    this.maxOrders = maxOrders;
    this.maxPathPoints = maxPathPoints;
  }

  /** load replaces the order list with a REST list (newest first); rows seen only live are kept. */
  load(list) {
    const rows = (Array.isArray(list) ? list : (list && list.orders) || []).map(normalizeOrder).filter(Boolean);
    const seen = new Set(rows.map((r) => r.id));
    const next = new Map();
    for (const r of rows) next.set(r.id, this.merge(this.orders.get(r.id), r));
    const liveOnly = this.ids.filter((id) => !seen.has(id));
    for (const id of liveOnly) next.set(id, this.orders.get(id));
    this.orders = next;
    this.ids = [...liveOnly, ...rows.map((r) => r.id)]
      .sort((a, b) => Date.parse(next.get(b).placedAt) - Date.parse(next.get(a).placedAt) || 0)
      .slice(0, this.maxOrders);
    return this.ids;
  }

  merge(old, row) {
    if (!old) return row;
    const status = isForward(old.status, row.status) ? row.status : old.status;
    return {
      ...old,
      ...row,
      status,
      agent: row.agent || old.agent,
      items: row.items.length ? row.items : old.items,
      drop: row.drop || old.drop, // socket payloads carry the address without its drop point
    };
  }

  /**
   * upsert adds or updates an order. added is true when the order was not on the board yet;
   * dropped lists the oldest orders that made room for it.
   */
  upsert(src, { top = true } = {}) {
    const row = normalizeOrder(src);
    if (!row) return null;
    const old = this.orders.get(row.id);
    this.orders.set(row.id, this.merge(old, row));
    let dropped = [];
    if (!old) {
      if (top) this.ids.unshift(row.id);
      else this.ids.push(row.id);
      dropped = this.trim();
    }
    return { id: row.id, added: !old, row: this.orders.get(row.id), dropped };
  }

  trim() {
    const dropped = [];
    while (this.ids.length > this.maxOrders) {
      const id = this.ids.pop();
      this.orders.delete(id);
      this.paths.delete(id);
      dropped.push(id);
    }
    return dropped;
  }

  /**
   * apply folds one socket event into the board. It returns {id, row} for a known order, {id,
   * unknown: true} when the order is not on the board (the caller may fetch it), or null.
   */
  apply(event, p) {
    if (!p || typeof p !== 'object') return null;
    if (event === 'order:new') return this.upsert(p);
    const id = idOf(p.orderId) || idOf(p._id);
    if (!id) return null;
    const row = this.orders.get(id);
    if (!row) return { id, unknown: true };
    switch (event) {
      case 'order:status:update':
      case 'order:status:changed':
        if (p.status && isForward(row.status, p.status)) row.status = p.status;
        if (p.paymentStatus) row.paymentStatus = p.paymentStatus;
        if (p.deliveryAgentDetails && p.deliveryAgentDetails.name && !row.agent) {
          row.agent = { id: '', name: p.deliveryAgentDetails.name, phone: p.deliveryAgentDetails.phone || '' };
        }
        break;
      case 'order:assigned': {
        if (isForward(row.status, 'assigned')) row.status = 'assigned';
        const a = agentOf(p);
        if (a) row.agent = a;
        break;
      }
      case 'order:cancelled':
        if (isForward(row.status, 'cancelled')) row.status = 'cancelled';
        if (p.reason) row.cancelReason = p.reason;
        break;
      case 'payment:received':
        if (p.status === 'completed' || p.paymentStatus === 'completed') row.paymentStatus = 'completed';
        break;
      default:
        return null;
    }
    return { id, row };
  }

  /** setAgents replaces the agent list with GET /users/delivery-agents/all data.agents. */
  setAgents(list) {
    this.agents = new Map();
    for (const a of Array.isArray(list) ? list : []) {
      if (a.isApproved === false) continue;
      const id = idOf(a.id || a._id);
      if (id) this.agents.set(id, { ...a, id });
    }
  }

  /** agentStatus folds delivery:agent:status:update into the agent list; returns the agent. */
  agentStatus(p) {
    const id = p && idOf(p.deliveryAgentId);
    if (!id) return null;
    const old = this.agents.get(id) || { id, name: p.name || 'Agent', isApproved: true };
    const isOnline = !!p.isOnline;
    const state = p.state || (isOnline ? 'free' : 'offline');
    const a = {
      ...old,
      name: p.name || old.name,
      phone: p.phone || old.phone,
      isOnline,
      status: !isOnline || state === 'offline' ? 'offline' : state === 'busy' ? 'busy' : 'online',
    };
    this.agents.set(id, a);
    return a;
  }

  /** onlineAgents lists agents that can take an order: free ones first, then busy ones. */
  onlineAgents() {
    const rank = { online: 0, busy: 1 };
    return [...this.agents.values()]
      .filter((a) => a.isOnline && a.status !== 'offline')
      .sort((a, b) => (rank[a.status] ?? 2) - (rank[b.status] ?? 2) || String(a.name).localeCompare(b.name));
  }

  /** location appends a delivery:location:update point; returns {id, path} or null when invalid. */
  location(p) {
    const id = p && idOf(p.orderId);
    const loc = p && (p.location || p);
    const lat = Number(loc && loc.latitude);
    const lng = Number(loc && loc.longitude);
    if (!id || !Number.isFinite(lat) || !Number.isFinite(lng) || Math.abs(lat) > 90 || Math.abs(lng) > 180) {
      return null;
    }
    let path = this.paths.get(id);
    if (!path) {
      path = [];
      this.paths.set(id, path);
    }
    const last = path[path.length - 1];
    if (!last || last.lat !== lat || last.lng !== lng) {
      path.push({ lat, lng, at: p.timestamp || new Date().toISOString() });
      if (path.length > this.maxPathPoints) path.splice(0, path.length - this.maxPathPoints);
    }
    return { id, path };
  }

  /** counts returns how many orders are in each status group. */
  counts() {
    let active = 0;
    let pending = 0;
    let delivered = 0;
    for (const id of this.ids) {
      const s = this.orders.get(id).status;
      if (ACTIVE_STATUSES.has(s)) active++;
      if (s === 'pending') pending++;
      if (s === 'delivered') delivered++;
    }
    return { total: this.ids.length, active, pending, delivered };
  }
}

/**
 * project maps {lat, lng} points into a width×height box with pad pixels of margin, keeping the
 * aspect ratio (equirectangular, longitude scaled by cos(latitude)). A path shorter than minSpan
 * degrees is centred instead of blown up, so a standing agent is a dot, not noise.
 */
export function project(points, width, height, pad = 16, minSpan = 0.002) {
  if (!points.length) return [];
  const k = Math.cos((points.reduce((s, p) => s + p.lat, 0) / points.length) * (Math.PI / 180));
  const xs = points.map((p) => p.lng * k);
  const ys = points.map((p) => p.lat);
  const minX = Math.min(...xs);
  const maxX = Math.max(...xs);
  const minY = Math.min(...ys);
  const maxY = Math.max(...ys);
  const spanX = Math.max(maxX - minX, minSpan);
  const spanY = Math.max(maxY - minY, minSpan);
  const scale = Math.min((width - 2 * pad) / spanX, (height - 2 * pad) / spanY);
  const cx = (minX + maxX) / 2;
  const cy = (minY + maxY) / 2;
  return points.map((_, i) => [
    round2(width / 2 + (xs[i] - cx) * scale),
    round2(height / 2 - (ys[i] - cy) * scale),
  ]);
}

function round2(v) {
  return Math.round(v * 100) / 100;
}

/** money formats an amount in rupees. */
export function money(v) {
  return `₹${(Number(v) || 0).toFixed(2)}`;
}

/** itemsSummary is the short text of an order's items, e.g. "2× Margherita (large), 1× Coke". */
export function itemsSummary(items) {
  return items.map((it) => `${it.quantity}× ${it.name}${it.size ? ` (${it.size})` : ''}`).join(', ');
}

/** addressText renders a delivery address object or string. */
export function addressText(a) {
  if (!a) return '';
  if (typeof a === 'string') return a;
  return [a.street, a.city, a.state, a.pincode].filter(Boolean).join(', ');
}

/** DELIVERING are the statuses of orders on their way: the live map's deliveries. */
export const DELIVERING = new Set(['assigned', 'out_for_delivery']);

/**
 * liveMap returns what the live map draws: every active delivery (assigned or out for delivery)
 * with its drop point and its agent's last position, and per agent one trail: the path of the
 * agent's most recently moving delivery.
 */
export function liveMap(board) {
  const deliveries = [];
  const agents = new Map();
  for (const id of board.ids) {
    const o = board.orders.get(id);
    if (!o || !DELIVERING.has(o.status)) continue;
    const path = board.paths.get(id) || [];
    const agentId = (o.agent && (o.agent.id || o.agent.name)) || `order-${id}`;
    const agentName = (o.agent && o.agent.name) || 'Agent';
    const last = path.length ? path[path.length - 1] : null;
    deliveries.push({ id, number: o.number, drop: o.drop || null, agentId, agentName, last });
    if (!last) continue;
    const at = Date.parse(last.at) || 0;
    const cur = agents.get(agentId);
    if (!cur || at >= cur.at) agents.set(agentId, { id: agentId, name: agentName, orderId: id, trail: path, at });
  }
  return { deliveries, agents: [...agents.values()] };
}

/**
 * Figures are today's figures on the strip: the server's (GET /dashboard/overview stats, computed
 * at stats.lastUpdated, maybe from its cache) plus the live events that happened after that moment.
 * Each reload replaces the base and keeps only the later events, so a cached or slow answer never
 * undoes what the board already counted, and nothing is counted twice. Event times come from the
 * events' own timestamp (set by the server), so both sides use the server's clock.
 */
export class Figures {
  constructor(maxEvents = 2000) {
    this.base = null;
    this.baseAt = 0;
    this.events = []; // {at, kind, ...}
    this.maxEvents = maxEvents;
  }

  /** load sets the server's figures; returns the figures now shown. */
  load(stats) {
    if (!stats) return this.current();
    const at = Date.parse(stats.lastUpdated) || 0;
    if (this.base && at < this.baseAt) return this.current(); // an older answer arrived late
    this.base = stats;
    this.baseAt = at;
    this.events = this.events.filter((e) => e.at > at);
    return this.current();
  }

  /** orderPlaced counts a new order (order:new of an order not yet on the board). */
  orderPlaced(at) {
    return this.add({ at: timeOf(at), kind: 'placed' });
  }

  /** statusChanged counts a status change the board saw (from → to, both known). */
  statusChanged(from, to, at) {
    if (!from || !to || from === to) return this.current();
    return this.add({ at: timeOf(at), kind: 'status', from, to });
  }

  /** paid counts a payment:received amount. */
  paid(amount, at) {
    const a = Number(amount);
    if (!Number.isFinite(a) || a <= 0) return this.current();
    return this.add({ at: timeOf(at), kind: 'paid', amount: a });
  }

  add(e) {
    if (e.at <= this.baseAt) return this.current(); // already in the server's figures
    this.events.push(e);
    if (this.events.length > this.maxEvents) this.events.splice(0, this.events.length - this.maxEvents);
    return this.current();
  }

  /** current returns the base plus the later events, or null before the first load. */
  current() {
    if (!this.base) return null;
    const s = { ...this.base };
    const inc = (k, d) => {
      s[k] = Math.max(0, (Number(s[k]) || 0) + d);
    };
    for (const e of this.events) {
      if (e.kind === 'placed') {
        inc('todayOrders', 1);
        inc('totalOrders', 1);
        inc('pendingOrders', 1);
      } else if (e.kind === 'paid') {
        s.todayRevenue = Math.round(((Number(s.todayRevenue) || 0) + e.amount) * 100) / 100;
        s.totalRevenue = Math.round(((Number(s.totalRevenue) || 0) + e.amount) * 100) / 100;
      } else if (e.kind === 'status') {
        if (e.from === 'pending') inc('pendingOrders', -1);
        const was = e.from === 'assigned' || e.from === 'out_for_delivery';
        const is = e.to === 'assigned' || e.to === 'out_for_delivery';
        if (was !== is) inc('activeDeliveries', is ? 1 : -1);
        if (e.to === 'delivered') inc('deliveredToday', 1);
      }
    }
    return s;
  }
}

function timeOf(v) {
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : Date.now();
}

/** trend describes today against yesterday: "▲ 3 vs yesterday", "same as yesterday". */
export function trend(today, yesterday, fmt = String) {
  const d = (Number(today) || 0) - (Number(yesterday) || 0);
  if (Math.abs(d) < 0.005) return 'same as yesterday';
  return `${d > 0 ? '▲' : '▼'} ${fmt(Math.abs(Math.round(d * 100) / 100))} vs yesterday`;
}

/** opsLine renders GET /presence: replicas, sockets by role, events per second. */
export function opsLine(p) {
  const c = p && p.cluster;
  if (!c) return 'Realtime status unavailable';
  const roles = c.roles || {};
  const n = (r) => (roles[r] && roles[r].sockets) || 0;
  const replicas = Array.isArray(c.gateways) ? c.gateways.length : 0;
  const eps = Number(c.eventsPerSecond) || 0;
  return `${replicas} gateway replica${replicas === 1 ? '' : 's'} · sockets: ${n('admin')} admin, ${n('delivery')} delivery, ` +
    `${n('customer')} customer, ${c.unregisteredSockets || 0} unregistered · ${eps.toFixed(eps < 10 ? 1 : 0)} events/s`;
}
