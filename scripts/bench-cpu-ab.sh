#!/usr/bin/env bash
# scripts/bench-cpu-ab.sh REF: ballotd's CPU per complete vote, this tree
# against git revision REF, measured alternately on one database (issue
# #23). On a shared machine the CPU time of a vote drifts with the other
# work (two runs minutes apart differ by more than most changes), so the
# two builds take turns: ROUNDS rounds of one open-loop loadgen run against
# each (REF first), the same ballot, the same PostgreSQL.
#
# In a temporary directory: an ephemeral PostgreSQL (scripts/pg.sh), this
# tree's ballotd and loadgen and REF's ballotd (git archive), a demo ballot
# of $MEMBERS members, both ballotd serving it on their own ports (one is
# idle while the other is measured); then per round and build: `ballotd
# demo --sessions`, `loadgen -rate $RATE -duration $DURATION` against that
# build with its metrics listener and -postgres-pid. One `loadgen report`
# table at the end: rows ref-N and new-N, with the columns "ballotd CPU
# ms/vote" and "ballotd+PG CPU ms/vote" (see scripts/bench-system.sh).
#
# Knobs (environment): RATE (100 votes a second), DURATION (30s), ROUNDS
# (3), MEMBERS (enough for every run), POOL (32), KEEP=1 keeps the
# directory.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
if [ $# -ne 1 ]; then echo "usage: scripts/bench-cpu-ab.sh REF (a git revision to compare this tree with)" >&2; exit 2; fi
REF=$1
RATE=${RATE:-100}
DURATION=${DURATION:-30s}
ROUNDS=${ROUNDS:-3}
POOL=${POOL:-32}
secs=${DURATION%s}
per_run=$(awk -v r="$RATE" -v d="$secs" 'BEGIN { printf "%d", r * d }')
MEMBERS=${MEMBERS:-$((per_run * ROUNDS * 2 + 1000))}

work=$(mktemp -d "${TMPDIR:-/tmp}/eballot-ab-XXXXXX")
chmod 755 "$work" # the cluster may run as the postgres user
export EBALLOT_DATA_DIR=$work/data
cleanup() {
  for f in "$work"/*.pid; do [ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
  sleep 1
  scripts/pg.sh stop || true
  if [ "${KEEP:-}" = 1 ]; then echo "bench-cpu-ab: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
say() { printf '==> %s\n' "$*" >&2; }

say "building ballotd and loadgen of this tree and ballotd of $REF"
mkdir -p "$work/bin" "$work/runs" "$work/ref"
git archive "$REF" | tar -x -C "$work/ref"
(cd "$work/ref" && go build -o "$work/bin/ballotd-ref" ./cmd/ballotd)
new_rev="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . || echo ', with uncommitted changes')"
go build -o "$work/bin/ballotd-new" ./cmd/ballotd
go build -o "$work/bin/loadgen" ./cmd/loadgen
B=$work/bin

scripts/pg.sh start
DATABASE_URL="$(scripts/pg.sh url)&pool_max_conns=$POOL"
pg_pid=$(scripts/pg.sh pid)
EBALLOT_SECRET_KEY=$(head -c 32 /dev/urandom | base64)
# As scripts/bench-system.sh: the e-ballot order assumed in force (s.230(2)).
export DATABASE_URL EBALLOT_SECRET_KEY EBALLOT_SMS_PROVIDER=dev EBALLOT_LOG_LEVEL=warn EBALLOT_EVOTING_COMMENCEMENT=${EBALLOT_EVOTING_COMMENCEMENT:-2026-02-19}
say "loading a demo ballot with $MEMBERS members"
"$B/ballotd-new" demo --members "$MEMBERS" --trustee-dir "$work/trustees" >&2

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
serve() { # serve BUILD: starts ballotd-BUILD; its base URL and metrics URL go to files
  local port metrics; port=$(free_port); metrics=$(free_port)
  EBALLOT_ADDR=127.0.0.1:$port EBALLOT_METRICS_ADDR=127.0.0.1:$metrics "$B/ballotd-$1" serve >"$work/$1.log" 2>&1 &
  echo $! >"$work/$1.pid"
  echo "http://127.0.0.1:$port" >"$work/$1.url"; echo "http://127.0.0.1:$metrics" >"$work/$1.metrics"
  for _ in $(seq 1 300); do
    if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "bench-cpu-ab: ballotd-$1 did not become ready; its log:" >&2; cat "$work/$1.log" >&2; exit 1
}
serve ref
serve new

for r in $(seq 1 "$ROUNDS"); do
  for v in ref new; do
    say "round $r: $v ($RATE votes/s for $DURATION)"
    "$B/ballotd-new" demo --sessions "$per_run" --sessions-file "$work/sessions.txt" >&2
    "$B/loadgen" -target "$(cat "$work/$v.url")" -metrics "$(cat "$work/$v.metrics")" -postgres-pid "$pg_pid" \
      -sessions "$work/sessions.txt" -n "$per_run" -duration "$DURATION" -rate "$RATE" -concurrency 2000 -progress 0 -q \
      -out "$work/runs/$v-$r.json" || say "loadgen $v-$r: some votes failed (see the errors column)"
  done
done

echo
echo "bench-cpu-ab $REF — $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(go env GOVERSION); $RATE votes/s for $DURATION a run, $ROUNDS rounds"
echo "ref: $(git rev-parse --short "$REF"); new: this tree as built ($new_rev)"
"$B/loadgen" report -cores "$(nproc)" "$work"/runs/ref-*.json "$work"/runs/new-*.json
