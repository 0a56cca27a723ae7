// JS → Go interop vectors for ranked ballots (docs/protocol.md §9.1): ballots
// made by the shipped ranked bundle (dist/eballot-ranked.min.js) for the
// contest and key of crypto/testdata/ranked_v1.json and for a second contest
// of 10 candidates under the same key, written to
// crypto/testdata/js_ranked_v1.json and checked by the Go test
// crypto/ranked/js_interop_test.go (and, JS side, test/ranked.test.mjs).
//
// Usage: node crypto/js/scripts/make-js-ranked-vectors.mjs   (after make js)
// The output changes on every run (fresh randomness); commit it once.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const JS = join(dirname(fileURLToPath(import.meta.url)), '..');
const TESTDATA = join(JS, '..', 'testdata');
const E = await import(join(JS, 'dist', 'eballot-ranked.min.js'));

const go = JSON.parse(readFileSync(join(TESTDATA, 'ranked_v1.json'), 'utf8'));
const contests = [
  { ...go.contest, rankings: [[0], [3, 0, 1], [1, 2], [2, 1, 0], [3]] },
  { index: 2, styles: 1, candidates: 10, min_ranked: 0, max_ranked: 10, rankings: [[], [9], [4, 2, 7], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0], [0, 1, 2, 3, 4, 5]] },
];
const hexScalars = (xs) => xs.map((x) => E.toHex(E.encodeScalar(x)));

const out = {
  description: 'ranked ballots made by crypto/js (dist/eballot-ranked.min.js); see crypto/testdata/README.md',
  manifest_hash: go.manifest_hash,
  election_key: go.election_key,
  contests: [],
};
for (const spec of contests) {
  const c = {
    manifestHash: E.fromHex(go.manifest_hash), K: E.decodeElement(E.fromHex(go.election_key)), index: spec.index,
    styles: spec.styles, candidates: spec.candidates, minRanked: spec.min_ranked, maxRanked: spec.max_ranked,
  };
  const valid = [];
  for (let style = 0; style < c.styles; style++) {
    for (const ranking of spec.rankings) {
      const { ballot, opening } = E.encryptRanking(c, style, ranking);
      const bytes = E.encodeRankedBallot(c, ballot);
      if (E.verifyRankedBallot(c, E.decodeRankedBallot(c, bytes)) !== null) throw new Error('self-check failed');
      valid.push({
        name: `style ${style}, ranking [${ranking.join(', ')}]`, style, ranking, ballot: E.toHex(bytes),
        used_nonces: hexScalars(opening.usedNonces), rank_nonces: hexScalars(opening.rankNonces),
      });
    }
  }
  // Tampered JS ballots: Go must reject each with the given error kind.
  const n = c.candidates;
  const base = E.fromHex(valid[1].ballot);
  const other = E.fromHex(valid[2].ballot);
  const rOff = 39 + 64 * n; // R_0
  const edit = (name, error, f) => {
    const b = Uint8Array.from(base);
    f(b);
    return { name, error, ballot: E.toHex(b) };
  };
  const invalid = [
    edit('R_0 and R_1 swapped', 'invalid_ranking', (b) => {
      b.set(base.subarray(rOff + 64, rOff + 128), rOff);
      b.set(base.subarray(rOff, rOff + 64), rOff + 64);
    }),
    edit('R of another ballot', 'invalid_ranking', (b) => b.set(other.subarray(rOff, rOff + 64 * n), rOff)),
    edit('B_0 of another ballot', 'invalid_ranking', (b) => b.set(other.subarray(39, 103), 39)),
    edit('last byte of the ranking proof changed', 'invalid_ranking', (b) => { b[b.length - 32] ^= 1; }),
    edit('truncated', 'malformed', () => {}),
  ];
  invalid[invalid.length - 1].ballot = invalid[invalid.length - 1].ballot.slice(0, -2);
  out.contests.push({
    index: c.index, styles: c.styles, candidates: n, min_ranked: c.minRanked, max_ranked: c.maxRanked,
    ballot_size: E.rankedBallotSize(c), valid, invalid,
  });
}
writeFileSync(join(TESTDATA, 'js_ranked_v1.json'), `${JSON.stringify(out, null, 1)}\n`);
console.log('wrote crypto/testdata/js_ranked_v1.json');
