#!/usr/bin/env bash
# Instructions and allocations per Supabase event in the native core, over the benchmark stream
# (bench/stream.js: seeded supabase-js postgres_changes payloads, the same generator `npm run bench`
# uses, with its rules and scope). Needs valgrind and node.
#   bash scripts/callgrind.sh [events]      (default 20000; the stream repeats after 20000 distinct payloads)
# Runs the example `crates/core/examples/stream.rs` under callgrind twice, with a small and a large
# event count, and divides the difference: set-up (options, reading the file) cancels out.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
N="${1:-20000}"
SMALL=2000
OUT="$ROOT/target/callgrind"
mkdir -p "$OUT"
STREAM="$OUT/stream.jsonl"
node --input-type=module -e "
  import { generate } from '$ROOT/bench/stream.js';
  const { texts } = generate(20000, { seed: 1 });
  process.stdout.write(texts.join('\n') + '\n');
" >"$STREAM"
# The release profile (lto, one codegen unit) at OPT (default 3; OPT=z is the size setting the
# wasm ships with, where nothing small is inlined and counts run ~1.3x higher), symbols kept, in its
# own target dir so the normal release build is not invalidated.
OPT="${OPT:-3}"
CARGO_PROFILE_RELEASE_STRIP=none CARGO_PROFILE_RELEASE_DEBUG=line-tables-only CARGO_PROFILE_RELEASE_OPT_LEVEL="$OPT" \
  nice -n 10 cargo build -q --release -p querywire-core --example stream --target-dir "$OUT/build-$OPT"
BIN="$OUT/build-$OPT/release/examples/stream"
echo "opt-level $OPT"
count() {
  local n="$1" f="$OUT/callgrind.$1.out"
  valgrind --tool=callgrind --callgrind-out-file="$f" "$BIN" "$STREAM" "$n" "$SMALL" 2>"$OUT/valgrind.$n.log" >"$OUT/stdout.$n.txt"
  grep -E '^summary:|^totals:' "$f" | head -1 | awk '{print $2}'
}
small=$(count "$SMALL")
large=$(count "$((SMALL + N))")
per=$(( (large - small) / N ))
echo "instructions per Supabase event: $per  (callgrind Ir, ($large - $small) / $N events)"
"$BIN" "$STREAM" "$((SMALL + N))" "$SMALL"
echo "top functions: callgrind_annotate --inclusive=yes $OUT/callgrind.$((SMALL + N)).out | head -60"
