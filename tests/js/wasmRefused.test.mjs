// Where the page's Content Security Policy refuses WebAssembly (no 'wasm-unsafe-eval', README "Content
// Security Policy"), the engine cannot load, but importing the package still works (the keys need no
// wasm) and createRealtime rejects with the refusal, not with an exception at import. The refusal is
// made here as such a browser makes it: compiling any module throws, before the package is imported
// (its compile starts then). Node --test runs each file in a process of its own.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { makeClient } from './helpers.mjs'

test('a refused WebAssembly compile: the import works, createRealtime rejects with the refusal, a later call loads', async () => {
  const { Module, compile } = WebAssembly
  const refused = () => new WebAssembly.CompileError("Refused to compile or instantiate WebAssembly module because 'wasm-unsafe-eval' is not an allowed source")
  WebAssembly.Module = function () { throw refused() }
  WebAssembly.compile = async () => { throw refused() }
  let m
  try {
    m = await import('../../js/index.js')
    assert.deepEqual(m.docKey('work_orders', 7), ['doc', 'work_orders', '7'])
    await assert.rejects(m.createRealtime({ queryClient: makeClient() }), (e) => e instanceof WebAssembly.CompileError && /wasm-unsafe-eval/.test(e.message))
  } finally {
    Object.assign(WebAssembly, { Module, compile })
  }
  const rt = await m.createRealtime({ queryClient: makeClient() })
  assert.equal(typeof rt.ingestText, 'function')
  rt.dispose()
})
