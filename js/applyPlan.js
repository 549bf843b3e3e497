import { hashKey } from '@tanstack/query-core'

// Bits a query collects from the plan entries that match it. A query matched by
// both an 'active' and an 'inactive' invalidation ends up in the 'all' group, so
// every query lands in exactly one invalidateQueries call per flush.
const ACTIVE = 1
const INACTIVE = 2
const INVALID_ONLY = 4
const REFETCH = 8
const INVALIDATED = ACTIVE | INACTIVE | INVALID_ONLY

const REFETCH_BITS = { active: ACTIVE, inactive: INACTIVE, all: ACTIVE | INACTIVE, none: INVALID_ONLY }

// Writing these through a patch would reach the prototype chain of the cached doc
// or of every object (prototype pollution via a crafted changed field).
const FORBIDDEN_FIELDS = new Set(['__proto__', 'constructor', 'prototype'])

const REFETCH_TYPES = ['none', 'active', 'inactive', 'all']
const utf8 = new TextDecoder()

/**
 * Reads the engine's binary flush plans (docs/INTERFACES.md "The flush plan") into the plan
 * objects applyPlan takes. It keeps `id -> { queryHash, queryKey }`: a key's hash crosses once, the
 * first time a plan names it, and is parsed once; later plans name it by id only. The bytes are a
 * view of wasm memory, so they are read here, in full, before anything that could call back.
 */
export function createPlanDecoder() {
  let keys = new Map()
  return function decode(bytes) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    let at = 0
    const u32 = () => { const v = view.getUint32(at, true); at += 4; return v }
    const text = (len) => { const s = utf8.decode(bytes.subarray(at, at + len)); at += len; return s }
    if (view.getUint8(at++) & 1) keys = new Map()
    for (let n = u32(); n > 0; n--) {
      const id = u32()
      keys.set(id, new PlanKey(text(u32())))
    }
    const key = (id) => keys.get(id) ?? EMPTY_KEY
    const invalidate = []
    for (let n = u32(); n > 0; n--) {
      const k = key(u32())
      const flags = view.getUint8(at++)
      // Plain objects in the INTERFACES.md shape; `queryKey` is a getter that parses it on first use.
      invalidate.push({ get queryKey() { return k.queryKey }, queryHash: k.queryHash, exact: (flags & 1) !== 0, refetchType: REFETCH_TYPES[(flags >> 1) & 3] })
    }
    const patch = []
    for (let n = u32(); n > 0; n--) {
      const k = key(u32())
      const version = view.getFloat64(at, true)
      at += 8
      const fields = JSON.parse(text(u32()))
      patch.push({ get queryKey() { return k.queryKey }, queryHash: k.queryHash, fields, version: Number.isNaN(version) ? null : version })
    }
    const refetch = []
    for (let n = u32(); n > 0; n--) {
      const k = key(u32())
      refetch.push({ get queryKey() { return k.queryKey }, queryHash: k.queryHash, exact: (view.getUint8(at++) & 1) !== 0 })
    }
    // Keys pending mutations hold (optimistic updates); absent in plans before that section.
    const hold = []
    if (at < bytes.byteLength) for (let n = u32(); n > 0; n--) hold.push(JSON.parse(text(u32())))
    return hold.length ? { invalidate, patch, refetch, hold } : { invalidate, patch, refetch }
  }
}

// A key as the decoder keeps it: its hash, and its queryKey parsed from the hash the first time
// anything asks (matching primitive keys needs only the hash; setQueryData needs the key).
class PlanKey {
  constructor(queryHash) {
    this.queryHash = queryHash
    this.parsed = undefined
  }
  get queryKey() {
    return (this.parsed ??= JSON.parse(this.queryHash))
  }
  // Serialised by its hash alone, whether or not the key was parsed yet (traces, replay compares).
  toJSON() {
    return { queryHash: this.queryHash }
  }
}

const EMPTY_KEY = new PlanKey('[]')

/**
 * Applies one flush plan from the engine to the QueryClient.
 * @param {import('@tanstack/query-core').QueryClient} queryClient
 * @param {{ invalidate?: object[], patch?: object[], refetch?: object[] }} plan
 * @returns {{ invalidations: number, patches: number }}
 */
export function applyPlan(queryClient, plan) {
  const invalidate = Array.isArray(plan?.invalidate) ? plan.invalidate.slice() : []
  const patches = applyPatches(queryClient, plan?.patch, invalidate)
  const refetch = Array.isArray(plan?.refetch) ? plan.refetch : []

  const invalidatedKeys = new Set()
  for (const op of invalidate) invalidatedKeys.add(opHash(op))
  if (invalidate.length === 0 && refetch.length === 0) return { invalidations: 0, patches }

  const matcher = createMatcher()
  for (const op of invalidate) {
    matcher.add(op, REFETCH_BITS[op.refetchType] ?? ACTIVE)
  }
  for (const op of refetch) matcher.add(op, REFETCH)

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

  return { invalidations: invalidatedKeys.size, patches }
}

function applyPatches(queryClient, patchOps, invalidate) {
  if (!Array.isArray(patchOps)) return 0
  let patched = 0
  const cache = queryClient.getQueryCache()
  // The plan's hashes are TanStack's default hashKey: look the doc up by hash, unless the client
  // hashes keys its own way (then getQueryData hashes it as the client does).
  const ownHash = typeof queryClient.getDefaultOptions?.()?.queries?.queryKeyHashFn === 'function'
  for (const op of patchOps) {
    const old = ownHash || typeof op.queryHash !== 'string' ? queryClient.getQueryData(op.queryKey) : cache.get(op.queryHash)?.state.data
    if (!isPlainObject(old)) {
      // Nothing cached to patch (or not a doc object): the next read must come from
      // the server, so the doc is invalidated instead of silently skipped.
      invalidate.push({ queryKey: op.queryKey, queryHash: op.queryHash, exact: false, refetchType: 'active' })
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
 * are indexed by the hash of their leading primitive run, and each query probes the
 * hashes of its own primitive prefixes before confirming with partialMatchKey.
 */
function createMatcher() {
  const exact = new Map()
  const prefixed = new Map()
  const loose = []
  const ends = []

  return {
    add(op, bits) {
      if (op.exact) {
        const hash = opHash(op)
        exact.set(hash, (exact.get(hash) ?? 0) | bits)
        return
      }
      const hash = opHash(op)
      if (hash.charCodeAt(0) !== 91) { // not an array key: matched the slow way
        loose.push({ queryKey: op.queryKey, bits })
        return
      }
      // The leading primitive run, read off the hash: an element is a primitive unless it
      // starts with [ or {. A key of primitives only matches by hash alone (TanStack compares
      // primitives with ===, and equal JSON of primitives is equal values).
      elementEnds(hash, Infinity, ends)
      let run = 0
      while (run < ends.length && !isNested(hash.charCodeAt(run === 0 ? 1 : ends[run - 1] + 1))) run++
      const prim = run === ends.length
      const bucketHash = prim ? hash : run === 0 ? '[]' : hash.slice(0, ends[run - 1]) + ']'
      let bucket = prefixed.get(bucketHash)
      if (!bucket) prefixed.set(bucketHash, (bucket = { entries: [], bits: 0, primBits: 0 }))
      if (prim) bucket.primBits |= bits
      else bucket.entries.push({ op, bits })
      bucket.bits |= bits
    },

    match(query) {
      let bits = 0
      if (exact.size > 0) bits |= exact.get(exactHash(query)) ?? 0
      if (prefixed.size > 0 && Array.isArray(query.queryKey)) {
        const queryKey = query.queryKey
        const run = primitiveRun(queryKey)
        let bucket = prefixed.get('[]')
        if (bucket) bits = matchBucket(bucket, queryKey, bits)
        if (run > 0) {
          // The hashes of the query's primitive prefixes are slices of its own hash.
          const hash = exactHash(query)
          elementEnds(hash, run, ends)
          for (let i = 0; i < ends.length; i++) {
            bucket = prefixed.get(hash.slice(0, ends[i]) + ']')
            if (bucket) bits = matchBucket(bucket, queryKey, bits)
          }
        }
      }
      for (const entry of loose) {
        if ((bits | entry.bits) !== bits && partialMatchKey(query.queryKey, entry.queryKey)) bits |= entry.bits
      }
      return bits
    },
  }
}

function matchBucket(bucket, queryKey, bits) {
  bits |= bucket.primBits
  for (const entry of bucket.entries) {
    if ((bits | bucket.bits) === bits) break
    if ((bits | entry.bits) === bits) continue
    if (partialMatchKey(queryKey, entry.op.queryKey)) bits |= entry.bits
  }
  return bits
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

function primitiveRun(queryKey) {
  let run = 0
  while (run < queryKey.length && isPrimitive(queryKey[run])) run++
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
