// The demo in two tabs (two pages of one browser context, one origin): the tabs share one
// connection (`shareConnection`), the header says which tab leads and that the server holds one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDemo, waitFor, waitForStatus } from './harness.mjs';

let server;
let browser;
useDemo({ rows: 3 }, (s, b) => { server = s; browser = b; });

async function shareLine(page) {
  const el = await page.$('[data-testid="share-line"]');
  if (!el) return null;
  return { role: await el.getAttribute('data-role'), connections: await el.getAttribute('data-connections'), text: (await el.textContent()).trim() };
}

test('two tabs of the demo: one leads, one follows, the server holds one connection', async () => {
  const context = await browser.newContext();
  try {
    const pages = [];
    for (let i = 0; i < 2; i++) {
      const page = await context.newPage();
      await page.goto(`${server.url}/#/work-orders`);
      await waitForStatus(page, 'connected');
      pages.push(page);
    }
    await waitFor(async () => (await server.stats()).connections.ws === 1, { message: 'one ws connection' });
    const lines = await waitFor(async () => {
      const l = await Promise.all(pages.map(shareLine));
      return l.every((x) => x && x.connections === '1') && l;
    }, { message: 'both share lines show 1 connection' });
    assert.deepEqual(lines.map((l) => l.role).sort(), ['follower', 'leader']);
    assert.match(lines.find((l) => l.role === 'leader').text, /^leader · 1 connection$/);
  } finally {
    await context.close();
  }
});

test('?share=0: each tab holds its own connection', async () => {
  const context = await browser.newContext();
  try {
    for (let i = 0; i < 2; i++) {
      const page = await context.newPage();
      await page.goto(`${server.url}/?share=0#/work-orders`);
      await waitForStatus(page, 'connected');
    }
    await waitFor(async () => (await server.stats()).connections.ws === 2, { message: 'two ws connections' });
  } finally {
    await context.close();
  }
});
