// Loads the WebAssembly module once per page or process. Browsers and bundlers fetch the .wasm
// beside this file (Vite and webpack turn `new URL(..., import.meta.url)` into an asset); Node reads
// it from disk, since Node's fetch cannot load file: URLs. Nothing here touches window or document.
let ready

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined'

export function loadWasm() {
  ready ??= (async () => {
    const mod = await import('../pkg/querywire.js')
    const url = new URL('../pkg/querywire_bg.wasm', import.meta.url)
    let exports
    if (isNode) {
      // A variable specifier keeps browser bundlers from trying to bundle node:fs.
      const fsName = 'node:fs/promises'
      const { readFile } = await import(/* @vite-ignore */ fsName)
      exports = await mod.default({ module_or_path: await readFile(url) })
    } else {
      exports = await mod.default({ module_or_path: url })
    }
    // The module's memory goes with it: payload text is written straight into it (createRealtime.js).
    return { ...mod, memory: exports.memory }
  })()
  ready.catch(() => { ready = undefined }) // a failed load may be retried
  return ready
}
