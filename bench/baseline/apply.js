// Baseline plan applier and timer driver (plain JavaScript), the JS counterpart of the shim's plan
// application and the wasm glue's deadline timer. Written as INTERFACES.md describes: one pass over
// queryCache.getAll() resolving the strongest refetchType per query, then one
// invalidateQueries({ predicate, refetchType }) per refetchType group.
import { BaselineCore } from './core.js';

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
const RANK = { none: 0, active: 1, inactive: 1, all: 2 };

function combine(a, b) {
  if (a === undefined || a === b) return b;
  if (a === 'none') return b;
  if (b === 'none') return a;
  return 'all';
}

function partialMatchKey(a, b) {
  if (a === b) return true;
  if (typeof a !== typeof b) return false;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    if (Array.isArray(a) && Array.isArray(b)) {
      if (b.length > a.length) return false;
      for (let i = 0; i < b.length; i++) if (!partialMatchKey(a[i], b[i])) return false;
      return true;
    }
    for (const k of Object.keys(b)) if (!partialMatchKey(a[k], b[k])) return false;
    return true;
  }
  return false;
}

/** Positions of the top-level commas of a hashKey string (and of its closing bracket). */
function topLevelEnds(hash, max, out) {
  out.length = 0;
  let depth = 0;
  let inStr = false;
  for (let i = 1; i < hash.length; i++) {
    const c = hash.charCodeAt(i);
    if (inStr) {
      if (c === 92) i++; // backslash
      else if (c === 34) inStr = false;
      continue;
    }
    if (c === 34) inStr = true;
    else if (c === 91 || c === 123) depth++;
    else if (c === 93 || c === 125) {
      if (depth === 0) {
        out.push(i);
        return out;
      }
      depth--;
    } else if (c === 44 && depth === 0) {
      out.push(i);
      if (out.length >= max) return out;
    }
  }
  return out;
}

function primitivePrefixLength(key) {
  for (let i = 0; i < key.length; i++) {
    const v = key[i];
    if (v !== null && typeof v === 'object') return i;
  }
  return key.length;
}

/**
 * Applies a flush plan to a QueryClient. Returns { invalidations, patches }.
 */
export function applyPlan(queryClient, plan) {
  if (!plan) return { invalidations: 0, patches: 0 };
  const cache = queryClient.getQueryCache();
  let patches = 0;
  const ops = plan.invalidate.slice();
  for (const p of plan.patch) {
    const q = cache.get(p.queryHash);
    const old = q === undefined ? undefined : q.state.data;
    if (old === undefined) {
      ops.push({ queryKey: p.queryKey, queryHash: p.queryHash, exact: false, refetchType: 'active' });
      continue;
    }
    const version = p.version;
    if (old !== null && typeof old === 'object' && typeof old.version === 'number' && typeof version === 'number' && old.version > version) continue;
    queryClient.setQueryData(p.queryKey, (prev) => {
      const next = prev !== null && typeof prev === 'object' ? { ...prev } : {};
      for (const k in p.fields) if (!FORBIDDEN.has(k) && Object.prototype.hasOwnProperty.call(p.fields, k)) next[k] = p.fields[k];
      if (version !== null && version !== undefined) next.version = version;
      return next;
    });
    patches++;
  }
  for (const r of plan.refetch || []) ops.push({ ...r, refetchType: 'active', refetchOnly: true });
  if (ops.length === 0) return { invalidations: 0, patches };

  // Index the operations.
  const exact = new Map(); // hash -> refetchType
  const prim = new Map(); // hash of an all-primitive non-exact key -> refetchType
  const primLens = [];
  const obj = new Map(); // hash of the primitive prefix -> ops whose key holds objects
  const objLens = [];
  let maxLen = 0;
  for (const o of ops) {
    if (o.exact) {
      exact.set(o.queryHash, combine(exact.get(o.queryHash), o.refetchType));
      continue;
    }
    const n = o.queryKey.length;
    const p = primitivePrefixLength(o.queryKey);
    if (p === n) {
      prim.set(o.queryHash, combine(prim.get(o.queryHash), o.refetchType));
      if (primLens.indexOf(n) < 0) primLens.push(n);
      if (n > maxLen) maxLen = n;
    } else {
      const ph = p === 0 ? '[]' : JSON.stringify(o.queryKey.slice(0, p));
      let l = obj.get(ph);
      if (!l) obj.set(ph, (l = []));
      l.push(o);
      if (objLens.indexOf(p) < 0) objLens.push(p);
      if (p > maxLen) maxLen = p;
    }
  }

  // One pass over the cache.
  const groups = { none: null, active: null, inactive: null, all: null };
  const ends = [];
  const all = cache.getAll();
  for (let qi = 0; qi < all.length; qi++) {
    const q = all[qi];
    const h = q.queryHash;
    let rt = exact.size ? exact.get(h) : undefined;
    if (maxLen > 0) {
      topLevelEnds(h, maxLen, ends);
      const klen = q.queryKey.length;
      for (let i = 0; i < primLens.length; i++) {
        const L = primLens[i];
        if (L > klen) continue;
        const t = prim.get(h.slice(0, ends[L - 1]) + ']');
        if (t !== undefined) rt = combine(rt, t);
      }
      for (let i = 0; i < objLens.length; i++) {
        const P = objLens[i];
        if (P >= klen) continue;
        const cands = obj.get(P === 0 ? '[]' : h.slice(0, ends[P - 1]) + ']');
        if (cands === undefined) continue;
        for (let j = 0; j < cands.length; j++) {
          if (partialMatchKey(q.queryKey, cands[j].queryKey)) rt = combine(rt, cands[j].refetchType);
        }
      }
    }
    if (rt === undefined) continue;
    let g = groups[rt];
    if (g === null) g = groups[rt] = new Set();
    g.add(q);
  }
  for (const rt of ['all', 'active', 'inactive', 'none']) {
    const g = groups[rt];
    if (g === null) continue;
    queryClient.invalidateQueries({ predicate: (q) => g.has(q), refetchType: rt });
  }
  return { invalidations: ops.length, patches };
}

/**
 * The baseline engine with timers, for latency and refetch counting: the sans-IO core plus one lazily
 * re-armed setTimeout (no clearTimeout per event) and plan application.
 */
export class BaselineRealtime {
  constructor({ queryClient, ...options }) {
    this.queryClient = queryClient;
    this.core = new BaselineCore(options);
    this.timer = null;
    this.timerAt = 0;
    this.onTimer = () => {
      this.timer = null;
      const now = performance.now();
      const d = this.core.pollDeadline();
      if (d === null) return;
      if (now >= d) this.flush();
      else this._arm(d);
    };
  }
  _arm(deadline) {
    if (this.timer !== null && this.timerAt <= deadline) return; // fires earlier; re-checked then
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAt = deadline;
    this.timer = setTimeout(this.onTimer, Math.max(0, deadline - performance.now()));
  }
  ingest(source, payload) {
    this.core.ingest(performance.now(), source, payload);
    const d = this.core.pollDeadline();
    if (d !== null) this._arm(d);
  }
  ingestText(source, text) {
    this.core.ingestText(performance.now(), source, text);
    const d = this.core.pollDeadline();
    if (d !== null) this._arm(d);
  }
  flush() {
    const plan = this.core.flush(performance.now());
    if (plan !== null) this.core.applied(applyPlan(this.queryClient, plan));
  }
  stats() {
    return this.core.stats();
  }
  dispose() {
    this.flush();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

export { RANK };
