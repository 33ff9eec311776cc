// Unit tests of the at-a-glance helpers: live map model, live figures, ops line. npm test
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Board, Figures, liveMap, opsLine, trend } from '../src/model.js';

const order = (id, status, extra = {}) => ({
  _id: id,
  orderNumber: `ORD-${id}`,
  status,
  totalAmount: 100,
  createdAt: '2026-12-07T10:00:00.000Z',
  deliveryAddress: { street: '1 MG Road', city: 'Pune', location: { latitude: 18.53, longitude: 73.85 } },
  ...extra,
});

test('liveMap draws active deliveries with drop points and one trail per agent', () => {
  const b = new Board();
  const ravi = { _id: 'a1', name: 'Ravi' };
  b.load([
    order('o1', 'out_for_delivery', { deliveryAgent: ravi }),
    order('o2', 'assigned', { deliveryAgent: ravi }),
    order('o3', 'pending'),
    order('o4', 'delivered', { deliveryAgent: { _id: 'a2', name: 'Meena' } }),
  ]);
  b.location({ orderId: 'o1', location: { latitude: 18.52, longitude: 73.85 }, timestamp: '2026-12-07T10:01:00Z' });
  b.location({ orderId: 'o1', location: { latitude: 18.525, longitude: 73.852 }, timestamp: '2026-12-07T10:02:00Z' });
  b.location({ orderId: 'o4', location: { latitude: 1, longitude: 1 }, timestamp: '2026-12-07T10:03:00Z' });

  const m = liveMap(b);
  assert.deepEqual(m.deliveries.map((d) => d.id).sort(), ['o1', 'o2'], 'assigned and out for delivery only');
  const o1 = m.deliveries.find((d) => d.id === 'o1');
  assert.deepEqual(o1.drop, { lat: 18.53, lng: 73.85 });
  assert.deepEqual(o1.last, { lat: 18.525, lng: 73.852, at: '2026-12-07T10:02:00Z' });
  assert.equal(m.agents.length, 1, 'Ravi has two deliveries but one marker and one trail');
  assert.equal(m.agents[0].name, 'Ravi');
  assert.equal(m.agents[0].trail.length, 2);

  // A socket payload for the same order has no drop point: the REST one is kept.
  b.upsert({ orderId: 'o1', orderNumber: 'ORD-o1', status: 'out_for_delivery', deliveryAddress: { street: 'x' } });
  assert.deepEqual(liveMap(b).deliveries.find((d) => d.id === 'o1').drop, { lat: 18.53, lng: 73.85 });
});

test('Figures: server figures plus the live events after them, never twice', () => {
  const f = new Figures();
  assert.equal(f.orderPlaced('2026-12-07T10:00:05.000Z'), null, 'nothing to show before the first load');
  const at = (s) => `2026-12-07T10:00:${s}.000Z`;
  const base = { todayOrders: 2, totalOrders: 10, pendingOrders: 1, activeDeliveries: 0, deliveredToday: 0,
    todayRevenue: 100, totalRevenue: 900, lastUpdated: at('10') };
  assert.deepEqual(f.load(base), base);

  f.orderPlaced(at('05')); // before the server's figures: already counted there
  let s = f.orderPlaced(at('12'));
  assert.equal(s.todayOrders, 3);
  assert.equal(s.pendingOrders, 2);
  s = f.statusChanged('pending', 'accepted', at('13'));
  assert.equal(s.pendingOrders, 1);
  s = f.statusChanged('accepted', 'assigned', at('14'));
  assert.equal(s.activeDeliveries, 1);
  s = f.statusChanged('assigned', 'out_for_delivery', at('15'));
  assert.equal(s.activeDeliveries, 1, 'still on the way');
  s = f.paid(49.5, at('16'));
  assert.equal(s.todayRevenue, 149.5);
  s = f.statusChanged('out_for_delivery', 'delivered', at('17'));
  assert.equal(s.activeDeliveries, 0);
  assert.equal(s.deliveredToday, 1);
  assert.equal(f.paid('x', at('18')).todayRevenue, 149.5);
  assert.equal(f.statusChanged('delivered', 'delivered', at('18')).deliveredToday, 1);

  // A cached answer computed at :14 holds the events up to :14; the later ones stay on top.
  s = f.load({ ...base, todayOrders: 3, pendingOrders: 1, activeDeliveries: 1, lastUpdated: at('14') });
  assert.equal(s.todayOrders, 3, 'the order of :12 is not counted twice');
  assert.equal(s.activeDeliveries, 0);
  assert.equal(s.todayRevenue, 149.5);
  assert.equal(s.deliveredToday, 1);
  // An older answer arriving late changes nothing.
  assert.deepEqual(f.load({ ...base, lastUpdated: at('11') }), s);
});

test('trend and opsLine read well', () => {
  assert.equal(trend(5, 3), '▲ 2 vs yesterday');
  assert.equal(trend(1, 3), '▼ 2 vs yesterday');
  assert.equal(trend(3, 3), 'same as yesterday');
  assert.equal(
    opsLine({ cluster: { gateways: [{}, {}], unregisteredSockets: 1, eventsPerSecond: 2.25,
      roles: { admin: { sockets: 3 }, delivery: { sockets: 2 }, customer: { sockets: 0 } } } }),
    '2 gateway replicas · sockets: 3 admin, 2 delivery, 0 customer, 1 unregistered · 2.3 events/s',
  );
  assert.equal(opsLine(null), 'Realtime status unavailable');
});
