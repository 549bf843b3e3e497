// Seed 001 / issue 5: kill the server mid-stream and restart it five times while writes continue:
// the UI converges to the database with no missed update, and each reconnect refetches each active
// view once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useDemo,
  closePage, listRows, openApp, sleep, status, text, waitDetailEqualsDb, waitFor,
  waitForStatus, waitListEqualsDb,
} from './harness.mjs';

let server;
let browser;
useDemo({ rows: 12 }, (s, b) => { server = s; browser = b; });

/** Writes over HTTP until stopped, ignoring the moments the server is down. */
function startWriter(ids) {
  let stop = false;
  let ok = 0;
  let failed = 0;
  let n = 0;
  const done = (async () => {
    while (!stop) {
      const id = ids[n % ids.length];
      n++;
      try {
        await server.update(id, { qty: 1000 + n, title: `Write ${n}` });
        ok++;
      } catch {
        failed++;
      }
      await sleep(40);
    }
  })();
  return { stop: async () => { stop = true; await done; return { ok, failed }; } };
}

test('kill and restart the server 5 times while writes continue: the UI converges, at most one refetch per view per reconnect', async () => {
  const { items } = await server.list('f1', 1);
  const target = items[0];
  const page = await openApp(browser, server, {
    params: { source: 'ws', backoffInitialMs: 200, backoffMaxMs: 1000 },
    hash: `#/work-orders/${target.id}`,
  });
  const reconnect = async () => {
    await waitFor(async () => (await status(page)) !== 'connected', { timeout: 8000, message: 'the page to notice the drop' });
    await sleep(300);
    const t0 = Date.now();
    await server.start(); // same port, same database; its request counters start at zero
    await waitForStatus(page, 'connected', 20_000);
    const tConnected = Date.now();
    await sleep(1500); // the recovery refetches land
    const req = await server.requests();
    if (process.env.QW_E2E_DEBUG === '1') {
      console.log('# requests since restart', tConnected - t0, JSON.stringify(page.apiRequests.filter((r) => r.t >= t0).map((r) => [r.t - t0, r.method, r.path, r.page])));
    }
    return { list: req['GET /api/work_orders'] ?? 0, doc: req['GET /api/work_orders/:id'] ?? 0 };
  };
  try {
    await waitFor(async () => (await text(page, 'detail-title')) === target.title, { message: 'the detail' });
    await sleep(800);
    const writer = startWriter(items.slice(0, 5).map((r) => r.id));
    const perCycle = [];
    let last;
    try {
      // Reconnects 1-4: the server dies mid-stream and writes go on after it is back. A channel whose
      // missed frames the new process can prove it has (a `since` resubscribe, `ok: true`) needs no
      // refetch, so the list view refetches at most once (updates never refetch a list; the doc's
      // count also holds the refetches the ongoing updates cause, so it is only reported).
      for (let i = 1; i <= 4; i++) {
        await sleep(800); // events flowing
        await server.kill();
        perCycle.push(await reconnect());
      }
    } finally {
      const w = await writer.stop();
      console.log(`# writer: ${w.ok} writes, ${w.failed} refused while the server was down`);
    }
    // Reconnect 5: updates the page certainly missed, which only a refetch can bring. The writes stop
    // and settle; WebSockets are refused (the server closes the page's socket); a record is updated and
    // another created while the page is away; then the server dies, taking the history of those
    // changes with it, and comes back. Each view must refetch exactly once, and show both changes.
    await sleep(1500);
    await server.realtime({ ws: false });
    await waitFor(async () => (await status(page)) !== 'connected', { timeout: 8000, message: 'the page to lose its socket' });
    const missed = await server.update(target.id, { title: 'Missed while away', qty: 4242 });
    const created = await server.create({ factory_id: 'f1', title: 'Created while away', qty: 1 });
    await server.kill();
    last = await reconnect();
    console.log(`# refetches per reconnect: ${JSON.stringify([...perCycle, last])}`);
    assert.equal(await text(page, 'detail-title'), missed.title, 'the missed update is shown');
    assert.ok((await listRows(page)).some((r) => r.id === created.id), 'the missed create is shown');

    await waitListEqualsDb(page, server, 'f1', 1, 15_000);
    await waitDetailEqualsDb(page, server, target.id, 15_000);
    for (const [i, c] of perCycle.entries()) {
      assert.ok(c.list <= 1, `reconnect ${i + 1}: the list view refetched at most once (${JSON.stringify(perCycle)})`);
    }
    assert.deepEqual(last, { list: 1, doc: 1 }, 'reconnect 5: each view refetched exactly once');
  } finally {
    await closePage(page);
  }
});

test('a reconnect the server can replay from its history refetches no view', async () => {
  const { items } = await server.list('f1', 1);
  const target = items[1];
  const page = await openApp(browser, server, {
    params: { source: 'ws', backoffInitialMs: 200, backoffMaxMs: 1000 },
    hash: `#/work-orders/${target.id}`,
  });
  try {
    await waitFor(async () => (await text(page, 'detail-title')) === target.title, { message: 'the detail' });
    await sleep(1000);
    // A first change gives the page a position (seq) on each of its channels: doc, list and factory.
    const seen = await server.update(target.id, { title: 'Seen live' });
    await waitFor(async () => (await text(page, 'detail-title')) === seen.title, { timeout: 5000, message: 'the live update' });
    await sleep(1000);
    // The socket is closed and refused for a moment; the same server process keeps the changes made
    // meanwhile, so the `since` resubscribe replays them (`recovered ok: true`): no view is refetched.
    await server.realtime({ ws: false });
    await waitFor(async () => (await status(page)) !== 'connected', { timeout: 8000, message: 'the page to lose its socket' });
    await server.resetStats();
    const missed = await server.update(target.id, { title: 'Replayed from history', status: 'approved' });
    await server.realtime({ ws: true });
    await waitForStatus(page, 'connected', 20_000);
    await waitFor(async () => (await text(page, 'detail-title')) === missed.title, {
      timeout: 5000, message: 'the replayed update',
    });
    await sleep(1500);
    const req = await server.requests();
    console.log(`# history replay: ${JSON.stringify(req)}`);
    assert.equal(req['GET /api/work_orders'] ?? 0, 0, 'the list view was not refetched (an update never refetches a list)');
    assert.ok((req['GET /api/work_orders/:id'] ?? 0) <= 1, 'the doc: at most the replayed update\'s own refetch');
    await waitDetailEqualsDb(page, server, target.id);
  } finally {
    await server.realtime({ ws: true }).catch(() => {});
    await closePage(page);
  }
});

// The same kill/restart over Centrifugo: the real centrifuge-js in the page against the demo
// server's Centrifugo endpoint, whose streams (offsets, epoch, history) are stored in the database
// like a Centrifugo with a persistent engine, so they survive the restart.
test('centrifugo: kill and restart within the history window recovers without a refetch; after a stream reset each view refetches once', async () => {
  const { items } = await server.list('f1', 1);
  const target = items[2];
  const page = await openApp(browser, server, {
    params: { source: 'centrifugo', backoffInitialMs: 200, backoffMaxMs: 1000 },
    hash: `#/work-orders/${target.id}`,
  });
  const cycle = async (whileDown) => {
    // The page's socket is refused, the writes it misses are made, then the server dies and comes
    // back on the same port and database.
    await server.realtime({ ws: false });
    await waitFor(async () => (await status(page)) !== 'connected', { timeout: 8000, message: 'the page to lose its socket' });
    const changes = await whileDown();
    await server.kill();
    await server.start(); // its request counters start at zero; WebSockets are on again
    await waitForStatus(page, 'connected', 20_000);
    await sleep(1500); // the recovery refetches, if any, land
    const req = await server.requests();
    return { changes, fetches: { list: req['GET /api/work_orders'] ?? 0, doc: req['GET /api/work_orders/:id'] ?? 0 } };
  };
  try {
    await waitFor(async () => (await text(page, 'detail-title')) === target.title, { message: 'the detail' });
    await sleep(800);
    const seen = await server.update(target.id, { title: 'Seen live over Centrifugo' });
    await waitFor(async () => (await text(page, 'detail-title')) === seen.title, { timeout: 5000, message: 'the live update' });
    await sleep(500);

    // 1. Within the history window: the missed update comes back from the stream's history
    //    (`recovered: true`); the list is not refetched, the doc only for the update itself.
    const within = await cycle(async () => server.update(target.id, { title: 'Recovered from history', qty: 4343 }));
    await waitFor(async () => (await text(page, 'detail-title')) === within.changes.title, { timeout: 5000, message: 'the recovered update' });
    console.log(`# centrifugo within the history window: ${JSON.stringify(within.fetches)}`);
    assert.deepEqual(within.fetches, { list: 0, doc: 1 }, 'no recovery refetch (the doc: the missed update\'s own)');

    // 2. Beyond it: the stream is reset while the page is away (new epoch, history gone), so the
    //    missed update and create cannot be replayed (`recovered: false`): each view refetches once.
    const beyond = await cycle(async () => {
      const missed = await server.update(target.id, { title: 'Missed, stream reset', qty: 4444 });
      const created = await server.create({ factory_id: 'f1', title: 'Created, stream reset', qty: 1 });
      await server.api('POST', '/api/admin/centrifugo', { reset: true });
      return { missed, created };
    });
    console.log(`# centrifugo after a stream reset: ${JSON.stringify(beyond.fetches)}`);
    assert.equal(await text(page, 'detail-title'), beyond.changes.missed.title, 'the missed update is shown');
    assert.ok((await listRows(page)).some((r) => r.id === beyond.changes.created.id), 'the missed create is shown');
    assert.deepEqual(beyond.fetches, { list: 1, doc: 1 }, 'each view refetched exactly once');
    await waitListEqualsDb(page, server, 'f1', 1, 15_000);
    await waitDetailEqualsDb(page, server, target.id, 15_000);
  } finally {
    await server.realtime({ ws: true }).catch(() => {});
    await closePage(page);
  }
});
