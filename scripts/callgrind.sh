#!/usr/bin/env bash
# Instructions and allocations per Supabase event in the native core, over the benchmark stream
# (bench/stream.js: seeded supabase-js postgres_changes payloads, the same generator `npm run bench`
# uses, with its options `STREAM_OPTIONS`). Needs valgrind and node.
#   bash scripts/callgrind.sh [events]      (default 20000; the stream repeats after 20000 distinct payloads)
# Runs the example `crates/core/examples/stream.rs` under callgrind twice, with a small and a large
# event count, and divides the difference (scripts/lib.sh callgrind_per_event). OPT=z: the size
# setting the wasm ships with (callgrind_build).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
N="${1:-20000}"
STREAM="$CALLGRIND_OUT/stream.jsonl"
stream_options
node --input-type=module -e "
  import { generate } from '$ROOT/bench/stream.js';
  const { texts } = generate(20000, { seed: 1 });
  process.stdout.write(texts.join('\n') + '\n');
" >"$STREAM"
BIN="$(callgrind_build stream)"
echo "opt-level ${OPT:-3}"
r="$(callgrind_per_event callgrind "$N" "$BIN" "$STREAM_OPTIONS_JSON" "$STREAM")"
read -r per small large <<<"$r"
echo "instructions per Supabase event: $per  (callgrind Ir, ($large - $small) / $N events)"
"$BIN" "$STREAM_OPTIONS_JSON" "$STREAM" "$((CALLGRIND_SMALL + N))" "$CALLGRIND_SMALL"
echo "top functions: callgrind_annotate --inclusive=yes $CALLGRIND_OUT/callgrind.$((CALLGRIND_SMALL + N)).out | head -60"
