// Writes seed inputs for the core's fuzz targets (crates/core/fuzz/seeds/{frames,options}) from the
// recorded trace (tests/fixtures/trace.jsonl): its payloads wrapped as wire frames on three
// channels with counting seqs, a reconnect step (\x01), `recovered` answers and control frames;
// and option objects with extreme values. Run once after changing the trace:
//   node scripts/fuzz-seeds.mjs
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'

const root = new URL('..', import.meta.url)
const trace = readFileSync(new URL('tests/fixtures/trace.jsonl', root), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
const dir = (name) => { const d = new URL(`crates/core/fuzz/seeds/${name}/`, root); mkdirSync(d, { recursive: true }); return d }
const frames = dir('frames')
const channels = ['doc:work_orders:1', 'list:work_orders:f1', 'factory:f1']
for (let s = 0; s < 12; s++) {
  const seq = Object.fromEntries(channels.map((c) => [c, 0]))
  const lines = []
  for (const [i, rec] of trace.slice(s * 8, s * 8 + 16).entries()) {
    const channel = channels[i % channels.length]
    seq[channel] += (i === 5 && s % 2) ? 2 : 1 // an odd seed has a seq gap
    const wrapped = s % 3 === 0 ? rec.payload : { channel, seq: seq[channel], source: rec.source, payload: rec.payload }
    lines.push(JSON.stringify(wrapped))
    if (i === 8) {
      lines.push('\u0001')
      for (const c of channels) lines.push(JSON.stringify({ type: 'recovered', channel: c, ok: s % 2 === 0 }))
    }
  }
  lines.push(JSON.stringify({ type: 'pong', ref: 1 }), '\u0002', JSON.stringify({ type: 'error', code: 'bad', message: 'x' }))
  writeFileSync(new URL(`seed${s}`, frames), lines.join('\n'))
}
const options = dir('options')
const big = 'U64MAX' // written as the integer 18446744073709551615 (JS numbers cannot hold it)
const sets = [
  [{ backoff: { initialMs: 1, maxMs: big, maxAttempts: 2 } }, {}],
  [{ heartbeat: { intervalMs: big, timeoutMs: big }, pollingMs: 1e300 }, { backoff: { maxMs: big } }],
  [{ debounceMs: 0, maxWaitMs: 86400000, scope: { factoryId: 'f1', tenant: 7 }, rules: [{ table: 'lines', invalidate: [['lines', '{id}'], { queryKey: ['d', '{factory_id}', { p: '{n}' }], exact: true, refetchType: 'all' }] }] }, { enabled: false }],
  [{ primaryKey: ['code', 'id'], patch: false, rules: [{ table: 't', events: ['DELETE'], invalidate: [['x-{y}-{z}']] }] }, { backoff: { initialMs: big, maxAttempts: 4294967295 } }],
]
for (const [i, [opts, connect]] of sets.entries()) {
  const payloads = trace.slice(i * 5, i * 5 + 5).map((r) => JSON.stringify(r.payload))
  const raw = (v) => JSON.stringify(v).replaceAll('"U64MAX"', '18446744073709551615')
  writeFileSync(new URL(`seed${i}`, options), [raw(opts), raw(connect), ...payloads].join('\u001e'))
}
console.log('seeds written')
