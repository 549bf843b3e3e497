#!/usr/bin/env bash
# Instructions per Supabase event of the object path's core (`rt.ingest('supabase', obj)`: typed
# slots, crates/core/src/slots.rs), over the benchmark stream: what the shim sends for each payload
# is recorded in Node with the real shim (slots, or the text of the few the core wants whole), then
# replayed natively by `crates/core/examples/slots.rs` under callgrind at two event counts, as
# scripts/callgrind.sh does for the text path. Needs valgrind, node and a built pkg/.
#   bash scripts/callgrind-slots.sh [events]      (default 20000)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
N="${1:-20000}"
SLOTS="$CALLGRIND_OUT/slots.txt"
stream_options
node --input-type=module -e "
  import { QueryClient } from '@tanstack/query-core';
  import { generate, STREAM_OPTIONS } from '$ROOT/bench/stream.js';
  import { createRealtime } from '$ROOT/js/index.js';
  import { loadWasm } from '$ROOT/js/loadWasm.js';
  const { memory } = await loadWasm();
  const rt = await createRealtime({ queryClient: new QueryClient(), ...STREAM_OPTIONS, onError() {} });
  const e = rt._engine, dec = new TextDecoder(), lines = [];
  let wAt = 0, iAt = 0;
  const sb = e.slotBuffer.bind(e), ib = e.inputBuffer.bind(e), is = e.ingestSlots.bind(e), ii = e.ingestInput.bind(e);
  e.slotBuffer = (n) => (wAt = sb(n));
  e.inputBuffer = (n) => (iAt = ib(n));
  e.ingestSlots = (n, len, ep, now) => {
    const line = 'S ' + [...new Uint32Array(memory.buffer, wAt, n)].join(' ') + '\t' + dec.decode(new Uint8Array(memory.buffer, iAt, len));
    const r = is(n, len, ep, now);
    if (r === 0) lines.push(line);
    return r;
  };
  e.ingestInput = (src, len) => { lines.push('T ' + dec.decode(new Uint8Array(memory.buffer, iAt, len))); return ii(src, len) };
  for (const o of generate(20000, { seed: 1 }).objects) rt.ingest('supabase', o);
  process.stdout.write(lines.join('\n') + '\n');
" >"$SLOTS"
echo "payloads as slots: $(grep -c '^S ' "$SLOTS") of $(wc -l <"$SLOTS") (the rest the core wanted as text)"
BIN="$(callgrind_build slots)"
echo "opt-level ${OPT:-3}"
r="$(callgrind_per_event callgrind-slots "$N" "$BIN" "$STREAM_OPTIONS_JSON" "$SLOTS")"
read -r per small large <<<"$r"
echo "instructions per Supabase event (object path): $per  (callgrind Ir, ($large - $small) / $N events)"
"$BIN" "$STREAM_OPTIONS_JSON" "$SLOTS" "$((CALLGRIND_SMALL + N))"
echo "top functions: callgrind_annotate --inclusive=yes $CALLGRIND_OUT/callgrind-slots.$((CALLGRIND_SMALL + N)).out | head -60"
