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
