#!/usr/bin/env bash
# Local PostgreSQL cluster for development, kept in ./.data.
#
#   scripts/pg.sh start    init (first time) and start the cluster; prints nothing else
#   scripts/pg.sh stop     stop it (no error when it is not running)
#   scripts/pg.sh status   say whether it runs
#   scripts/pg.sh url      print the DATABASE_URL that reaches it
#   scripts/pg.sh pid      print the running postmaster's process id
#   scripts/pg.sh bindir   print the directory holding initdb/pg_ctl (installs postgresql if absent)
#   scripts/pg.sh clean    stop the cluster and delete it (and ./.data)
#
# The server listens only on a Unix socket in ./.data/run (no TCP port, so no
# clash with another PostgreSQL). PostgreSQL refuses to run as root, so when
# this runs as root the cluster belongs to the 'postgres' system user (created
# by Debian's postgresql package) and we connect as the database superuser
# 'ballot' over the socket with trust authentication: only local processes
# that can reach ./.data/run can connect.
#
# When root runs this from a checkout the 'postgres' user cannot enter (a
# home directory such as /root is mode 700), the cluster and its socket
# cannot live in ./.data: they go to /var/lib/eballot-dev/<checkout hash>
# instead (owned by postgres, mode 700), and ./.data/pg-location records it.
# Everything else of `make run` (secret key, demo trustees) stays in ./.data.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
DATA_ROOT=${EBALLOT_DATA_DIR:-$here/.data}
DB_NAME=eballot
DB_USER=ballot

log() { printf 'pg.sh: %s\n' "$*" >&2; }

# PG_ROOT holds the cluster, its socket and its log: ./.data unless recorded
# otherwise by an earlier start (see place_cluster).
PG_ROOT=$DATA_ROOT
[ -s "$DATA_ROOT/pg-location" ] && PG_ROOT=$(cat "$DATA_ROOT/pg-location")
set_paths() {
  PGDATA_DIR=$PG_ROOT/pg
  SOCK_DIR=$PG_ROOT/run
  LOG_FILE=$PG_ROOT/postgres.log
}
set_paths

# place_cluster (root only) keeps the cluster where the postgres user can
# reach it: ./.data when every directory above it is searchable by postgres,
# else a directory of its own under /var/lib/eballot-dev.
place_cluster() {
  [ "$(id -u)" -eq 0 ] || return 0
  [ "$PG_ROOT" = "$DATA_ROOT" ] || return 0
  if runuser -u postgres -- test -x "$DATA_ROOT"; then return 0; fi
  local alt
  alt=/var/lib/eballot-dev/$(printf '%s' "$DATA_ROOT" | sha256sum | cut -c1-12)
  log "the postgres user cannot enter $DATA_ROOT (a parent directory is private);"
  log "keeping this checkout's cluster and socket in $alt instead (recorded in $DATA_ROOT/pg-location)"
  mkdir -p "$alt"
  chown postgres "$alt"; chmod 700 "$alt"
  echo "$alt" >"$DATA_ROOT/pg-location"
  PG_ROOT=$alt
  set_paths
}

find_bindir() {
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"
    return 0
  fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$d" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  return 1
}

ensure_postgres() {
  if find_bindir >/dev/null; then return 0; fi
  log "PostgreSQL is not installed; installing the 'postgresql' package with apt"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >&2
  $sudo apt-get install -y -qq postgresql >&2
  # Debian starts a system cluster on port 5432; we do not use it.
  find_bindir >/dev/null || { log "initdb/pg_ctl still not found after installing postgresql"; exit 1; }
}

# as_owner runs a command as the cluster's owner (postgres when we are root),
# from / (the checkout may be a directory postgres cannot enter, and
# initdb and pg_ctl would complain that they cannot change to it).
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

bindir() { ensure_postgres; find_bindir; }

cmd_start() {
  local bin; bin=$(bindir)
  mkdir -p "$DATA_ROOT"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres
    chown postgres "$DATA_ROOT"
    place_cluster
    mkdir -p "$SOCK_DIR"
    chown postgres "$PG_ROOT" "$SOCK_DIR"
    touch "$LOG_FILE"; chown postgres "$LOG_FILE"
  else
    mkdir -p "$SOCK_DIR"
  fi
  if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
    log "creating a PostgreSQL cluster in $PGDATA_DIR"
    as_owner "$bin/initdb" -D "$PGDATA_DIR" -U "$DB_USER" --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$PGDATA_DIR/postgresql.conf" <<EOF
# eballot development settings (scripts/pg.sh)
listen_addresses = ''
unix_socket_directories = '$SOCK_DIR'
max_connections = 200
EOF
  fi
  if as_owner "$bin/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then
    :
  else
    as_owner "$bin/pg_ctl" -D "$PGDATA_DIR" -l "$LOG_FILE" -w -t 60 start >/dev/null || {
      log "PostgreSQL did not start; the end of $LOG_FILE says:"; tail -n 20 "$LOG_FILE" >&2; exit 1; }
  fi
  if ! "$bin/psql" -h "$SOCK_DIR" -U "$DB_USER" -d postgres -tAc "select 1 from pg_database where datname='$DB_NAME'" | grep -q 1; then
    "$bin/createdb" -h "$SOCK_DIR" -U "$DB_USER" "$DB_NAME"
  fi
}

cmd_stop() {
  [ -f "$PGDATA_DIR/PG_VERSION" ] || return 0
  local bin; bin=$(find_bindir) || return 0
  if as_owner "$bin/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then
    as_owner "$bin/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null
    log "stopped the PostgreSQL cluster in $PGDATA_DIR"
  fi
}

cmd_status() {
  local bin
  if [ -f "$PGDATA_DIR/PG_VERSION" ] && bin=$(find_bindir) && as_owner "$bin/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then
    echo "running: $PGDATA_DIR (socket in $SOCK_DIR)"
  else
    echo "not running"; return 3
  fi
}

cmd_clean() {
  cmd_stop
  if [ "$PG_ROOT" != "$DATA_ROOT" ]; then rm -rf "$PG_ROOT"; fi
  rm -rf "$DATA_ROOT"
}

cmd_pid() { as_owner head -n 1 "$PGDATA_DIR/postmaster.pid"; }

cmd_url() { echo "postgres:///$DB_NAME?host=$SOCK_DIR&user=$DB_USER&sslmode=disable"; }

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  url) cmd_url ;;
  pid) cmd_pid ;;
  bindir) bindir ;;
  clean) cmd_clean ;;
  *) echo "usage: scripts/pg.sh start|stop|status|url|pid|bindir|clean" >&2; exit 2 ;;
esac
