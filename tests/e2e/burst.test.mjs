// Seed 001 / issue 5: a burst of 100 updates in 1 s yields at most a few refetches per active query,
// and the final UI equals the database. Also drives the Burst lab page and screenshots it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useDemo,
  closePage, openApp, screenshot, sleep, text, waitDetailEqualsDb, waitFor,
  waitListEqualsDb,
} from './harness.mjs';

let server;
let browser;
useDemo({ rows: 14 }, (s, b) => { server = s; browser = b; });

const MAX_REFETCHES = 3; // "at most a few" per active query

test('100 updates in 1 s: a few refetches per active query at most, and the UI ends equal to the DB', async () => {
  const { items } = await server.list('f1', 1);
  const target = items[0];
  const page = await openApp(browser, server, { params: { source: 'ws' }, hash: `#/work-orders/${target.id}` });
  try {
    await waitFor(async () => (await text(page, 'detail-title')) === target.title, { message: 'the detail' });
    await sleep(1000);
    await server.resetStats();
    const receivedBefore = (await page.evaluate(() => window.__querywireDemo.rt.stats().received));

    page.apiRequests.length = 0;
    const t0 = Date.now();
    await server.api('POST', '/api/burst', { factory_id: 'f1', count: 100, ms: 1000, kind: 'update' });
    const burstMs = Date.now() - t0;
    await sleep(2000);

    const req = await server.requests();
    const list = req['GET /api/work_orders'] ?? 0;
    const doc = req['GET /api/work_orders/:id'] ?? 0;
    const received = (await page.evaluate(() => window.__querywireDemo.rt.stats().received)) - receivedBefore;
    // Per active query: the list page, and each doc on screen (the detail and the rows, which read docs).
    const perQuery = {};
    for (const r of page.apiRequests.filter((x) => x.method === 'GET')) {
      const k = r.path === '/api/work_orders' ? `list page ${r.page}` : r.path;
      perQuery[k] = (perQuery[k] ?? 0) + 1;
    }
    console.log(`# burst of 100 updates in ${burstMs} ms: ${received} events received; server: list GETs ${list}, doc GETs ${doc}; per query ${JSON.stringify(perQuery)}`);
    assert.ok(received >= 100, `the page received the burst (${received} events)`);
    assert.equal(list + doc, Object.values(perQuery).reduce((a, b) => a + b, 0), 'the server counted what the page sent');
    for (const [k, n] of Object.entries(perQuery)) assert.ok(n <= MAX_REFETCHES, `${k} refetched ${n} times`);
    assert.ok(list + doc < received / 2, `far fewer requests (${list + doc}) than events (${received})`);

    await waitListEqualsDb(page, server, 'f1', 1);
    await waitDetailEqualsDb(page, server, target.id);
  } finally {
    await closePage(page);
  }
});

test('20 DELETE+INSERT pairs: the list ends equal to the DB with a few list refetches', async () => {
  const page = await openApp(browser, server, { params: { source: 'ws' } });
  try {
    await waitListEqualsDb(page, server, 'f1', 1);
    await sleep(1000);
    await server.resetStats();
    await server.api('POST', '/api/burst', { factory_id: 'f1', count: 20, ms: 1000, kind: 'delete_insert' });
    await sleep(2000);
    const req = await server.requests();
    const list = req['GET /api/work_orders'] ?? 0;
    console.log(`# 20 DELETE+INSERT pairs: list GETs ${list}, doc GETs ${req['GET /api/work_orders/:id'] ?? 0}`);
    assert.ok(list <= MAX_REFETCHES, `list refetches: ${list}`);
    await waitListEqualsDb(page, server, 'f1', 1);
  } finally {
    await closePage(page);
  }
});

test('Burst lab page: counters follow a burst (and a screenshot)', async () => {
  const page = await openApp(browser, server, { params: { source: 'ws' }, hash: '#/burst' });
  try {
    await waitListEqualsDb(page, server, 'f1', 1);
    await sleep(1200);
    await page.click('[data-testid="counters-reset"]');
    await sleep(600);
    await page.click('[data-testid="burst-updates"]');
    await waitFor(async () => (await text(page, 'burst-state'))?.startsWith('last:'), { timeout: 10_000, message: 'the burst to finish' });
    await sleep(2000);
    const n = async (id) => Number(await text(page, id));
    const received = await n('counter-received');
    const flushes = await n('counter-flushes');
    const patches = await n('counter-patches');
    const refetches = await n('counter-refetches');
    const saved = await n('counter-saved');
    console.log(`# burst lab: received ${received} (duplicates ${await n('drop-duplicate')}), flushes ${flushes}, patches ${patches}, refetches ${refetches}, saved ${saved}`);
    assert.ok(received >= 100, `received ${received}`);
    assert.ok(flushes >= 1 && flushes < received, `flushes ${flushes} coalesce ${received} events`);
    assert.ok(refetches < received / 2, `refetches ${refetches} for ${received} events`);
    const duplicate = await n('drop-duplicate');
    assert.equal(saved, Math.max(0, received - duplicate - refetches));
    const serverRows = await page.$$eval('[data-testid="server-request"]', (rs) => rs.map((r) => r.dataset.route));
    assert.ok(serverRows.includes('POST /api/burst'), `server request table: ${serverRows}`);
    await waitListEqualsDb(page, server, 'f1', 1);
    await screenshot(page, 'burst-lab');
  } finally {
    await closePage(page);
  }
});
