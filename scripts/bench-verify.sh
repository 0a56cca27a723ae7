#!/usr/bin/env bash
# Verification against Belenios in one run (docs/benchmarks.md, issue 23):
# `scrutineer verify` of N one-question yes/no ballots (ballot version 1,
# then the compact version 3 of protocol 7, in the same run), then Debian's
# belenios-tool 2.0 `election verify` of its own election of BELENIOS_N
# ballots with one homomorphic yes/no question (the closest peer: one
# ciphertext per answer with its proofs), and the ratio per ballot.
#
#   scripts/bench-verify.sh                      # N=10000, BELENIOS_N=1000
#   N=2000 BELENIOS_N=200 scripts/bench-verify.sh
#   BELENIOS_CACHE=~/.cache/eballot-belenios scripts/bench-verify.sh
#
# BELENIOS_CACHE=DIR keeps the Belenios election (its ballots and encrypted
# tally, which take minutes to make) in DIR/n-BELENIOS_N and reuses it on
# later runs: only the making is cached, both verifications still run
# every time, in the same run.
# belenios-tool is installed with apt-get when missing (needs root or
# sudo); if it cannot be installed, the script says so and skips the
# comparison. Its tool makes one ballot per process, so making the
# Belenios ballots takes minutes; only the verifications are compared.
# The figures are wall and CPU (user+sys) times of one run each; the ratio
# is taken on CPU time per ballot (our verifier uses every core, so its
# wall time gains more on a multi-core machine).
set -euo pipefail
N=${N:-10000}
BELENIOS_N=${BELENIOS_N:-1000}
cd "$(dirname "$0")/.."
. scripts/belenios.sh
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

go build -o "$dir/scrutineer" ./cmd/scrutineer
# ours NAME FLAGS…: scrutineer verify of N ballots of a fixture made with
# FLAGS; sets ${NAME}_wall, ${NAME}_us (CPU µs a ballot).
ours() {
  local name=$1 w u s m cpu us
  shift
  echo "== scrutineer verify: N=$N one-question yes/no ballots ($name${*:+: $*}) =="
  "$dir/scrutineer" fixture --fast "$@" --ballots "$N" --out "$dir/e-$name.jsonl" >/dev/null
  /usr/bin/time -f "%e %U %S %M" -o "$dir/$name.time" "$dir/scrutineer" verify "$dir/e-$name.jsonl" > "$dir/$name.out"
  grep -q VERIFIED "$dir/$name.out" || { echo "bench-verify: our export did not verify:"; cat "$dir/$name.out"; exit 1; }
  rm -f "$dir/e-$name.jsonl"
  read -r w u s m < "$dir/$name.time"
  cpu=$(echo "$u + $s" | bc)
  us=$(echo "scale=1; $cpu * 1000000 / $N" | bc)
  echo "wall $w s, CPU $cpu s ($us µs a ballot), peak RSS $((m / 1024)) MiB"
  printf -v "${name}_wall" '%s' "$w"
  printf -v "${name}_us" '%s' "$us"
}
# Ballot version 1 (two selections and a sum proof) and the compact
# version 3 of protocol 7 (one ciphertext and one proof), in the same run.
ours v1
echo
ours v3 --compact
echo "v1 / v3: CPU $(echo "scale=2; $v1_us / $v3_us" | bc)×, wall $(echo "scale=2; $v1_wall / $v3_wall" | bc)×"
ow=$v3_wall
ous=$v3_us

echo
echo "== belenios-tool election verify: BELENIOS_N=$BELENIOS_N ballots, one Homomorphic yes/no question =="
belenios_install bench-verify || exit 0
cd "$dir"
cached=${BELENIOS_CACHE:+$BELENIOS_CACHE/n-$BELENIOS_N}
if [ -n "$cached" ] && [ -f "$cached/.complete" ]; then
  echo "reusing the Belenios election of $BELENIOS_N ballots made earlier in $cached (BELENIOS_CACHE)"
  cp -r "$cached" bel && cd bel
else
  mkdir bel && cd bel
  belenios_election BELENIOS-2048 "$BELENIOS_N" \
    '{"description":"bench","name":"bench","questions":[{"answers":["Yes","No"],"min":1,"max":1,"question":"Q"}]}'
  start=$(date +%s.%N)
  i=0
  while read -r _ cred; do
    if [ $((i % 2)) -eq 0 ]; then b='[[1,0]]'; else b='[[0,1]]'; fi
    belenios-tool election generate-ballot --privcred <(echo "$cred") --ballot <(echo "$b") 2>/dev/null |
      belenios-tool archive add-event --type=Ballot 2>/dev/null
    i=$((i + 1))
    if [ $((i % 100)) -eq 0 ]; then echo "  $i ballots made" >&2; fi
  done < private_creds.txt
  echo "ballots generated in $(echo "$(date +%s.%N) - $start" | bc) s (one process a ballot; not part of the comparison)"
  belenios-tool archive add-event --type=EndBallots < /dev/null 2>/dev/null
  belenios-tool election compute-encrypted-tally 2>/dev/null | belenios-tool archive add-event --type=EncryptedTally 2>/dev/null
  if [ -n "$cached" ]; then
    rm -rf "$cached" && mkdir -p "$cached" && cp -r . "$cached" && touch "$cached/.complete"
  fi
fi
/usr/bin/time -f "%e %U %S %M" -o ../bel.time belenios-tool election verify > ../bel.out 2>&1 ||
  { echo "bench-verify: belenios-tool election verify failed:"; cat ../bel.out; exit 1; }
read -r bw bu bs bm < ../bel.time
bcpu=$(echo "$bu + $bs" | bc)
bus=$(echo "scale=1; $bcpu * 1000000 / $BELENIOS_N" | bc)
echo "wall $bw s, CPU $bcpu s ($bus µs a ballot), peak RSS $((bm / 1024)) MiB"

echo
echo "== per ballot (scrutineer: compact version-3 ballots; version 1 in brackets) =="
echo "CPU: belenios-tool / scrutineer = $(echo "scale=1; $bus / $ous" | bc)× ($(echo "scale=1; $bus / $v1_us" | bc)×) (target ≥ 150×)"
echo "wall: $(echo "scale=6; r = ($bw / $BELENIOS_N) / ($ow / $N); scale=1; r / 1" | bc)× ($(echo "scale=6; r = ($bw / $BELENIOS_N) / ($v1_wall / $N); scale=1; r / 1" | bc)×)"
