// main.js: the admin dashboard. It wires the REST client (api.js), the state (model.js) and a
// socket.io-client connection to the DOM of index.html. Rows are keyed by order id and updated in
// place, so a busy board redraws one row per event, not the whole table.

import './style.css';
import { io } from 'socket.io-client';
import { createApi } from './api.js';
import {
  ACTIVE_STATUSES,
  Board,
  STATUS_LABEL,
  addressText,
  Figures,
  itemsSummary,
  liveMap,
  money,
  opsLine,
  project,
  trend,
} from './model.js';

const SESSION_KEY = 'fph-admin-session';
const $ = (id) => document.getElementById(id);

const el = {
  loginView: $('login-view'),
  loginForm: $('login-form'),
  loginEmail: $('login-email'),
  loginPassword: $('login-password'),
  loginError: $('login-error'),
  appView: $('app-view'),
  conn: $('conn'),
  connText: $('conn-text'),
  businessBtn: $('business-toggle'),
  businessText: $('business-text'),
  soundToggle: $('sound-toggle'),
  who: $('who'),
  logout: $('logout'),
  flash: $('flash'),
  announce: $('announce'),
  counts: $('counts'),
  filter: $('status-filter'),
  tbody: $('orders-body'),
  empty: $('orders-empty'),
  details: $('details'),
  detailsTitle: $('details-title'),
  detailsBody: $('details-body'),
  detailsError: $('details-error'),
  detailsClose: $('details-close'),
  acceptBtn: $('accept-btn'),
  rejectForm: $('reject-form'),
  rejectReason: $('reject-reason'),
  assignForm: $('assign-form'),
  assignSelect: $('assign-agent'),
  tracking: $('tracking'),
  trackPath: $('track-path'),
  trackStart: $('track-start'),
  trackHead: $('track-head'),
  trackGrid: $('track-grid'),
  trackPoints: $('track-points'),
  trackPos: $('track-pos'),
  agentsList: $('agents-list'),
  figures: document.querySelectorAll('[data-testid=figures] .figure'),
  opsText: $('ops-text'),
  figuresUpdated: $('figures-updated'),
  mapCount: $('map-count'),
  mapGrid: $('map-grid'),
  mapLinks: $('map-links'),
  mapTrails: $('map-trails'),
  mapDrops: $('map-drops'),
  mapAgents: $('map-agents'),
  mapList: $('map-list'),
};
const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);
const fig = (name) => ({ tile: byTestId(`fig-${name}`), value: byTestId(`fig-${name}-value`), sub: byTestId(`fig-${name}-sub`) });

let session = readSession();
let board = new Board();
let socket = null;
let selectedId = '';
let business = null;
const rowEls = new Map(); // order id -> <tr>
const fetching = new Set(); // order ids being fetched because an event named an unknown order
let figures = new Figures(); // today's figures: the server's plus the live events since
let stats = null; // the figures shown
let statsAt = null; // when the server computed its part, and whether it came from its cache
let figuresTimer = 0; // a pending throttled refresh of the figures
let glanceTimers = []; // intervals of the figures and the ops line
const joined = new Set(); // delivering orders whose room we joined (their last position comes back)
const dropFetched = new Set(); // delivering orders fetched once for their drop point

const api = createApi({
  getToken: () => session && session.token,
  onUnauthorized: () => signOut('Your session has expired or was revoked. Please sign in again.'),
});

// ---- session -------------------------------------------------------------------------------

function readSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
    return s && s.token && s.user ? s : null;
  } catch {
    return null;
  }
}

el.loginForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  unlockAudio();
  el.loginError.textContent = '';
  const email = el.loginEmail.value.trim();
  const password = el.loginPassword.value;
  if (!email || !password) {
    el.loginError.textContent = 'Enter your email and password.';
    return;
  }
  const submit = el.loginForm.querySelector('button[type=submit]');
  submit.disabled = true;
  try {
    const data = await api.login(email, password);
    const user = data && data.user;
    if (!data || !data.accessToken || !user) {
      el.loginError.textContent = 'The server answered without a session token.';
      return;
    }
    if (user.role !== 'admin') {
      el.loginError.textContent = `This dashboard is for admin accounts only; ${user.email || email} is a ${user.role} account.`;
      return;
    }
    session = { token: data.accessToken, user: { id: user.id || user._id, name: user.name, email: user.email } };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    el.loginPassword.value = '';
    start();
  } catch (err) {
    el.loginError.textContent = err.message;
  } finally {
    submit.disabled = false;
  }
});

el.logout.addEventListener('click', async () => {
  try {
    await api.logout();
  } catch {
    // Logging out locally is what matters; the token expires on its own.
  }
  signOut('');
});

function signOut(message) {
  session = null;
  sessionStorage.removeItem(SESSION_KEY);
  if (socket) {
    socket.disconnect();
    socket = null;
  }
  board = new Board();
  figures = new Figures();
  stats = null;
  for (const t of glanceTimers) clearInterval(t);
  glanceTimers = [];
  clearTimeout(figuresTimer);
  figuresTimer = 0;
  joined.clear();
  dropFetched.clear();
  renderMap();
  rowEls.clear();
  el.tbody.replaceChildren();
  closeDetails();
  el.appView.hidden = true;
  el.loginView.hidden = false;
  el.loginError.textContent = message;
  el.loginEmail.focus();
}

function start() {
  el.loginView.hidden = true;
  el.appView.hidden = false;
  el.who.textContent = session.user.name || session.user.email;
  renderCounts();
  connect();
  refreshAll();
  loadOps();
  glanceTimers = [setInterval(loadOps, 10000), setInterval(loadFigures, 30000)];
  el.tbody.closest('section').focus();
}

async function refreshAll() {
  // Fresh figures: events from before the login or during an outage were never seen here.
  await Promise.all([loadOrders(), loadAgents(), loadBusiness(), loadFigures(true)]);
}

async function loadOrders() {
  try {
    board.load(await api.listOrders());
    renderAllRows();
    renderMap();
  } catch (err) {
    flash(`Could not load orders: ${err.message}`);
  }
}

async function loadAgents() {
  try {
    const data = await api.listAgents();
    board.setAgents((data && data.agents) || []);
    renderAgents();
    renderMap();
  } catch (err) {
    flash(`Could not load delivery agents: ${err.message}`);
  }
}

async function loadBusiness() {
  try {
    setBusiness(await api.getBusiness());
  } catch (err) {
    setBusiness(null);
    flash(`Could not load the shop status: ${err.message}`);
  }
}

// ---- socket --------------------------------------------------------------------------------

function connect() {
  let connectedOnce = false;
  setConn('connecting', 'Connecting…');
  // Same origin, default path /socket.io/. The token lets the gateway take identity from the JWT;
  // register is still sent because that is what the gateway's compatibility path expects.
  socket = io({
    auth: { token: session.token },
    transports: ['websocket', 'polling'],
    reconnectionDelay: 1000,
    reconnectionDelayMax: 5000,
  });
  const s = socket;
  let connectedAt = 0;
  let serverKicks = 0;
  s.on('connect', () => {
    connectedAt = Date.now();
    setConn('connected', 'Live');
    s.emit('register', { userId: session.user.id, role: 'admin' });
    if (selectedId) s.emit('join:order', selectedId);
    joined.clear(); // a new connection is in no room: join the deliveries again for their positions
    renderMap();
    loadOps();
    // Anything that happened while we were away is in the REST state; fetch it once.
    if (connectedOnce) refreshAll();
    connectedOnce = true;
  });
  s.on('disconnect', (reason) => {
    if (reason === 'io client disconnect') {
      setConn('disconnected', 'Disconnected');
    } else if (reason === 'io server disconnect') {
      // socket.io does not retry after the server said goodbye (a gateway shutting down does);
      // retry ourselves with a growing pause, so the board moves to another replica.
      if (Date.now() - connectedAt > 10000) serverKicks = 0;
      const wait = Math.min(1000 * 2 ** serverKicks++, 15000);
      setConn('reconnecting', `Server closed the connection, reconnecting in ${Math.round(wait / 1000)} s…`);
      setTimeout(() => {
        if (socket === s && !s.connected) s.connect();
      }, wait);
    } else {
      setConn('reconnecting', 'Connection lost, reconnecting…');
    }
  });
  s.on('connect_error', (err) => {
    if (!s.active) setConn('disconnected', `Refused: ${err.message}`);
    else if (!connectedOnce) setConn('reconnecting', `Cannot connect (${err.message}), retrying…`);
  });
  s.io.on('reconnect_attempt', (n) => setConn('reconnecting', `Reconnecting (attempt ${n})…`));
  s.io.on('reconnect_failed', () => setConn('disconnected', 'Disconnected: gave up reconnecting'));
  s.on('error', (p) => flash(`Realtime error: ${(p && p.message) || p}`));

  s.on('order:new', (p) => {
    const r = board.apply('order:new', p);
    if (!r) return;
    if (r.added) {
      setStats(figures.orderPlaced(p.timestamp || p.createdAt));
      scheduleFigures();
      showAdded(r, true);
      beep();
      el.announce.textContent = `New order ${r.row.number} from ${r.row.customer}, ${money(r.row.total)}.`;
    } else {
      renderRow(r.id);
    }
  });
  for (const name of ['order:status:update', 'order:status:changed', 'order:assigned', 'order:cancelled', 'payment:received']) {
    s.on(name, (p) => onOrderEvent(name, p));
  }
  s.on('delivery:agent:status:update', (p) => {
    if (board.agentStatus(p)) renderAgents();
    scheduleFigures();
  });
  s.on('delivery:location:update', (p) => {
    const r = board.location(p);
    if (!r) return;
    const tr = rowEls.get(r.id);
    if (tr) tr.dataset.tracking = 'true';
    if (r.id === selectedId) renderTracking();
    renderMap();
  });
  s.on('business:status:update', (p) => setBusiness(p));
}

function onOrderEvent(name, p) {
  if (name === 'payment:received') setStats(figures.paid(p && p.amount, p && p.timestamp));
  scheduleFigures();
  const prev = statusOf(p);
  const r = board.apply(name, p);
  if (!r) return;
  countStatus(prev, r.id, p && p.timestamp);
  if (r.unknown) {
    fetchUnknown(r.id);
    return;
  }
  renderRow(r.id, true);
  renderCounts();
  renderMap();
  if (r.id === selectedId) renderDetails();
}

async function fetchUnknown(id) {
  if (fetching.has(id)) return;
  fetching.add(id);
  try {
    const r = board.upsert(await api.getOrder(id));
    if (r && r.added) showAdded(r, false);
    renderMap();
  } catch {
    // An order we may not see (or that vanished) is simply not shown.
  } finally {
    fetching.delete(id);
  }
}

function setConn(state, text) {
  el.conn.dataset.state = state;
  el.connText.textContent = text;
}

// ---- order board ----------------------------------------------------------------------------

function renderAllRows() {
  const keep = new Set(board.ids);
  for (const [id, tr] of rowEls) {
    if (!keep.has(id)) {
      tr.remove();
      rowEls.delete(id);
    }
  }
  const frag = document.createDocumentFragment();
  for (const id of board.ids) {
    frag.append(rowEls.get(id) || createRow(id));
    renderRow(id);
  }
  el.tbody.replaceChildren(frag);
  renderCounts();
  if (selectedId) renderDetails();
}

/** showAdded puts the row of an order upsert added at the top; highlight marks a new order. */
function showAdded(r, highlight) {
  for (const id of r.dropped) {
    rowEls.get(id)?.remove();
    rowEls.delete(id);
  }
  const tr = rowEls.get(r.id) || createRow(r.id);
  el.tbody.prepend(tr);
  renderRow(r.id);
  if (highlight) {
    tr.classList.remove('is-new');
    void tr.offsetWidth; // restart the highlight animation
    tr.classList.add('is-new');
  }
  renderCounts();
}

function createRow(id) {
  const tr = document.createElement('tr');
  tr.setAttribute('data-testid', 'order-row');
  tr.dataset.orderId = id;
  tr.innerHTML =
    '<td><button type="button" class="link" data-testid="open-order"></button></td>' +
    '<td data-testid="order-customer"></td><td class="items" data-testid="order-items"></td>' +
    '<td class="num" data-testid="order-total"></td>' +
    '<td><span class="badge" data-testid="order-status"></span></td>' +
    '<td data-testid="order-agent"></td><td data-testid="order-time"></td>' +
    '<td class="row-actions"><button type="button" class="primary small" data-testid="row-accept">Accept</button></td>';
  tr.querySelector('[data-testid=open-order]').addEventListener('click', () => openDetails(id));
  tr.querySelector('[data-testid=row-accept]').addEventListener('click', (ev) => accept(id, ev.currentTarget));
  tr.addEventListener('animationend', () => tr.classList.remove('is-new', 'is-changed'));
  rowEls.set(id, tr);
  return tr;
}

function renderRow(id, changed = false) {
  const o = board.orders.get(id);
  const tr = rowEls.get(id);
  if (!o || !tr) return;
  const cells = tr.children;
  const prevStatus = tr.dataset.status;
  tr.dataset.status = o.status;
  cells[0].firstChild.textContent = o.number;
  cells[0].firstChild.setAttribute('aria-label', `Open order ${o.number}`);
  cells[1].textContent = o.customer;
  cells[2].textContent = itemsSummary(o.items);
  cells[3].textContent = money(o.total);
  const badge = cells[4].firstChild;
  badge.textContent = STATUS_LABEL[o.status] || o.status;
  badge.className = `badge s-${o.status}`;
  cells[5].textContent = o.agent ? o.agent.name : '';
  cells[6].textContent = timeText(o.placedAt);
  cells[6].title = new Date(o.placedAt).toLocaleString();
  cells[7].firstChild.hidden = o.status !== 'pending';
  cells[7].firstChild.setAttribute('aria-label', `Accept order ${o.number}`);
  tr.classList.toggle('selected', id === selectedId);
  tr.hidden = !matchesFilter(o);
  if (changed && prevStatus && prevStatus !== o.status) {
    tr.classList.remove('is-changed');
    void tr.offsetWidth;
    tr.classList.add('is-changed');
  }
}

function matchesFilter(o) {
  const f = el.filter.value;
  if (!f) return true;
  if (f === 'active') return ACTIVE_STATUSES.has(o.status);
  return o.status === f;
}

el.filter.addEventListener('change', () => {
  for (const id of board.ids) renderRow(id);
});

function renderCounts() {
  const c = board.counts();
  el.counts.textContent = `${c.pending} pending · ${c.active} active · ${c.delivered} delivered`;
  el.empty.hidden = c.total > 0;
}

function timeText(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

// ---- actions -------------------------------------------------------------------------------

/**
 * runAction runs one REST action with its button disabled. A failure shows the API's message in
 * the banner, and in the details panel too when the action was about the order shown there.
 */
async function runAction(button, fn, label, orderId = '') {
  if (orderId && orderId === selectedId) el.detailsError.textContent = '';
  if (button) button.disabled = true;
  try {
    return await fn();
  } catch (err) {
    const msg = `${label} failed: ${err.message}`;
    flash(msg);
    if (orderId && orderId === selectedId) el.detailsError.textContent = msg;
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

async function accept(id, button) {
  const data = await runAction(button, () => api.accept(id), 'Accept', id);
  if (data) applyRest(data);
}

function applyRest(data) {
  const prev = statusOf(data);
  const r = board.upsert(data, { top: false });
  if (!r) return;
  const o = (data && data.order) || data;
  countStatus(prev, r.id, o && o.updatedAt);
  if (r.added) showAdded(r, false);
  else renderRow(r.id, true);
  renderCounts();
  renderMap();
  if (r.id === selectedId) renderDetails();
}

el.acceptBtn.addEventListener('click', () => accept(selectedId, el.acceptBtn));

el.rejectForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const reason = el.rejectReason.value.trim();
  if (!reason) {
    el.detailsError.textContent = 'Give a reason for rejecting the order.';
    el.rejectReason.focus();
    return;
  }
  const id = selectedId;
  const data = await runAction(el.rejectForm.querySelector('button'), () => api.reject(id, reason), 'Reject', id);
  if (data) applyRest(data);
});

el.assignForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const agentId = el.assignSelect.value;
  if (!agentId) {
    el.detailsError.textContent = 'No delivery agent is online to assign.';
    return;
  }
  const id = selectedId;
  const data = await runAction(el.assignForm.querySelector('button'), () => api.assign(id, agentId), 'Assign', id);
  if (data) applyRest(data);
});

// ---- details and tracking ------------------------------------------------------------------

async function openDetails(id) {
  if (selectedId && selectedId !== id && socket) socket.emit('leave:order', selectedId);
  const prev = rowEls.get(selectedId);
  if (prev) prev.classList.remove('selected');
  selectedId = id;
  rowEls.get(id)?.classList.add('selected');
  el.details.hidden = false;
  el.detailsError.textContent = '';
  if (socket) socket.emit('join:order', id);
  renderDetails();
  el.details.focus();
  try {
    const data = await api.getOrder(id);
    if (selectedId !== id) return;
    board.upsert(data, { top: false });
    renderRow(id);
    renderDetails();
  } catch (err) {
    if (selectedId === id) el.detailsError.textContent = `Could not load the order: ${err.message}`;
  }
}

function closeDetails() {
  if (selectedId && socket) socket.emit('leave:order', selectedId);
  rowEls.get(selectedId)?.classList.remove('selected');
  const back = rowEls.get(selectedId)?.querySelector('button');
  selectedId = '';
  el.details.hidden = true;
  el.tracking.hidden = true;
  if (back) back.focus();
}

el.detailsClose.addEventListener('click', closeDetails);
document.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape' && selectedId) closeDetails();
});

function renderDetails() {
  const o = board.orders.get(selectedId);
  if (!o) return;
  el.details.dataset.orderId = o.id;
  el.details.dataset.status = o.status;
  el.detailsTitle.textContent = `Order ${o.number}`;
  const rows = [
    ['Status', STATUS_LABEL[o.status] || o.status, 'detail-status'],
    ['Customer', [o.customer, o.customerPhone].filter(Boolean).join(' · ')],
    ['Address', addressText(o.address)],
    ['Payment', [o.paymentMethod, o.paymentStatus].filter(Boolean).join(' · ')],
    ['Agent', o.agent ? [o.agent.name, o.agent.phone].filter(Boolean).join(' · ') : '—', 'detail-agent'],
    ['Placed', new Date(o.placedAt).toLocaleString()],
  ];
  if (o.instructions) rows.push(['Notes', o.instructions]);
  if (o.cancelReason) rows.push(['Reason', o.cancelReason]);
  const dl = document.createElement('dl');
  for (const [k, v, testid] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v || '—';
    if (testid) dd.setAttribute('data-testid', testid);
    dl.append(dt, dd);
  }
  const ul = document.createElement('ul');
  ul.className = 'lines';
  for (const it of o.items) {
    const li = document.createElement('li');
    li.textContent = `${it.quantity}× ${it.name}${it.size ? ` (${it.size})` : ''}`;
    const amt = document.createElement('span');
    amt.textContent = money(it.subtotal);
    li.append(amt);
    ul.append(li);
  }
  const totals = document.createElement('p');
  totals.className = 'totals';
  const parts = [];
  if (o.subtotal != null) parts.push(`subtotal ${money(o.subtotal)}`);
  if (o.tax != null) parts.push(`tax ${money(o.tax)}`);
  if (o.deliveryFee != null) parts.push(`delivery ${money(o.deliveryFee)}`);
  if (o.discount) parts.push(`discount −${money(o.discount)}`);
  totals.textContent = `${parts.join(' · ')}${parts.length ? ' · ' : ''}total ${money(o.total)}`;
  el.detailsBody.replaceChildren(dl, ul, totals);

  const terminal = o.status === 'delivered' || o.status === 'cancelled' || o.status === 'refunded';
  el.acceptBtn.hidden = o.status !== 'pending';
  el.rejectForm.hidden = terminal;
  el.assignForm.hidden = o.status !== 'accepted';
  renderAssignOptions();
  el.tracking.hidden = !(o.status === 'assigned' || o.status === 'out_for_delivery' || board.paths.has(o.id));
  renderTracking();
}

function renderAssignOptions() {
  const agents = board.onlineAgents();
  const keep = el.assignSelect.value;
  el.assignSelect.replaceChildren();
  if (!agents.length) {
    const opt = new Option('No agent online', '');
    opt.disabled = true;
    el.assignSelect.append(opt);
  }
  for (const a of agents) {
    el.assignSelect.append(new Option(`${a.name}${a.status === 'busy' ? ' (busy)' : ''}`, a.id));
  }
  if (agents.some((a) => a.id === keep)) el.assignSelect.value = keep;
  el.assignForm.querySelector('button').disabled = !agents.length;
}

const TRACK_W = 320;
const TRACK_H = 220;

function renderTracking() {
  if (el.tracking.hidden) return;
  const path = board.paths.get(selectedId) || [];
  el.trackPoints.textContent = String(path.length);
  if (!path.length) {
    el.trackPath.setAttribute('points', '');
    el.trackHead.setAttribute('cx', '-10');
    el.trackStart.setAttribute('cx', '-10');
    el.trackPos.textContent = "waiting for the agent's location…";
    return;
  }
  const xy = project(path, TRACK_W, TRACK_H, 20);
  el.trackPath.setAttribute('points', xy.map((p) => p.join(',')).join(' '));
  const [sx, sy] = xy[0];
  const [hx, hy] = xy[xy.length - 1];
  el.trackStart.setAttribute('cx', String(sx));
  el.trackStart.setAttribute('cy', String(sy));
  el.trackHead.setAttribute('cx', String(hx));
  el.trackHead.setAttribute('cy', String(hy));
  const last = path[path.length - 1];
  el.trackPos.textContent = `${last.lat.toFixed(5)}, ${last.lng.toFixed(5)} at ${timeText(last.at)}`;
}

function drawGrid() {
  const lines = [];
  for (let x = 40; x < TRACK_W; x += 40) lines.push(`<line x1="${x}" y1="0" x2="${x}" y2="${TRACK_H}"/>`);
  for (let y = 40; y < TRACK_H; y += 40) lines.push(`<line x1="0" y1="${y}" x2="${TRACK_W}" y2="${y}"/>`);
  el.trackGrid.innerHTML = lines.join('');
}

// ---- agents --------------------------------------------------------------------------------

function renderAgents() {
  const agents = [...board.agents.values()].sort(
    (a, b) => Number(!!b.isOnline) - Number(!!a.isOnline) || String(a.name).localeCompare(b.name),
  );
  el.agentsList.replaceChildren(
    ...agents.map((a) => {
      const li = document.createElement('li');
      li.setAttribute('data-testid', 'agent');
      li.dataset.agentId = a.id;
      li.dataset.status = a.isOnline ? a.status || 'online' : 'offline';
      li.innerHTML = '<span class="dot" aria-hidden="true"></span><span class="name"></span><span class="state"></span>';
      li.children[1].textContent = a.name;
      li.children[2].textContent = li.dataset.status;
      return li;
    }),
  );
  if (!agents.length) {
    const li = document.createElement('li');
    li.className = 'muted';
    li.textContent = 'No approved agents yet.';
    el.agentsList.append(li);
  }
  if (selectedId) renderAssignOptions();
  if (stats) setStats(stats);
}

// ---- at a glance: today's figures, the ops line ------------------------------------------------

/**
 * loadFigures fetches today's figures. Between logins and reconnects the server's brief cache is
 * fine: Figures re-applies the live events newer than the answer, so busy boards do not force
 * recomputations (on FerretDB each one scans all orders through orderapi's one connection).
 */
async function loadFigures(fresh = false) {
  try {
    const data = await api.overview(fresh);
    if (!session || !data || !data.stats) return;
    statsAt = { at: data.stats.lastUpdated || data.lastUpdated, cached: !!data.fromCache };
    setStats(figures.load(data.stats));
  } catch (err) {
    el.figuresUpdated.textContent = `figures unavailable: ${err.message}`;
  }
}

/** scheduleFigures reloads the figures a few seconds after live events, at most once per 5 s. */
function scheduleFigures() {
  if (figuresTimer || !session) return;
  figuresTimer = setTimeout(() => {
    figuresTimer = 0;
    loadFigures();
  }, 5000);
}

/** statusOf is the board's status of the order an event or REST answer names, before applying it. */
function statusOf(p) {
  const o = p && typeof p === 'object' ? p.order || p : null;
  const id = o && (o.orderId || o._id || o.id);
  return id ? board.orders.get(String(id))?.status : undefined;
}

/** countStatus counts a status change of order id on the figures (from is the status before). */
function countStatus(from, id, at) {
  const to = board.orders.get(id)?.status;
  if (from && to && from !== to) setStats(figures.statusChanged(from, to, at));
}

function setStats(next) {
  if (!next) return;
  if (board.agents.size) next = { ...next, agentsOnline: board.onlineAgents().length };
  const prev = stats;
  stats = next;
  const show = (name, value, sub) => {
    const f = fig(name);
    if (!f.value) return;
    if (f.value.textContent !== value && prev) {
      f.tile.classList.remove('bumped');
      void f.tile.offsetWidth;
      f.tile.classList.add('bumped');
    }
    f.value.textContent = value;
    f.tile.dataset.value = value;
    if (f.sub && sub !== undefined) f.sub.textContent = sub;
  };
  show('orders', String(next.todayOrders ?? 0), trend(next.todayOrders, next.yesterdayOrders));
  show('revenue', money(next.todayRevenue), trend(next.todayRevenue, next.yesterdayRevenue, money));
  show('pending', String(next.pendingOrders ?? 0));
  show('active', String(next.activeDeliveries ?? 0), `${next.deliveredToday ?? 0} delivered today`);
  show('agents', String(next.agentsOnline ?? 0));
  if (statsAt) {
    el.figuresUpdated.textContent = `Figures of ${timeText(statsAt.at)}${statsAt.cached ? ' (server cache)' : ''} plus the live events since.`;
  }
}

async function loadOps() {
  try {
    el.opsText.textContent = opsLine(await api.presence());
  } catch (err) {
    el.opsText.textContent = `Realtime status unavailable (${err.message})`;
  }
}

// ---- live map ------------------------------------------------------------------------------

const MAP_W = 720;
const MAP_H = 220;
const SVG_NS = 'http://www.w3.org/2000/svg';
const AGENT_COLORS = ['#1f5fa8', '#0d6e5f', '#7a3fb0', '#a15c00', '#b3261e', '#2f4f1f'];

function colorOf(agentId) {
  let h = 0;
  for (const ch of String(agentId)) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return AGENT_COLORS[h % AGENT_COLORS.length];
}

function svg(tag, attrs, title) {
  const n = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (title) {
    const t = document.createElementNS(SVG_NS, 'title');
    t.textContent = title;
    n.append(t);
  }
  return n;
}

/** km is the great-circle distance between two {lat, lng} points. */
function km(a, b) {
  const r = Math.PI / 180;
  const h = Math.sin(((b.lat - a.lat) * r) / 2) ** 2 +
    Math.cos(a.lat * r) * Math.cos(b.lat * r) * Math.sin(((b.lng - a.lng) * r) / 2) ** 2;
  return 12742 * Math.asin(Math.sqrt(h));
}

/**
 * renderMap redraws the live map from the board: trails and last positions of the agents, the
 * drop points, a dashed line from each agent to its drop point, and the same facts as a list.
 * It also asks for what is missing: the room of each delivery (its last known position comes
 * back) and, once, the order itself when its drop point is unknown.
 */
function renderMap() {
  const m = liveMap(board);
  if (socket && socket.connected) {
    for (const d of m.deliveries) {
      if (!joined.has(d.id)) {
        joined.add(d.id);
        socket.emit('join:order', d.id);
      }
    }
  }
  for (const d of m.deliveries) {
    if (!d.drop && !dropFetched.has(d.id)) {
      dropFetched.add(d.id);
      fetchDrop(d.id);
    }
  }

  const pts = [];
  for (const d of m.deliveries) if (d.drop) pts.push(d.drop);
  for (const a of m.agents) pts.push(...a.trail);
  const xy = project(pts, MAP_W, MAP_H, 30, 0.01);
  const at = new Map(pts.map((p, i) => [p, xy[i]]));
  const posOf = (p) => at.get(p);

  const links = [];
  const drops = [];
  for (const d of m.deliveries) {
    if (!d.drop) continue;
    const [x, y] = posOf(d.drop);
    drops.push(svg('rect', { x: x - 6, y: y - 6, width: 12, height: 12, transform: `rotate(45 ${x} ${y})`,
      class: 'map-drop', 'data-testid': 'map-drop', 'data-order-id': d.id }, `Drop point of ${d.number}`));
    const agent = m.agents.find((a) => a.id === d.agentId);
    if (agent && d.last) {
      const [ax, ay] = posOf(agent.trail[agent.trail.length - 1]);
      links.push(svg('line', { x1: ax, y1: ay, x2: x, y2: y, class: 'map-link' }));
    }
  }
  const trails = [];
  const heads = [];
  for (const a of m.agents) {
    const color = colorOf(a.id);
    const p = a.trail.map((q) => posOf(q).join(',')).join(' ');
    trails.push(svg('polyline', { points: p, class: 'map-trail', stroke: color, 'data-testid': 'map-trail',
      'data-agent-id': a.id, 'data-points': a.trail.length }));
    const last = a.trail[a.trail.length - 1];
    const [x, y] = posOf(last);
    heads.push(svg('circle', { cx: x, cy: y, r: 8, fill: color, class: 'map-agent', 'data-testid': 'map-agent',
      'data-agent-id': a.id, 'data-lat': last.lat, 'data-lng': last.lng }, `${a.name} at ${last.lat.toFixed(5)}, ${last.lng.toFixed(5)}`));
    // The name goes above the marker, or below it when the drop point or the top edge is above.
    const drop = m.deliveries.find((d) => d.id === a.orderId)?.drop;
    const dropAbove = drop && posOf(drop)[1] < y;
    const label = svg('text', { x: Math.min(x + 11, MAP_W - 90), y: y < 30 || dropAbove ? y + 22 : y - 10, class: 'map-label' });
    label.textContent = a.name;
    heads.push(label);
  }
  if (!m.deliveries.length || !pts.length) {
    const t = svg('text', { x: MAP_W / 2, y: MAP_H / 2, 'text-anchor': 'middle', class: 'map-empty' });
    t.textContent = m.deliveries.length ? 'Waiting for positions and drop points…' : 'No delivery on the way';
    heads.push(t);
  }
  el.mapLinks.replaceChildren(...links);
  el.mapDrops.replaceChildren(...drops);
  el.mapTrails.replaceChildren(...trails);
  el.mapAgents.replaceChildren(...heads);
  el.mapCount.textContent = `${m.deliveries.length} on the way · ${m.agents.length} agent${m.agents.length === 1 ? '' : 's'} located`;

  el.mapList.replaceChildren(
    ...m.deliveries.map((d) => {
      const li = document.createElement('li');
      li.setAttribute('data-testid', 'map-item');
      li.dataset.orderId = d.id;
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = colorOf(d.agentId);
      sw.setAttribute('aria-hidden', 'true');
      let where = 'no position yet';
      if (d.last && d.drop) where = `${km(d.last, d.drop).toFixed(1)} km from the drop point`;
      else if (d.last) where = `at ${d.last.lat.toFixed(4)}, ${d.last.lng.toFixed(4)} (no drop point)`;
      else if (!d.drop) where = 'no position or drop point yet';
      li.append(sw, `${d.number} · ${d.agentName} · ${where}`);
      return li;
    }),
  );
}

async function fetchDrop(id) {
  try {
    board.upsert(await api.getOrder(id), { top: false });
    renderMap();
  } catch {
    // Without its drop point the delivery is still listed and its agent drawn.
  }
}

function drawMapGrid() {
  const lines = [];
  for (let x = 40; x < MAP_W; x += 40) lines.push(`<line x1="${x}" y1="0" x2="${x}" y2="${MAP_H}"/>`);
  for (let y = 40; y < MAP_H; y += 40) lines.push(`<line x1="0" y1="${y}" x2="${MAP_W}" y2="${y}"/>`);
  el.mapGrid.innerHTML = lines.join('');
}

// ---- business status -----------------------------------------------------------------------

function setBusiness(p) {
  business = p && typeof p.isOpen === 'boolean' ? p : null;
  const known = !!business;
  el.businessBtn.dataset.open = known ? String(business.isOpen) : 'unknown';
  el.businessBtn.setAttribute('aria-pressed', String(known && business.isOpen));
  el.businessText.textContent = known ? (business.isOpen ? 'Open' : 'Closed') : 'unknown';
  el.businessBtn.title = known
    ? `${business.message || ''} (click to ${business.isOpen ? 'close' : 'open'} the shop)`.trim()
    : 'Shop status unavailable';
}

el.businessBtn.addEventListener('click', async () => {
  const next = business ? !business.isOpen : true;
  const data = await runAction(el.businessBtn, () => api.setBusiness(next), next ? 'Opening the shop' : 'Closing the shop');
  if (data && typeof data.isOpen === 'boolean') setBusiness(data);
  else if (data !== undefined) setBusiness({ ...(business || {}), isOpen: next });
});

// ---- feedback: flash, sound ----------------------------------------------------------------

let flashTimer = 0;
function flash(msg) {
  el.flash.textContent = msg;
  el.flash.hidden = false;
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => {
    el.flash.hidden = true;
  }, 10000);
}
el.flash.addEventListener('click', () => {
  el.flash.hidden = true;
});

let audio = null;
function unlockAudio() {
  try {
    audio = audio || new AudioContext();
    if (audio.state === 'suspended') audio.resume();
  } catch {
    audio = null;
  }
}
// A restored session had no click yet; browsers only allow sound after a user gesture.
document.addEventListener('pointerdown', unlockAudio, { once: true });
document.addEventListener('keydown', unlockAudio, { once: true });

function beep() {
  if (!el.soundToggle.checked || !audio || audio.state !== 'running') return;
  const t = audio.currentTime;
  const osc = audio.createOscillator();
  const gain = audio.createGain();
  osc.type = 'sine';
  osc.frequency.setValueAtTime(880, t);
  osc.frequency.setValueAtTime(1320, t + 0.09);
  gain.gain.setValueAtTime(0.0001, t);
  gain.gain.exponentialRampToValueAtTime(0.2, t + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.22);
  osc.connect(gain).connect(audio.destination);
  osc.start(t);
  osc.stop(t + 0.25);
}

// ---- boot ----------------------------------------------------------------------------------

drawGrid();
drawMapGrid();
renderMap();
if (session) start();
else {
  el.loginView.hidden = false;
  el.loginEmail.focus();
}
