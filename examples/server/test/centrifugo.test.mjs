// The demo server's Centrifugo-compatible endpoint (/connection/websocket), driven by the REAL
// `centrifuge` npm client 5.x through querywire's connectCentrifuge, each scenario with a real
// @tanstack/query-core QueryClient whose queryFns fetch from the server (which counts them).
// The scenarios live in tests/browser/centrifugoScenarios.mjs; tests/browser/centrifugo.test.mjs
// runs the same ones in Chromium. Run from the repo root: node --test examples/server/test/
// The server binary: QW_E2E_SERVER_BIN, else the release or debug build (built with cargo when
// neither exists). Each scenario gets its own server and database: a SQLite file (a kill/restart
// keeps it), or a fresh PostgreSQL database when DATABASE_URL is set.
import { test } from 'node:test'
import WebSocket from 'ws'
import { scenarios, runScenario } from '../../../tests/browser/centrifugoScenarios.mjs'
import { ensureServerBinary, startCentrifugoServer } from '../../../tests/browser/centrifugoServer.mjs'

ensureServerBinary()

for (const s of scenarios) {
  test(s.name, async () => {
    const { srv, cleanup } = await startCentrifugoServer(s.env)
    try {
      const summary = await runScenario(s.name, { srv, websocket: WebSocket })
      console.log(`# ${JSON.stringify(summary)}`)
    } finally {
      await cleanup()
    }
  })
}
