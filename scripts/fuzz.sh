#!/usr/bin/env bash
# Runs every Go fuzz target (func FuzzXxx in a _test.go file) for the given
# time each, e.g. scripts/fuzz.sh 3s. The checked-in seed corpora
# (testdata/fuzz/) run as part of plain `go test` too.
set -euo pipefail
t=${1:-3s}
cd "$(dirname "$0")/.."
n=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
while IFS=: read -r file fn; do
  dir=./$(dirname "$file")
  echo "fuzz $dir $fn ($t)"
  if ! go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$t" "$dir" >"$log" 2>&1; then
    cat "$log"; echo "fuzz: $dir $fn failed (the failing input is in $dir/testdata/fuzz/$fn)"; exit 1
  fi
  n=$((n+1))
done < <(git ls-files -co --exclude-standard '*_test.go' | xargs -r grep -oE '^func (Fuzz[A-Za-z0-9_]+)' | sed 's/func //' | sort)
echo "fuzz: $n targets ran for $t each without a failure"
