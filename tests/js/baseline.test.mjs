// The benchmark's plain-JS baseline (bench/baseline/) must produce the contract's flush plans, or the
// comparison is not fair. These tests pin it to the contract on a few scenarios.
import test from 'node:test';
import assert from 'node:assert/strict';
import { hashKey as tanstackHash, QueryClient, QueryObserver } from '@tanstack/query-core';
import { BaselineCore, hashKey } from '../../bench/baseline/core.js';
import { applyPlan, BaselineRealtime } from '../../bench/baseline/apply.js';
import { createNaiveHandler } from '../../bench/baseline/naive.js';
import { generate } from '../../bench/stream.js';

const sb = (eventType, table, row, old) => ({
  schema: 'public', table, commit_timestamp: '2025-11-25T09:00:00.000+00:00', eventType,
  new: eventType === 'DELETE' ? {} : row, old: old ?? (eventType === 'UPDATE' ? { id: row.id } : eventType === 'DELETE' ? row : {}), errors: null,
});
const keys = (plan) => plan.invalidate.map((o) => o.queryHash).sort();

test('hashKey matches TanStack (object keys sorted, nested, primitives)', () => {
  const samples = [
    ['doc', 'work_orders', '12'], ['list', 'work_orders', 'f1', { page: 1 }],
    ['x', { b: 1, a: [2, { d: null, c: 'q' }] }, 3, null, true], [], [[1, 2], 'a"b\\c'],
  ];
  for (const k of samples) assert.equal(hashKey(k), tanstackHash(k));
});

test('DELETE + INSERT in one window -> one list-head invalidation', () => {
  const core = new BaselineCore({ scope: { factoryId: 'f1' } });
  core.ingest(0, 'supabase', sb('DELETE', 'work_orders', { id: 7, factory_id: 'f1', version: 3 }));
  core.ingest(10, 'supabase', sb('INSERT', 'work_orders', { id: 8, factory_id: 'f1', version: 1 }));
  assert.equal(core.pollDeadline(), 310);
  const plan = core.flush(310);
  assert.deepEqual(keys(plan), [hashKey(['doc', 'work_orders', '7']), hashKey(['list', 'work_orders', 'f1', { page: 1 }])].sort());
  const heads = plan.invalidate.filter((o) => o.queryKey[0] === 'list');
  assert.equal(heads.length, 1);
  assert.deepEqual(heads[0], {
    queryKey: ['list', 'work_orders', 'f1', { page: 1 }], queryHash: '["list","work_orders","f1",{"page":1}]',
    exact: false, refetchType: 'active',
  });
  assert.deepEqual(plan.patch, []);
  assert.deepEqual(plan.refetch, []);

  // seed 002's daily motivation: a rule maps both events to the same key -> one invalidation
  const c2 = new BaselineCore({ rules: [{ table: 'daily_motivations', invalidate: [['daily-motivations', 'today']] }] });
  c2.ingest(0, 'supabase', sb('DELETE', 'daily_motivations', { id: 1 }));
  c2.ingest(1, 'supabase', sb('INSERT', 'daily_motivations', { id: 2, text: 'go' }));
  assert.deepEqual(c2.flush(400).invalidate.map((o) => o.queryKey), [['daily-motivations', 'today']]);
});

test('dedupe by (type, id, action) keeps the highest version; event ids across windows', () => {
  const core = new BaselineCore({ patch: true });
  core.ingest(0, 'event', { type: 'work_orders', id: 5, action: 'update', version: 2, data: { status: 'open' } });
  core.ingest(1, 'event', { type: 'work_orders', id: 5, action: 'approve', version: 4, data: { status: 'approved' } });
  core.ingest(2, 'event', { type: 'work_orders', id: 5, action: 'update', version: 3, data: { status: 'x' } });
  const plan = core.flush(1000);
  assert.equal(plan.invalidate.length, 0);
  assert.deepEqual(plan.patch, [{ queryKey: ['doc', 'work_orders', '5'], queryHash: '["doc","work_orders","5"]', fields: { status: 'approved' }, version: 4 }]);
  const s = core.stats();
  assert.equal(s.dropped.stale, 1); // v3 after v4; v4 merged into the pending update (not a drop)

  const env = { type: 'realtime', entity: 'work_orders', action: 'update', data: { id: 9, factory_id: 'f1', status: 'a', version: 2 }, timestamp: 't', id: 'chg-1' };
  core.ingest(0, 'envelope', env);
  // an envelope names no changed columns: the doc is refetched, not patched
  assert.deepEqual(core.flush(1000).invalidate.map((o) => o.queryKey), [['doc', 'work_orders', '9']]);
  core.ingest(2000, 'envelope', env); // the same change delivered on another channel, next window
  assert.equal(core.flush(3000), null);
  assert.equal(core.stats().dropped.duplicate, 1); // by event id, across windows
});

test('Supabase UPDATE: old with only the primary key -> changes unknown -> doc refetched, not patched', () => {
  const core = new BaselineCore();
  core.ingest(0, 'supabase', sb('UPDATE', 'machines', { id: 2, rpm: 5, version: 2 }));
  const plan = core.flush(500);
  assert.deepEqual(plan.invalidate.map((o) => o.queryKey), [['doc', 'machines', '2']]);
  assert.deepEqual(plan.patch, []);
});

test('version guard drops an older version seen after a newer one', () => {
  const core = new BaselineCore();
  const full = { id: 3, factory_id: 'f1', status: 'a', version: 1 }; // REPLICA IDENTITY FULL old row
  core.ingest(0, 'supabase', sb('UPDATE', 'work_orders', { id: 3, factory_id: 'f1', status: 'b', version: 5 }, full));
  assert.deepEqual(core.flush(500).patch[0], { queryKey: ['doc', 'work_orders', '3'], queryHash: '["doc","work_orders","3"]', fields: { status: 'b', version: 5 }, version: 5 });
  core.ingest(600, 'supabase', sb('UPDATE', 'work_orders', { id: 3, factory_id: 'f1', status: 'a', version: 4 }, full));
  assert.equal(core.pollDeadline(), null);
  assert.equal(core.flush(1000), null);
  assert.equal(core.stats().dropped.stale, 1);
});

test('scope guard drops another tenant (camelCase and snake_case fields)', () => {
  const core = new BaselineCore({ scope: { factoryId: 'f1' } });
  core.ingest(0, 'supabase', sb('INSERT', 'work_orders', { id: 1, factory_id: 'f2' }));
  core.ingest(0, 'event', { type: 'work_orders', id: 1, factoryId: 'f2', action: 'create' });
  assert.equal(core.flush(500), null);
  assert.equal(core.stats().dropped.outOfScope, 2);
  core.ingest(0, 'event', { type: 'work_orders', id: 1, factoryId: 'f1', action: 'create' });
  assert.deepEqual(core.flush(500).invalidate.map((o) => o.queryKey), [['list', 'work_orders', 'f1', { page: 1 }]]);
});

test('rules: templates keep JSON types, skip keys with missing values, prefix subsumption', () => {
  const core = new BaselineCore({
    rules: [
      { table: 'items', invalidate: [['wo', '{work_order_id}'], ['wo', 'label-{work_order_id}'], { queryKey: ['x', { id: '{id}', n: '{missing}' }] }] },
      { table: 'goals', invalidate: [['goals'], ['goals', 'detail', '{id}']] },
    ],
  });
  core.ingest(0, 'supabase', sb('INSERT', 'items', { id: 1, work_order_id: 12 }));
  core.ingest(0, 'supabase', sb('UPDATE', 'goals', { id: 4 }));
  const plan = core.flush(1000);
  assert.deepEqual(plan.invalidate.map((o) => o.queryKey), [['wo', 12], ['wo', 'label-12'], ['goals']]);
});

test('window: trailing debounce restarts, maxWait caps it; debounceMs 0 is immediate', () => {
  const core = new BaselineCore({ debounceMs: 300, maxWaitMs: 1000 });
  for (let t = 0; t <= 900; t += 100) core.ingest(t, 'event', { type: 't', id: t, action: 'delete' });
  assert.equal(core.pollDeadline(), 1000);
  assert.equal(core.poll(999), null);
  assert.ok(core.poll(1000));
  const c0 = new BaselineCore({ debounceMs: 0 });
  c0.ingest(50, 'event', { type: 't', id: 1, action: 'delete' });
  assert.equal(c0.pollDeadline(), 50);
});

test('invalid input is counted, never thrown', () => {
  const errors = [];
  const core = new BaselineCore({ onError: (e) => errors.push(e) });
  core.ingest(0, 'supabase', null);
  core.ingest(0, 'nope', {});
  core.ingest(0, 'supabase', { table: 'x', eventType: 'UPDATE', new: {}, old: {} });
  core.ingestText(0, 'supabase', '{');
  core.ingestText(0, 'supabase', ' '.repeat(1024 * 1024 + 1));
  assert.equal(core.stats().dropped.invalid, 5);
  assert.equal(errors.length, 5);
});

test('plan applied to a real QueryClient: each active query refetches once; naive refetches per event', async () => {
  const make = () => {
    const qc = new QueryClient();
    const runs = new Map();
    const observers = [];
    for (const key of [['list', 'work_orders', 'f1', { page: 1 }], ['doc', 'work_orders', '7'], ['doc', 'work_orders', '8']]) {
      const h = tanstackHash(key);
      qc.setQueryData(key, { id: key[2], version: 1, status: 'old' });
      const obs = new QueryObserver(qc, {
        queryKey: key, staleTime: Infinity,
        queryFn: async () => { runs.set(h, (runs.get(h) || 0) + 1); await new Promise((r) => setTimeout(r, 5)); return { id: key[2], version: 1 }; },
      });
      observers.push(obs.subscribe(() => {}));
    }
    return { qc, runs, stop: () => observers.forEach((u) => u()) };
  };
  const events = [
    sb('DELETE', 'work_orders', { id: 7, factory_id: 'f1', version: 2 }),
    sb('INSERT', 'work_orders', { id: 9, factory_id: 'f1', version: 1 }),
    sb('UPDATE', 'work_orders', { id: 8, factory_id: 'f1', status: 'new', version: 2 }, { id: 8, factory_id: 'f1', status: 'old', version: 1 }),
  ];
  const a = make();
  const rt = new BaselineRealtime({ queryClient: a.qc, scope: { factoryId: 'f1' }, debounceMs: 10 });
  for (const e of events) rt.ingest('supabase', e);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(Object.fromEntries(a.runs), { '["list","work_orders","f1",{"page":1}]': 1, '["doc","work_orders","7"]': 1 });
  assert.equal(a.qc.getQueryData(['doc', 'work_orders', '8']).status, 'new'); // patched, not refetched
  assert.deepEqual(rt.stats().invalidations, 2);
  a.stop();

  const b = make();
  const naive = createNaiveHandler({ queryClient: b.qc, scope: { factoryId: 'f1' } });
  for (const e of events) naive.ingest('supabase', e);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(Object.fromEntries(b.runs), { '["list","work_orders","f1",{"page":1}]': 2, '["doc","work_orders","7"]': 1, '["doc","work_orders","8"]': 1 });
  b.stop();
});

test('applyPlan matches TanStack partialMatchKey (object elements, prefixes, exact)', () => {
  const qc = new QueryClient();
  const ks = [['list', 'w', 'f1', { page: 1, size: 10 }], ['list', 'w', 'f1', { page: 2 }], ['list', 'w', 'f2', { page: 1 }], ['doc', 'w', '1'], ['doc', 'w', '1', 'extra'], ['doc', 'w', '12']];
  for (const k of ks) qc.setQueryData(k, 1);
  const plan = {
    invalidate: [
      { queryKey: ['list', 'w', 'f1', { page: 1 }], queryHash: hashKey(['list', 'w', 'f1', { page: 1 }]), exact: false, refetchType: 'active' },
      { queryKey: ['doc', 'w', '1'], queryHash: hashKey(['doc', 'w', '1']), exact: true, refetchType: 'active' },
    ],
    patch: [], refetch: [],
  };
  applyPlan(qc, plan);
  const inv = qc.getQueryCache().getAll().filter((q) => q.state.isInvalidated).map((q) => q.queryHash).sort();
  assert.deepEqual(inv, [hashKey(['doc', 'w', '1']), hashKey(['list', 'w', 'f1', { page: 1, size: 10 }])].sort());
});

test('the stream is deterministic and in supabase-js shape', () => {
  const a = generate(200, { seed: 7 });
  const b = generate(200, { seed: 7 });
  assert.deepEqual(a.texts, b.texts);
  for (const o of a.objects) {
    assert.deepEqual(Object.keys(o), ['schema', 'table', 'commit_timestamp', 'eventType', 'new', 'old', 'errors']);
  }
  const core = new BaselineCore({ scope: { factoryId: 'f1' } });
  for (const t of a.texts) core.ingestText(0, 'supabase', t);
  assert.equal(core.stats().dropped.invalid, 0);
});
