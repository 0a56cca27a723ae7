#!/usr/bin/env bash
# Mix-and-prove benchmark (docs/benchmarks.md, "Verifiable shuffle"): one
# trustee's shuffle and proof of N ranked ballots of 10 candidates with
# crypto/shuffle (packed, 2 ciphertexts a ballot, and unpacked, 10), and
# its verification; then, in the same run, Belenios's shuffle of ballots of
# its own STV election (a non-homomorphic question of 10 answers) with
# Debian's belenios-tool 2.0.
#
#   scripts/bench-shuffle.sh                 # N=100000 for Go, 1000 for Belenios
#   N=10000 BELENIOS_N=200 scripts/bench-shuffle.sh
#
# belenios-tool is installed with apt-get when missing (needs root or sudo);
# if it cannot be installed, the script says so and skips the comparison.
# Belenios 2.0 offers only 2048-bit finite-field groups, and its tool makes
# one ballot per process, so it is run for BELENIOS_N ballots and its cost
# is extrapolated to N linearly (printed as an extrapolation).
# The machine is shared: the figures are wall and CPU times of one run.
set -euo pipefail
N=${N:-100000}
BELENIOS_N=${BELENIOS_N:-1000}
cd "$(dirname "$0")/.."
. scripts/belenios.sh

echo "== crypto/shuffle: N=$N ballots of 10 candidates =="
echo "-- packed (crypto/ranked: 5 ranks a ciphertext, 2 ciphertexts a ballot)"
go run ./crypto/internal/benchmix -n "$N" -w 2
echo "-- unpacked (10 ciphertexts a ballot, as Belenios)"
go run ./crypto/internal/benchmix -n "$N" -w 10

echo
echo "== belenios-tool: N=$BELENIOS_N ballots, NonHomomorphic question of 10 answers =="
belenios_install bench-shuffle || exit 0
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
# RFC-3526-2048: the 2.0 group that encodes integers (non-homomorphic questions)
belenios_election RFC-3526-2048 "$BELENIOS_N" \
  '{"description":"bench","name":"bench","questions":[{"type":"NonHomomorphic","value":{"answers":["1","2","3","4","5","6","7","8","9","10"],"question":"Rank"}}]}'
start=$(date +%s.%N)
while read -r _ cred; do
  ranks=$(shuf -i 1-10 | paste -sd, -)
  belenios-tool election generate-ballot --privcred <(echo "$cred") --ballot <(echo "[[${ranks}]]") 2>/dev/null |
    belenios-tool archive add-event --type=Ballot 2>/dev/null
done < private_creds.txt
echo "ballots generated in $(echo "$(date +%s.%N) - $start" | bc) s (one process a ballot; not part of the comparison)"
belenios-tool archive add-event --type=EndBallots < /dev/null 2>/dev/null
belenios-tool election compute-encrypted-tally 2>/dev/null | belenios-tool archive add-event --type=EncryptedTally 2>/dev/null
/usr/bin/time -f "%e %U %M" -o shuffle.time belenios-tool election shuffle --trustee-id=1 > shuffle.json 2>/dev/null
/usr/bin/time -f "%e %U %M" -o verify0.time belenios-tool election verify >/dev/null 2>&1
belenios-tool archive add-event --type=Shuffle < shuffle.json 2>/dev/null
/usr/bin/time -f "%e %U %M" -o verify1.time belenios-tool election verify >/dev/null 2>&1
read -r sw su sm < shuffle.time
read -r v0 _ _ < verify0.time
read -r v1 _ v1m < verify1.time
vs=$(echo "$v1 - $v0" | bc)
echo "shuffle+prove: wall $sw s, CPU $su s, peak RSS $((sm / 1024)) MiB, proof $(($(wc -c < shuffle.json) / 1024)) KiB"
echo "verify (election verify with the shuffle minus without): wall $vs s, peak RSS $((v1m / 1024)) MiB"
if [ "$N" != "$BELENIOS_N" ]; then
  echo "extrapolated to N=$N (linear, NOT measured): shuffle+prove $(echo "$sw * $N / $BELENIOS_N" | bc) s, verify $(echo "$vs * $N / $BELENIOS_N" | bc) s"
fi
