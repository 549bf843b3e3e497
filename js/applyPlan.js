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

// The decoded plan's ops in the form applyPlan reads: key slots and flags in parallel typed arrays.
// Not enumerable, so a plan serialises (traces, replay compares) in the INTERFACES.md shape only.
const OPS = Symbol('querywire.planOps')

// FNV-1a (32-bit) over UTF-16 code units: the number plan keys are matched by. The core sends it
// for each key of ours (plan.rs `text_hash`); the shim computes it over each cached query's
// queryHash in the pass that finds the query's element ends, so no plan key is a string in a Map:
// a key's text is compared only when the numbers agree.
const FNV_OFFSET = 0x811c9dc5 | 0
const FNV_PRIME = 0x01000193
const CLOSE = 93 // ]

function fnv(text) {
  let h = FNV_OFFSET
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME)
  return h
}

// A key's leading primitive run, as KeyTable keeps it: its element count, or LOOSE (not an array
// key: matched element by element); PRIM marks a key that is all primitives.
const LOOSE = -1
const PRIM = 1

/**
 * The keys a plan names, in columns indexed by slot (a decoded plan's slot is its key id + 1; slot 0
 * is `[]`, what an id the table does not know reads as). Per key: where its hash is (a text and a
 * UTF-16 offset in it; the hashes new in one plan are one text, kept as bytes while nothing asks for
 * a string of an all-ASCII one), its length, its FNV, its leading
 * primitive run (count, end in the hash, FNV of the run closed with `]`), and the queryKey parsed
 * from the hash the first time anything asks (setQueryData, partialMatchKey, the op objects).
 */
class KeyTable {
  constructor() {
    this.cap = 0
    // Per plan text: the string, or (an all-ASCII text, decoded only when a string is asked for)
    // its bytes, a copy: a byte is a UTF-16 unit.
    this.texts = []
    this.bytes = []
    this.strs = []
    this.parsed = []
    this.grow(64)
    this.put(0, this.text1('[]'), 0, 2, fnv('[]'), 0 | (1 << 30), 1, fnv('[]'))
  }

  grow(need) {
    let cap = this.cap || 64
    while (cap < need) cap *= 2
    if (cap === this.cap) return
    const old = this
    const copy = (T, a) => { const b = new T(cap); if (a) b.set(a); return b }
    this.tix = copy(Int32Array, old.tix)
    this.off = copy(Uint32Array, old.off)
    this.len = copy(Uint32Array, old.len)
    this.hash = copy(Int32Array, old.hash)
    this.run = copy(Int32Array, old.run)
    this.kind = copy(Uint8Array, old.kind)
    this.runEnd = copy(Uint32Array, old.runEnd)
    this.runHash = copy(Int32Array, old.runHash)
    this.stamp = copy(Uint32Array, old.stamp)
    if (!old.cap) this.tix.fill(-1)
    else this.tix.fill(-1, this.cap)
    this.cap = cap
  }

  text1(text) {
    this.texts.push(text)
    this.bytes.push(null)
    return this.texts.length - 1
  }

  // A plan's text given as ASCII bytes (a copy, not the wasm memory view).
  ascii1(bytes) {
    this.texts.push(null)
    this.bytes.push(bytes)
    return this.texts.length - 1
  }

  // Plan text `tix` as a string (an ASCII text is decoded in one call, the first time; its bytes
  // are then dropped).
  text(tix) {
    let s = this.texts[tix]
    if (s === null) {
      s = this.texts[tix] = utf8.decode(this.bytes[tix])
      this.bytes[tix] = null
    }
    return s
  }

  // The records of the `n` keys new in a plan (24 bytes each at `at`, plan.rs `record`), their
  // hashes in text `tix`.
  putAll(view, at, n, tix) {
    let pos = 0
    for (let i = 0; i < n; i++, at += 24) {
      const id = view.getUint32(at, true)
      const units = view.getUint32(at + 4, true)
      // An id beyond any key table's bound would only be a corrupt plan: left unknown.
      if (id < 0x1000000) {
        this.put(id + 1, tix, pos, units, view.getInt32(at + 16, true), view.getInt32(at + 8, true),
          view.getUint32(at + 12, true), view.getInt32(at + 20, true))
      }
      pos += units
    }
  }

  // `run` as the plan has it (plan.rs KeyRun: bits 0-29 the count, bit 30 all primitives, bit 31
  // not an array); `runEnd` the UTF-16 index of the , or ] after the run.
  put(slot, tix, off, len, hash, run, runEnd, runHash) {
    if (slot >= this.cap) this.grow(slot + 1)
    this.tix[slot] = tix
    this.off[slot] = off
    this.len[slot] = len
    this.hash[slot] = hash
    this.run[slot] = run < 0 ? LOOSE : run & 0x3fffffff
    this.kind[slot] = run < 0 ? 0 : (run >>> 30) & PRIM
    this.runEnd[slot] = runEnd
    this.runHash[slot] = runHash
  }

  // The slot of the key a plan names by `id`; 0 (`[]`) for an id no plan brought.
  slotOf(id) {
    return id + 1 < this.cap && this.tix[id + 1] >= 0 ? id + 1 : 0
  }

  // The key's hash as a string (sliced out of its plan's text once, when something asks).
  queryHash(slot) {
    let s = this.strs[slot]
    if (s === undefined) {
      const off = this.off[slot]
      s = this.strs[slot] = this.text(this.tix[slot]).slice(off, off + this.len[slot])
    }
    return s
  }

  queryKey(slot) {
    let k = this.parsed[slot]
    if (k === undefined) k = this.parsed[slot] = JSON.parse(this.queryHash(slot))
    return k
  }

  // Whether the key's hash starts with `hash`'s first `n` UTF-16 units.
  startsLike(slot, hash, n) {
    const off = this.off[slot]
    // All of `hash`, or all but its closing ] when the key is as long as `hash`: the key is `hash`.
    if (n === hash.length - 1 && this.len[slot] === hash.length) n = hash.length
    const bytes = this.bytes[this.tix[slot]]
    if (bytes !== null) {
      for (let i = 0; i < n; i++) if (bytes[off + i] !== hash.charCodeAt(i)) return false
      return true
    }
    const text = this.texts[this.tix[slot]]
    if (n === hash.length) return text.startsWith(hash, off)
    for (let i = 0; i < n; i++) if (text.charCodeAt(off + i) !== hash.charCodeAt(i)) return false
    return true
  }
}

/**
 * Reads the engine's binary flush plans (docs/INTERFACES.md "The flush plan") into the plan
 * objects applyPlan takes. It keeps the keys (a KeyTable, by id): a key's hash crosses once, the
 * first time a plan names it; later plans name it by id only. The hashes new in a plan arrive as
 * one UTF-8 text, decoded in one call; when it is all ASCII (as many bytes as UTF-16 units) it is
 * copied instead and decoded only when something asks for a string (the matcher compares bytes).
 * A key's string is sliced out of it only when something reads it, and parsed only when something
 * needs its queryKey. The bytes are a view of wasm memory, so they are read (or copied) here, in
 * full, before anything that could call back. The ops are kept
 * as key slots plus flags; the op objects (`plan.invalidate`, `plan.refetch`) are built only when
 * something reads them (the inspector, replay, tests), applyPlan does not.
 */
export function createPlanDecoder() {
  let table = new KeyTable()
  return function decode(bytes) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    let at = 0
    const u32 = () => { const v = view.getUint32(at, true); at += 4; return v }
    if (bytes[at++] & 1) table = new KeyTable()
    const t = table
    const fresh = u32()
    const textLen = u32()
    if (fresh > 0) {
      const meta = at
      at += fresh * 24
      // The columns grow once, to the highest id this plan brings. When the text has as many
      // UTF-8 bytes as its keys have UTF-16 units, every key is ASCII: its bytes are kept (copied
      // out of wasm memory) and a string is decoded only if something asks for one.
      let top = 0
      let units = 0
      for (let i = 0, m = meta; i < fresh; i++, m += 24) {
        const id = view.getUint32(m, true)
        if (id > top && id < 0x1000000) top = id
        units += view.getUint32(m + 4, true)
      }
      t.grow(top + 2)
      const tix = units === textLen ? t.ascii1(bytes.slice(at, at + textLen)) : t.text1(utf8.decode(bytes.subarray(at, at + textLen)))
      t.putAll(view, meta, fresh, tix)
    }
    at += textLen
    const [inv, invFlags] = readOps(view, t, at)
    at += 4 + inv.length * 5
    const patch = []
    const patchKeys = []
    for (let m = u32(); m > 0; m--) {
      const k = t.slotOf(u32())
      const version = view.getFloat64(at, true)
      at += 8
      const len = u32()
      const fields = JSON.parse(utf8.decode(bytes.subarray(at, at + len)))
      at += len
      patchKeys.push(k)
      patch.push({ queryKey: t.queryKey(k), queryHash: t.queryHash(k), fields, version: Number.isNaN(version) ? null : version })
    }
    const [ref, refFlags] = readOps(view, t, at)
    at += 4 + ref.length * 5
    // Keys pending mutations hold (optimistic updates); absent in plans before that section.
    const hold = []
    if (at < bytes.byteLength) {
      for (let h = u32(); h > 0; h--) {
        const len = u32()
        hold.push(JSON.parse(utf8.decode(bytes.subarray(at, at + len))))
        at += len
      }
    }
    return decodedPlan({ table: t, inv, invFlags, patchKeys, ref, refFlags, invalidate: null, refetch: null }, patch, hold)
  }
}

// An op list at `at`: u32 n, then n × { u32 key id, u8 flags }, as key slots and flags.
function readOps(view, t, at) {
  const n = view.getUint32(at, true)
  const list = new Int32Array(n)
  const flags = new Uint8Array(n)
  for (let i = 0, p = at + 4; i < n; i++, p += 5) {
    list[i] = t.slotOf(view.getUint32(p, true))
    flags[i] = view.getUint8(p + 4)
  }
  return [list, flags]
}

// A decoded plan in the INTERFACES.md shape; its op lists are built on first read. The two lists
// are own, enumerable accessors (JSON, canonical() and the inspector see them) whose getters are
// shared, so every decoded plan has the same hidden class and V8 keeps the code reading it optimized.
function decodedPlan(ops, patch, hold) {
  const plan = {}
  Object.defineProperty(plan, 'invalidate', INVALIDATE_OPS)
  plan.patch = patch
  Object.defineProperty(plan, 'refetch', REFETCH_OPS)
  if (hold.length) plan.hold = hold
  Object.defineProperty(plan, OPS, { value: ops })
  return plan
}

const INVALIDATE_OPS = {
  enumerable: true,
  get() {
    const ops = this[OPS]
    const t = ops.table
    return (ops.invalidate ??= Array.from(ops.inv, (k, i) => {
      const f = ops.invFlags[i]
      return { queryKey: t.queryKey(k), queryHash: t.queryHash(k), exact: (f & EXACT_FLAG) !== 0, refetchType: REFETCH_TYPES[(f >> 1) & 3] }
    }))
  },
}

const REFETCH_OPS = {
  enumerable: true,
  get() {
    const ops = this[OPS]
    const t = ops.table
    return (ops.refetch ??= Array.from(ops.ref, (k, i) => ({ queryKey: t.queryKey(k), queryHash: t.queryHash(k), exact: (ops.refFlags[i] & EXACT_FLAG) !== 0 })))
  },
}

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
  const t = ops.table
  applySerial = (applySerial + 1) >>> 0 || 1
  const stamp = applySerial
  let invalidations = 0
  for (let i = 0; i < inv.length + fallback.length; i++) {
    const k = i < inv.length ? inv[i] : fallback[i - inv.length]
    if (t.stamp[k] !== stamp) {
      t.stamp[k] = stamp
      invalidations++
    }
  }
  if (inv.length === 0 && fallback.length === 0 && ref.length === 0) return { invalidations: 0, patches }

  const matcher = (spareMatchers.pop() ?? new Matcher()).reset(t, inv.length + fallback.length + ref.length)
  for (let i = 0; i < inv.length; i++) matcher.add(inv[i], (invFlags[i] & EXACT_FLAG) !== 0, RT_BITS[(invFlags[i] >> 1) & 3])
  for (const k of fallback) matcher.add(k, false, RT_BITS[(FALLBACK_FLAGS >> 1) & 3])
  for (let i = 0; i < ref.length; i++) matcher.add(ref[i], (refFlags[i] & EXACT_FLAG) !== 0, REFETCH)

  // Keys pending mutations hold (optimistic updates): the core keeps their ops back; this plan's
  // broader ops must leave the queries under them alone.
  const hold = Array.isArray(plan?.hold) && plan.hold.length > 0 ? plan.hold : null
  const groups = { active: new Set(), inactive: new Set(), all: new Set(), none: new Set() }
  const refetchOnly = new Set()
  const restart = []

  try {
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
  } finally {
    matcher.release()
    spareMatchers.push(matcher)
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

// A plan given as objects (INTERFACES.md shape: tests, replays, the benchmark's baseline plans) read
// into the decoder's form: a KeyTable of its own, one key per distinct hash, flags per op. Each
// key's primitive run is read off its queryKey by isPrimitive, the rule a query's own key is read
// by (a key of ours carries the run the core read off its hash, plan.rs KeyRun).
function opsOf(plan) {
  const t = new KeyTable()
  const byHash = new Map()
  const keyOf = (op) => {
    const hash = opHash(op)
    let k = byHash.get(hash)
    if (k === undefined) {
      byHash.set(hash, (k = byHash.size + 1))
      const queryKey = op.queryKey !== undefined ? op.queryKey : JSON.parse(hash)
      let run = -1
      let runEnd = 0
      if (Array.isArray(queryKey) && hash.charCodeAt(0) === 91) {
        const n = primitiveRun(queryKey, Infinity)
        elementEnds(hash, n, runEnds)
        if (runEnds.length === n) {
          run = n | (n === queryKey.length ? 1 << 30 : 0)
          runEnd = n === 0 ? 1 : runEnds[n - 1]
        }
      }
      t.put(k, t.text1(hash), 0, hash.length, fnv(hash), run, runEnd, Math.imul(fnv(hash.slice(0, runEnd)) ^ CLOSE, FNV_PRIME))
      t.parsed[k] = queryKey
    }
    return k
  }
  const list = (xs) => (Array.isArray(xs) ? xs : [])
  const invalidate = list(plan?.invalidate)
  const refetch = list(plan?.refetch)
  return {
    table: t,
    inv: invalidate.map(keyOf),
    invFlags: invalidate.map((op) => (op.exact ? EXACT_FLAG : 0) | ((RT_CODE[op.refetchType] ?? RT_CODE.active) << 1)),
    patchKeys: list(plan?.patch).map(keyOf),
    ref: refetch.map(keyOf),
    refFlags: refetch.map((op) => (op.exact ? EXACT_FLAG : 0)),
  }
}

const runEnds = []

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
 * Matches many plan keys against the cache in one pass. Keys are found by number (their FNV, see
 * `fnv`) in two open-addressed tables of typed arrays, then confirmed by comparing the text.
 * Exact keys are found by the query's own hash. A non-exact key can only prefix-match a query
 * whose key starts with the same primitive elements (TanStack compares primitives with ===), so
 * non-exact keys are indexed by their leading primitive run (for a key of primitives only, the
 * whole key) and each query probes its own primitive prefixes (the hash up to an element end,
 * closed with `]`), only at the run lengths some key has, in the one pass over its hash that also
 * computes the numbers; keys that hold objects are then confirmed with partialMatchKey.
 */
class Matcher {
  constructor() {
    this.t = EMPTY_TABLE
    // Entries: the key's slot, its bits, the number and the length (UTF-16 units, without the
    // closing ] for a prefix) its text is found by.
    this.eSlot = new Int32Array(0)
    this.eBits = new Uint8Array(0)
    this.eHash = new Int32Array(0)
    this.eLen = new Int32Array(0)
    this.n = 0
    // The distinct run lengths of the non-exact keys: below 32 as bits, longer ones listed.
    this.lensLow = 0
    this.lensHigh = []
    this.maxLen = -1
    this.loose = []
    // Entries filed by number as they are added: exact keys by their hash's, the others by their
    // primitive run's.
    this.exactTab = new HashTable()
    this.prefixTab = new HashTable()
  }

  // Starts matching up to `most` keys of `t` (a matcher is reused, so V8 keeps its code optimized).
  reset(t, most) {
    this.t = t
    if (this.eSlot.length < most) {
      const cap = Math.max(most, 2 * this.eSlot.length)
      this.eSlot = new Int32Array(cap)
      this.eBits = new Uint8Array(cap)
      this.eHash = new Int32Array(cap)
      this.eLen = new Int32Array(cap)
    }
    this.n = 0
    this.lensLow = 0
    this.lensHigh.length = 0
    this.maxLen = -1
    this.loose.length = 0
    this.exactTab.reset(most)
    this.prefixTab.reset(most)
    return this
  }

  // Drops what the last plan left (the key table, big arrays), keeping the matcher.
  release() {
    this.t = EMPTY_TABLE
    if (this.eSlot.length > 4096) {
      this.eSlot = this.eHash = this.eLen = new Int32Array(0)
      this.eBits = new Uint8Array(0)
    }
    this.exactTab.release()
    this.prefixTab.release()
  }

  add(slot, isExact, bits) {
    const t = this.t
    if (isExact) {
      this.exactTab.insert(this.entry(slot, bits, t.hash[slot], t.len[slot]), t.hash[slot])
      return
    }
    const run = t.run[slot]
    if (run === LOOSE) { // not an array key: matched the slow way
      this.loose.push(slot, bits)
      return
    }
    if (run < 32) this.lensLow |= 1 << run
    else if (!this.lensHigh.includes(run)) this.lensHigh.push(run)
    if (run > this.maxLen) this.maxLen = run
    if (t.kind[slot] & PRIM) this.prefixTab.insert(this.entry(slot, bits, t.hash[slot], t.len[slot] - 1), t.hash[slot])
    else this.prefixTab.insert(this.entry(slot, bits, t.runHash[slot], t.runEnd[slot]), t.runHash[slot])
  }

  entry(slot, bits, hash, len) {
    const e = this.n++
    this.eSlot[e] = slot
    this.eBits[e] = bits
    this.eHash[e] = hash
    this.eLen[e] = len
    return e
  }

  match(query) {
    let bits = 0
    const queryKey = query.queryKey
    // The plan's hashes are always the default hashKey; a query whose client or options hash keys
    // their own way (queryKeyHashFn) is read by the default one. TanStack compares exact filters
    // through the query's own hash function.
    const custom = typeof query.options?.queryKeyHashFn === 'function'
    const probes = this.maxLen >= 0 && Array.isArray(queryKey) ? primitiveRun(queryKey, this.maxLen) : -1
    const whole = this.exactTab.size > 0
    if (probes >= 0 || whole) {
      // One pass over the hash: its number, and at each element end of the primitive prefix
      // whose length some key has, the number of the prefix closed with ].
      const hash = custom ? hashKey(queryKey) : query.queryHash
      const end = hash.length
      const lensLow = this.lensLow
      let h = end > 0 ? Math.imul(FNV_OFFSET ^ hash.charCodeAt(0), FNV_PRIME) : FNV_OFFSET
      let elements = 0
      let depth = 0
      if (probes >= 0 && (lensLow & 1) !== 0) bits = this.probe(this.prefixTab, Math.imul(h ^ CLOSE, FNV_PRIME), 1, hash, queryKey, bits)
      for (let i = 1; i < end; i++) {
        let c = hash.charCodeAt(i)
        if (c === 34) { // a string: up to its closing quote
          h = Math.imul(h ^ c, FNV_PRIME)
          for (i++; i < end; i++) {
            c = hash.charCodeAt(i)
            h = Math.imul(h ^ c, FNV_PRIME)
            if (c === 92 && i + 1 < end) h = Math.imul(h ^ hash.charCodeAt(++i), FNV_PRIME)
            else if (c === 34) break
          }
          continue
        }
        if (depth === 0 && (c === 44 || (c === CLOSE && i > 1))) {
          elements++
          if (elements <= probes && (elements < 32 ? (lensLow & (1 << elements)) !== 0 : this.lensHigh.includes(elements))) {
            bits = this.probe(this.prefixTab, Math.imul(h ^ CLOSE, FNV_PRIME), i, hash, queryKey, bits)
          } else if (elements >= probes && !whole) break
        }
        if (c === 91 || c === 123) depth++
        else if (c === CLOSE || c === 125) depth--
        h = Math.imul(h ^ c, FNV_PRIME)
      }
      if (whole) bits = this.probe(this.exactTab, h, end, hash, null, bits)
    }
    const loose = this.loose
    for (let i = 0; i < loose.length; i += 2) {
      if ((bits | loose[i + 1]) !== bits && partialMatchKey(queryKey, this.t.queryKey(loose[i]))) bits |= loose[i + 1]
    }
    return bits
  }

  // The entries filed under `h` whose text is `text`'s first `len` units. For a prefix entry the
  // query's key then starts with the key's primitive run: a key of primitives only matches, one
  // that holds objects matches when partialMatchKey says so (queryKey null: an exact probe).
  probe(tab, h, len, text, queryKey, bits) {
    if (tab.size === 0) return bits
    const slots = tab.slots
    const mask = tab.mask
    const { eHash, eLen, eBits, t } = this
    for (let i = Math.imul(h, 0x9e3779b1) >>> tab.shift, e = slots[i]; e !== 0; i = (i + 1) & mask, e = slots[i]) {
      const x = e - 1
      if (eHash[x] !== h || eLen[x] !== len || (bits | eBits[x]) === bits) continue
      const slot = this.eSlot[x]
      if (!t.startsLike(slot, text, len)) continue
      if (queryKey === null || (t.kind[slot] & PRIM) !== 0 || partialMatchKey(queryKey, t.queryKey(slot))) bits |= eBits[x]
    }
    return bits
  }
}

// An open-addressed table of entry numbers (+1; 0 is empty) by their hash, for up to the `most`
// entries reset() makes room for.
class HashTable {
  constructor() {
    this.slots = new Int32Array(8)
    this.mask = 7
    this.shift = 29
    this.size = 0
  }

  reset(most) {
    let bits = 3
    while (1 << bits < most * 2) bits++
    if (this.slots.length === 1 << bits) {
      if (this.size > 0) this.slots.fill(0)
    } else this.slots = new Int32Array(1 << bits)
    this.mask = (1 << bits) - 1
    this.shift = 32 - bits
    this.size = 0
  }

  insert(e, h) {
    const slots = this.slots
    const mask = this.mask
    let i = Math.imul(h, 0x9e3779b1) >>> this.shift
    while (slots[i] !== 0) i = (i + 1) & mask
    slots[i] = e + 1
    this.size++
  }

  // Drops a big table (what the last plan left), keeping the object.
  release() {
    if (this.slots.length > 8192) {
      this.slots = new Int32Array(8)
      this.mask = 7
      this.shift = 29
      this.size = 0
    }
  }
}
const EMPTY_TABLE = new KeyTable()
// Matchers not in use: applyPlan takes one (a nested applyPlan, from user code a patch runs, takes
// another) and gives it back.
const spareMatchers = []

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
