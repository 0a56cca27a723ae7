// JS → Go interop vectors for protocol 7 compact ballots (§4.2 version 3):
// ballots made by the shipped bundle for the manifest of
// crypto/testdata/ballot_v3.json, written to
// crypto/testdata/js_ballot3_v1.json and checked by the Go test
// crypto/ballot/js_v3_interop_test.go.
//
// Usage: node crypto/js/scripts/make-js-ballot3-vectors.mjs   (after make js)
// The output changes on every run (fresh randomness); commit it once.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const JS = join(dirname(fileURLToPath(import.meta.url)), '..');
const TESTDATA = join(JS, '..', 'testdata');
const E = await import(join(JS, 'dist', 'eballot.min.js'));

const src = JSON.parse(readFileSync(join(TESTDATA, 'ballot_v3.json'), 'utf8'));
const { manifest, hash: mh } = await E.parseManifest(JSON.stringify(src.manifest));
if (E.toHex(mh) !== src.manifest_hash) throw new Error('manifest hash differs from ballot_v3.json');

const answers = (q) => [[1, 0], [0, 1], [0, 0]].filter((c) => c[0] + c[1] >= q.min);
const cartesian = (lists) => lists.reduce((acc, l) => acc.flatMap((a) => l.map((x) => [...a, x])), [[]]);
const valid = [];
for (let style = 0; style < manifest.styles.length; style++) {
  for (const choices of cartesian(manifest.questions.map(answers))) {
    const { ballot, nonces } = E.encryptBallot(manifest, mh, style, choices);
    const bytes = E.encodeBallot(ballot);
    if (!E.verifyBallot(manifest, mh, E.decodeBallot(manifest, mh, bytes))) throw new Error('self-check failed');
    const T = E.tracker(mh, bytes);
    valid.push({
      name: `${manifest.styles[style].id} ${choices.map((c) => c.join('')).join(' ')}`,
      style,
      choices,
      audit: E.auditRecord(choices, nonces),
      binary: E.toHex(bytes),
      json: E.encodeBallotJSON(ballot),
      tracker: E.toHex(T),
    });
  }
}
const out = {
  description: 'Compact (version 3) ballots made by crypto/js (dist/eballot.min.js) for the manifest of ballot_v3.json; Go must decode, verify and audit each, and decrypt it to 0, 1 or B (crypto/ballot/js_v3_interop_test.go). Regenerate: node crypto/js/scripts/make-js-ballot3-vectors.mjs',
  manifest_hash: src.manifest_hash,
  valid,
};
writeFileSync(join(TESTDATA, 'js_ballot3_v1.json'), `${JSON.stringify(out, null, 2)}\n`);
console.log(`wrote ${valid.length} ballots`);
