// Seed 001 / issue 5: creating a record refetches the list's first page only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useDemo,
  closePage, listRows, openApp, screenshot, sleep, text, waitFor, waitListEqualsDb,
} from './harness.mjs';

let server;
let browser;
useDemo({ rows: 25 }, (s, b) => { server = s; browser = b; }); // three pages of 10

const listGets = (page) => page.apiRequests.filter((r) => r.method === 'GET' && r.path === '/api/work_orders');

test('creating a record refetches the first page of the list only', async () => {
  const page = await openApp(browser, server, { params: { source: 'ws' } });
  try {
    await waitListEqualsDb(page, server, 'f1', 1);
    // Visit page 2, then come back: both pages are in the cache, page 1 is shown.
    await page.click('[data-testid="page-btn-2"]');
    await waitListEqualsDb(page, server, 'f1', 2);
    await page.click('[data-testid="page-btn-1"]');
    await waitListEqualsDb(page, server, 'f1', 1);
    await sleep(1000);
    await server.resetStats();
    page.apiRequests.length = 0;

    await page.fill('[data-testid="create-title"]', 'Created from the page');
    await page.click('[data-testid="create-submit"]');
    const rows = await waitFor(async () => {
      const r = await listRows(page);
      return r[0]?.title === 'Created from the page' && r;
    }, { timeout: 5000, message: 'the new record at the top of page 1' });
    await sleep(1500);

    const req = await server.requests();
    assert.equal(req['POST /api/work_orders'], 1);
    assert.equal(req['GET /api/work_orders'], 1, `one list request: ${JSON.stringify(req)}`);
    assert.equal(req['GET /api/work_orders/:id'] ?? 0, 0, `no doc request: ${JSON.stringify(req)}`);
    const gets = listGets(page);
    assert.deepEqual(gets.map((g) => g.page), ['1'], `the browser fetched page 1 only: ${JSON.stringify(gets)}`);
    assert.equal(rows.length, 10);
    await waitListEqualsDb(page, server, 'f1', 1);
  } finally {
    await closePage(page);
  }
});

test('a record created while another page is shown leaves that page alone', async () => {
  const page = await openApp(browser, server, { params: { source: 'ws' } });
  try {
    await waitListEqualsDb(page, server, 'f1', 1);
    await page.click('[data-testid="page-btn-2"]');
    const page2 = await waitListEqualsDb(page, server, 'f1', 2);
    await sleep(1000);
    await server.resetStats();
    page.apiRequests.length = 0;

    const created = await server.create({ factory_id: 'f1', title: 'Created elsewhere', qty: 2 });
    await sleep(2000);
    let req = await server.requests();
    assert.equal(req['GET /api/work_orders'] ?? 0, 0, `page 2 is not refetched, page 1 is not shown: ${JSON.stringify(req)}`);
    assert.deepEqual((await listRows(page)).map((r) => r.id), page2.map((r) => r.id));

    // Page 1 was marked stale: showing it fetches it once, with the new record.
    await page.click('[data-testid="page-btn-1"]');
    await waitFor(async () => (await listRows(page))[0]?.id === created.id, { message: 'the new record on page 1' });
    await sleep(1000);
    req = await server.requests();
    assert.equal(req['GET /api/work_orders'], 1, `${JSON.stringify(req)}`);
    assert.deepEqual(listGets(page).map((g) => g.page), ['1']);
  } finally {
    await closePage(page);
  }
});

test('screenshot: work orders with the detail pane', async () => {
  const { items } = await server.list('f1', 1);
  const id = items[1].id;
  const page = await openApp(browser, server, { params: { source: 'ws' }, hash: `#/work-orders/${id}` });
  try {
    await waitFor(async () => (await text(page, 'detail-title')) === items[1].title, { message: 'the detail' });
    await sleep(800);
    await server.update(id, { status: 'in_progress', qty: 42 });
    await server.update(items[3].id, { status: 'approved' });
    await waitFor(async () => (await text(page, 'detail-qty')) === '42', { message: 'the patched detail' });
    await sleep(600);
    const file = await screenshot(page, 'work-orders');
    assert.ok(file === null || file.endsWith('work-orders.png'));
  } finally {
    await closePage(page);
  }
});

test('switching the factory moves the list and its events to the new scope', async () => {
  await server.ensureRows('f2', 3);
  const page = await openApp(browser, server, { params: { source: 'ws' } });
  try {
    await waitListEqualsDb(page, server, 'f1', 1);
    await page.selectOption('[data-testid="factory-select"]', 'f2');
    await waitListEqualsDb(page, server, 'f2', 1);
    await sleep(1000);
    const created = await server.create({ factory_id: 'f2', title: 'Created in f2', qty: 3 });
    await waitFor(async () => (await listRows(page))[0]?.id === created.id, { timeout: 5000, message: 'the f2 record at the top' });
    // A change in f1 is no business of this page any more.
    await server.resetStats();
    await server.create({ factory_id: 'f1', title: 'Created in f1', qty: 3 });
    await sleep(1500);
    const req = await server.requests();
    assert.equal(req['GET /api/work_orders'] ?? 0, 0, `no list refetch for another factory: ${JSON.stringify(req)}`);
    await waitListEqualsDb(page, server, 'f2', 1);
  } finally {
    await closePage(page);
  }
});
