// Unit tests of the dashboard state (no DOM, no network): npm test
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Board, isForward, normalizeOrder, project } from '../src/model.js';

const restOrder = {
  _id: '665f00000000000000000001',
  orderNumber: 'ORD-A-0001',
  user: { _id: 'u1', name: 'Asha', phone: '9876543210' },
  items: [{ productSnapshot: { name: 'Margherita' }, quantity: 2, size: 'large', subtotal: 598 }],
  totalAmount: 688.83,
  status: 'pending',
  createdAt: '2026-11-26T10:00:00.000Z',
};

test('normalizeOrder reads REST rows and order:new payloads alike', () => {
  const a = normalizeOrder(restOrder);
  assert.equal(a.id, restOrder._id);
  assert.equal(a.customer, 'Asha');
  assert.deepEqual(a.items, [{ name: 'Margherita', quantity: 2, size: 'large', subtotal: 598 }]);
  const b = normalizeOrder({
    orderId: 'o2', orderNumber: 'ORD-2', customerName: 'Ravi', totalAmount: 10, status: 'pending',
    items: [{ product: { name: 'Coke' }, quantity: 1 }], timestamp: '2026-11-26T10:05:00.000Z',
  });
  assert.equal(b.id, 'o2');
  assert.equal(b.customer, 'Ravi');
  assert.equal(b.items[0].name, 'Coke');
  assert.equal(b.placedAt, '2026-11-26T10:05:00.000Z');
  assert.equal(normalizeOrder({ orderNumber: 'no id' }), null);
  assert.equal(normalizeOrder({ order: restOrder }).id, restOrder._id, 'data.order of GET /orders/:id');
});

test('status only moves forward', () => {
  const cases = [
    ['pending', 'accepted', true], ['accepted', 'pending', false], ['assigned', 'assigned', true],
    ['out_for_delivery', 'delivered', true], ['delivered', 'out_for_delivery', false],
    ['cancelled', 'accepted', false], ['pending', 'cancelled', true], ['pending', 'bogus', false],
  ];
  for (const [from, to, want] of cases) assert.equal(isForward(from, to), want, `${from} -> ${to}`);
});

test('board applies events in place and ignores stale ones', () => {
  const b = new Board();
  b.load([restOrder]);
  assert.equal(b.apply('order:new', { ...restOrder, _id: undefined, orderId: 'o9', orderNumber: 'ORD-9' }).added, true);
  assert.deepEqual(b.ids, ['o9', restOrder._id]);
  b.apply('order:status:changed', { orderId: restOrder._id, status: 'accepted' });
  b.apply('order:status:update', { orderId: restOrder._id, status: 'accepted' });
  assert.equal(b.orders.get(restOrder._id).status, 'accepted');
  const r = b.apply('order:assigned', { orderId: restOrder._id, deliveryAgent: { _id: 'd1', name: 'Dev' } });
  assert.equal(r.row.status, 'assigned');
  assert.equal(r.row.agent.name, 'Dev');
  // A late REST reply with the old status must not move the row back.
  b.load([restOrder]);
  assert.equal(b.orders.get(restOrder._id).status, 'assigned');
  assert.deepEqual(b.ids, ['o9', restOrder._id], 'live-only rows survive a reload');
  assert.deepEqual(b.apply('order:cancelled', { orderId: 'nope' }), { id: 'nope', unknown: true });
});

test('agents: online list follows delivery:agent:status:update', () => {
  const b = new Board();
  b.setAgents([{ id: 'd1', name: 'Dev', isApproved: true, isOnline: false, status: 'offline' }]);
  assert.equal(b.onlineAgents().length, 0);
  b.agentStatus({ deliveryAgentId: 'd1', isOnline: true, state: 'free' });
  b.agentStatus({ deliveryAgentId: 'd2', name: 'New', isOnline: true, state: 'busy' });
  assert.deepEqual(b.onlineAgents().map((a) => [a.id, a.status]), [['d1', 'online'], ['d2', 'busy']]);
  b.agentStatus({ deliveryAgentId: 'd1', isOnline: false, state: 'offline' });
  assert.deepEqual(b.onlineAgents().map((a) => a.id), ['d2']);
});

test('location builds a bounded path and rejects bad coordinates', () => {
  const b = new Board({ maxPathPoints: 3 });
  for (let i = 0; i < 5; i++) b.location({ orderId: 'o1', location: { latitude: 18.5 + i / 1000, longitude: 73.8 } });
  assert.equal(b.paths.get('o1').length, 3);
  assert.equal(b.location({ orderId: 'o1', location: { latitude: 91, longitude: 0 } }), null);
  assert.equal(b.location({ orderId: 'o1', location: { latitude: 'x', longitude: 0 } }), null);
});

test('project keeps points inside the box and the aspect ratio', () => {
  const pts = [{ lat: 18.52, lng: 73.85 }, { lat: 18.53, lng: 73.86 }, { lat: 18.54, lng: 73.84 }];
  const xy = project(pts, 320, 220, 20);
  for (const [x, y] of xy) {
    assert.ok(x >= 20 && x <= 300 && y >= 20 && y <= 200, `${x},${y} inside`);
  }
  assert.ok(xy[2][1] < xy[0][1], 'north is up');
  assert.deepEqual(project([{ lat: 1, lng: 2 }], 320, 220), [[160, 110]], 'one point is centred');
  assert.deepEqual(project([], 320, 220), []);
});

test('the board keeps at most maxOrders and says which rows it dropped', () => {
  const b = new Board({ maxOrders: 2 });
  b.upsert({ _id: 'a' });
  b.upsert({ _id: 'b' });
  b.location({ orderId: 'a', location: { latitude: 1, longitude: 1 } });
  const r = b.upsert({ _id: 'c' });
  assert.deepEqual(r.dropped, ['a']);
  assert.deepEqual(b.ids, ['c', 'b']);
  assert.equal(b.paths.has('a'), false);
  assert.deepEqual(b.upsert({ _id: 'c', status: 'accepted' }).dropped, []);
});
