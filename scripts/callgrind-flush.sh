#!/usr/bin/env bash
# Instructions the native core spends on the benchmark's flush (bench/page.mjs flushSweep: N Supabase
# DELETEs of distinct work orders, then one flush, its plan encoded as the glue encodes it), from
# callgrind: the example `crates/core/examples/flush.rs` run with and without the flush, subtracted.
#   bash scripts/callgrind-flush.sh [N]     (default 15000)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
N="${1:-15000}"
OUT="$ROOT/target/callgrind"
mkdir -p "$OUT"
OPT="${OPT:-3}"
CARGO_PROFILE_RELEASE_STRIP=none CARGO_PROFILE_RELEASE_DEBUG=line-tables-only CARGO_PROFILE_RELEASE_OPT_LEVEL="$OPT" \
  nice -n 10 cargo build -q --release -p querywire-core --example flush --target-dir "$OUT/build-$OPT"
BIN="$OUT/build-$OPT/release/examples/flush"
count() {
  local f="$OUT/callgrind.flush.$1.out"
  valgrind --tool=callgrind --callgrind-out-file="$f" "$BIN" "$N" "$1" 2>"$OUT/valgrind.flush.$1.log" >/dev/null
  grep -E '^summary:|^totals:' "$f" | head -1 | awk '{print $2}'
}
ingest=$(count ingest)
flush=$(count flush)
echo "opt-level $OPT, $N DELETEs: flush + encode $(( flush - ingest )) instructions ($(( (flush - ingest) / N )) per key)"
echo "top functions: callgrind_annotate --inclusive=yes $OUT/callgrind.flush.flush.out | head -60"
