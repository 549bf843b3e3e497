// Seed 001 / issue 5: a detail view updates after a server-side update without a page reload
// (WebSocket, SSE, the real supabase-js and the real centrifuge-js client), and a view that was left
// handles no more events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useDemo,
  closePage, listRows, openApp, sleep, text, waitDetailEqualsDb, waitFor,
} from './harness.mjs';

let server;
let browser;
useDemo({}, (s, b) => { server = s; browser = b; });

for (const source of ['ws', 'sse', 'supabase', 'centrifugo']) {
  test(`detail view updates after a server-side PATCH without reload (source=${source}, ${process.env.DATABASE_URL ? 'postgres' : 'sqlite'})`, async () => {
    const row = await server.create({ factory_id: 'f1', title: `Detail via ${source}`, qty: 3 });
    const page = await openApp(browser, server, { params: { source }, hash: `#/work-orders/${row.id}` });
    try {
      await waitFor(async () => (await text(page, 'detail-title')) === row.title, { message: 'the detail to load' });
      await page.evaluate(() => { window.__noReload = 'still here'; });
      await sleep(1000); // initial fetches done, channels subscribed on the server
      await server.resetStats();

      const updated = await server.update(row.id, { title: `${row.title} (edited)`, status: 'in_progress' });
      assert.equal(updated.version, row.version + 1);
      await waitFor(async () => (await text(page, 'detail-title')) === updated.title, {
        timeout: 5000, message: 'the detail title to follow the PATCH',
      });
      assert.equal(await text(page, 'detail-version'), String(updated.version));
      assert.equal(await text(page, 'detail-status'), 'in progress');
      assert.equal(await page.evaluate(() => window.__noReload), 'still here', 'the page did not reload');

      // The list row shows the same values (its doc was patched in the cache).
      await waitFor(async () => (await listRows(page)).find((r) => r.id === row.id)?.title === updated.title, {
        timeout: 3000, message: 'the list row to follow',
      });

      await sleep(1000); // anything the event caused has landed
      const req = await server.requests();
      assert.ok((req['GET /api/work_orders/:id'] ?? 0) <= 1, `one doc refetch at most, got ${JSON.stringify(req)}`);
      assert.equal(req['GET /api/work_orders'] ?? 0, 0, `an update refetches no list, got ${JSON.stringify(req)}`);
      await waitDetailEqualsDb(page, server, row.id);
      assert.deepEqual(page.pageErrors, [], 'no uncaught exception in the app');
      const errors = await page.evaluate(() => window.__querywireDemo.errors.map((e) => `${e.code}: ${e.message}`));
      assert.deepEqual(errors, [], 'querywire reported no error (onError)');
      assert.equal(await page.evaluate(() => window.__querywireDemo.rt.stats().dropped.invalid), 0, 'no frame was invalid');
    } finally {
      await closePage(page);
    }
  });
}

test('after leaving a view, its events are no longer handled', async () => {
  // The record is on page 2 once ten newer ones exist: after its detail closes, nothing on screen shows it.
  const row = await server.create({ factory_id: 'f1', title: 'Leave me', qty: 1 });
  for (let i = 0; i < 10; i++) await server.create({ factory_id: 'f1', title: `Newer ${i}`, qty: 1 });
  const page = await openApp(browser, server, { params: { source: 'ws' }, hash: `#/work-orders/${row.id}` });
  try {
    await waitFor(async () => (await text(page, 'detail-title')) === row.title, { message: 'the detail to load' });
    await sleep(500);

    // Leave the detail view (the list, page 1, stays open): no request for that doc any more.
    await page.click('[data-testid="detail-close"]');
    await waitFor(async () => !(await page.$('[data-testid="detail"]')), { message: 'the detail pane to close' });
    await sleep(500);
    await server.resetStats();
    await server.update(row.id, { title: 'Changed while away (1)' });
    await server.update(row.id, { status: 'approved' });
    await sleep(1500);
    let req = await server.requests();
    assert.equal(req['GET /api/work_orders/:id'] ?? 0, 0, `no doc request after leaving it: ${JSON.stringify(req)}`);

    // Leave every view (About opens none): no event reaches the engine at all.
    await page.click('[data-testid="nav-about"]');
    await page.waitForSelector('[data-testid="about"]');
    await sleep(1000);
    const before = (await page.evaluate(() => window.__querywireDemo.rt.stats().received));
    await server.update(row.id, { title: 'Changed while away (2)' });
    await server.create({ factory_id: 'f1', title: 'Created while away', qty: 1 });
    await sleep(1500);
    const afterCount = (await page.evaluate(() => window.__querywireDemo.rt.stats().received));
    assert.equal(afterCount, before, 'no channel is open, so no event arrives');
    req = await server.requests();
    assert.equal(req['GET /api/work_orders/:id'] ?? 0, 0, `${JSON.stringify(req)}`);
    assert.equal(req['GET /api/work_orders'] ?? 0, 0, `${JSON.stringify(req)}`);

    // Coming back shows the database's state.
    await page.evaluate((id) => { location.hash = `#/work-orders/${id}`; }, row.id);
    await waitDetailEqualsDb(page, server, row.id);
  } finally {
    await closePage(page);
  }
});

test('edit, approve and delete from the detail pane', async () => {
  const row = await server.create({ factory_id: 'f1', title: 'Edit me', qty: 5 });
  const page = await openApp(browser, server, { params: { source: 'ws' }, hash: `#/work-orders/${row.id}` });
  try {
    await waitFor(async () => (await text(page, 'detail-title')) === row.title, { message: 'the detail to load' });
    await page.click('[data-testid="detail-edit"]');
    await page.fill('[data-testid="edit-title"]', 'Edited in the page');
    await page.fill('[data-testid="edit-qty"]', '7');
    await page.click('[data-testid="edit-save"]');
    await waitFor(async () => (await text(page, 'detail-title')) === 'Edited in the page', { message: 'the edit' });
    let db = await server.get(row.id);
    assert.equal(db.title, 'Edited in the page');
    assert.equal(db.qty, 7);

    await page.click('[data-testid="detail-approve"]');
    await waitFor(async () => (await text(page, 'detail-status')) === 'approved', { message: 'the approval' });
    db = await server.get(row.id);
    assert.equal(db.status, 'approved');
    await waitDetailEqualsDb(page, server, row.id);
    await waitFor(async () => (await listRows(page)).find((r) => r.id === row.id)?.status === 'approved', {
      message: 'the list row to follow',
    });

    await page.click('[data-testid="detail-delete"]');
    await page.click('[data-testid="detail-delete-confirm"]');
    await waitFor(async () => !(await page.$('[data-testid="detail"]')), { message: 'the detail pane to close' });
    await waitFor(async () => !(await listRows(page)).some((r) => r.id === row.id), { message: 'the row to leave the list' });
    await assert.rejects(server.get(row.id), (e) => e.status === 404);
  } finally {
    await closePage(page);
  }
});
