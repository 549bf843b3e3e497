// The package requires WebAssembly SIMD (README "Browser support"): the shipped module is built with
// simd128 (scripts/build.sh) and js/loadWasm.js refuses, with an error that names it, an engine that
// lacks it. No engine without SIMD runs here (Node and Chromium have it on), so the second test takes
// it away by making WebAssembly.validate answer as such an engine does: false for SIMD code. Node
// --test runs each file in a process of its own, so nothing else sees the replaced function.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import binaryen from 'binaryen'
import { createRealtime } from '../../js/index.js'
import { makeClient } from './helpers.mjs'

const wasm = await readFile(new URL('../../pkg/querywire_bg.wasm', import.meta.url))

test('the shipped module validates here, and not for an engine without SIMD (binaryen, all features but SIMD)', () => {
  assert.equal(WebAssembly.validate(wasm), true)
  const m = binaryen.readBinary(wasm)
  try {
    m.setFeatures(binaryen.Features.All & ~binaryen.Features.SIMD128)
    // binaryen prints each invalid instruction: keep the log short.
    const [out, err] = [process.stdout.write, process.stderr.write]
    process.stdout.write = process.stderr.write = () => true
    let valid
    try {
      valid = m.validate()
    } finally {
      [process.stdout.write, process.stderr.write] = [out, err]
    }
    assert.equal(valid, 0, 'pkg/querywire_bg.wasm holds no SIMD code: built without -Ctarget-feature=+simd128?')
  } finally {
    m.dispose()
  }
})

test('without WebAssembly SIMD, createRealtime rejects with an error naming it', async () => {
  const validate = WebAssembly.validate
  // An engine without SIMD: every module with a 0xfd-prefixed instruction in its code is invalid.
  WebAssembly.validate = (bytes) => !new Uint8Array(bytes).includes(0xfd) && validate(bytes)
  try {
    await assert.rejects(createRealtime({ queryClient: makeClient() }), (e) => e instanceof Error && /WebAssembly SIMD/.test(e.message))
  } finally {
    WebAssembly.validate = validate
  }
  // A later call with SIMD back loads (a failed load is not cached).
  const rt = await createRealtime({ queryClient: makeClient() })
  assert.equal(typeof rt.ingestText, 'function')
  rt.dispose()
})
