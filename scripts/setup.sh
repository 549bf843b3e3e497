#!/usr/bin/env bash
# Installs what building and testing querywire need, idempotently; quiet when all is there.
#   bash scripts/setup.sh [--browser] [--postgres]
#   --browser   Debian chromium + chromium-driver (browser wasm tests, e2e, bench)
#   --postgres  PostgreSQL via scripts/postgres.sh (owned by the demo server)
# Always: rust target wasm32-unknown-unknown, the rust-src component (scripts/build.sh rebuilds std for
# the shipped wasm), wasm-bindgen-cli at the version Cargo.toml pins,
# wasm-pack, wasm-opt (npm binaryen), and node_modules.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

browser=0 postgres=0
for a in "$@"; do
  case "$a" in
    --browser) browser=1 ;;
    --postgres) postgres=1 ;;
    -h | --help) sed -n '2,7p' "$0"; exit 0 ;;
    *) die "unknown option: $a" ;;
  esac
done

command -v cargo >/dev/null || die "cargo not found: install Rust with rustup first"
command -v npm >/dev/null || die "npm not found: install Node.js 20+ first"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "Node.js $(node --version) is too old: querywire needs 20+"

ensure_rust_target wasm32-unknown-unknown
ensure_rust_component rust-src
ensure_wasm_bindgen
ensure_wasm_pack
ensure_node_modules "$ROOT"
ensure_wasm_opt
[ "$browser" = 1 ] && ensure_browser
if [ "$postgres" = 1 ]; then
  if [ -f "$ROOT/scripts/postgres.sh" ]; then
    bash "$ROOT/scripts/postgres.sh"
  else
    warn "setup --postgres: scripts/postgres.sh does not exist yet; no PostgreSQL set up"
  fi
fi
exit 0
