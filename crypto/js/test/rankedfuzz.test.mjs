// Random mutations of valid encodings (a ranked ballot, a list, a proof of
// shuffle, a trustee's decryption of a mixed list) are refused by the JS
// decoders with an Error, or — a ballot that still decodes — fail
// verification; never anything else (no crash, no acceptance). Seeded, so a
// failure reproduces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JS_DIR, TESTDATA, hex } from '../testlib/helpers.mjs';

const R = await import(join(JS_DIR, 'dist', 'eballot-ranked.min.js'));
const V = await import(join(JS_DIR, 'dist', 'eballot-verifier.min.js'));

function rng(seed) {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    return s % n;
  };
}

function mutate(b, r) {
  const c = Uint8Array.from(b);
  switch (r(4)) {
    case 0: c[r(c.length)] ^= 1 << r(8); return c;
    case 1: return c.subarray(0, r(c.length));
    case 2: return Uint8Array.from([...c, r(256)]);
    default: c.fill(r(256), r(c.length), r(c.length)); c[r(c.length)] ^= 0x80; return c;
  }
}

test('fuzz: mutated ranked ballots are refused by the decoder or the proofs', () => {
  const v = JSON.parse(readFileSync(join(TESTDATA, 'ranked_v1.json'), 'utf8'));
  const c = {
    manifestHash: hex(v.manifest_hash), K: R.decodeElement(hex(v.election_key)), index: v.contest.index,
    styles: v.contest.styles, candidates: v.contest.candidates, minRanked: v.contest.min_ranked, maxRanked: v.contest.max_ranked,
  };
  const base = hex(v.valid[1].ballot);
  const r = rng(26);
  let decoded = 0;
  for (let i = 0; i < 400; i++) {
    const m = mutate(base, r);
    if (m.length === base.length && m.every((x, k) => x === base[k])) continue;
    let d;
    try {
      d = R.decodeRankedBallot(c, m);
    } catch (e) {
      assert.ok(['malformed', 'wrong_manifest'].includes(e.kind), `mutation ${i}: ${e.message}`);
      continue;
    }
    if (decoded++ < 12) assert.notEqual(R.verifyRankedBallot(c, d), null, `mutation ${i} verifies`);
  }
});

test('fuzz: mutated lists, shuffle proofs and mixed-list decryptions throw Errors', () => {
  const s = JSON.parse(readFileSync(join(TESTDATA, 'shuffle_v1.json'), 'utf8'));
  const D = join(TESTDATA, 'ranked_count_v1');
  const cases = [
    [hex(s.input), (b) => V.parseList(b)],
    [hex(s.proof), (b) => V.decodeShuffleProof(b)],
    [new Uint8Array(readFileSync(join(D, 'decrypt-1.bin'))), (b) => V.decodeMixDecryption(b)],
  ];
  const r = rng(9);
  for (const [base, decode] of cases) {
    decode(base); // the valid encoding decodes
    for (let i = 0; i < 300; i++) {
      const m = mutate(base, r);
      try {
        decode(m);
      } catch (e) {
        assert.ok(e instanceof Error && /^eballot: /.test(e.message), e.message);
      }
    }
  }
});

test('fuzz: mutated version-2 ballots are refused by decodeBallotV2 (malformed, wrong_manifest) or by verifyBallotV2', () => {
  const mf = JSON.parse(readFileSync(join(TESTDATA, 'manifest_v2.json'), 'utf8'));
  const v = JSON.parse(readFileSync(join(TESTDATA, 'js_ballot2_v1.json'), 'utf8'));
  const mh = hex(mf.hash);
  const base = hex(v.valid[0].ballot);
  const r = rng(42);
  let decoded = 0;
  for (let i = 0; i < 300; i++) {
    const m = mutate(base, r);
    if (m.length === base.length && m.every((x, k) => x === base[k])) continue;
    let d;
    try {
      d = R.decodeBallotV2(mf.manifest, mh, m);
    } catch (e) {
      assert.ok(['malformed', 'wrong_manifest'].includes(e.kind), `mutation ${i}: ${e.message}`);
      continue;
    }
    if (decoded++ < 8) assert.ok(['bad_proof', 'invalid_ranking'].includes(R.verifyBallotV2(mf.manifest, mh, d)?.kind), `mutation ${i} verifies`);
  }
});
