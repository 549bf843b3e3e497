#!/usr/bin/env bash
# Instructions the native core spends on the benchmark's flush (bench/page.mjs flushSweep: N Supabase
# DELETEs of distinct work orders, then one flush, its plan encoded as the glue encodes it), from
# callgrind: the example `crates/core/examples/flush.rs` run with and without the flush, subtracted.
#   bash scripts/callgrind-flush.sh [N]     (default 15000)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
N="${1:-15000}"
BIN="$(callgrind_build flush)"
ingest=$(callgrind_ir callgrind.flush.ingest "$BIN" "$N" ingest)
flush=$(callgrind_ir callgrind.flush.flush "$BIN" "$N" flush)
echo "opt-level ${OPT:-3}, $N DELETEs: flush + encode $(( flush - ingest )) instructions ($(( (flush - ingest) / N )) per key)"
echo "top functions: callgrind_annotate --inclusive=yes $CALLGRIND_OUT/callgrind.flush.flush.out | head -60"
