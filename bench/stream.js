// A seeded, deterministic stream of Supabase postgres_changes payloads, in the exact shape supabase-js v2
// hands a `.on('postgres_changes', …)` callback:
//   { schema, table, commit_timestamp, eventType, new, old, errors }
// Several tables and tenants (factory_id), ~300 bytes of JSON each, a mix of UPDATE/INSERT/DELETE with
// per-row versions. Tables with REPLICA IDENTITY FULL carry the whole old row (so changed columns are
// known); the others carry only the primary key in `old`, as Postgres' default replica identity does.

/** mulberry32: small, fast, good enough for a benchmark stream. */
export function prng(seed) {
  let a = seed >>> 0;
  return function rand() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STATUSES = ['draft', 'open', 'in_progress', 'blocked', 'approved', 'done'];
const PRIORITIES = ['low', 'normal', 'high', 'urgent'];
const WORDS = ['pump', 'valve', 'gasket', 'motor', 'belt', 'sensor', 'bracket', 'housing', 'filter', 'seal',
  'bearing', 'coupling', 'relay', 'panel', 'harness', 'spring'];
const PEOPLE = ['a.ng', 'b.okafor', 'c.silva', 'd.kowalski', 'e.tanaka', 'f.haddad', 'g.muller', 'h.rossi'];

function pick(rand, arr) {
  return arr[Math.floor(rand() * arr.length)];
}
function words(rand, n) {
  let s = pick(rand, WORDS);
  for (let i = 1; i < n; i++) s += ' ' + pick(rand, WORDS);
  return s;
}

// table -> { weight, identityFull, make(rand, id, factory, ts, parentIds), mutate(rand, row, ts) }
export const TABLES = {
  work_orders: {
    weight: 0.4,
    identityFull: true,
    make: (rand, id, factory_id, ts) => ({
      id, factory_id, title: words(rand, 2), status: pick(rand, STATUSES), qty: 1 + Math.floor(rand() * 500),
      assignee: pick(rand, PEOPLE), version: 1, updated_at: ts,
    }),
    mutate: (rand, row, ts) => {
      const r = rand();
      if (r < 0.5) row.status = pick(rand, STATUSES);
      else if (r < 0.8) row.qty = 1 + Math.floor(rand() * 500);
      else row.assignee = pick(rand, PEOPLE);
      row.version++;
      row.updated_at = ts;
    },
  },
  work_order_items: {
    weight: 0.25,
    identityFull: false,
    make: (rand, id, factory_id, ts, parents) => ({
      id, factory_id, work_order_id: parents.length ? pick(rand, parents) : 1, sku: 'SKU-' + Math.floor(rand() * 1e6).toString(36).toUpperCase(),
      description: words(rand, 2), qty: 1 + Math.floor(rand() * 50), unit: pick(rand, ['pcs', 'kg', 'm', 'l']),
      picked: false, version: 1, updated_at: ts,
    }),
    mutate: (rand, row, ts) => {
      if (rand() < 0.6) row.picked = !row.picked;
      else row.qty = 1 + Math.floor(rand() * 50);
      row.version++;
      row.updated_at = ts;
    },
  },
  machines: {
    weight: 0.2,
    identityFull: false,
    make: (rand, id, factory_id, ts) => ({
      id, factory_id, code: 'M-' + String(id).padStart(5, '0'), state: pick(rand, ['idle', 'running', 'fault', 'maintenance']),
      temperature_c: Math.round(200 + rand() * 700) / 10, rpm: Math.floor(rand() * 3000), operator: pick(rand, PEOPLE),
      version: 1, updated_at: ts,
    }),
    mutate: (rand, row, ts) => {
      row.temperature_c = Math.round(200 + rand() * 700) / 10;
      if (rand() < 0.3) row.state = pick(rand, ['idle', 'running', 'fault', 'maintenance']);
      row.rpm = Math.floor(rand() * 3000);
      row.version++;
      row.updated_at = ts;
    },
  },
  inspections: {
    weight: 0.15,
    identityFull: false,
    make: (rand, id, factory_id, ts, parents) => ({
      id, factory_id, work_order_id: parents.length ? pick(rand, parents) : 1, inspector: pick(rand, PEOPLE),
      result: pick(rand, ['pending', 'pass', 'fail']), notes: words(rand, 2), score: Math.floor(rand() * 100),
      version: 1, updated_at: ts,
    }),
    mutate: (rand, row, ts) => {
      row.result = pick(rand, ['pending', 'pass', 'fail']);
      row.score = Math.floor(rand() * 100);
      row.version++;
      row.updated_at = ts;
    },
  },
};

/**
 * Creates a stream. Options: seed, tenants (factory ids), tenantWeights, rowsPerTable (initial rows per
 * table and tenant), mix { update, insert, delete } (fractions), startMs (commit timestamps), stepMs.
 */
export function createStream({
  seed = 1,
  tenants = ['f1', 'f2', 'f3', 'f4'],
  tenantWeights = [0.4, 0.3, 0.2, 0.1],
  rowsPerTable = 200,
  mix = { update: 0.7, insert: 0.2, delete: 0.1 },
  startMs = Date.UTC(2025, 10, 25, 9, 0, 0),
  stepMs = 3,
} = {}) {
  const rand = prng(seed);
  const tableNames = Object.keys(TABLES);
  const state = new Map(); // table -> { nextId, rows: Map<factory, row[]> }
  let clock = startMs;
  const iso = () => new Date(clock).toISOString().replace('Z', '+00:00');
  for (const t of tableNames) {
    const st = { nextId: 1, rows: new Map() };
    state.set(t, st);
    for (const f of tenants) st.rows.set(f, []);
  }
  const parentsOf = (f) => state.get('work_orders').rows.get(f).map((r) => r.id);
  for (const t of tableNames) {
    const st = state.get(t);
    for (const f of tenants) {
      for (let i = 0; i < rowsPerTable; i++) st.rows.get(f).push(TABLES[t].make(rand, st.nextId++, f, iso(), parentsOf(f)));
    }
  }
  const pickWeighted = (items, weights) => {
    let r = rand();
    for (let i = 0; i < items.length; i++) {
      r -= weights[i];
      if (r < 0) return items[i];
    }
    return items[items.length - 1];
  };
  const tableWeights = tableNames.map((t) => TABLES[t].weight);

  function next() {
    clock += stepMs;
    const ts = iso();
    const table = pickWeighted(tableNames, tableWeights);
    const factory = pickWeighted(tenants, tenantWeights);
    const spec = TABLES[table];
    const st = state.get(table);
    const rows = st.rows.get(factory);
    let kind = pickWeighted(['UPDATE', 'INSERT', 'DELETE'], [mix.update, mix.insert, mix.delete]);
    if (rows.length < 2 && kind !== 'INSERT') kind = 'INSERT';
    const base = { schema: 'public', table, commit_timestamp: ts, eventType: kind, new: {}, old: {}, errors: null };
    if (kind === 'INSERT') {
      const row = spec.make(rand, st.nextId++, factory, ts, parentsOf(factory));
      rows.push(row);
      base.new = { ...row };
    } else if (kind === 'UPDATE') {
      const row = rows[Math.floor(rand() * rows.length)];
      const before = { ...row };
      spec.mutate(rand, row, ts);
      base.new = { ...row };
      base.old = spec.identityFull ? before : { id: row.id };
    } else {
      const i = Math.floor(rand() * rows.length);
      const row = rows[i];
      rows[i] = rows[rows.length - 1];
      rows.pop();
      base.old = spec.identityFull ? { ...row } : { id: row.id };
    }
    return base;
  }

  return { next, state, tenants };
}

/** n payloads as objects and as JSON text (same content). */
export function generate(n, opts = {}) {
  const s = createStream(opts);
  const objects = new Array(n);
  const texts = new Array(n);
  for (let i = 0; i < n; i++) {
    objects[i] = s.next();
    texts[i] = JSON.stringify(objects[i]);
  }
  return { objects, texts, stream: s };
}

/** The engine options used with this stream in the benchmark (same for querywire and the baseline). */
export const STREAM_RULES = [
  // items and inspections refresh their work order's detail views; everything else uses the doc/list policy
  { table: 'work_order_items', invalidate: [['work_orders', 'items', '{work_order_id}'], ['doc', 'work_orders', '{work_order_id}']] },
  { table: 'inspections', events: ['INSERT', 'DELETE'], invalidate: [['work_orders', 'inspections', '{work_order_id}']] },
  { table: 'inspections', events: ['UPDATE'], invalidate: [{ queryKey: ['inspection', '{id}'], exact: true }] },
];

/**
 * The whole engine options the native examples run this stream with (scripts/callgrind*.sh write them
 * for crates/core/examples/stream.rs and slots.rs): the benchmark's window, scope and rules.
 */
export const STREAM_OPTIONS = { debounceMs: 300, maxWaitMs: 1000, scope: { factoryId: 'f1' }, rules: STREAM_RULES };
