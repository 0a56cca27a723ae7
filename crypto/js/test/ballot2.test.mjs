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

test('js_ballot2_v1.json: every valid ballot decodes, verifies and passes its audit; every invalid one gets Go\'s verdict', () => {
  const v = JSON.parse(readFileSync(new URL('js_ballot2_v1.json', TD), 'utf8'));
  const verdict = (hex) => {
    let b;
    try {
      b = R.decodeBallotV2(mf.manifest, hash, R.fromHex(hex));
    } catch (e) {
      return e.kind;
    }
    return R.verifyBallotV2(mf.manifest, hash, b)?.kind ?? 'valid';
  };
  for (const c of v.valid) {
    const b = R.decodeBallotV2(mf.manifest, hash, R.fromHex(c.ballot));
    assert.equal(b.style, c.style, c.name);
    assert.equal(R.verifyBallotV2(mf.manifest, hash, b), null, c.name);
    assert.equal(R.toHex(R.encodeBallotV2(b)), c.ballot, `${c.name}: re-encodes`);
    const audit = { choices: c.choices, nonces: c.nonces, rankings: c.rankings };
    assert.equal(R.checkAuditV2(mf.manifest, hash, b, audit), true, `${c.name}: audit`);
    // Another ranking, or a nonce of another candidate, fails the audit.
    const q = mf.manifest.questions.findIndex((x) => x.method === 'ranked');
    if (c.choices[q].length >= 2) {
      const swapped = c.choices.map((x, i) => (i === q ? [x[1], x[0], ...x.slice(2)] : x));
      assert.equal(R.checkAuditV2(mf.manifest, hash, b, { ...audit, choices: swapped }), false, `${c.name}: swapped ranking`);
    }
    const rk = c.rankings[q];
    const other = { ...rk, rank_nonces: [rk.rank_nonces[1], rk.rank_nonces[0], ...rk.rank_nonces.slice(2)] };
    assert.equal(R.checkAuditV2(mf.manifest, hash, b, { ...audit, rankings: c.rankings.map((x, i) => (i === q ? other : x)) }), false, `${c.name}: swapped nonces`);
  }
  assert.ok(v.invalid.length >= 5);
  for (const c of v.invalid) assert.equal(verdict(c.ballot), c.error, c.name);
  // A ballot for another manifest, and a fresh ballot with its ranked part's rank ciphertexts swapped.
  const other = R.fromHex(v.valid[0].ballot);
  other[1] ^= 1;
  assert.equal(verdict(R.toHex(other)), 'wrong_manifest');
  const { ballot } = R.encryptBallotV2(mf.manifest, hash, 0, [[0, 0, 1], [3, 1, 4]]);
  const bytes = R.encodeBallotV2(ballot);
  assert.equal(verdict(R.toHex(bytes)), 'valid');
  const c = R.rankedContest(mf.manifest, hash, 1);
  const r0 = bytes.length - R.rankedBallotSize(c) + 39 + 64 * c.candidates;
  const t = bytes.slice();
  t.set(bytes.subarray(r0 + 64, r0 + 128), r0);
  t.set(bytes.subarray(r0, r0 + 64), r0 + 64);
  const bad = R.verifyBallotV2(mf.manifest, hash, R.decodeBallotV2(mf.manifest, hash, t));
  assert.equal(bad.kind, 'invalid_ranking');
  assert.equal(bad.question, 1);
  assert.match(bad.detail, /ranks are not a permutation of the positions/);
});

test('auditRecordV2 of a fresh encryption passes checkAuditV2 (the phone\'s cast-or-audit)', () => {
  const choices = [[1, 0, 0], [4, 2]];
  const { ballot, nonces, openings } = R.encryptBallotV2(mf.manifest, hash, 0, choices);
  const rec = R.auditRecordV2(choices, nonces, openings);
  assert.deepEqual(rec.rankings[0], null);
  assert.equal(rec.rankings[1].used_nonces.length, 5);
  const decoded = R.decodeBallotV2(mf.manifest, hash, R.encodeBallotV2(ballot));
  assert.equal(R.checkAuditV2(mf.manifest, hash, decoded, JSON.parse(JSON.stringify(rec))), true);
  assert.equal(R.checkAuditV2(mf.manifest, hash, decoded, { ...rec, choices: [[0, 1, 0], [4, 2]] }), false);
  assert.equal(R.checkAuditV2(mf.manifest, hash, decoded, { ...rec, choices: [[1, 0, 0], [4, 3]] }), false);
});
