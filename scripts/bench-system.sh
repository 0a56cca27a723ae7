#!/usr/bin/env bash
# make bench-system: the whole service under load, end to end (issue #11).
#
# In a temporary directory: an ephemeral PostgreSQL cluster (scripts/pg.sh,
# Unix socket only, fsync on), built ballotd/loadgen/scrutineer binaries, a
# demo ballot with $MEMBERS members, one `ballotd serve`; cmd/loadgen at each
# concurrency of $LEVELS; then a second `ballotd serve` on the same database
# and a run spread over both; then the ballot is closed, exported and
# `scrutineer verify` checks the whole ledger. Beside it, blind signing is
# measured on 2 cores at once (two single-core benchmark processes of
# crypto/blind) and printed under the table as what it is, an upper bound
# on complete votes/s; issue #23 replaced the old target "share of the
# blind-signing limit" with open-loop service levels (p99 at a fixed
# rate, errors, ballotd CPU per vote), so the table no longer has that
# share. One table at the end.
#
# Knobs (environment): MEMBERS (100000), LEVELS ("50 200 500"), DURATION
# (20s, the timed phase of each run), PER_RUN (votes prepared per run, 6000),
# POOL (database connections per ballotd, 32), KEEP=1 keeps the directory,
# PROFILE=FILE writes a CPU profile of replica A from the start of the
# timed phase of the first level of LEVELS to FILE (EBALLOT_DEBUG_ADDR on
# loopback, loadgen -cpuprofile-from; PROFILE_SECONDS long, 8 by default)
# and prints its top. RATE=R runs every level open loop (loadgen -rate R:
# R votes started a second; LEVELS are then the caps on votes in flight).
# IDLE_SECONDS=N first measures replica A's and PostgreSQL's CPU with no
# load for N s (loadgen idle) and prints it with the table. REPLICAS=1 leaves
# out the second replica and its run (REPLICAS=2, the default, runs it).
# The ledger's batch settings (EBALLOT_BATCH_MAX, _WAIT, _MIN, _MIN_WAIT)
# pass through to ballotd from the environment.
#
# The table's CPU columns (loadgen report): "ballotd CPU ms/vote" is the
# replicas' process_cpu_seconds_total over the timed phase per complete
# vote, PostgreSQL not included; "ballotd+PG CPU ms/vote" adds PostgreSQL's
# CPU time in the same phase (the postmaster's process tree in /proc,
# loadgen -postgres-pid); "CPU-bound votes/s" is what ballotd's figure
# allows on the machine's idle cores.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

MEMBERS=${MEMBERS:-100000}
LEVELS=${LEVELS:-"50 200 500"}
DURATION=${DURATION:-20s}
PER_RUN=${PER_RUN:-6000}
POOL=${POOL:-32}
RATE=${RATE:-}
REPLICAS=${REPLICAS:-2}
PROFILE_SECONDS=${PROFILE_SECONDS:-8}
IDLE_SECONDS=${IDLE_SECONDS:-}
case "$REPLICAS" in 1 | 2) ;; *) echo "bench-system: REPLICAS is 1 or 2, not $REPLICAS" >&2; exit 2 ;; esac
ELECTION=demo-strike-2026

work=$(mktemp -d "${TMPDIR:-/tmp}/eballot-bench-XXXXXX")
chmod 755 "$work" # the cluster may run as the postgres user
export EBALLOT_DATA_DIR=$work/data
pids=()
cleanup() {
  # serve runs in a command substitution (a subshell), so replicas record
  # their pids in files rather than in the pids array.
  for f in "$work"/*.pid; do [ -e "$f" ] && pids+=("$(cat "$f")"); done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do # graceful shutdown, then SIGKILL after 20 s
    for _ in $(seq 1 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  scripts/pg.sh stop || true
  if [ "${KEEP:-}" = 1 ]; then echo "bench-system: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
say() { printf '==> %s\n' "$*" >&2; }

say "building ballotd, loadgen, scrutineer and the crypto/blind benchmark"
mkdir -p "$work/bin" "$work/runs"
go build -o "$work/bin/ballotd" ./cmd/ballotd
go build -o "$work/bin/loadgen" ./cmd/loadgen
go build -o "$work/bin/scrutineer" ./cmd/scrutineer
go test -c -o "$work/bin/blind.test" ./crypto/blind

say "starting an ephemeral PostgreSQL in $work/data"
scripts/pg.sh start
DATABASE_URL="$(scripts/pg.sh url)&pool_max_conns=$POOL"
export DATABASE_URL
pg_pid=$(scripts/pg.sh pid)
EBALLOT_SECRET_KEY=$(head -c 32 /dev/urandom | base64)
# The demo ballot is voted online: assume the e-ballot order in force
# (s.230(2); scripts/run.sh says why), as the local demo does.
export EBALLOT_SECRET_KEY EBALLOT_SMS_PROVIDER=dev EBALLOT_LOG_LEVEL=warn EBALLOT_EVOTING_COMMENCEMENT=${EBALLOT_EVOTING_COMMENCEMENT:-2026-02-19}
B=$work/bin

say "loading a demo ballot with $MEMBERS members"
t0=$(date +%s.%N)
"$B/ballotd" demo --members "$MEMBERS" --trustee-dir "$work/trustees" >&2
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
load_s=$(since "$t0")

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
  echo $((20000 + RANDOM % 20000)); }
serve() { # serve NAME: starts a replica, prints its base URL
  local port debug="" metrics; port=$(free_port); metrics=127.0.0.1:$(free_port)
  echo "http://$metrics" >"$work/$1.metrics"
  if [ "$1" = replica-a ] && [ -n "${PROFILE:-}" ]; then debug=127.0.0.1:$(free_port); echo "$debug" >"$work/debug-addr"; fi
  EBALLOT_ADDR=127.0.0.1:$port EBALLOT_DEBUG_ADDR=$debug EBALLOT_METRICS_ADDR=$metrics "$B/ballotd" serve >"$work/$1.log" 2>&1 &
  echo $! >"$work/$1.pid"
  for _ in $(seq 1 300); do
    if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then echo "http://127.0.0.1:$port"; return 0; fi
    sleep 0.1
  done
  echo "bench-system: replica $1 did not become ready; its log:" >&2; cat "$work/$1.log" >&2; exit 1
}
A=$(serve replica-a)
say "replica A at $A"
idle=""
if [ -n "$IDLE_SECONDS" ]; then
  say "measuring the CPU of replica A and PostgreSQL with no load for ${IDLE_SECONDS}s"
  idle=$("$B/loadgen" idle -metrics "$(cat "$work/replica-a.metrics")" -postgres-pid "$pg_pid" -duration "${IDLE_SECONDS}s")
fi

runs=()
loadgen() { # loadgen LABEL CONCURRENCY TARGET...
  local label=$1 c=$2; shift 2
  local targets=(); for t in "$@"; do targets+=(-target "$t"); done
  for m in "$work"/replica-*.metrics; do targets+=(-metrics "$(cat "$m")"); done
  say "loadgen: $label (concurrency $c, ${#@} replica(s), at most $PER_RUN votes or $DURATION)"
  "$B/ballotd" demo --sessions "$PER_RUN" --sessions-file "$work/sessions-$label.txt" >&2
  "$B/loadgen" "${targets[@]}" -postgres-pid "$pg_pid" ${LOADGEN_EXTRA[@]+"${LOADGEN_EXTRA[@]}"} -sessions "$work/sessions-$label.txt" -n "$PER_RUN" -duration "$DURATION" -concurrency "$c" ${RATE:+-rate "$RATE"} -progress 5s -q \
    -out "$work/runs/$label.json" || say "loadgen $label: some votes failed (see the errors column)"
  runs+=("$work/runs/$label.json")
}
first_level=${LEVELS%% *}
for c in $LEVELS; do
  if [ -n "${PROFILE:-}" ] && [ "$c" = "$first_level" ]; then
    LOADGEN_EXTRA=(-cpuprofile-from "http://$(cat "$work/debug-addr")" -cpuprofile "$PROFILE" -cpuprofile-seconds "${PROFILE_SECONDS}s")
    first_level="" # one profile, of the first level
  else
    LOADGEN_EXTRA=()
  fi
  loadgen "1x$c" "$c" "$A"
done
LOADGEN_EXTRA=()
if [ "$REPLICAS" = 2 ]; then
  Bu=$(serve replica-b)
  say "replica B at $Bu (same database)"
  loadgen "2x200" 200 "$A" "$Bu"
fi

say "closing the ballot, exporting and verifying the whole ledger"
"$B/ballotd" demo --close >&2
curl -fsS "$A/ledger/v1/$ELECTION/export" -o "$work/export.jsonl"
t0=$(date +%s.%N)
verify_ok=yes
"$B/scrutineer" verify "$work/export.jsonl" >"$work/verify.txt" 2>&1 || verify_ok=NO
verify_s=$(since "$t0")
entries=$(head -n 1 "$work/export.jsonl" | sed -n 's/.*"tree_size":\([0-9]*\).*/\1/p')
expected=0
for r in "${runs[@]}"; do expected=$((expected + $(sed -n 's/.*"complete_votes": \([0-9]*\).*/\1/p' "$r"))); done

say "measuring blind signing on 2 cores (two single-core benchmark processes at once)"
bench_one() { (cd crypto/blind && "$B/blind.test" -test.run '^$' -test.bench '^BenchmarkBlindSign$' -test.benchtime 3s -test.cpu 1) |
  awk '/^BenchmarkBlindSign/ {print $3}'; }
bench_one >"$work/blind1" & p1=$!
bench_one >"$work/blind2" & p2=$!
wait $p1 $p2
ns1=$(cat "$work/blind1"); ns2=$(cat "$work/blind2")
blind_rate=$(awk -v a="$ns1" -v b="$ns2" 'BEGIN { printf "%.0f", 1e9 / a + 1e9 / b }')

echo
echo "make bench-system — $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(go env GOVERSION), $("$(scripts/pg.sh bindir)/postgres" --version)"
echo "ballot: $MEMBERS members loaded in ${load_s}s; each run: at most $PER_RUN votes or $DURATION; $POOL database connections per replica"
[ -z "$idle" ] || echo "before the runs, no load: $idle"
echo
"$B/loadgen" report -cores "$(nproc)" "${runs[@]}"
echo
echo "blind signing (RSA-2048, crypto/blind BenchmarkBlindSign) on 2 cores at once: $(awk -v a="$ns1" 'BEGIN { printf "%.0f", a / 1000 }') µs and $(awk -v a="$ns2" 'BEGIN { printf "%.0f", a / 1000 }') µs a signature = $blind_rate signatures/s (the limit of complete votes/s)"
a200=$(sed -n 's/.*"votes_per_second": \([0-9.]*\).*/\1/p' "$work/runs/1x200.json" 2>/dev/null || echo 0)
b200=$(sed -n 's/.*"votes_per_second": \([0-9.]*\).*/\1/p' "$work/runs/2x200.json" 2>/dev/null || true)
if [ -n "$a200" ] && [ "$a200" != 0 ] && [ -n "$b200" ]; then
  echo "two replicas on one database vs one, concurrency 200: $b200 vs $a200 votes/s ($(awk -v a="$a200" -v b="$b200" 'BEGIN { printf "%.2f", b / a }')×)"
fi
if [ -n "${PROFILE:-}" ] && [ -s "$PROFILE" ]; then
  echo "CPU profile of replica A at the first level, ${LEVELS%% *} (first $PROFILE_SECONDS s of the timed phase): $PROFILE"
  go tool pprof -top -cum -nodecount 40 "$B/ballotd" "$PROFILE" 2>&1 | sed -n '1,48p'
fi
echo "ledger after the runs: $entries entries, $expected complete votes reported by loadgen; scrutineer verify: $verify_ok (${verify_s}s)"
if [ "$verify_ok" != yes ] || [ "$entries" != "$expected" ]; then
  echo "bench-system: the ledger does not check out:" >&2
  tail -n 20 "$work/verify.txt" >&2
  exit 1
fi
