#!/usr/bin/env bash
# Builds the package, then runs the benchmark (bench/run.mjs: wasm engine vs the plain-JS baseline in
# headless Chromium). Arguments go to bench/run.mjs.
#   bash scripts/bench.sh [args...]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bash scripts/setup.sh --browser
bash scripts/build.sh --no-setup
[ -f bench/run.mjs ] || die "bench/run.mjs does not exist yet"
step "node bench/run.mjs $*"
exec node bench/run.mjs "$@"
