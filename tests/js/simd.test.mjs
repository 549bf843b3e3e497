// The package requires WebAssembly SIMD (README "Browser support"): the shipped module is built with
// simd128 (scripts/build.sh) and js/loadWasm.js refuses, with an error that names it, an engine that
// lacks it. No engine without SIMD runs here (Node and Chromium have it on), so the second test takes
// it away by making WebAssembly.validate and WebAssembly.compile answer as such an engine does: false
// and a CompileError for SIMD code, before the package is imported (its compile starts then). Node
// --test runs each file in a process of its own, so nothing else sees the replaced functions.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import binaryen from 'binaryen'
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
  const { validate, compile } = WebAssembly
  // An engine without SIMD: every module with a 0xfd-prefixed instruction in its code is invalid.
  const simd = (bytes) => new Uint8Array(bytes).includes(0xfd)
  WebAssembly.validate = (bytes) => !simd(bytes) && validate(bytes)
  WebAssembly.compile = async (bytes) => { if (simd(bytes)) throw new WebAssembly.CompileError('invalid opcode 0xfd'); return compile(bytes) }
  let createRealtime
  try {
    ({ createRealtime } = await import('../../js/index.js'))
    await assert.rejects(createRealtime({ queryClient: makeClient() }), (e) => e instanceof Error && /WebAssembly SIMD/.test(e.message))
  } finally {
    Object.assign(WebAssembly, { validate, compile })
  }
  // A later call with SIMD back loads (a failed load is not cached).
  const rt = await createRealtime({ queryClient: makeClient() })
  assert.equal(typeof rt.ingestText, 'function')
  rt.dispose()
})
