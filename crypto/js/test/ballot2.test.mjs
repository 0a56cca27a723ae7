// Version-2 ballots (src/ballot2.mjs): the JS vectors of
// crypto/testdata/js_ballot2_v1.json (checked by Go in
// crypto/ballot/js_v2_interop_test.go) and fresh encryptions have the
// manifest's ballot size and their parts decode and verify as §9.1 ranked
// ballots and §4.2 choose questions; the yes/no bundle carries none of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as R from '../src/ranked-index.mjs';
import * as Y from '../src/index.mjs';

const TD = new URL('../../testdata/', import.meta.url);
const mf = JSON.parse(readFileSync(new URL('manifest_v2.json', TD), 'utf8'));
const hash = R.fromHex(mf.hash);

test('encryptBallotV2 makes a ballot of the manifest size whose ranked part verifies', () => {
  const { ballot, nonces, openings } = R.encryptBallotV2(mf.manifest, hash, 0, [[0, 1, 0], [2, 0]]);
  const bytes = R.encodeBallotV2(ballot);
  assert.equal(bytes.length, mf.ballot_size);
  assert.equal(bytes[0], 2);
  assert.equal(nonces[0].length, 3);
  assert.equal(openings[0], null);
  assert.deepEqual(openings[1].ranking, [2, 0]);
  const c = R.rankedContest(mf.manifest, hash, 1);
  const part = bytes.subarray(bytes.length - R.rankedBallotSize(c));
  assert.equal(R.verifyRankedBallot(c, R.decodeRankedBallot(c, part)), null);
  // The choose part is the version-1 question encoding: as a one-question v1 ballot it verifies.
  const v1 = { ...mf.manifest, version: 1, kind: 'statutory', questions: [mf.manifest.questions[0]] };
  const q0 = R.encodeBallot({ version: 1, manifestHash: hash, style: 0, questions: [ballot.questions[0]] });
  assert.equal(R.verifyBallot(v1, hash, R.decodeBallot(v1, hash, q0)), true);
});

test('encryptBallotV2 refuses bad rankings and marks; encryptBallot refuses a ranked manifest', () => {
  assert.throws(() => R.encryptBallotV2(mf.manifest, hash, 0, [[0, 0, 0], []]));
  assert.throws(() => R.encryptBallotV2(mf.manifest, hash, 0, [[0, 0, 0], [1, 1]]));
  assert.throws(() => R.encryptBallotV2(mf.manifest, hash, 0, [[1, 1, 0], [1]]));
  assert.throws(() => R.encryptBallotV2(mf.manifest, hash, 1, [[0, 0, 0], [1]]));
  assert.throws(() => R.encryptBallot(mf.manifest, hash, 0, [[0, 0, 0], [0, 0, 0, 0, 0]]), /version-2/);
});

test('the JS vectors carry their trackers', () => {
  const v = JSON.parse(readFileSync(new URL('js_ballot2_v1.json', TD), 'utf8'));
  assert.ok(v.valid.length >= 2);
  for (const b of v.valid) assert.equal(R.toHex(R.tracker(hash, R.fromHex(b.ballot))), b.tracker);
});

test('the yes/no entry does not export the version-2 encoder', () => {
  assert.equal(Y.encryptBallotV2, undefined);
  assert.equal(typeof R.encryptBallotV2, 'function');
});
