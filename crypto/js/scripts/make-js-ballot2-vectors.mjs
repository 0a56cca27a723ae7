// JS → Go interop vectors for version-2 ballots (docs/protocol.md §4.2
// "Version 2"): ballots made by the shipped ranked bundle
// (dist/eballot-ranked.min.js) for the version-2 manifest of
// crypto/testdata/manifest_v2.json, with their trackers, written to
// crypto/testdata/js_ballot2_v1.json and checked by the Go test
// crypto/ballot/js_v2_interop_test.go (and, JS side, test/ballot2.test.mjs).
//
// Usage: node crypto/js/scripts/make-js-ballot2-vectors.mjs   (after make js)
// The output changes on every run (fresh randomness); commit it once.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const JS = join(dirname(fileURLToPath(import.meta.url)), '..');
const TESTDATA = join(JS, '..', 'testdata');
const E = await import(join(JS, 'dist', 'eballot-ranked.min.js'));

const mf = JSON.parse(readFileSync(join(TESTDATA, 'manifest_v2.json'), 'utf8'));
const manifest = mf.manifest;
const hash = E.fromHex(mf.hash);
const hexScalars = (xs) => xs.map((x) => E.toHex(E.encodeScalar(x)));
// manifest_v2.json: question 0 chooses 0–1 of 3, question 1 ranks 1–5 of 5.
const cases = [
  [[0, 0, 0], [0]],
  [[1, 0, 0], [4, 2]],
  [[0, 0, 1], [1, 0, 2, 3, 4]],
  [[0, 1, 0], [3, 1, 4]],
];
const valid = cases.map((choices) => {
  const { ballot, nonces, openings } = E.encryptBallotV2(manifest, hash, 0, choices);
  const bytes = E.encodeBallotV2(ballot);
  const ranked = openings.map((op) => op && { used_nonces: hexScalars(op.usedNonces), rank_nonces: hexScalars(op.rankNonces) });
  return {
    name: `choices ${JSON.stringify(choices)}`, style: 0, choices, ballot: E.toHex(bytes),
    tracker: E.toHex(E.tracker(hash, bytes)), nonces: nonces.map(hexScalars), rankings: ranked,
  };
});
// Tampered ballots: Go must reject each with the named error.
const base = E.fromHex(valid[1].ballot);
const other = E.fromHex(valid[2].ballot);
const rankedAt = base.length - E.rankedBallotSize(E.rankedContest(manifest, hash, 1)); // the ranked part
const edit = (name, error, f) => {
  let b = Uint8Array.from(base);
  b = f(b) ?? b;
  return { name, error, ballot: E.toHex(b) };
};
const invalid = [
  edit('version 1 header', 'malformed', (b) => { b[0] = 1; }),
  edit('ranked part of another ballot with this choose part', 'invalid_ranking', (b) => {
    b.set(other.subarray(rankedAt + 39, rankedAt + 39 + 64), rankedAt + 39); // B_0
  }),
  edit('choose sum proof of another ballot', 'bad_proof', (b) => { b.set(other.subarray(rankedAt - 128, rankedAt), rankedAt - 128); }),
  edit('ranked part says contest 0', 'malformed', (b) => { b[rankedAt + 36] = 0; }),
  edit('truncated', 'malformed', (b) => b.subarray(0, b.length - 1)),
];
writeFileSync(join(TESTDATA, 'js_ballot2_v1.json'), `${JSON.stringify({
  description: 'version-2 ballots made by crypto/js (dist/eballot-ranked.min.js) for manifest_v2.json; see crypto/testdata/README.md',
  manifest_hash: mf.hash, ballot_size: base.length, valid, invalid,
}, null, 1)}\n`);
console.log('wrote crypto/testdata/js_ballot2_v1.json');
