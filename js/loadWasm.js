// Loads the WebAssembly module once per page or process. The module's bytes are part of the JS
// (pkg/querywire_wasm.js, which scripts/build-js.mjs writes from the .wasm; in the built package,
// inside dist/index.js): no second request, no file to serve with the right MIME type, no bundler
// asset, no fs in Node. They are compiled with WebAssembly.compile (CSP: 'wasm-unsafe-eval', as any
// wasm needs) and instantiated by the glue. Nothing here touches window, document or the file system.
//
// The glue is a static import: it arrives with the module graph (one file with the shim in the built
// package, dist/), not in a round trip of its own after createRealtime is called.
import { initSync, WasmRealtime } from '../pkg/querywire.js'
import { wasmBytes, textCopy } from '../pkg/querywire_wasm.js'

let ready

// The module uses WebAssembly SIMD (README "Browser support"): the smallest module with a v128
// instruction, validated only when the module fails to compile, so that an engine without SIMD gets
// an error that says so, not a CompileError (a validation cost 0.6-1.3 ms in a fresh page,
// bench/initprofile.mjs: not paid where the module compiles).
const SIMD = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11])
const noSimd = () => new Error('querywire needs WebAssembly SIMD (Chrome 91, Firefox 89, Safari 16.4 or later), which this browser or runtime lacks')
// async: a synchronous throw of the decoder (a CSP without 'wasm-unsafe-eval' refuses its module too)
// becomes a rejection, so importing the package never throws
const compile = async () => WebAssembly.compile(wasmBytes())

// The compile starts when this module is evaluated (off the main thread), so it overlaps with
// whatever the page does before it calls createRealtime and with the rest of this module's
// evaluation. Marked pure: a bundler drops it, with loadWasm and the bytes, from an app that never
// creates an engine. A failure here is loadWasm's to report.
// ('early-start': scripts/build-js.mjs puts the annotation back after minifying, which drops it.)
let early = /* @__PURE__ */ startEarly('early-start')
function startEarly() {
  if (typeof WebAssembly !== 'object') return undefined // loadWasm says so when called
  const p = compile()
  p.catch(() => {})
  return p
}

export function loadWasm() {
  ready ??= (async () => {
    if (typeof WebAssembly !== 'object') throw noSimd()
    let module
    try {
      module = await (early ?? compile())
    } catch (e) {
      throw WebAssembly.validate(SIMD) ? e : noSimd()
    } finally {
      early = undefined // a retry compiles again
    }
    const exports = initSync({ module })
    commands(WasmRealtime.prototype)
    // The module's memory goes with it: payload text is written straight into it (createRealtime.js,
    // replay.js), by writeText.
    return { WasmRealtime, memory: exports.memory, writeText: textWriter(exports.memory) }
  })()
  ready.catch(() => { ready = undefined }) // a failed load may be retried
  return ready
}

// `writeText(text, at)`: writes `text` as UTF-8 into wasm memory from byte `at` on (room for
// `3 * text.length` bytes is the caller's), returns the byte count; `writeText.builtin` tells which
// copy it is. The leading ASCII goes by the text module's `c` (scripts/build-js.mjs TEXT: the JS String
// Builtins, two to eight times faster than encodeInto or a charCodeAt loop on a payload in Chromium),
// the rest, and all of it where the builtins or Wasm GC are missing (Node 20 and 22, engines without
// them; the module then fails to compile or to link), by TextEncoder.encodeInto. Both write what
// TextEncoder writes, a lone surrogate as U+FFFD.
function textWriter(memory) {
  const encoder = new TextEncoder()
  let u8 = null
  // the memory's bytes; growth detaches the old buffer (byteLength 0) and a new view follows
  const bytes = () => (u8 === null || u8.byteLength === 0 ? (u8 = new Uint8Array(memory.buffer)) : u8)
  let copy
  try {
    copy = textCopy(memory)
  } catch {
    copy = undefined
  }
  const write = copy
    ? (text, at) => {
        const k = copy(text, at)
        return k === text.length ? k : k + encoder.encodeInto(text.slice(k), bytes().subarray(at + k)).written
      }
    : (text, at) => encoder.encodeInto(text, bytes().subarray(at)).written
  write.builtin = copy !== undefined
  return write
}

// The engine's rarer calls cross as one export, `command(text)`: `[op, ...args]` as JSON, `op` the
// index of the call's name here (src/engine.rs `command`, docs/INTERFACES.md). Each name is a method
// of the engine again, so the shim, replayTrace and the tests call them as before; the one export
// takes the place of twenty-eight shims in the wasm and as many wrappers in the glue (docs/SIZE.md). Run
// when the module loads, not at import: a bundler still drops the engine from an app that never
// creates one.
const COMMANDS = ['online', 'recordInvalid', 'mutationStarted', 'mutationSettled', 'subscribe', 'unsubscribe',
  'attachConnector', 'detachConnector', 'channelFact', 'clientState', 'transportEvent', 'disconnect',
  'shareRole', 'shareChannels', 'shareForget', 'shareConnector', 'sharePosition', 'shareStatus', 'shareRecover', 'shareMerge',
  'dispose', 'status', 'channels', 'stats', 'shareState', 'columns', 'inputBuffer', 'slotBuffer']
function commands(proto) {
  COMMANDS.forEach((name, op) => {
    proto[name] = name === 'subscribe'
      ? function (view) { return this.command(JSON.stringify([op, viewArg(view)])) }
      : function (...args) { return this.command(JSON.stringify([op, ...args])) }
  })
}
// A view crosses as the three members the core reads, each a JSON value: one that JSON cannot hold
// (a BigInt, an object with a cycle) is null there, so a malformed view is the core's coded error,
// never JSON.stringify's TypeError, and members the core does not read are not stringified.
const viewArg = (v) => (v !== null && typeof v === 'object' ? { kind: plain(v.kind), type: plain(v.type), id: plain(v.id) } : plain(v))
const plain = (x) => (x === undefined || typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean' ? x : null)

// The engine's one timeout (the `timer` handler of `engine.setHandlers`, src/driver.rs): the core
// decides every deadline and the glue hands over how long to wait; this only waits, then calls the
// engine's `timeout` export. `ms < 0` clears it. The global setTimeout is read at each call, so a
// virtual clock installed around the engine (replayTrace's) is the one used.
export function engineTimer(engine) {
  let t
  return (ms) => {
    clearTimeout(t)
    t = ms < 0 ? undefined : setTimeout(() => { t = undefined; engine.timeout() }, ms)
  }
}
