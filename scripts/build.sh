#!/usr/bin/env bash
# Builds the npm package's wasm half into pkg/:
#   cargo build --release --target wasm32-unknown-unknown -p querywire
#   wasm-bindgen --target web  ->  pkg/querywire.js, querywire.d.ts, querywire_bg.wasm
#   wasm-opt -Oz --converge (features: what rustc emits for wasm32 by default)
# then bundles the package's JS into dist/ (scripts/build-js.mjs, esbuild) and prints sizes
# (scripts/size.sh). The wasm steps are skipped when the inputs (src/, crates/core/src/, Cargo.*,
# the wasm-bindgen and wasm-opt versions) hash as in the last build, unless --force.
#   bash scripts/build.sh [--force] [--no-setup]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

force=0 setup=1
for a in "$@"; do
  case "$a" in
    --force) force=1 ;;
    --no-setup) setup=0 ;;
    -h | --help) sed -n '2,8p' "$0"; exit 0 ;;
    *) die "unknown option: $a" ;;
  esac
done
[ "$setup" = 1 ] && bash "$ROOT/scripts/setup.sh"

cd "$ROOT"
PKG="$ROOT/pkg"
WASM_IN="target/wasm32-unknown-unknown/release/querywire.wasm"
STAMP="$ROOT/target/querywire-pkg.stamp"
WASM_OPT="$(wasm_opt_bin)"

inputs_hash() {
  {
    find src crates/core/src -type f -print0 2>/dev/null | sort -z | xargs -0 sha256sum
    sha256sum Cargo.toml Cargo.lock crates/core/Cargo.toml 2>/dev/null || true
    wasm-bindgen --version
    "$WASM_OPT" --version
    rustc --version
  } | sha256sum | cut -c1-32
}

hash="$(inputs_hash)"
if [ "$force" = 0 ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$hash" ] &&
  [ -f "$PKG/querywire_bg.wasm" ] && [ -f "$PKG/querywire.js" ]; then
  step "build: pkg/ is up to date (inputs unchanged; --force rebuilds)"
else
  step "cargo build --release --target wasm32-unknown-unknown -p querywire"
  # Cargo.toml's `strip = true` would also drop the target_features section that wasm-bindgen reads to
  # use reference types; keep it here and let wasm-opt strip names and debug info at the end.
  CARGO_PROFILE_RELEASE_STRIP=debuginfo cargo build --release --target wasm32-unknown-unknown -p querywire

  step "wasm-bindgen --target web -> pkg/"
  rm -rf "$PKG"
  wasm-bindgen --target web --out-dir "$PKG" --out-name querywire "$WASM_IN"
  rm -f "$PKG/.gitignore" "$PKG/package.json"

  features="$(wasm_features)"
  step "wasm-opt -Oz --converge $features"
  # shellcheck disable=SC2086 # one flag per word
  "$WASM_OPT" -Oz --converge $features --strip-debug --strip-producers --strip-target-features "$PKG/querywire_bg.wasm" -o "$PKG/querywire_bg.wasm.opt"
  mv "$PKG/querywire_bg.wasm.opt" "$PKG/querywire_bg.wasm"

  mkdir -p "$(dirname "$STAMP")"
  printf '%s\n' "$hash" >"$STAMP"
fi

# The package's JS (dist/: the shim and the glue bundled and minified, source maps beside); a
# fraction of a second, so it always runs.
step "node scripts/build-js.mjs -> dist/"
node "$ROOT/scripts/build-js.mjs"

step "sizes"
bash "$ROOT/scripts/size.sh"
