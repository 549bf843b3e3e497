// Loads the WebAssembly module once per page or process. Browsers and bundlers fetch the .wasm
// beside this file (Vite and webpack turn `new URL(..., import.meta.url)` into an asset) and compile
// it while it downloads (`WebAssembly.instantiateStreaming`, in the glue, given the Response); Node
// reads it from disk, since Node's fetch cannot load file: URLs. Nothing here touches window or document.
//
// The glue is a static import: it arrives with the module graph (one file with the shim in the built
// package, dist/), not in a round trip of its own after createRealtime is called.
import init, { WasmRealtime } from '../pkg/querywire.js'

let ready

// The module uses WebAssembly SIMD (README "Browser support"): the smallest module with a v128
// instruction, so that an engine without SIMD gets an error that says so, not a CompileError.
const SIMD = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11])

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined'

// Browsers: the wasm's fetch and compile start when this module is evaluated, so they overlap with
// whatever the page does before it calls createRealtime (and with the rest of this module's
// evaluation). Marked pure: a bundler drops it with loadWasm from an app that never creates an engine.
// A failure here is not reported: loadWasm then loads by the URL (the glue's path and messages).
// ('early-start': scripts/build-js.mjs puts the annotation back after minifying, which drops it.)
let early = /* @__PURE__ */ startEarly('early-start')
function startEarly() {
  if (isNode || typeof fetch !== 'function' || typeof WebAssembly?.compileStreaming !== 'function') return undefined
  const p = WebAssembly.compileStreaming(fetch(new URL('../pkg/querywire_bg.wasm', import.meta.url)))
  p.catch(() => {})
  return p
}

export function loadWasm() {
  ready ??= (async () => {
    if (!WebAssembly.validate(SIMD)) throw new Error('querywire needs WebAssembly SIMD (Chrome 91, Firefox 89, Safari 16.4 or later), which this browser or runtime lacks')
    const url = new URL('../pkg/querywire_bg.wasm', import.meta.url)
    let exports
    if (isNode) {
      // node:fs/promises, asked for so that no bundler resolves it for a browser build: Vite
      // and webpack read a literal or a constant import() specifier (and a minifier drops their
      // ignore comments), but not a joined one. process.getBuiltinModule: Node 20.16 and later.
      const { readFile } = process.getBuiltinModule?.('node:fs/promises') ?? await import(['node:fs', 'promises'].join('/'))
      exports = await init({ module_or_path: await readFile(url) })
    } else {
      const module = await early?.catch(() => undefined)
      early = undefined
      exports = await init({ module_or_path: module ?? url })
    }
    commands(WasmRealtime.prototype)
    // The module's memory goes with it: payload text is written straight into it (createRealtime.js).
    return { WasmRealtime, memory: exports.memory }
  })()
  ready.catch(() => { ready = undefined }) // a failed load may be retried
  return ready
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
    proto[name] = function (...args) { return this.command(JSON.stringify([op, ...args])) }
  })
}

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
