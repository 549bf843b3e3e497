# shellcheck shell=bash
# Helpers shared by scripts/*.sh. Source it; it sets no shell options of its own.
#
# Every ensure_* / need_* helper is idempotent: when the thing is already there it prints nothing and
# returns at once; when it installs something it says what. Nothing here downloads from anywhere but
# crates.io, the npm registry and Debian's apt: tools that would fetch their own binaries (wasm-pack's
# wasm-bindgen/chromedriver/wasm-opt downloads, `npx playwright install`) are pointed at installed ones.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$ROOT/.tools/node_modules/.bin:$PATH"
# Let npm never ask anything and never nag; CI has no stdin.
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Tests that drive a browser use Debian's Chromium, never a downloaded one.
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
export CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1

# The binaryen whose wasm-opt we run when package.json brings none (npm ships it as a registry package).
BINARYEN_VERSION="${BINARYEN_VERSION:-132}"
WASM_PACK_VERSION="${WASM_PACK_VERSION:-0.15.1}"

: "${QW_T0:=$(date +%s)}"
export QW_T0

# step "name": a progress line with the seconds since the outermost script started.
step() {
  printf '==> [%4ss] %s\n' "$(($(date +%s) - QW_T0))" "$*"
}

note() { printf '    %s\n' "$*"; }
warn() { printf '!!! %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

_QW_APT_UPDATED=""
# need_apt pkg...: installs the Debian packages that dpkg says are missing.
need_apt() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  step "apt: installing ${missing[*]}"
  if [ -z "$_QW_APT_UPDATED" ]; then
    $sudo apt-get update -qq
    _QW_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ensure_rust_target [triple]: defaults to wasm32-unknown-unknown.
ensure_rust_target() {
  local t="${1:-wasm32-unknown-unknown}"
  command -v rustup >/dev/null || die "rustup not found (expected in ~/.cargo/bin)"
  rustup target list --installed | grep -qx "$t" && return 0
  step "rustup: adding target $t"
  rustup target add "$t"
}

# ensure_rust_component name: `rustup component add name` for the active toolchain unless installed
# (rust-src: scripts/build.sh rebuilds std for the shipped wasm, `-Zbuild-std`).
ensure_rust_component() {
  command -v rustup >/dev/null || die "rustup not found (expected in ~/.cargo/bin)"
  rustup component list --installed 2>/dev/null | grep -qE "^$1(-|$)" && return 0
  step "rustup: adding component $1"
  rustup component add "$1"
}

# ensure_cargo_tool bin version [crate]: `cargo install crate --version version` unless `bin --version`
# already prints that version. crate defaults to bin. Serialised with a lock so two scripts running at
# once do not build the same tool twice.
ensure_cargo_tool() {
  local bin="$1" version="$2" crate="${3:-$1}"
  _cargo_tool_ok "$bin" "$version" && return 0
  mkdir -p "$HOME/.cargo"
  (
    flock 9
    _cargo_tool_ok "$bin" "$version" && exit 0
    step "cargo install $crate $version (a few minutes, once)"
    # Not --locked: wasm-bindgen-cli 0.2.130's own lockfile does not build on current rustc.
    cargo install --quiet --force "$crate" --version "$version"
  ) 9>"$HOME/.cargo/.querywire-install.lock"
  _cargo_tool_ok "$bin" "$version" || die "$bin $version still not on PATH after cargo install"
}
_cargo_tool_ok() {
  command -v "$1" >/dev/null 2>&1 || return 1
  "$1" --version 2>/dev/null | head -n1 | grep -qE "(^| |v)$(printf '%s' "$2" | sed 's/\./\\./g')( |$)"
}

# The exact wasm-bindgen version Cargo.toml pins (`wasm-bindgen = "=X"` or `{ version = "=X", ... }`);
# without an `=` pin, the version Cargo.lock resolved.
wasm_bindgen_version() {
  local v
  v="$(sed -nE 's/^[[:space:]]*wasm-bindgen[[:space:]]*=[[:space:]]*(\{[^}]*version[[:space:]]*=[[:space:]]*)?"=?([0-9][0-9.]*)".*/\2/p' \
    "$ROOT/Cargo.toml" | head -n1)"
  if [ -z "$v" ] && [ -f "$ROOT/Cargo.lock" ]; then
    v="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")"
  fi
  [ -n "$v" ] || die "cannot find the wasm-bindgen version in Cargo.toml or Cargo.lock"
  printf '%s\n' "$v"
}

ensure_wasm_bindgen() { ensure_cargo_tool wasm-bindgen "$(wasm_bindgen_version)" wasm-bindgen-cli; }
ensure_wasm_pack() { ensure_cargo_tool wasm-pack "$WASM_PACK_VERSION"; }

# ensure_node_modules [dir]: `npm ci` when dir/node_modules is missing or was installed from another
# package.json/package-lock.json (compared by content, so a fresh clone reuses a cached node_modules);
# `npm install` when there is no lockfile. A dir without package.json is left alone.
ensure_node_modules() {
  local dir="${1:-$ROOT}" want have="" rel
  [ -f "$dir/package.json" ] || return 0
  rel="${dir#"$ROOT"}" rel="${rel#/}" rel="${rel:-.}"
  want="$(cat "$dir/package.json" "$dir/package-lock.json" 2>/dev/null | sha256sum | cut -c1-16)"
  [ -f "$dir/node_modules/.querywire-installed" ] && have="$(cat "$dir/node_modules/.querywire-installed")"
  [ -d "$dir/node_modules" ] && [ "$want" = "$have" ] && return 0
  if [ -f "$dir/package-lock.json" ]; then
    step "npm ci in $rel"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  else
    step "npm install in $rel (no package-lock.json)"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
  fi
  # npm install may have written a lockfile: hash again.
  cat "$dir/package.json" "$dir/package-lock.json" 2>/dev/null | sha256sum | cut -c1-16 \
    >"$dir/node_modules/.querywire-installed"
}

# wasm_opt_bin: prints the wasm-opt to use: the project's node_modules one when package.json brings
# binaryen, else the one ensure_wasm_opt keeps in .tools/ (gitignored).
wasm_opt_bin() {
  if [ -x "$ROOT/node_modules/.bin/wasm-opt" ]; then
    printf '%s\n' "$ROOT/node_modules/.bin/wasm-opt"
  else
    printf '%s\n' "$ROOT/.tools/node_modules/.bin/wasm-opt"
  fi
}
ensure_wasm_opt() {
  [ -x "$ROOT/node_modules/.bin/wasm-opt" ] && return 0
  local tools="$ROOT/.tools"
  if [ -x "$tools/node_modules/.bin/wasm-opt" ] &&
    grep -q "\"version\": \"$BINARYEN_VERSION\." "$tools/node_modules/binaryen/package.json" 2>/dev/null; then
    return 0
  fi
  step "npm: binaryen@$BINARYEN_VERSION into .tools/ (wasm-opt)"
  mkdir -p "$tools"
  [ -f "$tools/package.json" ] || printf '{ "private": true }\n' >"$tools/package.json"
  (cd "$tools" && npm install --no-audit --no-fund --loglevel=error --no-save "binaryen@$BINARYEN_VERSION")
}

# ensure_browser: Debian's chromium + chromium-driver, and the two must be the same build.
ensure_browser() {
  need_apt chromium chromium-driver
  local cv dv
  cv="$(chromium --version 2>/dev/null | grep -oE '[0-9]+(\.[0-9]+){3}' | head -n1)"
  dv="$(chromedriver --version 2>/dev/null | grep -oE '[0-9]+(\.[0-9]+){3}' | head -n1)"
  [ -n "$cv" ] && [ "$cv" = "$dv" ] || die "chromium ($cv) and chromedriver ($dv) differ or are missing"
}

# The target features the shipped wasm is built with beyond rustc's defaults (scripts/build.sh).
WASM_TARGET_FEATURES="-Ctarget-feature=+simd128"
# wasm_features: the --enable-* flags for what rustc emits for wasm32-unknown-unknown with
# $WASM_TARGET_FEATURES (rustc 1.95: bulk-memory multivalue mutable-globals nontrapping-fptoint
# reference-types sign-ext simd128), spelled as binaryen spells them.
wasm_features() {
  # shellcheck disable=SC2086 # one flag per word
  rustc --print cfg --target wasm32-unknown-unknown $WASM_TARGET_FEATURES |
    sed -nE 's/^target_feature="([a-z0-9-]+)"$/\1/p' |
    sed -e 's/^nontrapping-fptoint$/nontrapping-float-to-int/' -e 's/^simd128$/simd/' |
    sed -e 's/^/--enable-/' | tr '\n' ' '
}

# build_demo: what the demo and the e2e tests run: examples/web/dist and the demo server's release binary.
build_demo() {
  if [ -d "$ROOT/examples/web" ]; then build_web; fi
  if [ -f "$ROOT/examples/server/Cargo.toml" ]; then
    step "cargo build --release (examples/server)"
    cargo build --release --manifest-path "$ROOT/examples/server/Cargo.toml"
  fi
}

# build_web: builds examples/web into examples/web/dist (the web engineer owns its config).
build_web() {
  local web="$ROOT/examples/web"
  if [ -f "$web/package.json" ]; then
    # An npm workspace of the root package is installed by the root's npm ci.
    if ! grep -q '"workspaces"' "$ROOT/package.json" 2>/dev/null ||
      ! grep -q 'examples/web' "$ROOT/package.json"; then
      ensure_node_modules "$web"
    fi
    step "vite build (npm run build in examples/web)"
    npm run build --prefix "$web"
  else
    step "vite build examples/web"
    (cd "$ROOT" && npx --no-install vite build --config examples/web/vite.config.js)
  fi
}

# ---- callgrind (scripts/callgrind.sh, callgrind-slots.sh, callgrind-flush.sh): exact instruction
# counts of crates/core's examples, natively. Needs valgrind.
CALLGRIND_OUT="$ROOT/target/callgrind"

# callgrind_build example: builds the example with the release profile (lto, one codegen unit) at
# OPT (default 3; OPT=z is the size setting the wasm ships with, where nothing small is inlined and
# counts run ~1.3x higher), symbols kept, in its own target dir so the normal release build is not
# invalidated. Prints the binary's path.
callgrind_build() {
  local opt="${OPT:-3}"
  mkdir -p "$CALLGRIND_OUT"
  CARGO_PROFILE_RELEASE_STRIP=none CARGO_PROFILE_RELEASE_DEBUG=line-tables-only CARGO_PROFILE_RELEASE_OPT_LEVEL="$opt" \
    nice -n 10 cargo build -q --release -p querywire-core --example "$1" --target-dir "$CALLGRIND_OUT/build-$opt" >&2 || return 1
  printf '%s\n' "$CALLGRIND_OUT/build-$opt/release/examples/$1"
}

# callgrind_ir name command...: runs the command under callgrind (profile target/callgrind/name.out,
# valgrind's log name.log, the command's stdout name.txt) and prints the instructions it ran (Ir).
callgrind_ir() {
  local f="$CALLGRIND_OUT/$1"
  shift
  valgrind --tool=callgrind --callgrind-out-file="$f.out" "$@" 2>"$f.log" >"$f.txt" || { cat "$f.log" >&2; return 1; }
  grep -E '^summary:|^totals:' "$f.out" | head -1 | awk '{print $2}'
}

# callgrind_per_event name events command...: instructions per event of a command that takes its
# event count last: run under callgrind at CALLGRIND_SMALL and CALLGRIND_SMALL + events events, the
# difference divided by events (set-up, options and reading files, cancels out). Prints
# "per-event small large".
CALLGRIND_SMALL=2000
callgrind_per_event() {
  local name="$1" n="$2" small large
  shift 2
  small=$(callgrind_ir "$name.$CALLGRIND_SMALL" "$@" "$CALLGRIND_SMALL") || return 1
  large=$(callgrind_ir "$name.$((CALLGRIND_SMALL + n))" "$@" "$((CALLGRIND_SMALL + n))") || return 1
  echo "$(( (large - small) / n )) $small $large"
}

# stream_options: writes the engine options the benchmark runs bench/stream.js with
# (`STREAM_OPTIONS`, their one home) as JSON to $STREAM_OPTIONS_JSON, for the examples.
STREAM_OPTIONS_JSON="$CALLGRIND_OUT/options.json"
stream_options() {
  mkdir -p "$CALLGRIND_OUT"
  node --input-type=module -e "
    import { STREAM_OPTIONS } from '$ROOT/bench/stream.js';
    process.stdout.write(JSON.stringify(STREAM_OPTIONS));
  " >"$STREAM_OPTIONS_JSON"
}
