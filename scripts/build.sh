#!/usr/bin/env bash
# Builds the npm package's wasm half into pkg/:
#   cargo build --release --target wasm32-unknown-unknown -p querywire, with std rebuilt for
#     panic=immediate-abort (-Zbuild-std; RUSTC_BOOTSTRAP=1 for that one command, needs rust-src)
#   wasm-bindgen --target web  ->  pkg/querywire.js, querywire.d.ts, querywire_bg.wasm
#   wasm-opt -Oz --converge --low-memory-unused -ocimfs=50 (features: what rustc emits for wasm32 with simd128)
# then bundles the package's JS into dist/ (scripts/build-js.mjs, esbuild; it writes pkg/querywire_wasm.js,
# the wasm as a string, which dist/index.js carries: the package ships no .wasm) and prints sizes
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
    -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
    *) die "unknown option: $a" ;;
  esac
done
[ "$setup" = 1 ] && bash "$ROOT/scripts/setup.sh"

cd "$ROOT"
PKG="$ROOT/pkg"
# The shipped wasm's std is rebuilt from rust-src with panic=immediate-abort: a panic (none is
# reachable from input) is an `unreachable` trap at once, as panic=abort made it before, but no panic
# message, location or `core::fmt` code is linked (docs/SIZE.md). `-Zbuild-std` and `-Cpanic=
# immediate-abort` are unstable: RUSTC_BOOTSTRAP=1 is set for this one cargo command only, everything
# else (tests, clippy, the native build, wasm-pack test) stays plain stable. Its own target dir, so
# these flags never invalidate the artifacts of an ordinary `cargo build --target wasm32-unknown-unknown`.
WASM_TARGET_DIR="target/build-std"
# -Zlocation-detail=none: no source file names or lines are kept for panic locations (there is no
# panic message to put them in).
# -Ctarget-feature=+simd128: WebAssembly SIMD, which the scanner's vector primitives use
# (crates/core/src/simd.rs) and the package requires (README "Browser support"; js/loadWasm.js
# names it when a browser cannot compile the module).
WASM_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none $WASM_TARGET_FEATURES"
WASM_BUILD_STD="-Zbuild-std=std,panic_abort"
WASM_IN="$WASM_TARGET_DIR/wasm32-unknown-unknown/release/querywire.wasm"
STAMP="$ROOT/target/querywire-pkg.stamp"
# --low-memory-unused lets wasm-opt fold constant offsets into loads and stores (-1.4 KB): it
# assumes no object lives in the first 1 KiB of memory. rust-lld puts the 1 MiB stack first
# (the stack pointer starts at 1 MiB and grows down; data and heap come after it), so those bytes
# are only touched by a stack within 1 KiB of overflowing; the engine does not recurse.
# -ocimfs=100 (--one-caller-inline-max-function-size; binaryen's default inlines every function that
# has one caller, whatever its size): a function of more than 100 expressions with one caller stays
# a function of its own. V8 compiles each wasm function on its first call, so a large body that
# creation does not run (src/driver.rs `carry_out`: plans, transports, sharing) is then not compiled
# at creation (docs/SIZE.md "Creation"), and large bodies are not repeated: -1.5 KB gzip against 500,
# with no ingest change measurable in alternating bench runs; one call more before a body of 100+ expressions.
# 50 rather than 100 (fifth session, a quiet machine): -0.7 KB gzip more, and 4 alternating
# `node bench/run.mjs --only=ingest,init` pairs showed no change in text, object or init (docs/SIZE.md).
WASM_OPT_FLAGS="-Oz --converge --low-memory-unused -ocimfs=50"
WASM_OPT="$(wasm_opt_bin)"

inputs_hash() {
  {
    find src crates/core/src -type f -print0 2>/dev/null | sort -z | xargs -0 sha256sum
    sha256sum Cargo.toml Cargo.lock crates/core/Cargo.toml 2>/dev/null || true
    wasm-bindgen --version
    "$WASM_OPT" --version
    rustc --version
    printf '%s\n' "$WASM_RUSTFLAGS $WASM_BUILD_STD $WASM_OPT_FLAGS"
  } | sha256sum | cut -c1-32
}

hash="$(inputs_hash)"
if [ "$force" = 0 ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$hash" ] &&
  [ -f "$PKG/querywire_bg.wasm" ] && [ -f "$PKG/querywire.js" ]; then
  step "build: pkg/ is up to date (inputs unchanged; --force rebuilds)"
else
  step "cargo build --release --target wasm32-unknown-unknown -p querywire $WASM_BUILD_STD ($WASM_RUSTFLAGS)"
  src="$(rustc --print sysroot)/lib/rustlib/src/rust/library"
  [ -f "$src/Cargo.lock" ] ||
    die "rust-src is not installed for $(rustc --version): the wasm is built with -Zbuild-std, which needs it (bash scripts/setup.sh, or: rustup component add rust-src)"
  # Cargo.toml's `strip = true` would also drop the target_features section that wasm-bindgen reads to
  # use reference types; keep it here and let wasm-opt strip names and debug info at the end.
  # A failure stops the build: nothing falls back to a wasm built some other way.
  RUSTC_BOOTSTRAP=1 RUSTFLAGS="$WASM_RUSTFLAGS" CARGO_PROFILE_RELEASE_STRIP=debuginfo \
    cargo build --release --target wasm32-unknown-unknown -p querywire --target-dir "$WASM_TARGET_DIR" "$WASM_BUILD_STD" ||
    die "cargo build of the wasm with $WASM_BUILD_STD and $WASM_RUSTFLAGS failed (above); pkg/ was not changed. It needs rust-src for $(rustc --version) (rustup component add rust-src) and a rustc whose std knows the immediate-abort panic strategy (1.95 does)"

  step "wasm-bindgen --target web -> pkg/"
  rm -rf "$PKG"
  wasm-bindgen --target web --out-dir "$PKG" --out-name querywire "$WASM_IN"
  rm -f "$PKG/.gitignore" "$PKG/package.json"

  features="$(wasm_features)"
  step "wasm-opt $WASM_OPT_FLAGS $features"
  # shellcheck disable=SC2086 # one flag per word
  "$WASM_OPT" $WASM_OPT_FLAGS $features --strip-debug --strip-producers --strip-target-features "$PKG/querywire_bg.wasm" -o "$PKG/querywire_bg.wasm.opt"
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
