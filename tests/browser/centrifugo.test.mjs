// connectCentrifuge with the REAL centrifuge-js 5.x in Debian's Chromium (playwright-core), against
// the demo server's Centrifugo endpoint: the scenarios of centrifugoScenarios.mjs (also run in Node
// by examples/server/test/centrifugo.test.mjs), each in a fresh page with a real QueryClient and
// the browser's own WebSocket. The page kills and restarts the server through qwcControl.
import { test, before, after } from 'node:test'
import { launchBrowser, staticServer, pageLogs } from './harness.mjs'
import { scenarios } from './centrifugoScenarios.mjs'
import { ensureServerBinary, startCentrifugoServer } from './centrifugoServer.mjs'

let browser
let statics
before(async () => {
  ensureServerBinary()
  statics = await staticServer()
  browser = await launchBrowser()
})
after(async () => {
  await browser?.close()
  await statics?.close()
})

for (const s of scenarios) {
  test(`chromium: ${s.name}`, async () => {
    const { server, srv, cleanup } = await startCentrifugoServer(s.env)
    const context = await browser.newContext()
    try {
      const page = await context.newPage()
      const logs = pageLogs(page)
      await page.exposeFunction('qwcControl', async (op) => {
        if (op === 'kill') await server.kill()
        else if (op === 'start') await server.start()
        else throw new Error(`unknown op ${op}`)
      })
      await page.goto(`${statics.url}/tests/browser/centrifugo.html`)
      await page.waitForFunction(() => window.qwcReady === true)
      try {
        const summary = await page.evaluate(([name, base]) => window.qwc.run(name, base), [s.name, srv.base])
        console.log(`# ${JSON.stringify(summary)}`)
      } catch (e) {
        throw new Error(`${e.message}\npage log:\n${logs.join('\n')}`)
      }
    } finally {
      await context.close()
      await cleanup()
    }
  })
}
