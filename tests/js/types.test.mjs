// The declarations are part of the contract: a typed usage example must compile against the
// package's own `exports` map, and the .d.ts files themselves must be free of errors.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url))

function typeCheck(project) {
  return new Promise((resolve) => {
    execFile(process.execPath, [tsc, '--noEmit', '-p', project], { cwd: root, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? 1) : 0, output: `${stdout}${stderr}` })
    })
  })
}

test('the typed usage example compiles (tsc --noEmit -p tests/types)', async () => {
  const { code, output } = await typeCheck('tests/types')
  assert.equal(code, 0, output)
})

test('js/index.d.ts and js/react.d.ts have no errors of their own', async () => {
  const { code, output } = await typeCheck('tests/types/tsconfig.declarations.json')
  assert.equal(code, 0, output)
})

// Each entry's runtime exports are exactly the values its declaration file exports: nothing public
// is undeclared, nothing declared is missing (the package's own wiring is no export).
test('every entry exports exactly what its .d.ts declares', async () => {
  const { readFile } = await import('node:fs/promises')
  for (const entry of ['index', 'react', 'devtools', 'replay']) {
    const dts = await readFile(new URL(`../../js/${entry}.d.ts`, import.meta.url), 'utf8')
    const declared = new Set([...dts.matchAll(/^export (?:declare )?(?:async )?function (\w+)/gm)].map((m) => m[1]))
    for (const m of dts.matchAll(/^export \{([^}]*)\} from/gm)) {
      for (const part of m[1].split(',').map((p) => p.trim()).filter((p) => p && !p.startsWith('type '))) declared.add(part)
    }
    const actual = Object.keys(await import(`../../js/${entry}.js`)).sort()
    assert.deepEqual(actual, [...declared].sort(), `js/${entry}.js vs js/${entry}.d.ts`)
  }
})
