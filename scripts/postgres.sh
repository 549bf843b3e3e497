#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the demo server and its tests.
#
#   export DATABASE_URL="$(bash scripts/postgres.sh)"     # install if needed, start, print the URL
#   bash scripts/postgres.sh stop                         # stop the cluster
#   bash scripts/postgres.sh destroy                      # stop and delete its data
#
# Installs Debian's `postgresql` package with apt-get when no server binaries are found (as root,
# non-interactive, idempotent), then runs initdb/pg_ctl from /usr/lib/postgresql/<ver>/bin as the
# `postgres` user (PostgreSQL refuses to run as root) with data in $QW_PG_DIR
# (default /tmp/querywire-pg), listening on 127.0.0.1:$QW_PG_PORT (default 55432), trust auth,
# and creates the database `querywire`. Progress goes to stderr; the only stdout line is the URL.
set -euo pipefail

PORT="${QW_PG_PORT:-55432}"
DIR="${QW_PG_DIR:-/tmp/querywire-pg}"
DB="${QW_PG_DB:-querywire}"
DATA="$DIR/data"
SOCK="$DIR/sock"
LOG="$DIR/postgres.log"
URL="postgres://postgres@127.0.0.1:${PORT}/${DB}"

log() { echo "postgres.sh: $*" >&2; }

find_bin() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
    echo "$d"
  fi
}

BIN="$(find_bin)"
if [[ -z "$BIN" ]]; then
  if [[ "$(id -u)" != 0 ]]; then
    log "PostgreSQL server binaries not found under /usr/lib/postgresql and not root: run 'sudo apt-get install -y postgresql' first"
    exit 1
  fi
  log "installing Debian's postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends postgresql >&2; then
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends postgresql >&2
  fi
  BIN="$(find_bin)"
  if [[ -z "$BIN" ]]; then
    log "postgresql installed but no initdb/pg_ctl under /usr/lib/postgresql/*/bin"
    exit 1
  fi
fi

# Run a server binary as the cluster's owner.
if [[ "$(id -u)" == 0 ]]; then
  OWNER=postgres
  if ! id -u "$OWNER" >/dev/null 2>&1; then
    log "creating system user $OWNER"
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash "$OWNER"
  fi
  as_owner() { runuser -u "$OWNER" -- "$@"; }
else
  OWNER="$(id -un)"
  as_owner() { "$@"; }
fi

pg_ctl_() { as_owner "$BIN/pg_ctl" -D "$DATA" "$@"; }

ready() { "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" >/dev/null 2>&1; }

case "${1:-start}" in
  stop)
    if [[ -f "$DATA/PG_VERSION" ]]; then pg_ctl_ -m fast -w stop >&2 || true; fi
    exit 0
    ;;
  destroy)
    if [[ -f "$DATA/PG_VERSION" ]]; then pg_ctl_ -m fast -w stop >&2 || true; fi
    rm -rf "$DIR"
    exit 0
    ;;
  start) ;;
  *)
    log "usage: postgres.sh [start|stop|destroy]"
    exit 2
    ;;
esac

if ! ready; then
  mkdir -p "$DIR" "$SOCK"
  chmod 0755 "$DIR"
  [[ "$(id -u)" == 0 ]] && chown -R "$OWNER" "$DIR"
  if [[ ! -f "$DATA/PG_VERSION" ]]; then
    log "initdb in $DATA ($BIN)"
    if ! as_owner "$BIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
      && ! { rm -rf "$DATA"; as_owner "$BIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C >"$DIR/initdb.log" 2>&1; }; then
      log "initdb failed:"
      cat "$DIR/initdb.log" >&2
      exit 1
    fi
  fi
  log "starting on 127.0.0.1:$PORT (log: $LOG)"
  pg_ctl_ -w -t 60 -l "$LOG" \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $SOCK -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >&2 || { log "start failed; last log lines:"; tail -n 30 "$LOG" >&2 || true; exit 1; }
fi

for _ in $(seq 1 60); do
  ready && break
  sleep 0.5
done
ready || { log "server on 127.0.0.1:$PORT is not ready"; exit 1; }

exists="$("$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")"
if [[ "$exists" != 1 ]]; then
  log "creating database $DB"
  "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB"
fi

echo "$URL"
