#!/usr/bin/env bash
# Runs the demo: sets up, builds the package (pkg/), builds the React app (examples/web/dist) and runs
# the demo server (examples/server), which serves the app and the API on http://127.0.0.1:${PORT:-8787}/.
# Until examples/web and examples/server both exist, runs the Node example (examples/node-burst.mjs)
# instead, or, without it, loads the built wasm in Node and prints its version.
#   bash scripts/demo.sh          (PORT, DATABASE_URL are passed on to the server)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

bash scripts/setup.sh
bash scripts/build.sh --no-setup

if [ -d examples/web ] && [ -f examples/server/Cargo.toml ]; then
  build_demo
  export WEB_DIST="$ROOT/examples/web/dist"
  step "demo: open http://127.0.0.1:${PORT:-8787}/  (Ctrl-C stops the server)"
  exec cargo run --quiet --release --manifest-path examples/server/Cargo.toml
fi

warn "examples/web or examples/server is not there yet: running the Node example instead"
if [ -f examples/node-burst.mjs ]; then
  step "node examples/node-burst.mjs"
  exec node examples/node-burst.mjs
fi
step "loading pkg/querywire_bg.wasm in Node"
node --input-type=module -e "
  import { readFileSync } from 'node:fs';
  import { initSync, version } from './pkg/querywire.js';
  initSync({ module: readFileSync('./pkg/querywire_bg.wasm') });
  console.log('querywire wasm loaded in Node ' + process.version + ': version ' + version());
"
