// Batch verification of ballot proofs (src/batch.mjs): the multi-scalar
// multiplication against one multiplication at a time, and a batch that
// names exactly the ballots whose proofs fail, whatever is wrong in them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { E, JS_DIR, flip, testManifest } from '../testlib/helpers.mjs';

const V = await import(join(JS_DIR, 'dist', 'eballot-verifier.min.js'));

const fx = await testManifest([
  { id: 'strike', text: 'Strike?', options: [{ id: 'yes', label: 'Yes' }, { id: 'no', label: 'No' }], min: 1, max: 1 },
  { id: 'board', text: 'Elect two', options: ['a', 'b', 'c'].map((id) => ({ id, label: id.toUpperCase() })), min: 0, max: 2 },
]);
const { manifest, hash: mh } = fx;
const make = (i) => E.encryptBallot(manifest, mh, 0, [[i % 2, 1 - (i % 2)], [i % 2, 0, (i >> 1) % 2]]).ballot;
const ballots = Array.from({ length: 12 }, (_, i) => make(i));

test('msm is the sum of the products, for short, long, zero and repeated scalars', () => {
  for (const n of [0, 1, 3, 17, 70]) {
    const pts = Array.from({ length: n }, (_, i) => V.G.multiply(BigInt(i + 2) * 7919n));
    const sc = pts.map((_, i) => (i % 5 === 0 ? 0n : i % 3 === 0 ? E.randomScalar() : BigInt(i) << BigInt(4 * i)) % E.L);
    let want = V.G.subtract(V.G);
    pts.forEach((p, i) => { if (sc[i] !== 0n) want = want.add(p.multiply(sc[i])); });
    assert.ok(V.msm(pts, sc).equals(want), `n = ${n}`);
  }
});

test('an honest batch passes, with every ballot\'s ciphertexts', () => {
  const out = V.batchVerifyBallots(manifest, mh, ballots);
  assert.deepEqual(out.bad, []);
  out.cts.forEach((c, i) => assert.deepEqual(c.flat().map((x) => E.toHex(x.alpha.toBytes()) + E.toHex(x.beta.toBytes())),
    E.ballotCiphertexts(ballots[i]).flat().map((x) => E.toHex(x.alpha.toBytes()) + E.toHex(x.beta.toBytes()))));
});

test('a batch names exactly the ballots whose proofs fail', () => {
  const clone = (b) => structuredClone(b);
  const bad = ballots.map(clone);
  // 3: a response z changed (decodes, an equation fails: found only by the MSM).
  const p = bad[3].questions[0].selections[1].proof;
  p[127] = 0; p[96] ^= 1;
  // 5: the sum proof's commitment A replaced by another ballot's.
  bad[5].questions[1].sumProof.set(ballots[6].questions[1].sumProof.subarray(0, 32), 0);
  // 8: a selection's ciphertext swapped with another ballot's (challenge fails).
  bad[8].questions[1].selections[2] = ballots[9].questions[1].selections[2];
  // 10: a proof that does not decode.
  bad[10].questions[0].sumProof = flip(bad[10].questions[0].sumProof, 0, 0xff);
  const out = V.batchVerifyBallots(manifest, mh, bad);
  assert.deepEqual(out.bad, [3, 5, 8, 10]);
  for (const i of out.bad) {
    assert.equal(out.cts[i], null);
    assert.equal(E.verifyBallot(manifest, mh, bad[i]), false, `ballot ${i} verifies alone`);
  }
  for (let i = 0; i < bad.length; i++) if (!out.bad.includes(i)) assert.ok(E.verifyBallot(manifest, mh, bad[i]));
});
