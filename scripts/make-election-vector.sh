#!/usr/bin/env bash
# Remake crypto/testdata/election_v1.json, the closed election the JavaScript
# verifier's tests run on, with the scrutineer tool itself:
#   scrutineer fixture → decrypt (trustees 1 and 3) → tally → keygen → report.
# TEST KEYS ONLY. Run after a change to the manifest, export or report format:
#   scripts/make-election-vector.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "building the scrutineer tool"
go build -o "$work/scrutineer" ./cmd/scrutineer
s="$work/scrutineer"
printf 'test-passphrase\n' >"$work/pass"
cd "$work"
"$s" keygen --name test-scrutineer --out scrutineer.key --passphrase-file pass >/dev/null
"$s" fixture --ballots 12 --checkpoint-every 5 --out export.jsonl \
  --secrets secrets --passphrase-file pass --scrutineer-key scrutineer.key.pub >/dev/null
for j in 1 3; do
  "$s" decrypt --export export.jsonl --index "$j" --key "secrets/trustee-$j.key" \
    --share "secrets/share-$j.age" --passphrase-file pass --out "partial-$j.json" >/dev/null
done
"$s" tally --export export.jsonl --issued 6,6 --out result.json partial-1.json partial-3.json >/dev/null
"$s" report --result result.json --key scrutineer.key --passphrase-file pass \
  --date 2026-12-16 --out-dir report >/dev/null
cd - >/dev/null
python3 - "$work" <<'EOF'
import json, sys, os
w = sys.argv[1]
rd = lambda p: open(os.path.join(w, p)).read()
report = json.loads(rd('report/report.json'))
styles = report['result']['styles']
out = {
    "description": "A closed 12-ballot election made by `scrutineer fixture --ballots 12 --checkpoint-every 5` (TEST KEYS), its partial decryptions by trustees 1 and 3 (`scrutineer decrypt`), and the result and report signed by `scrutineer report` (crypto crypto/report); remade by scripts/make-election-vector.sh. The JavaScript verifier (crypto/js/src/verifier.mjs) must pass it and name every tampering.",
    "election_id": report['election_id'],
    "issued": [6, 6],
    "export": rd('export.jsonl'),
    "partials": [json.loads(rd('partial-1.json')), json.loads(rd('partial-3.json'))],
    "report": rd('report/report.json'),
    "signature": rd('report/report.json.sig'),
    "scrutineer_key": rd('scrutineer.key.pub').strip(),
    "expected": {
        "votes_cast": [s['votes_cast'] for s in styles],
        "counts": [[[o['count'] for o in q['options']] for q in s['questions']] for s in styles],
    },
}
with open('crypto/testdata/election_v1.json', 'w') as f:
    json.dump(out, f, indent=2, ensure_ascii=False)
    f.write('\n')
print('wrote crypto/testdata/election_v1.json:', out['expected'])
EOF
