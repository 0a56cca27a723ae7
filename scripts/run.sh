#!/usr/bin/env bash
# make run: database (local cluster in ./.data unless DATABASE_URL is set),
# migrations, demo ballot, then the server in the foreground (Ctrl-C stops it;
# `make stop` stops the local database).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

if [ -z "${DATABASE_URL:-}" ]; then
  echo "==> starting the local PostgreSQL cluster in ./.data (scripts/pg.sh)"
  scripts/pg.sh start
  DATABASE_URL=$(scripts/pg.sh url)
  export DATABASE_URL
else
  echo "==> using the database in DATABASE_URL"
fi

if [ -z "${EBALLOT_SECRET_KEY:-}" ]; then
  keyfile=${EBALLOT_DATA_DIR:-$here/.data}/secret-key
  mkdir -p "$(dirname "$keyfile")"
  if [ ! -s "$keyfile" ]; then
    (umask 077; head -c 32 /dev/urandom | base64 >"$keyfile")
    echo "==> generated a development secret key in $keyfile"
  fi
  EBALLOT_SECRET_KEY=$(cat "$keyfile")
  export EBALLOT_SECRET_KEY
fi

# The demo ballot is an industrial action ballot voted online, which the
# law permits only from the e-ballot order's commencement (TULRCA s.230(2);
# docs/ballots.md "Legal regimes"). The order's day is not yet known: the
# local demo assumes one so it can open. Never copy this into a real
# deployment: set EBALLOT_EVOTING_COMMENCEMENT only from the order as made.
: "${EBALLOT_EVOTING_COMMENCEMENT:=2026-02-19}"
export EBALLOT_EVOTING_COMMENCEMENT

echo "==> building ballotd"
mkdir -p bin
go build -o bin/ballotd ./cmd/ballotd

echo "==> applying migrations"
bin/ballotd migrate
echo "==> loading the demo ballot"
demo_out=$(bin/ballotd demo --trustee-dir "${EBALLOT_DATA_DIR:-$here/.data}/demo-trustees")
echo "$demo_out"
staff_msg="  Staff accounts: bin/ballotd staff add --role scrutineer --name 'Your Name'
  (or --role organiser --union demo-union) prints a passkey enrolment link."
if grep -q "loaded and opened" <<<"$demo_out"; then
  echo "==> creating the demo organiser and scrutineer"
  org=$(bin/ballotd staff add --role organiser --union demo-union --name "Demo Organiser" | tail -n 1)
  scr=$(bin/ballotd staff add --role scrutineer --name "Demo Scrutineer" | tail -n 1)
  staff_msg="  Staff (open once to register a passkey; links valid 24 hours):
    organiser:  $org
    scrutineer: $scr
  New links: bin/ballotd staff add --role organiser --union demo-union --name NAME"
fi

addr=${EBALLOT_ADDR:-127.0.0.1:8080}
port=${addr##*:}
host=${addr%:*}
case "$host" in ""|127.0.0.1|0.0.0.0|"[::]"|"[::1]") host=localhost ;; esac
base=${EBALLOT_PUBLIC_URL:-http://$host:$port}
cat <<MSG

  The e-ballot service is starting. Open:
    $base/            ballots (demo ballot listed)
    $base/dev/outbox  development SMS outbox: each demo member's voting link and sign-in codes
    $base/healthz     liveness
    $base/readyz      readiness (checks the database)
    http://${EBALLOT_METRICS_ADDR:-127.0.0.1:9464}/metrics  Prometheus metrics (own listener, EBALLOT_METRICS_ADDR)
$staff_msg
  Press Ctrl-C to stop the server; 'make stop' stops the local database.

MSG
exec bin/ballotd serve
