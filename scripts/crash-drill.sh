#!/usr/bin/env bash
# Crash drill (issue #23): kill ballotd and then PostgreSQL with kill -9
# during an open-loop load, restart them, and check that no receipt a
# member's phone verified is missing from the ledger and that every
# authorisation without a ballot is accounted for.
#
# In a temporary directory: an ephemeral PostgreSQL cluster (scripts/pg.sh
# with EBALLOT_DATA_DIR there: Unix socket only, fsync on), built ballotd,
# loadgen and scrutineer, migrations, a demo ballot of $MEMBERS members and
# $VOTES member sessions (ballotd demo --sessions), one `ballotd serve`;
# then `loadgen -rate $RATE -duration $DURATION -receipts FILE` (retrying
# each step with the saved state as the phone does, up to -retry-for) and,
# during the load:
#   at $KILL_BALLOTD_AT s   kill -9 ballotd; restarted $DOWN s later
#   at $KILL_PG_AT s        kill -9 the PostgreSQL postmaster; restarted
#                           (pg_ctl start, crash recovery) $DOWN s later
# When loadgen has finished: `ballotd demo --close`, the export
# (/ledger/v1/{e}/export) and the published counts (/issuance/v1/{e}/counts),
# `scrutineer verify` of the export, and `loadgen drillcheck`, which prints
# the accounting table. Exit code 0 when the export verifies, no receipt is
# lost and every authorisation without a ballot is accounted for.
#
# Knobs (environment): RATE (20 votes/s), DURATION (60s), MEMBERS (3000),
# KILL_BALLOTD_AT (15), KILL_PG_AT (35), DOWN (4), RETRY_FOR (2m),
# KEEP=1 keeps the directory (logs, receipts file, export).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

RATE=${RATE:-20}
DURATION=${DURATION:-60s}
MEMBERS=${MEMBERS:-3000}
KILL_BALLOTD_AT=${KILL_BALLOTD_AT:-15}
KILL_PG_AT=${KILL_PG_AT:-35}
DOWN=${DOWN:-4}
RETRY_FOR=${RETRY_FOR:-2m}
ELECTION=demo-strike-2026
dur_s=${DURATION%s}
VOTES=$(awk -v r="$RATE" -v d="$dur_s" 'BEGIN { printf "%d", r * d }')

work=$(mktemp -d "${TMPDIR:-/tmp}/eballot-drill-XXXXXX")
chmod 755 "$work" # the cluster may run as the postgres user
export EBALLOT_DATA_DIR=$work/data
ballotd_pid=""
loadgen_pid=""
cleanup() {
  [ -n "$loadgen_pid" ] && kill "$loadgen_pid" 2>/dev/null || true
  if [ -n "$ballotd_pid" ]; then
    kill "$ballotd_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$ballotd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$ballotd_pid" 2>/dev/null || true
  fi
  scripts/pg.sh stop || true
  if [ "${KEEP:-}" = 1 ]; then echo "crash-drill: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
say() { printf '==> [%s] %s\n' "$(date -u +%T)" "$*" >&2; }

say "building ballotd, loadgen and scrutineer"
mkdir -p "$work/bin"
go build -o "$work/bin/ballotd" ./cmd/ballotd
go build -o "$work/bin/loadgen" ./cmd/loadgen
go build -o "$work/bin/scrutineer" ./cmd/scrutineer
B=$work/bin

say "starting an ephemeral PostgreSQL in $work/data"
scripts/pg.sh start
DATABASE_URL=$(scripts/pg.sh url)
export DATABASE_URL
pg_root=$EBALLOT_DATA_DIR
[ -s "$EBALLOT_DATA_DIR/pg-location" ] && pg_root=$(cat "$EBALLOT_DATA_DIR/pg-location")
pgdata=$pg_root/pg
EBALLOT_SECRET_KEY=$(head -c 32 /dev/urandom | base64)
# The demo ballot is voted online: assume the e-ballot order in force
# (s.230(2); scripts/run.sh says why), as the local demo does.
export EBALLOT_SECRET_KEY EBALLOT_SMS_PROVIDER=dev EBALLOT_LOG_LEVEL=warn EBALLOT_EVOTING_COMMENCEMENT=${EBALLOT_EVOTING_COMMENCEMENT:-2026-02-19}

say "migrations, a demo ballot of $MEMBERS members, $VOTES member sessions"
"$B/ballotd" migrate >&2
"$B/ballotd" demo --members "$MEMBERS" --trustee-dir "$work/trustees" >&2
"$B/ballotd" demo --sessions "$VOTES" --sessions-file "$work/sessions.txt" >&2

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
  echo $((20000 + RANDOM % 20000)); }
port=$(free_port)
metrics=127.0.0.1:$(free_port)
base=http://127.0.0.1:$port
serve() { # starts ballotd (appending to its log) and waits until it is ready
  EBALLOT_ADDR=127.0.0.1:$port EBALLOT_METRICS_ADDR=$metrics "$B/ballotd" serve >>"$work/ballotd.log" 2>&1 &
  ballotd_pid=$!
  for _ in $(seq 1 300); do
    if curl -fsS "$base/readyz" >/dev/null 2>&1; then return 0; fi
    kill -0 "$ballotd_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "crash-drill: ballotd did not become ready; its log:" >&2; tail -n 30 "$work/ballotd.log" >&2; exit 1
}
serve
say "ballotd at $base (pid $ballotd_pid)"

say "loadgen: open loop at $RATE votes/s for $DURATION ($VOTES votes), retrying up to $RETRY_FOR, receipts to $work/receipts.jsonl"
"$B/loadgen" -target "$base" -sessions "$work/sessions.txt" -n "$VOTES" -rate "$RATE" -duration "$DURATION" \
  -concurrency 5000 -retry-for "$RETRY_FOR" -receipts "$work/receipts.jsonl" -out "$work/summary.json" -progress 5s \
  >"$work/loadgen.txt" 2>"$work/loadgen.err" &
loadgen_pid=$!
# The timed phase starts after the preparation (voting papers, encryption):
# wait for loadgen to say so, then count the drill's seconds from there.
until grep -q "timed phase:" "$work/loadgen.err" 2>/dev/null; do
  kill -0 "$loadgen_pid" 2>/dev/null || { cat "$work/loadgen.err" >&2; echo "crash-drill: loadgen stopped before its timed phase" >&2; exit 1; }
  sleep 0.2
done
t0=$(date +%s)
at() { local s=$(( $1 - ($(date +%s) - t0) )); [ "$s" -gt 0 ] && sleep "$s"; return 0; }
kills=()

at "$KILL_BALLOTD_AT"
say "kill -9 ballotd (pid $ballotd_pid)"
kill -9 "$ballotd_pid"; wait "$ballotd_pid" 2>/dev/null || true
kills+=("ballotd kill -9 at $(( $(date +%s) - t0 )) s")
sleep "$DOWN"
serve
say "ballotd restarted (pid $ballotd_pid)"
kills+=("ballotd ready again at $(( $(date +%s) - t0 )) s")

at "$KILL_PG_AT"
pm=$(head -n 1 "$pgdata/postmaster.pid")
say "kill -9 the PostgreSQL postmaster (pid $pm)"
kill -9 "$pm"
kills+=("postmaster kill -9 at $(( $(date +%s) - t0 )) s")
sleep "$DOWN"
# The backends notice the postmaster's death and exit; until they have,
# the old shared memory is in use and the start fails: try again.
for i in $(seq 1 60); do
  if scripts/pg.sh start 2>>"$work/pg-restart.log"; then break; fi
  [ "$i" = 60 ] && { echo "crash-drill: PostgreSQL did not restart" >&2; tail -n 20 "$work/pg-restart.log" >&2; exit 1; }
  sleep 1
done
say "PostgreSQL restarted (crash recovery)"
kills+=("PostgreSQL started again at $(( $(date +%s) - t0 )) s")

say "waiting for loadgen (votes in flight keep retrying up to $RETRY_FOR)"
lg_code=0
wait "$loadgen_pid" || lg_code=$?
loadgen_pid=""

say "closing the ballot, fetching the export and the published counts"
"$B/ballotd" demo --close >&2
curl -fsS "$base/ledger/v1/$ELECTION/export" -o "$work/export.jsonl"
curl -fsS "$base/issuance/v1/$ELECTION/counts" -o "$work/counts.json"
# The authorisations issued per style, from the published counts, so that
# scrutineer verify checks ballots ≤ issued too.
issued=$(grep -o '"issued":[0-9]*' "$work/counts.json" | cut -d: -f2 | paste -sd, -)
verify_ok=yes
"$B/scrutineer" verify --issued "$issued" "$work/export.jsonl" >"$work/verify.txt" 2>&1 || verify_ok=NO
check_code=0
"$B/loadgen" drillcheck -receipts "$work/receipts.jsonl" -export "$work/export.jsonl" -counts "$work/counts.json" >"$work/drillcheck.txt" || check_code=$?

echo
echo "crash drill — $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(go env GOVERSION), $("$(scripts/pg.sh bindir)/postgres" --version)"
echo "open loop at $RATE votes/s for $DURATION ($VOTES members), -retry-for $RETRY_FOR; loadgen exit $lg_code"
for k in "${kills[@]}"; do echo "  $k"; done
cat "$work/loadgen.txt"
echo
grep -E "^loadgen: \[" "$work/loadgen.err" | tail -n 40 || true
echo
cat "$work/drillcheck.txt"
echo "scrutineer verify --issued $issued of the export: $verify_ok"
grep -E "^(VERIFIED|FAILED|Time)" "$work/verify.txt" || true
if [ "$verify_ok" != yes ]; then tail -n 20 "$work/verify.txt" >&2; fi
if [ "$verify_ok" != yes ] || [ "$check_code" != 0 ]; then
  echo "crash-drill: FAILED" >&2
  exit 1
fi
echo "crash-drill: OK"
