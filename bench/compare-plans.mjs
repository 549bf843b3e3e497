#!/usr/bin/env node
// Fairness check: feeds the same seeded stream to the wasm engine (WasmRealtime, through its JS surface)
// and to the plain-JS baseline core, flushes both, and prints where their flush plans differ.
//   node bench/compare-plans.mjs [--n=2000] [--seed=7] [--patch=false]
import { loadWasm } from '../js/loadWasm.js';
import { createPlanDecoder } from '../js/applyPlan.js';
import { BaselineCore, hashKey } from './baseline/core.js';
import { generate, STREAM_RULES } from './stream.js';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const n = Number(args.n || 2000);
const seed = Number(args.seed || 7);
const options = { scope: { factoryId: 'f1' }, rules: STREAM_RULES, patch: args.patch !== 'false', debounceMs: 300, maxWaitMs: 1000 };
const { objects } = generate(n, { seed });

const { WasmRealtime } = await loadWasm();
const engine = new WasmRealtime(options);
const plans = [];
const decode = createPlanDecoder();
// Decoded ops read their queryKey through the decoder's key table; compare them as plain objects.
const plain = (p) => ({
  invalidate: p.invalidate.map((o) => ({ queryKey: o.queryKey, queryHash: o.queryHash, exact: o.exact, refetchType: o.refetchType })),
  patch: p.patch.map((o) => ({ queryKey: o.queryKey, queryHash: o.queryHash, fields: o.fields, version: o.version })),
});
engine.setHandlers({ plan: (bytes) => { const p = plain(decode(bytes)); plans.push(p); engine.recordApplied(p.invalidate.length, p.patch.length); }, error() {}, status() {}, channels() {} });
for (const o of objects) engine.ingestText('supabase', JSON.stringify(o));
engine.flush();
const core = new BaselineCore(options);
for (const o of objects) core.ingest(0, 'supabase', o);
const plan = core.flush(0);
const w = plans[0] || { invalidate: [], patch: [] };

const byHash = (xs) => new Map(xs.map((x) => [x.queryHash, x]));
const diff = (label, a, b) => {
  const A = byHash(a), B = byHash(b);
  const onlyA = [...A.keys()].filter((h) => !B.has(h));
  const onlyB = [...B.keys()].filter((h) => !A.has(h));
  const changed = [...A.keys()].filter((h) => B.has(h) && hashKey([A.get(h)]) !== hashKey([B.get(h)])); // canonical: object keys sorted
  console.log(`${label}: wasm ${a.length}, baseline ${b.length}; only wasm ${onlyA.length}, only baseline ${onlyB.length}, same key but different ${changed.length}`);
  for (const h of onlyA.slice(0, 8)) console.log('  only wasm    ', JSON.stringify(A.get(h)));
  for (const h of onlyB.slice(0, 8)) console.log('  only baseline', JSON.stringify(B.get(h)));
  for (const h of changed.slice(0, 8)) console.log('  differs      wasm', JSON.stringify(A.get(h)), '\n               js  ', JSON.stringify(B.get(h)));
  return onlyA.length + onlyB.length + changed.length;
};
console.log(`${n} events, seed ${seed}, flushes: wasm ${plans.length}`);
console.log('stats wasm', JSON.stringify(engine.stats()));
console.log('stats js  ', JSON.stringify(core.stats()));
const d = diff('invalidate', w.invalidate, plan.invalidate) + diff('patch', w.patch, plan.patch);
engine.dispose();
process.exitCode = d ? 1 : 0;
