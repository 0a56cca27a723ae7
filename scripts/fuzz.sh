#!/usr/bin/env bash
# Runs every Go fuzz target (func FuzzXxx in a _test.go file) for the given
# time each, e.g. scripts/fuzz.sh 3s, optionally only in directories
# matching a regular expression: scripts/fuzz.sh 2s '^(crypto|cmd)/'.
# Seed corpora (f.Add and testdata/fuzz/) also run in plain `go test`.
set -euo pipefail
t=${1:-3s}
only=${2:-.}
cd "$(dirname "$0")/.."
n=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# saved counts the inputs the fuzzer has saved for a target (0 if none).
saved() { if [ -d "$1" ]; then find "$1" -type f | wc -l; else echo 0; fi; }
while IFS=: read -r file fn; do
  dir=./$(dirname "$file")
  echo "fuzz $dir $fn ($t)"
  # Go's fuzzer sometimes ends a timed run with "context deadline exceeded"
  # while a worker is still minimising a new input; it saves no failing
  # input then. Such a run is retried; a saved input always fails.
  for try in 1 2 3; do
    before=$(saved "$dir/testdata/fuzz/$fn")
    if go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$t" "$dir" >"$log" 2>&1; then
      break
    fi
    after=$(saved "$dir/testdata/fuzz/$fn")
    if [ "$after" -eq "$before" ] && grep -q "context deadline exceeded" "$log" && [ "$try" -lt 3 ]; then
      echo "fuzz: $dir $fn hit the fuzzer's own time limit with no failing input; running it again"
      continue
    fi
    cat "$log"; echo "fuzz: $dir $fn failed (the failing input is in $dir/testdata/fuzz/$fn)"; exit 1
  done
  n=$((n+1))
done < <(git ls-files -co --exclude-standard '*_test.go' | grep -E "$only" | xargs -r grep -oE '^func (Fuzz[A-Za-z0-9_]+)' | sed 's/func //' | sort)
echo "fuzz: $n targets ran for $t each without a failure"
