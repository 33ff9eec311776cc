// Unit tests of the simulator's pure parts: npm test
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deliveryPath, phoneFor, readConfig } from '../simulator.mjs';

test('readConfig: defaults', () => {
  const c = readConfig({});
  assert.equal(c.baseURL, 'http://127.0.0.1:5000');
  assert.deepEqual([c.rate, c.agents, c.customers, c.duration, c.gpsInterval, c.drain], [6, 3, 5, 0, 2, 30]);
  assert.equal(c.adminEmail, 'admin@friendspizzahut.test');
});

test('readConfig: reports every bad value at once', () => {
  assert.throws(
    () => readConfig({ RATE: 'fast', AGENTS: '1.5', BASE_URL: 'ftp://x', DURATION: '-1' }),
    (e) => ['RATE=', 'AGENTS=', 'BASE_URL=', 'DURATION='].every((k) => e.message.includes(k)),
  );
  assert.equal(readConfig({ BASE_URL: 'http://127.0.0.1:5000/' }).baseURL, 'http://127.0.0.1:5000');
});

test('phoneFor: ten digits, unique within a run and between runs a second apart', () => {
  const seen = new Set();
  for (const run of [123456, 123457]) {
    for (let i = 0; i < 700; i++) {
      const p = phoneFor(run, i);
      assert.match(p, /^9\d{9}$/);
      assert.ok(!seen.has(p), `duplicate ${p}`);
      seen.add(p);
    }
  }
});

test('deliveryPath: starts at the shop, moves every step, stays near Pune', () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const path = deliveryPath(10, rnd);
  assert.equal(path.length, 11);
  assert.deepEqual(path[0], { latitude: 18.5204, longitude: 73.8567 });
  for (let i = 1; i < path.length; i++) {
    const d = Math.hypot(path[i].latitude - path[i - 1].latitude, path[i].longitude - path[i - 1].longitude);
    assert.ok(d > 0.0001, `step ${i} moves`);
    assert.ok(Math.abs(path[i].latitude - 18.52) < 0.05 && Math.abs(path[i].longitude - 73.85) < 0.05);
  }
});
