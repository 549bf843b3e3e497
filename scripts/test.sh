#!/usr/bin/env bash
# Runs every test of querywire, stage by stage, after setting up what they need (scripts/setup.sh
# --browser --postgres). A failing stage does not stop the others; the exit code is non-zero when any
# stage failed. A stage is skipped, loudly, only when its directory does not exist yet.
#   bash scripts/test.sh              all stages
#   bash scripts/test.sh js wasm      only these stages (setup still runs first)
#   bash scripts/test.sh --list       the stage names
# Env: QW_STAGE_TIMEOUT (seconds per stage, default 1800). Logs: target/test-logs/<stage>.log
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

# The stages, in order: "name  directory-that-must-exist  must|info". Each runs function stage_<name>
# below; an `info` stage reports its failure without failing the run. To add a stage: a line here and a
# stage_<name> function.
STAGES=(
  "setup     .                must"
  "rust      crates/core      must"
  "clippy    crates/core      must"
  "build     src              must"
  "demo      examples         must"
  "wasm      src              must"
  "js        tests/js         must"
  "types     tests/types      must"
  "server    examples/server  must"
  "browser   tests/browser    must"
  "pack      tests/pack       must"
  "e2e       tests/e2e        must"
  "postgres  examples/server  must"
)

# Tools, node_modules, chromium + chromedriver, PostgreSQL.
stage_setup() { bash scripts/setup.sh --browser --postgres; }

# The sans-IO core and the root crate, natively.
stage_rust() {
  cargo test -p querywire-core
  cargo test -p querywire
}

# Lints (a failure fails the run): formatting (rustfmt.toml; `cargo fmt --all` and the two crates
# outside the workspace fix it), then clippy on the native workspace and on the glue as it is
# compiled for wasm32.
stage_clippy() {
  cargo clippy --version >/dev/null 2>&1 || rustup component add clippy ||
    { warn "clippy is not installed and rustup could not add it"; return 1; }
  cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt ||
    { warn "rustfmt is not installed and rustup could not add it"; return 1; }
  local rc=0
  local m
  for m in Cargo.toml examples/server/Cargo.toml crates/core/fuzz/Cargo.toml; do
    cargo fmt --all --manifest-path "$m" --check >/dev/null ||
      { warn "not formatted: cargo fmt --all --manifest-path $m"; rc=1; }
  done
  cargo clippy --workspace --all-targets -- -D warnings || rc=1
  cargo clippy -p querywire --all-targets --target wasm32-unknown-unknown -- -D warnings || rc=1
  return "$rc"
}

# The npm package's wasm half: pkg/.
stage_build() { bash scripts/build.sh --no-setup; }

# The demo's web app (examples/web/dist) and server release binary: the JS, browser and e2e tests start
# that server, and none of them should spend its timeout compiling it.
stage_demo() { build_demo; }

# The root crate's wasm-bindgen-test suites, in Node and in headless Debian Chromium (webdriver.json
# holds Chromium's flags; CHROMEDRIVER keeps wasm-pack from downloading a driver).
stage_wasm() {
  local rc=0
  wasm-pack test --node || rc=1
  # WASM_BINDGEN_USE_BROWSER: suites without `run_in_browser` (tests/wasm_realtime.rs, which also runs in
  # Node above) run in Chromium too, instead of being skipped as node-only.
  WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER=/usr/bin/chromedriver wasm-pack test --headless --chrome || rc=1
  return "$rc"
}

# node --test, which must have run at least one test: a directory without *.test.* files fails.
node_tests() {
  local out rc
  out="$(mktemp)"
  set +e
  node --test "$@" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  set -e
  if [ "$rc" = 0 ] && ! grep -qE '^# tests [1-9]' "$out"; then
    warn "node --test $* ran no test"
    rc=1
  fi
  rm -f "$out"
  return "$rc"
}

# The JS shim against a real QueryClient.
stage_js() { node_tests tests/js/; }

# The TypeScript declarations type-check against tests/types (package.json's test:types).
stage_types() {
  if grep -q '"test:types"' package.json; then
    npm run --silent test:types
  else
    tsc --noEmit -p tests/types
  fi
}

# The demo server: its Rust tests (SQLite), then its Node tests (real supabase-js against it).
stage_server() {
  cargo test --manifest-path examples/server/Cargo.toml
  if [ -d examples/server/test ]; then node_tests examples/server/test/; fi
}

# The shim and the wasm transports in headless Chromium (playwright-core on /usr/bin/chromium).
stage_browser() { node_tests --test-concurrency=1 tests/browser/; }

# The package as users get it: npm pack, installed into an empty Node project and an empty Vite +
# React app (from the npm registry, as a user would), each running the README's quick start.
stage_pack() { node_tests --test-concurrency=1 tests/pack/; }

# The demo end to end in Chromium, on SQLite; the tests start the demo server themselves. build_demo
# again (a no-op when the demo stage ran) so that `scripts/test.sh e2e` works alone.
stage_e2e() {
  build_demo
  if [ -f tests/e2e/run.sh ]; then
    bash tests/e2e/run.sh --sqlite-only
  else
    node_tests --test-concurrency=1 tests/e2e/ # the files start servers: one at a time
  fi
}

# The demo server on PostgreSQL: scripts/postgres.sh starts a local cluster (installing it when missing)
# and prints its URL; the server's Postgres tests, then the e2e suite, run against it.
stage_postgres() {
  if [ ! -f scripts/postgres.sh ]; then
    warn "SKIPPED: scripts/postgres.sh does not exist yet: no PostgreSQL to test against"
    return 77
  fi
  local url
  url="$(bash scripts/postgres.sh | tail -n1)"
  case "$url" in postgres://* | postgresql://*) ;; *) warn "scripts/postgres.sh printed no URL: '$url'"; return 1 ;; esac
  export DATABASE_URL="$url" QUERYWIRE_REQUIRE_PG=1
  step "server tests on $DATABASE_URL"
  if [ -f examples/server/tests/postgres.rs ]; then
    cargo test --manifest-path examples/server/Cargo.toml --test postgres
  else
    cargo test --manifest-path examples/server/Cargo.toml
  fi
  if [ -f tests/e2e/run.sh ]; then
    build_demo
    step "e2e on PostgreSQL"
    bash tests/e2e/run.sh --pg-only
  fi
}

# ---------------------------------------------------------------------------------------------------

# Child mode: run one stage's function with errexit in force (it is not, inside `if`/`||` callers).
if [ "${1:-}" = "--run-stage" ]; then
  "stage_$2"
  exit $?
fi

if [ "${1:-}" = "--list" ]; then
  for s in "${STAGES[@]}"; do read -r name _ <<<"$s"; echo "$name"; done
  exit 0
fi

only=" $* "
timeout_s="${QW_STAGE_TIMEOUT:-1800}"
logs="$ROOT/target/test-logs"
mkdir -p "$logs"
names=() results=() secs=()
passed=0 failed=0 skipped=0

for s in "${STAGES[@]}"; do
  read -r name dir mode <<<"$s"
  if [ $# -gt 0 ] && [ "$name" != setup ] && [[ "$only" != *" $name "* ]]; then continue; fi

  printf '\n'
  printf '#%.0s' {1..100}; printf '\n'
  printf '### stage %s (%s)\n' "$name" "$dir"
  printf '#%.0s' {1..100}; printf '\n'
  t0=$(date +%s)
  if [ ! -d "$dir" ]; then
    warn "SKIPPED stage $name: $dir/ does not exist yet"
    result="SKIP (no $dir/)"
  else
    set +e
    timeout -k 30 "$timeout_s" bash "$ROOT/scripts/test.sh" --run-stage "$name" </dev/null 2>&1 |
      tee "$logs/$name.log"
    rc=${PIPESTATUS[0]}
    set -e
    case "$rc" in
      0) result="PASS" ;;
      77) result="SKIP (see log)" ;;
      124 | 137) result="TIMEOUT (${timeout_s}s)" ;;
      *) result="FAIL (exit $rc)" ;;
    esac
    if [ "$mode" = info ] && [ "$rc" != 0 ] && [ "$rc" != 77 ]; then result="WARN (informational)"; fi
  fi
  case "$result" in
    PASS) passed=$((passed + 1)) ;;
    SKIP* | WARN*) skipped=$((skipped + 1)) ;;
    *) failed=$((failed + 1)) ;;
  esac
  names+=("$name") results+=("$result") secs+=("$(($(date +%s) - t0))")
  step "stage $name: $result"
done

printf '\n| stage | result | seconds |\n| --- | --- | ---: |\n'
for i in "${!names[@]}"; do
  printf '| %s | %s | %s |\n' "${names[$i]}" "${results[$i]}" "${secs[$i]}"
done
printf '\nlogs: %s/<stage>.log; total %ss\n\n' "${logs#"$ROOT"/}" "$(($(date +%s) - QW_T0))"
printf '%d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
[ "$failed" -eq 0 ]
