// Writes tests/fixtures/json_verdicts.json: texts and whether V8's JSON.parse accepts them, the
// oracle for the core's scanner (crates/core/src/scan.rs; checked by crates/core/tests/scan_differential.rs).
// Hand-picked edge cases plus seeded single-byte mutations of a few payload-like documents.
//   node scripts/gen-json-verdicts.mjs
import { writeFileSync } from 'node:fs'

const hand = [
  '0', '-0', '1e400', '-1e400', '1E+2', '1e-2', '0.5', '01', '1.', '.5', '-', '+1', '1e', '1e+', '0x10', 'NaN', 'Infinity',
  '"\\ud800"', '"\\udc00x"', '"\\ud83d\\ude00"', '"\\u00"', '"\\u00zz"', '"\\x41"', '"\\/"', '"\t"', '"\u007f"', '"é"',
  '[]', '[1,]', '[,1]', '{}', '{"a":1,}', '{,}', '{"a"}', '{"a" 1}', '{1:2}', '{"a":1 "b":2}', 'true', 'tru', 'nul', 'null x',
  ' \n\t\r[ 1 , 2 ]\r\n', '\u00a0[]', '\ufeff[]', '[1 2]', '[[[]]]', '{"a":{"b":{"c":[{}]}}}', '"', '"abc', '[', '{', '',
  '{"a":1}{"b":2}', '{"__proto__":1}', '[-]', '[1e5]', '[1.5e-10]', '[-0.0]', '[00]', '[-01]', '"\\u0000"', '"\\"',
]

let seed = 7
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32)
const docs = [
  { schema: 'public', table: 'work_orders', commit_timestamp: '2026-01-01T00:00:00Z', eventType: 'UPDATE',
    new: { id: 5, factory_id: 'f1', status: 'done', qty: -2.5e3, note: 'a "q" \\ \u00e9', tags: [true, false, null] },
    old: { id: 5 }, errors: null },
  { channel: 'doc:wo:1', seq: 3, payload: { type: 'realtime', entity: 'wo', action: 'update', data: { id: 1 }, id: 'chg-1' } },
  { queryKey: ['list', 'wo', { page: 1 }], exact: false, refetchType: 'all' },
]
const alphabet = ['{', '}', '[', ']', ',', ':', '"', '\\', 'u', '0', '1', '-', '.', 'e', ' ', 'n', 't', 'x', '\n']
const out = hand.map((text) => ({ text, ok: accepts(text) }))
for (const d of docs) {
  for (const base of [JSON.stringify(d), JSON.stringify(d, null, 2)]) {
    out.push({ text: base, ok: true })
    for (let k = 0; k < 700; k++) {
      const at = Math.floor(rand() * base.length)
      const r = rand()
      const ch = alphabet[Math.floor(rand() * alphabet.length)]
      const text = r < 0.33 ? base.slice(0, at) + base.slice(at + 1)
        : r < 0.66 ? base.slice(0, at) + ch + base.slice(at)
        : base.slice(0, at) + ch + base.slice(at + 1)
      out.push({ text, ok: accepts(text) })
    }
  }
}
function accepts(text) {
  try { JSON.parse(text); return true } catch { return false }
}
writeFileSync(new URL('../tests/fixtures/json_verdicts.json', import.meta.url), JSON.stringify(out, null, 0) + '\n')
console.log(`${out.length} texts, ${out.filter((o) => o.ok).length} accepted by JSON.parse`)
