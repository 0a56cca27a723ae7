// Ranked ballots (protocol §9.1) and the proof of shuffle (§9.2–9.4) in
// JavaScript (src/ranked.mjs, src/shuffle.mjs through the shipped bundle
// dist/eballot-ranked.min.js) against the Go vectors ranked_v1.json and
// shuffle_v1.json; the JS → Go vectors js_ranked_v1.json (checked in Go by
// crypto/ranked/js_interop_test.go) are consistent on the JS side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { E as Y, JS_DIR, hex, need } from '../testlib/helpers.mjs';

const E = await import(join(JS_DIR, 'dist', 'eballot-ranked.min.js'));

function goContest(t) {
  const v = need(t, 'ranked_v1.json');
  if (!v) return null;
  const c = {
    manifestHash: hex(v.manifest_hash), K: E.decodeElement(hex(v.election_key)), index: v.contest.index,
    styles: v.contest.styles, candidates: v.contest.candidates, minRanked: v.contest.min_ranked, maxRanked: v.contest.max_ranked,
  };
  return { v, c, x: E.decodeScalar(hex(v.election_secret_key)) };
}

const scalars = (hs) => hs.map((h) => E.decodeScalar(hex(h)));
// The rank a ciphertext encrypts, found by trial (0 … 64) with the test-only secret key x.
function decryptRank(x, ct) {
  const M = ct.beta.subtract(ct.alpha.multiply(x));
  for (let m = 0, P = E.G.subtract(E.G); m <= 64; m++, P = P.add(E.G)) if (M.equals(P)) return m;
  return -1;
}
const ranksOf = (x, b) => b.ranks.map((r) => decryptRank(x, r));

function kindOf(c, bytes) {
  try {
    return E.verifyRankedBallot(c, E.decodeRankedBallot(c, bytes)) === null ? 'ok' : 'invalid_ranking';
  } catch (e) {
    return e.kind ?? `untyped: ${e.message}`;
  }
}

test('ranked_v1: Go ballots decode, verify, re-encode identically, open under their audit and decrypt to their ranks', (t) => {
  const f = goContest(t);
  if (!f) return;
  const { v, c, x } = f;
  assert.equal(E.rankedBallotSize(c), v.contest.ballot_size);
  assert.ok(v.valid.length > 0);
  for (const vb of v.valid) {
    const d = E.decodeRankedBallot(c, hex(vb.ballot));
    assert.equal(d.style, vb.style, vb.name);
    assert.equal(E.verifyRankedBallot(c, d), null, vb.name);
    assert.equal(E.toHex(E.encodeRankedBallot(c, d)), vb.ballot, vb.name);
    const opening = { ranking: vb.ranking, usedNonces: scalars(vb.used_nonces), rankNonces: scalars(vb.rank_nonces) };
    assert.equal(E.checkRankedAudit(c, d, opening), true, vb.name);
    if (vb.ranking.length > 1) {
      const swapped = [vb.ranking[1], vb.ranking[0], ...vb.ranking.slice(2)];
      assert.equal(E.checkRankedAudit(c, d, { ...opening, ranking: swapped }), false, `${vb.name} (swapped audit)`);
    }
    assert.deepEqual(ranksOf(x, d), vb.ranks, vb.name);
  }
});

test('ranked_v1: every invalid Go ballot is rejected with the same error kind as Go', (t) => {
  const f = goContest(t);
  if (!f) return;
  assert.ok(f.v.invalid.length > 0);
  for (const vi of f.v.invalid) assert.equal(kindOf(f.c, hex(vi.ballot)), vi.error, vi.name);
});

test('ranked: JS encrypts every ranking of a small contest; it verifies, opens, decrypts, and tampering is named', (t) => {
  const f = goContest(t);
  if (!f) return;
  const c = { ...f.c, index: 3, styles: 1, candidates: 3, minRanked: 0, maxRanked: 3 };
  const rankings = [[], [0], [1], [2], [0, 1], [2, 0], [1, 2], [0, 1, 2], [2, 1, 0], [1, 0, 2]];
  for (const ranking of rankings) {
    const { ballot, opening } = E.encryptRanking(c, 0, ranking);
    assert.equal(E.verifyRankedBallot(c, ballot), null, `[${ranking}]`);
    const bytes = E.encodeRankedBallot(c, ballot);
    assert.equal(bytes.length, E.rankedBallotSize(c));
    const d = E.decodeRankedBallot(c, bytes);
    assert.equal(E.verifyRankedBallot(c, d), null, `[${ranking}] decoded`);
    assert.equal(E.checkRankedAudit(c, d, opening), true);
    const want = [0, 0, 0];
    ranking.forEach((cand, p) => { want[cand] = p + 1; });
    assert.deepEqual(ranksOf(f.x, d), want, `[${ranking}]`);
    // Swapping two candidates' encrypted ranks breaks the ranking proof (t_1: the statement changed).
    const sw = { ...d, ranks: [d.ranks[1], d.ranks[0], d.ranks[2]] };
    assert.match(E.verifyRankedBallot(c, sw), /not a permutation/);
  }
  const { ballot } = E.encryptRanking(c, 0, [0, 1]);
  // Another contest index, or another style's statement: every proof is bound to it.
  assert.match(E.verifyRankedBallot({ ...c, index: 4 }, ballot), /position 1 in use/);
  assert.match(E.verifyRankedBallot({ ...c, styles: 2 }, { ...ballot, style: 1 }), /position 1 in use/);
});

test('ranked: a ranking that does not fit the contest is refused before encryption', (t) => {
  const f = goContest(t);
  if (!f) return;
  const { c } = f; // 4 candidates, 1 to 3 preferences, 2 styles
  for (const [ranking, style] of [[[], 0], [[0, 1, 2, 3], 0], [[0, 0], 0], [[4], 0], [[-1], 0], [[1.5], 0], [[0], 2], ['0', 0]]) {
    assert.throws(() => E.encryptRanking(c, style, ranking), (e) => e.kind === 'bad_choice', JSON.stringify(ranking));
  }
  assert.throws(() => E.encryptRanking({ ...c, candidates: 65, maxRanked: 3 }, 0, [0]));
  assert.throws(() => E.encryptRanking({ ...c, minRanked: 4 }, 0, [0]));
});

test('js_ranked_v1: the committed JS → Go vectors are consistent (JS side)', (t) => {
  const v = need(t, 'js_ranked_v1.json');
  const f = goContest(t);
  if (!v || !f) return;
  assert.equal(v.election_key, f.v.election_key);
  assert.ok(v.contests.length >= 2);
  for (const vc of v.contests) {
    const c = { ...f.c, index: vc.index, styles: vc.styles, candidates: vc.candidates, minRanked: vc.min_ranked, maxRanked: vc.max_ranked };
    assert.equal(E.rankedBallotSize(c), vc.ballot_size);
    for (const vb of vc.valid) {
      const d = E.decodeRankedBallot(c, hex(vb.ballot));
      assert.equal(E.verifyRankedBallot(c, d), null, vb.name);
      assert.equal(E.checkRankedAudit(c, d, { ranking: vb.ranking, usedNonces: scalars(vb.used_nonces), rankNonces: scalars(vb.rank_nonces) }), true);
    }
    for (const vi of vc.invalid) assert.equal(kindOf(c, hex(vi.ballot)), vi.error, vi.name);
  }
});

test('shuffle_v1: the Go mix and cascade verify in JS; every invalid case is refused', (t) => {
  const v = need(t, 'shuffle_v1.json');
  if (!v) return;
  assert.equal(E.toHex(E.encodeElement(E.generator(v.label, 0))), v.generators[0]);
  assert.equal(E.toHex(E.encodeElement(E.generator(v.label, 0xffffffff))), v.generators[1]);
  const K = E.decodeElement(hex(v.election_key));
  const st = { K, label: v.label, context: hex(v.context) };
  const inp = E.parseList(hex(v.input));
  const out = E.parseList(hex(v.output));
  assert.equal(E.verifyShuffle(st, inp, out, E.decodeShuffleProof(hex(v.proof))), null);
  let prev = inp;
  v.cascade.forEach((m, round) => { // context of round t: base ‖ u16 t (§9.5)
    const o = E.parseList(hex(m.output));
    const rst = { ...st, context: Uint8Array.of(...st.context, round >> 8, round & 255) };
    assert.equal(E.verifyShuffle(rst, prev, o, E.decodeShuffleProof(hex(m.proof))), null, `round ${round}`);
    assert.notEqual(E.verifyShuffle(st, prev, o, E.decodeShuffleProof(hex(m.proof))), null, `round ${round} without its number`);
    prev = o;
  });
  assert.ok(v.invalid.length > 0);
  for (const c of v.invalid) {
    let kind;
    try {
      const cst = {
        K: c.election_key ? E.decodeElement(hex(c.election_key)) : K, label: c.label || v.label,
        context: c.context ? hex(c.context) : st.context,
      };
      const ci = c.input ? E.parseList(hex(c.input)) : inp;
      const co = c.output ? E.parseList(hex(c.output)) : out;
      const p = E.decodeShuffleProof(hex(c.proof || v.proof));
      const bad = E.verifyShuffle(cst, ci, co, p);
      kind = bad === null ? 'ok' : bad === 'shape' ? 'shape' : 'invalid_proof';
    } catch {
      kind = 'malformed';
    }
    assert.equal(kind, c.error, c.name);
  }
});

test('ranked: the yes/no bundle carries no ranked code; dist/eballot-ranked.min.js is up to date', (t) => {
  assert.equal(Y.encryptRanking, undefined);
  assert.equal(typeof E.encryptBallot, 'function'); // the ranked bundle is a superset
  const esbuild = join(JS_DIR, 'node_modules', '.bin', 'esbuild');
  assert.ok(existsSync(esbuild), 'node_modules absent: run `make js-deps`');
  const script = JSON.parse(readFileSync(join(JS_DIR, 'package.json'), 'utf8')).scripts['build-ranked'];
  const dir = mkdtempSync(join(tmpdir(), 'eballot-ranked-'));
  try {
    const outFile = join(dir, 'out.min.js');
    const args = script.split(/\s+/).slice(1).map((a) => (a.startsWith('--outfile=') ? `--outfile=${outFile}` : a));
    execFileSync(esbuild, args, { cwd: JS_DIR, stdio: 'pipe' });
    assert.ok(readFileSync(outFile).equals(readFileSync(join(JS_DIR, 'dist', 'eballot-ranked.min.js'))),
      'dist/eballot-ranked.min.js is stale: run `make js` and commit it');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
