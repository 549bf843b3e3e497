// Seed 001 / issue 5: with WebSockets blocked, polling keeps the UI fresh; and `enabled: false`
// (source=poll) polls the active views.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useDemo,
  closePage, openApp, sleep, text, waitDetailEqualsDb, waitFor, waitForStatus,
  waitListEqualsDb,
} from './harness.mjs';

let server;
let browser;
useDemo({ rows: 5 }, (s, b) => { server = s; browser = b; });

const POLL_TIMEOUT = 14_000; // 5 s interval ± 1 s jitter, with room

async function pollKeepsFresh(page, id) {
  await waitFor(async () => (await text(page, 'detail-title')) !== null, { message: 'the detail' });
  const updated = await server.update(id, { title: `Polled ${Date.now()}`, status: 'in_progress' });
  await waitFor(async () => (await text(page, 'detail-title')) === updated.title, {
    timeout: POLL_TIMEOUT, message: 'a poll to bring the update',
  });
  const created = await server.create({ factory_id: 'f1', title: `Polled new ${Date.now()}`, qty: 1 });
  await waitFor(async () => (await page.$(`[data-testid="wo-row"][data-id="${created.id}"]`)) !== null, {
    timeout: POLL_TIMEOUT, message: 'a poll to bring the new record',
  });
  await waitListEqualsDb(page, server, 'f1', 1);
  await waitDetailEqualsDb(page, server, id);

  // The polling rate: about one refetch per active view every 5 s.
  await server.resetStats();
  await sleep(11_000);
  const req = await server.requests();
  const list = req['GET /api/work_orders'] ?? 0;
  const doc = req['GET /api/work_orders/:id'] ?? 0;
  console.log(`# polling for 11 s: list GETs ${list}, doc GETs ${doc}`);
  assert.ok(list >= 1 && list <= 3, `list polled about every 5 s: ${list}`);
  assert.ok(doc >= 1 && doc <= 3, `doc polled about every 5 s: ${doc}`);
}

test('WebSockets blocked: the page falls back to polling and stays fresh', async () => {
  await server.realtime({ ws: false });
  const { items } = await server.list('f1', 1);
  const page = await openApp(browser, server, {
    params: { source: 'ws', backoffMaxAttempts: 1, backoffInitialMs: 200, backoffMaxMs: 3000 },
    hash: `#/work-orders/${items[0].id}`,
    waitStatus: null,
  });
  try {
    await waitForStatus(page, 'polling', 20_000);
    await pollKeepsFresh(page, items[0].id);

    // WebSockets allowed again: the transport comes back (about every backoff.maxMs) and polling stops.
    await server.realtime({ ws: true });
    await waitForStatus(page, 'connected', 20_000);
    await sleep(1000);
    const updated = await server.update(items[0].id, { title: `Live again ${Date.now()}` });
    await waitFor(async () => (await text(page, 'detail-title')) === updated.title, {
      timeout: 3000, message: 'a realtime update (not a poll)',
    });
  } finally {
    await server.realtime({ ws: true }).catch(() => {});
    await closePage(page);
  }
});

test('source=poll (enabled: false): active views are polled', async () => {
  const { items } = await server.list('f1', 1);
  const page = await openApp(browser, server, { params: { source: 'poll' }, hash: `#/work-orders/${items[1].id}`, waitStatus: 'polling' });
  try {
    await pollKeepsFresh(page, items[1].id);
  } finally {
    await closePage(page);
  }
});
