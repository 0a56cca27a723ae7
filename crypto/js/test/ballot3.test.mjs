// Protocol 7 compact yes/no ballots (docs/protocol.md §4.2 version 3): the
// shared vectors crypto/testdata/ballot_v3.json (made by Go, checked by
// crypto/ballot TestV3Vectors too), and JS-made version-3 ballots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { E, TESTDATA, flip, hex } from '../testlib/helpers.mjs';
import { batchVerifyBallots } from '../src/batch.mjs';

// Missing vectors fail the test (they are committed with the code).
const v = JSON.parse(readFileSync(join(TESTDATA, 'ballot_v3.json'), 'utf8'));
const v1 = JSON.parse(readFileSync(join(TESTDATA, 'manifest_v1.json'), 'utf8'));
const { manifest } = v;
const mh = hex(v.manifest_hash);
const x = E.decodeScalar(hex(v1.election_secret_key));

const decodeVerify = (x) => {
  const b = x.format === 'json' ? E.ballotFromJSON(manifest, mh, JSON.stringify(x.json)) : E.decodeBallot(manifest, mh, hex(x.binary ?? ''));
  return E.verifyBallot(manifest, mh, b) ? 'ok' : 'bad_proof';
};
const kindOf = (x) => {
  try {
    return decodeVerify(x);
  } catch (e) {
    return e.kind;
  }
};

test('ballot_v3: the manifest hashes, sizes and versions as Go says', async () => {
  const p = await E.parseManifest(JSON.stringify(manifest));
  assert.equal(E.toHex(p.hash), v.manifest_hash);
  assert.equal(E.ballotSize(manifest), v.ballot_size);
  assert.equal(E.COMPACT_BASE, v.compact_base);
  assert.equal(E.ballotVersion(manifest), 3);
  assert.deepEqual(E.compactValues(0), [0, 1, 2 ** 24]);
});

test('ballot_v3: a compact question needs every style below 2^24 entitled, as crypto/manifest', async () => {
  const big = structuredClone(manifest);
  big.styles[big.styles.length - 1].entitled = 2 ** 24 - 1;
  await E.parseManifest(JSON.stringify(big));
  big.styles[big.styles.length - 1].entitled = 2 ** 24;
  await assert.rejects(E.parseManifest(JSON.stringify(big)), /questions\[0\]\.method.*at most 16777215/);
});

test('ballot_v3: every valid ballot decodes (with and without hints), verifies, re-encodes and opens by its audit', () => {
  assert.ok(v.valid.length > 0);
  for (const b of v.valid) {
    const bin = hex(b.binary);
    const d = E.decodeBallot(manifest, mh, bin);
    assert.equal(E.verifyBallot(manifest, mh, d), true, b.name);
    assert.deepEqual(E.encodeBallot(d), bin, b.name);
    assert.deepEqual(E.encodeBallot(E.decodeBallot(manifest, mh, bin, hex(b.hints))), bin, b.name);
    assert.equal(E.hintsSize(manifest), hex(b.hints).length);
    assert.equal(E.encodeBallotJSON(d), E.canonicalJSON(b.json), b.name);
    assert.deepEqual(E.encodeBallot(E.ballotFromJSON(manifest, mh, JSON.stringify(b.json))), bin, b.name);
    assert.equal(E.toHex(E.tracker(mh, bin)), b.tracker, b.name);
    assert.equal(E.shortCode(E.tracker(mh, bin)), b.short_code, b.name);
    assert.equal(E.checkAudit(manifest, d, b.audit.choices, b.audit.nonces), true, b.name);
    // Another answer with the same nonces does not open it.
    const other = b.audit.choices.map((q) => (q[0] ? [0, 1] : [1, 0]));
    assert.equal(E.checkAudit(manifest, d, other, b.audit.nonces), false, b.name);
  }
  const ds = v.valid.map((b) => E.decodeBallot(manifest, mh, hex(b.binary)));
  assert.deepEqual(batchVerifyBallots(manifest, mh, ds).bad, []);
});

test('ballot_v3: every invalid ballot is rejected with its kind, alone and in a batch', () => {
  assert.ok(v.invalid.length > 0);
  const good = E.decodeBallot(manifest, mh, hex(v.valid[0].binary));
  for (const b of v.invalid) {
    assert.equal(kindOf(b), b.error, `${b.name}: ${b.reason}`);
    if (b.error === 'bad_proof') {
      const d = b.format === 'json' ? E.ballotFromJSON(manifest, mh, JSON.stringify(b.json)) : E.decodeBallot(manifest, mh, hex(b.binary));
      assert.deepEqual(batchVerifyBallots(manifest, mh, [good, d, good]).bad, [1], b.name);
    }
  }
});

test('ballot_v3: the sums decrypt to yes + B·no', () => {
  const n = v.valid.length;
  for (const row of v.tally) {
    for (const c of row) {
      const alpha = E.decodeElement(hex(c.ciphertext).subarray(0, 32));
      const beta = E.decodeElement(hex(c.ciphertext).subarray(32), true);
      assert.deepEqual(E.decryptPair(beta, alpha.multiply(x), n, E.COMPACT_BASE), { yes: c.yes, no: c.no });
    }
  }
});

test('JS-made version-3 ballots: 448 + 320 bytes, verify, decrypt to 0, 1 or B; a wrong answer cannot be encrypted', () => {
  const K = E.electionKey(manifest);
  assert.ok(K);
  for (const choices of [[[1, 0], [1, 0]], [[0, 1], [0, 1]], [[1, 0], [0, 0]]]) {
    const { ballot, nonces } = E.encryptBallot(manifest, mh, 1, choices);
    const bin = E.encodeBallot(ballot);
    assert.equal(bin.length, v.ballot_size);
    assert.equal(bin[0], 3);
    const d = E.decodeBallot(manifest, mh, bin);
    assert.equal(E.verifyBallot(manifest, mh, d), true);
    const rec = E.auditRecord(choices, nonces);
    assert.equal(E.checkAudit(manifest, d, rec.choices, rec.nonces), true);
    E.ballotCiphertexts(d).forEach((q, qi) => {
      const want = choices[qi][0] ? { yes: 1, no: 0 } : choices[qi][1] ? { yes: 0, no: 1 } : { yes: 0, no: 0 };
      assert.deepEqual(E.decryptPair(q[0].beta, q[0].alpha.multiply(x), 1, E.COMPACT_BASE), want);
    });
    // Any flipped bit fails.
    for (const i of [0, 40, 37 + 10, 37 + 64 + 70, bin.length - 40]) {
      let bad;
      try {
        bad = !E.verifyBallot(manifest, mh, E.decodeBallot(manifest, mh, flip(bin, i)));
      } catch {
        bad = true;
      }
      assert.ok(bad, `byte ${i}`);
    }
  }
  assert.throws(() => E.encryptBallot(manifest, mh, 0, [[1, 1], [0, 0]]), /at most one/);
  assert.throws(() => E.encryptBallot(manifest, mh, 0, [[0, 0], [0, 0]]), /choose between 1 and 1/);
});

test('versions do not mix: a version-1 ballot is refused by name by a compact manifest', () => {
  const b1 = JSON.parse(readFileSync(join(TESTDATA, 'ballot_v1.json'), 'utf8')).valid[0];
  const bin = hex(b1.binary);
  bin.set(mh, 1);
  assert.throws(() => E.decodeBallot(manifest, mh, bin), /version 1, this manifest's ballots are version 3/);
});
