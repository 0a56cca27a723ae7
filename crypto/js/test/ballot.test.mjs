// Ballot encryption, encodings, proofs, tracker and audit (protocol §4) on JS-made ballots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { E, decryptSmall, flip, testManifest } from '../testlib/helpers.mjs';

const fx = await testManifest([
  { id: 'strike', text: 'Strike?', options: [{ id: 'yes', label: 'Yes' }, { id: 'no', label: 'No' }], min: 1, max: 1 },
  { id: 'board', text: 'Elect two', options: ['a', 'b', 'c', 'd'].map((id) => ({ id, label: id.toUpperCase() })), min: 0, max: 2 },
]);
const { manifest, hash: mh } = fx;
const choices = [[1, 0], [0, 1, 1, 0]];
const { ballot, nonces } = E.encryptBallot(manifest, mh, 0, choices);
const bytes = E.encodeBallot(ballot);

test('test manifest parses and hashes like canonical_json', async () => {
  const p = await E.parseManifest(JSON.stringify(manifest, null, 2));
  assert.equal(E.toHex(p.hash), E.toHex(mh));
  assert.equal(p.canonical, E.canonicalize(JSON.stringify(manifest)));
});

test('binary layout and size follow §4.2', () => {
  // 1 + 32 + 2 + 2 + Σ_q (2 + no·(64 + 256) + (max−min+1)·128)
  assert.equal(bytes.length, 37 + (2 + 2 * 320 + 128) + (2 + 4 * 320 + 3 * 128));
  assert.equal(bytes[0], 1);
  assert.deepEqual(bytes.subarray(1, 33), mh);
});

test('JS ballot verifies, decodes and re-encodes identically (binary and JSON)', () => {
  const d = E.decodeBallot(manifest, mh, bytes);
  assert.equal(E.verifyBallot(manifest, mh, d), true);
  assert.deepEqual(E.encodeBallot(d), bytes);
  const j = JSON.stringify(E.ballotToJSON(d));
  const d2 = E.ballotFromJSON(manifest, mh, j);
  assert.deepEqual(E.encodeBallot(d2), bytes);
  assert.equal(JSON.stringify(E.ballotToJSON(d2)), j);
});

test('ciphertexts decrypt to the choices', () => {
  E.ballotCiphertexts(ballot).forEach((q, qi) => q.forEach((ct, oi) => assert.equal(decryptSmall(fx.x, ct.alpha, ct.beta), choices[qi][oi])));
});

test('tracker and short code', () => {
  const T = E.tracker(mh, bytes);
  assert.equal(T.length, 32);
  assert.match(E.shortCode(T), /^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
  assert.equal(E.shortCode(new Uint8Array(10)), '0000-0000-0000-0000');
  assert.equal(E.shortCode(new Uint8Array(10).fill(255)), 'ZZZZ-ZZZZ-ZZZZ-ZZZZ');
  // 0x08 = 00001 000…: the first character is 1.
  assert.equal(E.shortCode(Uint8Array.of(0x08, 0, 0, 0, 0, 0, 0, 0, 0, 1)), '1000-0000-0000-0001');
});

test('Benaloh audit: revealed nonces and choices match; anything else does not', () => {
  const rec = E.auditRecord(choices, nonces);
  assert.equal(E.checkAudit(manifest, ballot, rec.choices, rec.nonces), true);
  assert.equal(E.checkAudit(manifest, ballot, choices, nonces), true);
  assert.equal(E.checkAudit(manifest, ballot, [[0, 1], choices[1]], nonces), false);
  const n2 = nonces.map((q) => q.slice());
  n2[1][2] += 1n;
  assert.equal(E.checkAudit(manifest, ballot, choices, n2), false);
});

test('tamper: every single-bit flip in the proofs and ciphertexts is caught', () => {
  // One bit in each 32-byte field of the first selection, its proof and the sum proof.
  const q0 = 37 + 2;
  const offsets = [];
  for (let o = q0; o < q0 + 320; o += 32) offsets.push(o, o + 17);
  const sum0 = q0 + 2 * 320;
  for (let o = sum0; o < sum0 + 128; o += 32) offsets.push(o + 5);
  for (const o of offsets) {
    const bad = flip(bytes, o);
    let ok;
    try {
      ok = E.verifyBallot(manifest, mh, E.decodeBallot(manifest, mh, bad));
    } catch {
      ok = false; // non-canonical encodings fail decoding
    }
    assert.equal(ok, false, `flip at ${o}`);
  }
});

test('tamper: proofs are bound to manifest, key, style, question and option', () => {
  const sel = ballot.questions[0].selections[0];
  const ct = { alpha: E.decodeElement(sel.alpha), beta: E.decodeElement(sel.beta, true) };
  const K = E.electionKey(manifest);
  const ctx = { manifestHash: mh, K, style: 0, question: 0, option: 0 };
  assert.equal(E.verifyRange(ctx, [0, 1], ct, sel.proof), true);
  assert.equal(E.verifyRange({ ...ctx, manifestHash: flip(mh, 0) }, [0, 1], ct, sel.proof), false);
  assert.equal(E.verifyRange({ ...ctx, K: K.add(E.G) }, [0, 1], ct, sel.proof), false);
  assert.equal(E.verifyRange({ ...ctx, style: 1 }, [0, 1], ct, sel.proof), false);
  assert.equal(E.verifyRange({ ...ctx, question: 1 }, [0, 1], ct, sel.proof), false);
  assert.equal(E.verifyRange({ ...ctx, option: 1 }, [0, 1], ct, sel.proof), false);
  assert.equal(E.verifyRange(ctx, [1, 0], ct, sel.proof), false);
  assert.equal(E.verifyRange(ctx, [0, 1], { alpha: ct.alpha, beta: ct.beta.add(E.G) }, sel.proof), false);
  // Swapping the two selections' proofs fails.
  assert.equal(E.verifyRange(ctx, [0, 1], ct, ballot.questions[0].selections[1].proof), false);
  // Truncated or too long.
  assert.equal(E.verifyRange(ctx, [0, 1], ct, sel.proof.subarray(0, 255)), false);
});

test('prover refuses values outside the range; encryptBallot refuses bad choices', () => {
  const K = E.electionKey(manifest);
  const r = E.randomScalar();
  const ct = E.encrypt(K, 2, r);
  assert.throws(() => E.proveRange({ manifestHash: mh, K, style: 0, question: 0, option: 0 }, [0, 1], ct, 2, r));
  assert.throws(() => E.encryptBallot(manifest, mh, 0, [[1, 1], [0, 0, 0, 0]])); // above max
  assert.throws(() => E.encryptBallot(manifest, mh, 0, [[0, 0], [0, 0, 0, 0]])); // below min
  assert.throws(() => E.encryptBallot(manifest, mh, 0, [[2, 0], [0, 0, 0, 0]]));
  assert.throws(() => E.encryptBallot(manifest, mh, 1, choices)); // no style 1
  assert.throws(() => E.encryptBallot(manifest, mh, 0, [[1, 0]]));
});

test('a forged proof for an out-of-range value does not verify', () => {
  // Honest proof machinery on m = 2 with V = [0, 1, 2], checked against V = [0, 1].
  const K = E.electionKey(manifest);
  const r = E.randomScalar();
  const ct = E.encrypt(K, 2, r);
  const ctx = { manifestHash: mh, K, style: 0, question: 0, option: 0 };
  const p3 = E.proveRange(ctx, [0, 1, 2], ct, 2, r);
  assert.equal(E.verifyRange(ctx, [0, 1, 2], ct, p3), true);
  assert.equal(E.verifyRange(ctx, [0, 1], ct, p3.subarray(0, 256)), false);
  assert.equal(E.verifyRange(ctx, [0, 1], ct, p3.subarray(128)), false);
});

test('decoder rejects every malformed ballot (§4.2)', () => {
  const dec = (b) => E.decodeBallot(manifest, mh, b);
  assert.throws(() => dec(flip(bytes, 0, 3)), /version/); // version 2
  assert.throws(() => dec(flip(bytes, 5)), /manifest/);
  assert.throws(() => dec(flip(bytes, 34)), /style/); // style 1
  assert.throws(() => dec(flip(bytes, 36)), /questions/); // nq 3
  assert.throws(() => dec(flip(bytes, 38)), /options/); // no 3
  assert.throws(() => dec(bytes.subarray(0, bytes.length - 1)), /truncated/);
  assert.throws(() => dec(E.fromHex(E.toHex(bytes) + '00')), /trailing/);
  const idAlpha = Uint8Array.from(bytes);
  idAlpha.fill(0, 39, 71);
  assert.throws(() => dec(idAlpha), /identity/);
  const nonCanon = Uint8Array.from(bytes);
  nonCanon.fill(0xff, 39, 71);
  assert.throws(() => dec(nonCanon), /non-canonical/);
  const bigScalar = Uint8Array.from(bytes);
  bigScalar.fill(0xff, 39 + 64 + 64, 39 + 64 + 96); // c_0 of the first proof
  assert.throws(() => dec(bigScalar), /non-canonical/);
  assert.throws(() => dec(new Uint8Array(64 * 1024 + 1)), /too large/);
  // JSON: unknown fields, uppercase hex.
  const j = E.ballotToJSON(ballot);
  assert.throws(() => E.ballotFromJSON(manifest, mh, { ...j, extra: 1 }), /unknown/);
  const j2 = structuredClone(j);
  j2.questions[0].selections[0].alpha = j2.questions[0].selections[0].alpha.toUpperCase();
  assert.throws(() => E.ballotFromJSON(manifest, mh, j2), /hex/);
  const j3 = structuredClone(j);
  j3.questions[0].selections[0].extra = '';
  assert.throws(() => E.ballotFromJSON(manifest, mh, j3), /unknown/);
});

test('homomorphic tally: sums of JS ballots decrypt to the counts', () => {
  const all = [choices, [[0, 1], [1, 0, 0, 1]], [[1, 0], [0, 0, 0, 0]]];
  const ballots = all.map((c) => E.encryptBallot(manifest, mh, 0, c).ballot);
  const sums = E.sumBallots(ballots);
  sums.forEach((q, qi) => q.forEach((ct, oi) => {
    const count = all.reduce((a, c) => a + c[qi][oi], 0);
    const xAlpha = ct.alpha.multiply(fx.x);
    assert.equal(E.checkCount(ct.beta, xAlpha, count), true);
    assert.equal(E.checkCount(ct.beta, xAlpha, count + 1), false);
    assert.equal(E.decryptCount(ct.beta, xAlpha, 10), count);
  }));
});

test('warmUp prepares without side effects on results', async () => {
  const key = await E.importIssuerKey(manifest.styles[0].issuer_key);
  await E.warmUp(manifest, key);
  await E.warmUp(manifest);
  const { ballot: b } = E.encryptBallot(manifest, mh, 0, choices);
  assert.equal(E.verifyBallot(manifest, mh, b), true);
});
