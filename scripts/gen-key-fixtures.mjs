// Regenerates tests/fixtures/keys.json from the real @tanstack/query-core: the hashes and prefix
// matches that both the Rust core (crates/core/tests/keys_tanstack.rs) and the JS tests check.
// Usage: node scripts/gen-key-fixtures.mjs   (needs node_modules with @tanstack/query-core)
import { hashKey, partialMatchKey } from '@tanstack/query-core'
import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const version = createRequire(import.meta.url)('@tanstack/query-core/package.json').version
const keys = [
  [], ['todos'], ['doc', 'wo', '12'], ['doc', 'wo', 12], ['list', 'wo', 'f1', { page: 1 }],
  ['list', 'wo', 'f1', { page: 1, size: 20 }], ['list', 'wo', 'f1', { size: 20, page: 1 }],
  ['x', { b: 1, a: 2, c: { z: 1, y: [3, { k: 1, j: 2 }] } }], ['n', 1.5, -0, 0.1, 1e21, 1e16, 1e-7, 123e-20, 2 ** 53, -1],
  ['s', 'quote"back\\slash', 'nl\nt\tcr\r', '\u0001\u001f\u007f', 'é€😀', '\u2028'],
  ['k', { 10: 'a', 2: 'b', a: 1, B: 2, _: 3, '01': 4, '-1': 5, '4294967295': 6, '4294967294': 7 }],
  ['k', { 'é': 1, 'z': 2, '😀': 3, '\uffff': 4 }], [null, true, false], [[1, [2, [3]]], {}], ['user', { id: '1' }, 'posts'],
  ['unified-generations', 'project', 'p1', 1, 50, null, true],
]
const filters = [[], ['list'], ['list', 'wo'], ['list', 'wo', 'f1'], ['list', 'wo', 'f1', { page: 1 }],
  ['list', 'wo', 'f1', { page: 1, size: 20 }], ['doc', 'wo', '12'], ['doc', 'wo', 12], ['x', { c: { y: [3] } }],
  ['k', { 2: 'b' }], ['user', {}], [null], ['todos']]
const cases = keys.map((key) => ({
  key,
  hash: hashKey(key),
  matches: filters.map((f) => partialMatchKey(key, f)),
}))
writeFileSync(new URL('../tests/fixtures/keys.json', import.meta.url),
  JSON.stringify({ generatedBy: `@tanstack/query-core ${version}`, filters, cases }, null, 1) + '\n')
console.log(`wrote ${cases.length} keys x ${filters.length} filters from @tanstack/query-core ${version}`)
