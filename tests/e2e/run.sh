#!/usr/bin/env bash
# End-to-end tests of the demo (examples/web + examples/server) in Debian's Chromium:
# once on SQLite, then once on PostgreSQL (started, and installed with apt when missing).
#   bash tests/e2e/run.sh [--sqlite-only | --pg-only] [extra node --test args]
# Needs pkg/, examples/web/dist and the server binary built (the harness says what is missing).
# Env: DATABASE_URL (use this PostgreSQL instead of a local one), QW_E2E_PG=skip (SQLite only).
# Each test file's server gets a fresh database (CREATE DATABASE through psql), dropped afterwards.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

mode=both
args=()
for a in "$@"; do
  case "$a" in
    --sqlite-only) mode=sqlite ;;
    --pg-only) mode=pg ;;
    -h | --help) sed -n '2,6p' "$0"; exit 0 ;;
    *) args+=("$a") ;;
  esac
done
[ "${QW_E2E_PG:-}" = skip ] && [ "$mode" = both ] && mode=sqlite

node -e "import('./tests/e2e/harness.mjs').then(h => h.checkBuilt()).catch(e => { console.error(e.message); process.exit(1) })"

as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }

# Exports DATABASE_URL for a local PostgreSQL: scripts/postgres.sh's throwaway cluster (it installs
# Debian's postgresql when missing); without that script, the distribution's cluster with the role
# `querywire` and the database `querywire_e2e`.
ensure_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then return 0; fi
  if [ -f "$ROOT/scripts/postgres.sh" ]; then
    DATABASE_URL="$(bash "$ROOT/scripts/postgres.sh")"
    export DATABASE_URL
    return 0
  fi
  if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
    echo "e2e: installing PostgreSQL (Debian packages)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  local ver
  ver="$(ls /usr/lib/postgresql | sort -V | tail -1)"
  if [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then pg_createcluster "$ver" main >/dev/null; fi
  local line cver cname cport cstatus
  line="$(pg_lsclusters -h | head -1)"
  read -r cver cname cport cstatus _ <<<"$line"
  if [ "$cstatus" != online ]; then
    echo "e2e: starting PostgreSQL $cver/$cname on port $cport"
    pg_ctlcluster "$cver" "$cname" start
  fi
  for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 -p "$cport" && break; sleep 0.2; done
  pg_isready -q -h 127.0.0.1 -p "$cport" || { echo "e2e: PostgreSQL did not come up" >&2; return 1; }
  (cd / && as_postgres psql -p "$cport" -qtAc "SELECT 1 FROM pg_roles WHERE rolname='querywire'" | grep -q 1) ||
    (cd / && as_postgres psql -p "$cport" -qc "CREATE ROLE querywire LOGIN CREATEDB PASSWORD 'querywire'")
  (cd / && as_postgres psql -p "$cport" -qtAc "SELECT 1 FROM pg_database WHERE datname='querywire_e2e'" | grep -q 1) ||
    (cd / && as_postgres psql -p "$cport" -qc "CREATE DATABASE querywire_e2e OWNER querywire")
  export DATABASE_URL="postgres://querywire:querywire@127.0.0.1:$cport/querywire_e2e"
}

run_suite() {
  echo "== e2e ($1)"
  node --test --test-concurrency=1 "${args[@]}" tests/e2e/
}

status=0
if [ "$mode" != pg ]; then
  (unset DATABASE_URL; run_suite sqlite) || status=1
fi
if [ "$mode" != sqlite ]; then
  ensure_postgres
  # The screenshots are taken on the SQLite run; keep them as they are.
  if [ "$mode" = both ]; then export QW_E2E_SCREENSHOTS=0; fi
  run_suite postgres || status=1
fi
exit "$status"
