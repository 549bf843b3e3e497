// The text module on the JS String Builtins in Chromium (scripts/build-js.mjs TEXT): it decodes the
// wasm's bytes exactly, and it copies payload text into wasm memory (js/loadWasm.js writeText): the copy
// (scripts/build-js.mjs TEXT `c`) is the one in use, it writes exactly TextEncoder's bytes for every
// mix of ASCII, non-ASCII, surrogate pairs and lone surrogates, at every length around its
// eight-unit steps and its array's growth, and payloads with such text patch a real QueryClient's
// docs with the values JSON.parse reads. Node runs the other copy (encodeInto alone): tests/js.
// Needs: bash scripts/build.sh --no-setup (pkg/). Run: node --test tests/browser/text.test.mjs
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { browserAndStatics, pageLogs } from './harness.mjs'

const env = browserAndStatics()

async function open(t) {
  const page = await env.browser.newPage()
  const logs = pageLogs(page)
  t.after(() => page.close())
  await page.goto(`${env.statics.url}/tests/browser/text.html`)
  await page.waitForFunction(() => window.qwxReady === true, null, { timeout: 10000 }).catch((e) => {
    throw new Error(`${e.message}; page: ${logs.join(' | ')}`)
  })
  return page
}

// a seeded generator, so a failure names a text that fails again
function rng(seed) {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let x = Math.imul(s ^ (s >>> 15), 1 | s)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}
const WIDE = ['\u00e9', '\u0080', '\u07ff', '\u0800', '\u263a', '\uffff', '\ud83d\ude00', '\ud800', '\udfff', '\u0000', '\u007f']

test('Chromium copies payload text by the js-string builtins', async (t) => {
  const page = await open(t)
  assert.equal(await page.evaluate(() => qwx.builtin), true, 'the text module compiled and linked (Chromium 130 or later has the builtins)')
})

test("the wasm's bytes, decoded from their string by the builtins, are the .wasm's", async (t) => {
  const page = await open(t)
  assert.equal(await page.evaluate(() => qwx.decoded()), -1)
})

test('writeText writes exactly what TextEncoder writes', async (t) => {
  const page = await open(t)
  const next = rng(7)
  const texts = []
  // every length 0..40 all ASCII, and with one wide unit at each position
  for (let n = 0; n <= 40; n++) {
    const ascii = Array.from({ length: n }, (_, i) => String.fromCharCode(0x20 + ((i * 7) % 95))).join('')
    texts.push(ascii)
    for (let p = 0; p < n; p++) texts.push(ascii.slice(0, p) + WIDE[(n + p) % WIDE.length] + ascii.slice(p + 1))
  }
  // random mixes, mostly ASCII, up to 700 units, and a few past the copier's first array (4096 units)
  for (let k = 0; k < 3000; k++) {
    const n = Math.floor(next() * (k % 100 === 0 ? 9000 : 700))
    let s = ''
    while (s.length < n) s += next() < 0.97 ? String.fromCharCode(0x20 + Math.floor(next() * 95)) : WIDE[Math.floor(next() * WIDE.length)]
    texts.push(s)
  }
  const wrong = await page.evaluate((ts) => qwx.compare(ts), texts)
  assert.deepEqual(wrong.map((i) => JSON.stringify(texts[i]).slice(0, 80)), [])
})

test('Supabase texts with non-ASCII values patch the docs with what JSON.parse reads', async (t) => {
  const page = await open(t)
  const base = (id) => ({ id, factory_id: 'f1', title: `wo ${id}`, status: 'open', version: 1 })
  const titles = ['na\u00efve caf\u00e9', '\u263a at the start', 'emoji \ud83d\ude00 in the middle of a long enough title', 'escaped \\u00e9 and \\ud83d\\ude00', 'ascii only']
  const rows = titles.map((_, i) => base(100 + i))
  const texts = titles.map((title, i) => JSON.stringify({
    schema: 'public', table: 'work_orders', commit_timestamp: '2026-12-02T10:00:00Z', eventType: 'UPDATE',
    new: { ...base(100 + i), title, status: '\u00e9tat \u2116' + i, version: 2 }, old: base(100 + i), errors: null,
  }))
  const out = await page.evaluate(([r, ts]) => qwx.patch(r, ts), [rows, texts])
  assert.deepEqual(out.errors, [])
  assert.equal(out.received, texts.length)
  assert.deepEqual(out.docs, texts.map((tx) => JSON.parse(tx).new))
})
