// Extracts every ```ts / ```tsx block of README.md and docs/API.md into tests/types/.examples/ (one
// module per block, with tests/types/examples-prelude.d.ts declaring the app functions the examples
// call), so `npm run test:types` type-checks the documentation exactly as written, in strict mode.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '../..')
const out = join(here, '.examples')
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })

let n = 0
for (const doc of ['README.md', 'docs/API.md']) {
  let text
  try { text = readFileSync(join(root, doc), 'utf8') } catch { continue }
  const re = /^```(ts|tsx)\n([\s\S]*?)^```/gm
  // README's quick start is what a newcomer copies first: it must be one of the checked blocks.
  if (doc === 'README.md' && !/^## Quick start[^\n]*\n+```tsx?\n/m.test(text)) {
    throw new Error('README.md: the "## Quick start" section must open with a ts/tsx block (type-checked here)')
  }
  for (const m of text.matchAll(re)) {
    const line = text.slice(0, m.index).split('\n').length
    const name = `${doc.replace(/[/.]/g, '_')}_${String(line).padStart(4, '0')}.tsx`
    // A module of its own (its declarations shadow the prelude's), with the block's source line.
    writeFileSync(join(out, name), `// ${doc}:${line}\n/// <reference path="../examples-prelude.d.ts" />\n${m[2]}\nexport {}\n`)
    n++
  }
}
if (n === 0) throw new Error('no ts/tsx examples found in README.md or docs/API.md')
console.log(`tests/types: ${n} documentation examples extracted`)
