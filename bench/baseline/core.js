// querywire benchmark baseline: the contract's core (docs/API.md, docs/INTERFACES.md)
// written as careful plain JavaScript. It is the competitor the WebAssembly engine is measured against,
// so it is written to be fast: Maps and Sets, no quadratic loops, work deferred to the flush and done
// once per distinct pending event.
//
// Sans-IO: time is passed in (`now`, milliseconds). The caller drives the window:
//   core.ingest(now, source, payload)     one payload (object)
//   core.ingestText(now, source, text)    one payload as JSON text
//   core.pollDeadline()                   when the pending window should close (ms) or null
//   core.flush(now)                       the flush plan ({ invalidate, patch, refetch }) or null
//   core.stats()
// Plans have the shape documented in docs/INTERFACES.md ("The flush plan").

const MAX_PAYLOAD = 1024 * 1024;
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
const ACTION_CREATE = 0;
const ACTION_UPDATE = 1;
const ACTION_DELETE = 2;
const RULE_EVENT = ['INSERT', 'UPDATE', 'DELETE'];
const REFETCH_TYPES = new Set(['active', 'inactive', 'all', 'none']);

const SUPABASE_ACTIONS = { INSERT: ACTION_CREATE, UPDATE: ACTION_UPDATE, DELETE: ACTION_DELETE };
const EVENT_ACTIONS = {
  create: ACTION_CREATE, update: ACTION_UPDATE, approve: ACTION_UPDATE, reject: ACTION_UPDATE,
  delete: ACTION_DELETE,
};
const ENVELOPE_ACTIONS = { insert: ACTION_CREATE, update: ACTION_UPDATE, delete: ACTION_DELETE };

export const DEFAULT_OPTIONS = Object.freeze({
  debounceMs: 300,
  maxWaitMs: 1000,
  scope: {},
  rules: [],
  primaryKey: ['id', 'uuid', 'code'],
  patch: true,
});

// ---------------------------------------------------------------------------------------------
// Key hashing, identical to TanStack's hashKey: JSON, plain-object keys sorted.

function isPlainObject(o) {
  if (Object.prototype.toString.call(o) !== '[object Object]') return false;
  const ctor = o.constructor;
  if (ctor === undefined) return true;
  const prot = ctor.prototype;
  if (Object.prototype.toString.call(prot) !== '[object Object]') return false;
  if (!Object.prototype.hasOwnProperty.call(prot, 'isPrototypeOf')) return false;
  if (Object.getPrototypeOf(o) !== Object.prototype) return false;
  return true;
}

function sortedReplacer(_, val) {
  if (val === null || typeof val !== 'object' || Array.isArray(val) || !isPlainObject(val)) return val;
  const keys = Object.keys(val).sort();
  const out = {};
  for (let i = 0; i < keys.length; i++) out[keys[i]] = val[keys[i]];
  return out;
}

// Hand-written serializer: same text as JSON.stringify for JSON data (strings, finite numbers, booleans,
// null, arrays, plain objects) and several times faster than JSON.stringify with a replacer. Anything
// else (a Date, a class instance, a toJSON method) falls back to TanStack's exact algorithm.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function quote(s) {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : '"' + s + '"';
}

function ser(v) {
  switch (typeof v) {
    case 'string':
      return quote(v);
    case 'number':
      return Number.isFinite(v) ? '' + v : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) {
        let s = '[';
        for (let i = 0; i < v.length; i++) s += (i === 0 ? '' : ',') + ser(v[i]);
        return s + ']';
      }
      const proto = Object.getPrototypeOf(v);
      if ((proto !== Object.prototype && proto !== null) || typeof v.toJSON === 'function') {
        return JSON.stringify(v, sortedReplacer) ?? 'null';
      }
      const keys = Object.keys(v).sort();
      let s = '{';
      let first = true;
      for (let i = 0; i < keys.length; i++) {
        const x = v[keys[i]];
        if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
        s += (first ? '' : ',') + quote(keys[i]) + ':' + ser(x);
        first = false;
      }
      return s + '}';
    }
    case 'bigint':
      return JSON.stringify(v); // throws, as TanStack's hashKey does
    default:
      return 'null'; // undefined, function, symbol inside an array
  }
}

/** TanStack-compatible hashKey (JSON, plain-object keys sorted). */
export function hashKey(queryKey) {
  return ser(queryKey);
}

/** Hash of a single key element, as it appears inside hashKey's output. */
const hashElement = ser;

// ---------------------------------------------------------------------------------------------
// Small helpers

function isObj(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function sameJson(a, b) {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

function snake(name) {
  return name.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
}

function combineRefetch(a, b) {
  if (a === b) return a;
  if (a === 'none') return b;
  if (b === 'none') return a;
  return 'all'; // active+inactive, or anything with all
}

function copyFields(src, keys) {
  const out = {};
  let n = 0;
  if (keys) {
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (FORBIDDEN.has(k) || !Object.prototype.hasOwnProperty.call(src, k)) continue;
      out[k] = src[k];
      n++;
    }
  } else {
    for (const k in src) {
      if (FORBIDDEN.has(k) || !Object.prototype.hasOwnProperty.call(src, k)) continue;
      out[k] = src[k];
      n++;
    }
  }
  return n > 0 ? out : null;
}

// ---------------------------------------------------------------------------------------------
// Templates: "{col}" keeps the value's JSON type; "{col}" inside a longer string is replaced by its text;
// a placeholder with no value (missing or null) skips the whole key.

const MISSING = Symbol('missing');
const PLACEHOLDER = /\{([^{}]+)\}/g;

function compileTemplate(t) {
  if (typeof t === 'string') {
    const exact = /^\{([^{}]+)\}$/.exec(t);
    if (exact) return { k: 'col', col: exact[1] };
    if (t.indexOf('{') >= 0 && PLACEHOLDER.test(t)) {
      PLACEHOLDER.lastIndex = 0;
      const parts = [];
      let last = 0;
      let m;
      while ((m = PLACEHOLDER.exec(t)) !== null) {
        parts.push(t.slice(last, m.index), { col: m[1] });
        last = m.index + m[0].length;
      }
      parts.push(t.slice(last));
      PLACEHOLDER.lastIndex = 0;
      return { k: 'str', parts };
    }
    return { k: 'lit', v: t };
  }
  if (Array.isArray(t)) {
    const items = t.map(compileTemplate);
    if (items.every((i) => i.k === 'lit')) return { k: 'lit', v: t };
    return { k: 'arr', items };
  }
  if (isObj(t)) {
    const keys = Object.keys(t);
    const items = keys.map((key) => compileTemplate(t[key]));
    if (items.every((i) => i.k === 'lit')) return { k: 'lit', v: t };
    return { k: 'obj', keys, items };
  }
  return { k: 'lit', v: t };
}

function valueText(v) {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function applyTemplate(c, lookup) {
  switch (c.k) {
    case 'lit':
      return c.v;
    case 'col': {
      const v = lookup(c.col);
      return v === undefined || v === null ? MISSING : v;
    }
    case 'str': {
      let s = '';
      for (let i = 0; i < c.parts.length; i++) {
        const p = c.parts[i];
        if (typeof p === 'string') s += p;
        else {
          const v = lookup(p.col);
          if (v === undefined || v === null) return MISSING;
          s += valueText(v);
        }
      }
      return s;
    }
    case 'arr': {
      const out = new Array(c.items.length);
      for (let i = 0; i < c.items.length; i++) {
        const v = applyTemplate(c.items[i], lookup);
        if (v === MISSING) return MISSING;
        out[i] = v;
      }
      return out;
    }
    case 'obj': {
      const out = {};
      for (let i = 0; i < c.keys.length; i++) {
        const v = applyTemplate(c.items[i], lookup);
        if (v === MISSING) return MISSING;
        out[c.keys[i]] = v;
      }
      return out;
    }
    default:
      return MISSING;
  }
}

// ---------------------------------------------------------------------------------------------
// Adapters: payload -> canonical event, or an error string.
//
// Row event: { row: true, type, id (string), rawId, action, values (row used for templates), meta
// (payload fields consulted after values), fields (changed values or null), version, eventId }
// Invalidate: { row: false, key, exact, refetchType }

class InvalidInput {
  constructor(message) {
    this.message = message;
  }
}

function rowId(values, primaryKey) {
  for (let i = 0; i < primaryKey.length; i++) {
    const v = values[primaryKey[i]];
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

function checkId(id) {
  if (id === undefined) return new InvalidInput('missing id');
  if (typeof id !== 'string' && typeof id !== 'number') return new InvalidInput('id must be a string or number');
  return null;
}

function checkVersion(v) {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function adaptSupabase(p, pk) {
  if (p.type === 'broadcast') {
    if (!isObj(p.payload)) return new InvalidInput('broadcast without payload object');
    return adaptEvent(p.payload, pk);
  }
  const table = p.table;
  if (typeof table !== 'string' || table === '') return new InvalidInput('missing table');
  const action = SUPABASE_ACTIONS[p.eventType];
  if (action === undefined) return new InvalidInput('unknown eventType');
  const nw = p.new;
  const old = p.old;
  if (nw !== undefined && nw !== null && !isObj(nw)) return new InvalidInput('new must be an object');
  if (old !== undefined && old !== null && !isObj(old)) return new InvalidInput('old must be an object');
  const values = action === ACTION_DELETE ? old : nw;
  if (!isObj(values)) return new InvalidInput(action === ACTION_DELETE ? 'missing old' : 'missing new');
  const id = rowId(values, pk);
  const bad = checkId(id);
  if (bad) return bad;
  return {
    row: true, type: table, id: typeof id === 'string' ? id : String(id), rawId: id, action, values,
    meta: null, fields: action === ACTION_UPDATE ? undefined : null, old, pk, // fields: computed lazily
    version: checkVersion(values.version), eventId: null,
  };
}

/** A Supabase UPDATE's changed values, computed at flush time for the events that survive. */
function supabaseFields(ev) {
  const nw = ev.values;
  const old = ev.old;
  const pk = ev.pk;
  // changedKeys only when `old` holds more than the primary key
  let extra = false;
  if (isObj(old)) {
    for (const k in old) {
      if (pk.indexOf(k) < 0) {
        extra = true;
        break;
      }
    }
  }
  // Without REPLICA IDENTITY FULL nothing can be diffed: the changes are unknown, the doc is refetched.
  if (!extra) return null;
  const changed = [];
  for (const k in nw) if (!sameJson(nw[k], old[k])) changed.push(k);
  return copyFields(nw, changed) ?? {};
}

export function fieldsOf(ev) {
  if (ev.fields === undefined) ev.fields = supabaseFields(ev);
  return ev.fields;
}

function adaptEvent(p, pk) {
  const type = p.type;
  if (typeof type !== 'string' || type === '') return new InvalidInput('missing type');
  const action = EVENT_ACTIONS[p.action];
  if (action === undefined) return new InvalidInput('unknown action');
  const id = p.id;
  const bad = checkId(id);
  if (bad) return bad;
  const data = p.data;
  if (data !== undefined && data !== null && !isObj(data)) return new InvalidInput('data must be an object');
  const ck = p.changedKeys;
  if (ck !== undefined && ck !== null) {
    if (!Array.isArray(ck)) return new InvalidInput('changedKeys must be an array');
    for (let i = 0; i < ck.length; i++) if (typeof ck[i] !== 'string') return new InvalidInput('changedKeys must be strings');
  }
  if (p.version !== undefined && p.version !== null && typeof p.version !== 'number') {
    return new InvalidInput('version must be a number');
  }
  let fields = null;
  if (action === ACTION_UPDATE && isObj(data)) {
    if (Array.isArray(ck)) {
      // patchable only when every named field has its value
      let all = true;
      for (let i = 0; i < ck.length; i++) if (!Object.prototype.hasOwnProperty.call(data, ck[i])) { all = false; break; }
      fields = all ? copyFields(data, ck) ?? {} : null;
    } else fields = copyFields(data, null);
  }
  return {
    row: true, type, id: typeof id === 'string' ? id : String(id), rawId: id, action,
    values: isObj(data) ? data : null, meta: p, fields, version: checkVersion(p.version), eventId: null,
  };
}

function adaptEnvelope(p, pk) {
  const type = p.entity;
  if (typeof type !== 'string' || type === '') return new InvalidInput('missing entity');
  const action = ENVELOPE_ACTIONS[p.action];
  if (action === undefined) return new InvalidInput('unknown action');
  const data = p.data;
  if (!isObj(data)) return new InvalidInput('data must be an object');
  const id = rowId(data, pk);
  const bad = checkId(id);
  if (bad) return bad;
  let eventId = null;
  if (p.id !== undefined && p.id !== null) {
    if (typeof p.id !== 'string' && typeof p.id !== 'number') return new InvalidInput('id must be a string or number');
    eventId = 'e:' + p.id;
  }
  return {
    row: true, type, id: typeof id === 'string' ? id : String(id), rawId: id, action, values: data,
    meta: null, fields: null, // the row is whole but nothing says which columns moved: refetch
    version: checkVersion(data.version), eventId,
  };
}

function adaptInvalidate(p) {
  if (!Array.isArray(p.queryKey)) return new InvalidInput('queryKey must be an array');
  if (p.exact !== undefined && p.exact !== null && typeof p.exact !== 'boolean') return new InvalidInput('exact must be a boolean');
  const refetchType = p.refetchType === undefined || p.refetchType === null ? 'active' : p.refetchType;
  if (!REFETCH_TYPES.has(refetchType)) return new InvalidInput('unknown refetchType');
  return { row: false, key: p.queryKey, exact: p.exact === true, refetchType, eventId: null };
}

function adaptByShape(d, pk) {
  if (d.event === 'invalidate' || (Array.isArray(d.queryKey) && d.type === undefined)) return adaptInvalidate(d);
  if (d.type === 'broadcast' || (typeof d.eventType === 'string' && d.table !== undefined)) return adaptSupabase(d, pk);
  if (d.entity !== undefined) return adaptEnvelope(d, pk);
  if (d.type !== undefined && d.action !== undefined) return adaptEvent(d, pk);
  return new InvalidInput('unrecognised payload shape');
}

function adaptCentrifugo(p, pk) {
  if (typeof p.channel !== 'string') return new InvalidInput('channel must be a string');
  if (!isObj(p.data)) return new InvalidInput('data must be an object');
  const ev = adaptByShape(p.data, pk);
  if (ev instanceof InvalidInput) return ev;
  if (p.offset !== undefined && p.offset !== null) ev.eventId = 'c:' + p.channel + ':' + p.offset;
  return ev;
}

/** Maps one payload of `source` to a canonical event (exported for the naive handler). */
export function adapt(source, payload, primaryKey = DEFAULT_OPTIONS.primaryKey) {
  if (!isObj(payload)) return new InvalidInput('payload must be an object');
  switch (source) {
    case 'supabase':
      return adaptSupabase(payload, primaryKey);
    case 'event':
      return adaptEvent(payload, primaryKey);
    case 'envelope':
      return adaptEnvelope(payload, primaryKey);
    case 'centrifugo':
      return adaptCentrifugo(payload, primaryKey);
    case 'invalidate':
      return adaptInvalidate(payload);
    default:
      return new InvalidInput('unknown source');
  }
}
export { InvalidInput };

// ---------------------------------------------------------------------------------------------
// Routing (rules, then the doc/list policy), shared by the core and the naive handler.

export function compileRules(rules) {
  const byTable = new Map();
  for (const r of rules || []) {
    const events = r.events && r.events.length ? r.events : RULE_EVENT;
    const mask = (events.includes('INSERT') ? 1 : 0) | (events.includes('UPDATE') ? 2 : 0) | (events.includes('DELETE') ? 4 : 0);
    const targets = (r.invalidate || []).map((t) => {
      const spec = Array.isArray(t) ? { queryKey: t } : t;
      return {
        tpl: compileTemplate(spec.queryKey),
        exact: spec.exact === true,
        refetchType: spec.refetchType || 'active',
      };
    });
    let list = byTable.get(r.table);
    if (!list) byTable.set(r.table, (list = []));
    list.push({ mask, targets });
  }
  return byTable;
}

export function lookupFor(ev) {
  const values = ev.values;
  const meta = ev.meta;
  return (col) => {
    if (values !== null && Object.prototype.hasOwnProperty.call(values, col)) return values[col];
    if (meta !== null && col !== 'data' && Object.prototype.hasOwnProperty.call(meta, col)) return meta[col];
    if (col === 'id') return ev.rawId;
    return undefined;
  };
}

function scopeEq(v, want) {
  if (v === want) return true;
  const tv = typeof v;
  if (tv === 'object' || tv === 'function') return sameJson(v, want);
  const tw = typeof want;
  return tw !== 'object' && tw !== 'function' && String(v) === String(want);
}

function scopeValue(ev, name, snakeName) {
  const values = ev.values;
  const meta = ev.meta;
  let v;
  if (meta !== null) {
    v = meta[name];
    if (v === undefined) v = meta[snakeName];
    if (v !== undefined && v !== null) return v;
  }
  if (values !== null) {
    v = values[name];
    if (v === undefined) v = values[snakeName];
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

/**
 * Routes one row event. Calls inv(key, exact, refetchType) and patch(key, fields, version).
 * `patchOn` false turns updates into doc invalidations.
 */
export function route(ev, rulesByTable, scopeFactory, patchOn, inv, patch) {
  const rules = rulesByTable.get(ev.type);
  let matched = false;
  if (rules !== undefined) {
    const bit = 1 << ev.action;
    let lookup = null;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i];
      if ((r.mask & bit) === 0) continue;
      matched = true;
      if (lookup === null) lookup = lookupFor(ev);
      for (let j = 0; j < r.targets.length; j++) {
        const t = r.targets[j];
        const key = applyTemplate(t.tpl, lookup);
        if (key !== MISSING && Array.isArray(key)) inv(key, t.exact, t.refetchType);
      }
    }
  }
  if (matched) return;
  const doc = ['doc', ev.type, ev.id];
  if (ev.action === ACTION_UPDATE) {
    const fields = patchOn ? fieldsOf(ev) : null;
    if (fields !== null) patch(doc, fields, ev.version);
    else inv(doc, false, 'active');
    return;
  }
  let factory = scopeValue(ev, 'factoryId', 'factory_id');
  if (factory === undefined) factory = scopeFactory;
  // without a factory the head cannot be named: every list of the type is refreshed
  inv(factory !== undefined ? ['list', ev.type, String(factory), { page: 1 }] : ['list', ev.type], false, 'active');
  if (ev.action === ACTION_DELETE) inv(doc, false, 'active');
}

// ---------------------------------------------------------------------------------------------
// The core

export class BaselineCore {
  constructor(options = {}) {
    const o = { ...DEFAULT_OPTIONS, ...options };
    this.debounceMs = Math.max(0, Number(o.debounceMs) || 0);
    this.maxWaitMs = Math.max(0, o.maxWaitMs === undefined ? 1000 : Number(o.maxWaitMs) || 0);
    this.primaryKey = Array.isArray(o.primaryKey) && o.primaryKey.length ? o.primaryKey.slice() : DEFAULT_OPTIONS.primaryKey.slice();
    this.patch = o.patch !== false;
    this.rules = compileRules(o.rules);
    this.onError = typeof o.onError === 'function' ? o.onError : null;
    // bounded memories (the contract asks for at least 10,000 event ids; the engine keeps 16,384 of each)
    this.eventIdCap = o.eventIdMemory || 16384;
    this.versionCap = o.versionMemory || 16384;
    this.setScope(o.scope || {});

    this.pendingRows = new Map(); // "type\0id\0action" -> canonical event (highest version)
    this.pendingDirect = []; // invalidate-source ops
    this.firstAt = -1; // when the oldest pending operation arrived; -1 when nothing is pending
    this.lastAt = 0;

    this.versions = new Map(); // "type\0id" -> highest version seen (FIFO-bounded)
    this.eventIds = new Set(); // event ids seen, bounded ring
    this.eventRing = new Array(this.eventIdCap);
    this.eventPos = 0;

    this.counts = {
      received: 0, flushes: 0, invalidations: 0, patches: 0,
      dropped: { invalid: 0, stale: 0, duplicate: 0, outOfScope: 0 },
    };
  }

  setScope(scope) {
    this.scope = [];
    for (const name of Object.keys(scope || {})) {
      const v = scope[name];
      if (v === undefined || v === null) continue;
      this.scope.push([name, snake(name), v]);
    }
    const f = scope && (scope.factoryId ?? scope.factory_id);
    this.scopeFactory = f === null ? undefined : f;
  }

  _error(source, err) {
    this.counts.dropped.invalid++;
    if (this.onError !== null) this.onError({ code: 'invalid_payload', message: err.message, source });
  }

  ingestText(now, source, text) {
    if (typeof text !== 'string' || text.length > MAX_PAYLOAD) {
      this.counts.received++;
      this._error(source, new InvalidInput(typeof text !== 'string' ? 'text must be a string' : 'payload over 1 MiB'));
      return;
    }
    let payload;
    try {
      payload = JSON.parse(text);
    } catch (e) {
      this.counts.received++;
      this._error(source, new InvalidInput('invalid JSON'));
      return;
    }
    this.ingest(now, source, payload);
  }

  ingest(now, source, payload) {
    this.counts.received++;
    const ev = adapt(source, payload, this.primaryKey);
    if (ev instanceof InvalidInput) {
      this._error(source, ev);
      return;
    }
    // scope guard (row events)
    const scope = this.scope;
    if (ev.row) for (let i = 0; i < scope.length; i++) {
      const s = scope[i];
      const v = scopeValue(ev, s[0], s[1]);
      if (v !== undefined && !scopeEq(v, s[2])) {
        this.counts.dropped.outOfScope++;
        return;
      }
    }
    // event-id memory (bounded ring)
    if (ev.eventId !== null) {
      if (this.eventIds.has(ev.eventId)) {
        this.counts.dropped.duplicate++;
        return;
      }
      const ring = this.eventRing;
      const old = ring[this.eventPos];
      if (old !== undefined) this.eventIds.delete(old);
      ring[this.eventPos] = ev.eventId;
      this.eventPos = (this.eventPos + 1) % ring.length;
      this.eventIds.add(ev.eventId);
    }
    if (!ev.row) {
      this.pendingDirect.push(ev);
      this._touch(now);
      return;
    }
    // version guard: lower than the highest version seen for (type, id) is stale; the same version and
    // action again is a copy (another channel, a replay). A create starts a new row history.
    if (ev.version !== null) {
      const vk = ev.type + '\u0000' + ev.id;
      const hi = this.versions.get(vk);
      if (hi === undefined) {
        if (this.versions.size >= this.versionCap) this.versions.delete(this.versions.keys().next().value);
        this.versions.set(vk, { v: ev.version, a: ev.action });
      } else {
        if (ev.action !== ACTION_CREATE || hi.a === ACTION_CREATE) {
          if (ev.version < hi.v) {
            this.counts.dropped.stale++;
            return;
          }
          if (ev.version === hi.v && ev.action === hi.a) {
            this.counts.dropped.duplicate++;
            return;
          }
        }
        hi.v = ev.version;
        hi.a = ev.action;
      }
    }
    // window dedupe by (type, id, action), keeping the highest version
    const dk = ev.type + '\u0000' + ev.id + '\u0000' + ev.action;
    const prev = this.pendingRows.get(dk);
    if (prev !== undefined) {
      // merged into the pending event of the same (type, id, action), not counted as dropped
      if (prev.version !== null && (ev.version === null || ev.version < prev.version)) {
        // keep prev (it has the higher version)
        this._touch(now);
        return;
      }
      if (ev.action === ACTION_UPDATE && this.patch) {
        const pf = fieldsOf(prev);
        const ef = fieldsOf(ev);
        if (pf !== null && ef !== null) ev.fields = Object.assign({}, pf, ef);
      }
    }
    this.pendingRows.set(dk, ev);
    this._touch(now);
  }

  _touch(now) {
    if (this.firstAt === -1) this.firstAt = now;
    this.lastAt = now;
  }

  pending() {
    return this.pendingRows.size + this.pendingDirect.length;
  }

  pollDeadline() {
    if (this.pendingRows.size === 0 && this.pendingDirect.length === 0) return null;
    if (this.debounceMs === 0) return this.lastAt;
    const a = this.lastAt + this.debounceMs;
    const b = this.firstAt + this.maxWaitMs;
    return a < b ? a : b;
  }

  /** Flushes when the deadline has passed; returns a plan or null. */
  poll(now) {
    const d = this.pollDeadline();
    return d !== null && now >= d ? this.flush(now) : null;
  }

  flush(_now) {
    if (this.pendingRows.size === 0 && this.pendingDirect.length === 0) return null;
    const ops = new Map(); // hash -> op
    const patches = new Map(); // hash -> patch
    const inv = (key, exact, refetchType) => {
      const h = hashKey(key);
      const o = ops.get(h);
      if (o === undefined) ops.set(h, { queryKey: key, queryHash: h, exact, refetchType });
      else {
        o.exact = o.exact && exact;
        o.refetchType = combineRefetch(o.refetchType, refetchType);
      }
    };
    const patch = (key, fields, version) => {
      const h = hashKey(key);
      const p = patches.get(h);
      if (p === undefined) patches.set(h, { queryKey: key, queryHash: h, fields, version });
      else {
        p.fields = Object.assign({}, p.fields, fields);
        if (version !== null && (p.version === null || version > p.version)) p.version = version;
      }
    };
    for (const ev of this.pendingRows.values()) route(ev, this.rules, this.scopeFactory, this.patch, inv, patch);
    for (const d of this.pendingDirect) inv(d.key, d.exact, d.refetchType);
    this.pendingRows = new Map();
    this.pendingDirect = [];
    this.firstAt = -1;

    // prefix subsumption: a non-exact op whose key is a strict prefix of another op's key (same
    // refetchType) makes that op redundant. Only prefix lengths that some non-exact op has are probed.
    const nonExact = new Map(); // refetchType -> { hashes:Set, lengths:number[] }
    for (const o of ops.values()) {
      if (o.exact) continue;
      let g = nonExact.get(o.refetchType);
      if (!g) nonExact.set(o.refetchType, (g = { hashes: new Set(), lengths: [] }));
      g.hashes.add(o.queryHash);
      if (g.lengths.indexOf(o.queryKey.length) < 0) g.lengths.push(o.queryKey.length);
    }
    for (const g of nonExact.values()) g.lengths.sort((a, b) => a - b);
    const invalidate = [];
    const covered = []; // non-exact, refetching ops, for the patch check
    for (const o of ops.values()) {
      const g = nonExact.get(o.refetchType);
      let redundant = false;
      if (g !== undefined && g.lengths[0] < o.queryKey.length) {
        const key = o.queryKey;
        let prefix = '[';
        let have = 0;
        for (let li = 0; li < g.lengths.length && !redundant; li++) {
          const L = g.lengths[li];
          if (L >= key.length) break;
          while (have < L) {
            prefix += (have === 0 ? '' : ',') + hashElement(key[have]);
            have++;
          }
          if (g.hashes.has(prefix + ']')) redundant = true;
        }
      }
      if (!redundant) {
        invalidate.push(o);
        if (o.refetchType !== 'none') covered.push(o);
      }
    }

    // a patch on a doc that this plan invalidates anyway is dropped (the refetch brings it)
    const patchOut = [];
    if (patches.size > 0) {
      const exactH = new Set();
      const prefixH = new Set();
      const lens = [];
      for (const o of covered) {
        exactH.add(o.queryHash);
        if (!o.exact) {
          prefixH.add(o.queryHash);
          if (lens.indexOf(o.queryKey.length) < 0) lens.push(o.queryKey.length);
        }
      }
      for (const p of patches.values()) {
        let hit = exactH.has(p.queryHash);
        if (!hit && lens.length) {
          const key = p.queryKey;
          for (let li = 0; li < lens.length && !hit; li++) {
            const L = lens[li];
            if (L >= key.length) continue;
            let s = '[';
            for (let i = 0; i < L; i++) s += (i === 0 ? '' : ',') + hashElement(key[i]);
            hit = prefixH.has(s + ']');
          }
        }
        if (!hit) patchOut.push(p);
      }
    }
    this.counts.flushes++;
    return { invalidate, patch: patchOut, refetch: [] };
  }

  /** Record what the applier reported. */
  applied(res) {
    if (res) {
      this.counts.invalidations += res.invalidations | 0;
      this.counts.patches += res.patches | 0;
    }
  }

  stats() {
    const c = this.counts;
    return { ...c, dropped: { ...c.dropped } };
  }
}

export function createBaselineCore(options) {
  return new BaselineCore(options);
}
