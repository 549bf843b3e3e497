import { hashKey } from '@tanstack/query-core'

// Bits a query collects from the plan entries that match it. A query matched by
// both an 'active' and an 'inactive' invalidation ends up in the 'all' group, so
// every query lands in exactly one invalidateQueries call per flush.
const ACTIVE = 1
const INACTIVE = 2
const INVALID_ONLY = 4
const REFETCH = 8
const INVALIDATED = ACTIVE | INACTIVE | INVALID_ONLY

// An op's flags as the binary plan has them (docs/INTERFACES.md "The flush plan"): bit 0 exact,
// bits 1-2 the refetchType (00 none, 01 active, 10 inactive, 11 all). Plans given as objects are
// read into the same flags, so both kinds are matched by one code path.
const EXACT_FLAG = 1
const REFETCH_TYPES = ['none', 'active', 'inactive', 'all']
const RT_CODE = { none: 0, active: 1, inactive: 2, all: 3 }
// The match bits of each refetchType code.
const RT_BITS = [INVALID_ONLY, ACTIVE, INACTIVE, ACTIVE | INACTIVE]
const FALLBACK_FLAGS = RT_CODE.active << 1 // a patch whose doc is not cached: invalidate it, 'active'

// Writing these through a patch would reach the prototype chain of the cached doc
// or of every object (prototype pollution via a crafted changed field).
const FORBIDDEN_FIELDS = new Set(['__proto__', 'constructor', 'prototype'])

const utf8 = new TextDecoder()

// The decoded plan's ops in the form applyPlan reads: keys (PlanKey) and flags in parallel arrays.
// Not enumerable, so a plan serialises (traces, replay compares) in the INTERFACES.md shape only.
const OPS = Symbol('querywire.planOps')

/**
 * Reads the engine's binary flush plans (docs/INTERFACES.md "The flush plan") into the plan
 * objects applyPlan takes. It keeps `id -> { queryHash, queryKey }`: a key's hash crosses once, the
 * first time a plan names it, and is parsed once; later plans name it by id only. The hashes new in
 * a plan arrive as one UTF-8 text, decoded in one call and sliced by UTF-16 lengths. The bytes are
 * a view of wasm memory, so they are read here, in full, before anything that could call back.
 * The ops are kept as keys plus flags; the op objects (`plan.invalidate`, `plan.refetch`) are built
 * only when something reads them (the inspector, replay, tests), applyPlan does not.
 */
export function createPlanDecoder() {
  let keys = []
  return function decode(bytes) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    let at = 0
    const u32 = () => { const v = view.getUint32(at, true); at += 4; return v }
    if (bytes[at++] & 1) keys = []
    const fresh = u32()
    const textLen = u32()
    if (fresh > 0) {
      let meta = at
      at += fresh * 16
      const text = utf8.decode(bytes.subarray(at, at + textLen))
      let pos = 0
      for (let i = 0; i < fresh; i++, meta += 16) {
        const units = view.getUint32(meta + 4, true)
        const k = new PlanKey(text.slice(pos, pos + units), undefined)
        pos += units
        // The key's leading primitive run, as the core read it off the hash (plan.rs KeyRun).
        const run = view.getUint32(meta + 8, true)
        if (run >= 0x80000000) k.loose = true
        else {
          k.run = run & 0x3fffffff
          k.prim = (run & 0x40000000) !== 0
          k.runEnd = view.getUint32(meta + 12, true)
        }
        keys[view.getUint32(meta, true)] = k
      }
    }
    at += textLen
    const key = (id) => keys[id] ?? EMPTY_KEY
    // An op list: its keys, each followed by one flags byte.
    const ops = () => {
      const n = u32()
      const list = new Array(n)
      const flags = new Uint8Array(n)
      for (let i = 0; i < n; i++) {
        list[i] = key(u32())
        flags[i] = bytes[at++]
      }
      return [list, flags]
    }
    const [inv, invFlags] = ops()
    const patch = []
    const patchKeys = []
    for (let m = u32(); m > 0; m--) {
      const k = key(u32())
      const version = view.getFloat64(at, true)
      at += 8
      const len = u32()
      const fields = JSON.parse(utf8.decode(bytes.subarray(at, at + len)))
      at += len
      patchKeys.push(k)
      patch.push({ get queryKey() { return k.queryKey }, queryHash: k.queryHash, fields, version: Number.isNaN(version) ? null : version })
    }
    const [ref, refFlags] = ops()
    // Keys pending mutations hold (optimistic updates); absent in plans before that section.
    const hold = []
    if (at < bytes.byteLength) {
      for (let h = u32(); h > 0; h--) {
        const len = u32()
        hold.push(JSON.parse(utf8.decode(bytes.subarray(at, at + len))))
        at += len
      }
    }
    return decodedPlan({ inv, invFlags, patchKeys, ref, refFlags }, patch, hold)
  }
}

// A decoded plan in the INTERFACES.md shape; its op lists are built on first read.
function decodedPlan(ops, patch, hold) {
  let invalidate, refetch
  const plan = {
    get invalidate() {
      return (invalidate ??= ops.inv.map((k, i) => {
        const f = ops.invFlags[i]
        return { get queryKey() { return k.queryKey }, queryHash: k.queryHash, exact: (f & EXACT_FLAG) !== 0, refetchType: REFETCH_TYPES[(f >> 1) & 3] }
      }))
    },
    patch,
    get refetch() {
      return (refetch ??= ops.ref.map((k, i) => ({ get queryKey() { return k.queryKey }, queryHash: k.queryHash, exact: (ops.refFlags[i] & EXACT_FLAG) !== 0 })))
    },
  }
  if (hold.length) plan.hold = hold
  Object.defineProperty(plan, OPS, { value: ops })
  return plan
}

// A key as the decoder keeps it: its hash, its queryKey parsed from the hash the first time
// anything asks (matching primitive keys needs only the hash; setQueryData needs the key), and
// what the matcher reads off the hash, worked out once and reused by every later plan.
class PlanKey {
  constructor(queryHash, queryKey) {
    this.queryHash = queryHash
    this.parsed = queryKey
    // The leading run of primitive elements: its length (-1: not known yet), where it ends in the
    // hash (the index of the , or ] after its last element), whether it is the whole key; or the
    // hash is not an array's (`loose`). The hash of the run as a key of its own is made on demand.
    this.run = -1
    this.runEnd = 0
    this.prim = false
    this.loose = false
    this.bucket = null
    // The applyPlan call that last counted this key (keys are counted once per plan).
    this.stamp = 0
  }
  get queryKey() {
    return (this.parsed ??= JSON.parse(this.queryHash))
  }
  // Serialised by its hash alone, whether or not the key was parsed yet (traces, replay compares).
  toJSON() {
    return { queryHash: this.queryHash }
  }
}

const EMPTY_KEY = new PlanKey('[]', undefined)

let applySerial = 0

/**
 * Applies one flush plan from the engine to the QueryClient.
 * @param {import('@tanstack/query-core').QueryClient} queryClient
 * @param {{ invalidate?: object[], patch?: object[], refetch?: object[] }} plan
 * @returns {{ invalidations: number, patches: number }}
 */
export function applyPlan(queryClient, plan) {
  const ops = plan?.[OPS] ?? opsOf(plan)
  const { inv, invFlags, ref, refFlags } = ops
  // Keys invalidated, each counted once: the plan's, then patch fallbacks not among them.
  const fallback = []
  const patches = applyPatches(queryClient, Array.isArray(plan?.patch) ? plan.patch : [], ops.patchKeys, fallback)
  // Keys invalidated, each counted once (the plan's and the patch fallbacks). Counted after the
  // patches: setQueryData may run user code that applies another plan, which stamps keys too.
  const stamp = ++applySerial
  let invalidations = 0
  for (let i = 0; i < inv.length + fallback.length; i++) {
    const k = i < inv.length ? inv[i] : fallback[i - inv.length]
    if (k.stamp !== stamp) {
      k.stamp = stamp
      invalidations++
    }
  }
  if (inv.length === 0 && fallback.length === 0 && ref.length === 0) return { invalidations: 0, patches }

  const matcher = createMatcher()
  for (let i = 0; i < inv.length; i++) matcher.add(inv[i], (invFlags[i] & EXACT_FLAG) !== 0, RT_BITS[(invFlags[i] >> 1) & 3])
  for (const k of fallback) matcher.add(k, false, RT_BITS[(FALLBACK_FLAGS >> 1) & 3])
  for (let i = 0; i < ref.length; i++) matcher.add(ref[i], (refFlags[i] & EXACT_FLAG) !== 0, REFETCH)

  // Keys pending mutations hold (optimistic updates): the core keeps their ops back; this plan's
  // broader ops must leave the queries under them alone.
  const hold = Array.isArray(plan?.hold) && plan.hold.length > 0 ? plan.hold : null
  const groups = { active: new Set(), inactive: new Set(), all: new Set(), none: new Set() }
  const refetchOnly = new Set()
  const restart = []

  for (const query of queryClient.getQueryCache().getAll()) {
    let bits = matcher.match(query)
    if (bits === 0) continue
    if (hold && hold.some((key) => partialMatchKey(query.queryKey, key))) continue
    if (bits & REFETCH) {
      // A refetch entry on an invalidated query rides along with its invalidation,
      // so the query is fetched once, not once per entry kind.
      if (bits & INVALIDATED) bits |= ACTIVE
      else {
        if (query.isActive()) {
          refetchOnly.add(query)
          if (isFirstFetchInFlight(query) && isFetchable(query)) restart.push(query)
        }
        continue
      }
    }
    const type = groupOf(bits)
    groups[type].add(query)
    const refetches = type === 'all' || (type === 'active' && query.isActive()) ||
      (type === 'inactive' && !query.isActive())
    if (refetches && isFirstFetchInFlight(query) && isFetchable(query)) restart.push(query)
  }

  // TanStack/query#8530: a refetch joins a first fetch that is already running, so
  // its pre-change answer would be the last word. Cancelling it silently makes the
  // refetch below start afresh, and the old promise's callers join the new fetch.
  for (const query of restart) query.cancel({ silent: true })

  for (const refetchType of ['active', 'inactive', 'all', 'none']) {
    const group = groups[refetchType]
    if (group.size === 0) continue
    queryClient.invalidateQueries({ predicate: (query) => group.has(query), refetchType })
  }
  if (refetchOnly.size > 0) {
    queryClient.refetchQueries({ predicate: (query) => refetchOnly.has(query), type: 'active' })
  }

  return { invalidations, patches }
}

// A plan given as objects (INTERFACES.md shape: tests, the benchmark's baseline plans) read into
// the decoder's form: one key per distinct hash, flags per op.
function opsOf(plan) {
  const byHash = new Map()
  const keyOf = (op) => {
    const hash = opHash(op)
    let k = byHash.get(hash)
    if (k === undefined) byHash.set(hash, (k = new PlanKey(hash, op.queryKey)))
    return k
  }
  const list = (xs) => (Array.isArray(xs) ? xs : [])
  const invalidate = list(plan?.invalidate)
  const refetch = list(plan?.refetch)
  return {
    inv: invalidate.map(keyOf),
    invFlags: invalidate.map((op) => (op.exact ? EXACT_FLAG : 0) | ((RT_CODE[op.refetchType] ?? RT_CODE.active) << 1)),
    patchKeys: list(plan?.patch).map(keyOf),
    ref: refetch.map(keyOf),
    refFlags: refetch.map((op) => (op.exact ? EXACT_FLAG : 0)),
  }
}

function applyPatches(queryClient, patchOps, patchKeys, fallback) {
  let patched = 0
  const cache = queryClient.getQueryCache()
  // The plan's hashes are TanStack's default hashKey: look the doc up by hash, unless the client
  // hashes keys its own way (then getQueryData hashes it as the client does).
  const ownHash = typeof queryClient.getDefaultOptions?.()?.queries?.queryKeyHashFn === 'function'
  for (let i = 0; i < patchOps.length; i++) {
    const op = patchOps[i]
    const old = ownHash || typeof op.queryHash !== 'string' ? queryClient.getQueryData(op.queryKey) : cache.get(op.queryHash)?.state.data
    if (!isPlainObject(old)) {
      // Nothing cached to patch (or not a doc object): the next read must come from
      // the server, so the doc is invalidated instead of silently skipped.
      fallback.push(patchKeys[i])
      continue
    }
    const version = typeof op.version === 'number' ? op.version : null
    // The cache may already hold a newer doc (a refetch raced ahead of the event).
    if (version !== null && typeof old.version === 'number' && old.version > version) continue
    queryClient.setQueryData(op.queryKey, patchDoc(old, op.fields, version))
    patched++
  }
  return patched
}

function patchDoc(old, fields, version) {
  const next = { ...old }
  if (fields && typeof fields === 'object') {
    for (const field of Object.keys(fields)) {
      if (FORBIDDEN_FIELDS.has(field)) continue
      next[field] = fields[field]
    }
  }
  if (version !== null) next.version = version
  return next
}

function groupOf(bits) {
  const active = (bits & ACTIVE) !== 0
  const inactive = (bits & INACTIVE) !== 0
  if (active && inactive) return 'all'
  if (active) return 'active'
  if (inactive) return 'inactive'
  return 'none'
}

function isFirstFetchInFlight(query) {
  return query.state.data === undefined && query.state.fetchStatus === 'fetching'
}

// A cancelled fetch that nothing restarts would leave the query stuck in
// 'fetching', so only queries that refetchQueries will actually fetch are cancelled.
function isFetchable(query) {
  if (query.isDisabled()) return false
  return typeof query.isStatic === 'function' ? !query.isStatic() : true
}

/**
 * Matches many plan keys against the cache in one pass. Exact keys are looked up by
 * queryHash. A non-exact key can only prefix-match a query whose key starts with the
 * same primitive elements (TanStack compares primitives with ===), so non-exact keys
 * are indexed by the hash of their leading primitive run (for a key of primitives only,
 * its own hash), and each query probes the hashes of its own primitive prefixes (slices
 * of its hash; its hash itself for the whole key), only at the run lengths some key has,
 * before confirming keys that hold objects with partialMatchKey.
 */
function createMatcher() {
  const exact = new Map()
  // Keys of primitives only: hash -> bits. A key of primitives only matches by hash alone
  // (equal JSON of primitives is equal values).
  const prims = new Map()
  // Keys holding objects, by the hash of their primitive run: { entries, bits }.
  const buckets = new Map()
  // The distinct run lengths of the indexed keys, ascending.
  const lens = []
  let lastRun = -1
  const loose = []
  const ends = []

  return {
    add(key, isExact, bits) {
      if (isExact) {
        exact.set(key.queryHash, (exact.get(key.queryHash) ?? 0) | bits)
        return
      }
      if (key.run < 0 && !key.loose) readRun(key)
      if (key.loose) { // not an array key: matched the slow way
        loose.push({ key, bits })
        return
      }
      if (key.run !== lastRun) {
        lastRun = key.run
        if (!lens.includes(lastRun)) {
          lens.push(lastRun)
          lens.sort((a, b) => a - b)
        }
      }
      if (key.prim) {
        prims.set(key.queryHash, (prims.get(key.queryHash) ?? 0) | bits)
        return
      }
      key.bucket ??= key.queryHash.slice(0, key.runEnd) + ']'
      let bucket = buckets.get(key.bucket)
      if (bucket === undefined) buckets.set(key.bucket, (bucket = { entries: [], bits: 0 }))
      bucket.entries.push({ key, bits })
      bucket.bits |= bits
    },

    match(query) {
      let bits = 0
      let hash = null
      if (exact.size > 0) bits |= exact.get((hash = exactHash(query))) ?? 0
      if (lens.length > 0 && Array.isArray(query.queryKey)) {
        const queryKey = query.queryKey
        const run = primitiveRun(queryKey, lens[lens.length - 1])
        let i = 0
        if (lens[0] === 0) {
          bits = probe('[]', queryKey, bits)
          i = 1
        }
        if (i < lens.length && lens[i] <= run) {
          hash ??= exactHash(query)
          // The whole key's hash is the query's own; shorter prefixes are read off it.
          if (lens[i] < queryKey.length) elementEnds(hash, run, ends)
          for (; i < lens.length && lens[i] <= run; i++) {
            const n = lens[i]
            bits = probe(n === queryKey.length ? hash : hash.slice(0, ends[n - 1]) + ']', queryKey, bits)
          }
        }
      }
      for (const entry of loose) {
        if ((bits | entry.bits) !== bits && partialMatchKey(query.queryKey, entry.key.queryKey)) bits |= entry.bits
      }
      return bits
    },
  }

  // The keys indexed under `prefix` (the hash of a primitive prefix of `queryKey`).
  function probe(prefix, queryKey, bits) {
    if (prims.size > 0) bits |= prims.get(prefix) ?? 0
    const bucket = buckets.size > 0 ? buckets.get(prefix) : undefined
    if (bucket === undefined) return bits
    for (const entry of bucket.entries) {
      if ((bits | bucket.bits) === bits) break
      if ((bits | entry.bits) === bits) continue
      if (partialMatchKey(queryKey, entry.key.queryKey)) bits |= entry.bits
    }
    return bits
  }
}

const runEnds = []

// Reads a non-exact key's leading primitive run off its hash, once per key: an element is a
// primitive unless it starts with [ or {. The run's hash is the key's hash up to the end of the
// run's last element, closed with ]: the same text as a query's prefix of that length when the
// query's key starts alike.
function readRun(key) {
  const hash = key.queryHash
  if (hash.charCodeAt(0) !== 91) {
    key.loose = true
    return
  }
  elementEnds(hash, Infinity, runEnds)
  let run = 0
  while (run < runEnds.length && !isNested(hash.charCodeAt(run === 0 ? 1 : runEnds[run - 1] + 1))) run++
  key.prim = run === runEnds.length
  key.runEnd = run === 0 ? 1 : runEnds[run - 1]
  key.run = run
}

// `[`, `{` (after optional whitespace a hash never has): the element is an array or an object.
function isNested(c) {
  return c === 91 || c === 123
}

// TanStack compares exact filters through the query's own hash function, which a
// custom queryKeyHashFn changes; the plan's hashes are always the default hashKey.
function exactHash(query) {
  return query.options?.queryKeyHashFn ? hashKey(query.queryKey) : query.queryHash
}

function opHash(op) {
  return typeof op.queryHash === 'string' ? op.queryHash : hashKey(op.queryKey)
}

// Where each of the first `max` top-level elements of a key's hash ends (the index of the comma
// or bracket after it), into `out`. A hash is JSON, so strings are the only place brackets and
// commas do not count.
function elementEnds(hash, max, out) {
  out.length = 0
  if (hash.length <= 2) return out // [] has no elements
  let depth = 0
  for (let i = 1; i < hash.length && out.length < max; i++) {
    const c = hash.charCodeAt(i)
    if (c === 34) { // a string: skip to its closing quote
      for (i++; i < hash.length; i++) {
        const d = hash.charCodeAt(i)
        if (d === 92) i++
        else if (d === 34) break
      }
    } else if (c === 91 || c === 123) depth++
    else if (c === 93 || c === 125) {
      if (depth === 0) { out.push(i); break }
      depth--
    } else if (c === 44 && depth === 0) out.push(i)
  }
  return out
}

// How many leading elements of the key are primitives, counting at most `max`.
function primitiveRun(queryKey, max) {
  let run = 0
  while (run < queryKey.length && run < max && isPrimitive(queryKey[run])) run++
  return run
}

function isPrimitive(value) {
  if (value === null) return true
  const type = typeof value
  return type !== 'object' && type !== 'function' && type !== 'bigint'
}

function isPlainObject(value) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

// TanStack's partialMatchKey, ported because query-core only exports it from
// recent 5.x releases and the peer range is ^5.
export function partialMatchKey(a, b) {
  if (a === b) return true
  if (typeof a !== typeof b) return false
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    if (Array.isArray(a) && Array.isArray(b)) {
      if (b.length > a.length) return false
      for (let i = 0; i < b.length; i++) if (!partialMatchKey(a[i], b[i])) return false
      return true
    }
    for (const key of Object.keys(b)) if (!partialMatchKey(a[key], b[key])) return false
    return true
  }
  return false
}
