// Re-running a published ranked count in the verifier bundle
// (src/rankedcount.mjs: the ballots' proofs, every shuffle of the cascade,
// the decryptions and the count) on the files `scrutineer ranked` publishes, in
// crypto/testdata/ranked_count_v1/ (24 ballots of 4 candidates, 2 places,
// ERS97, two shuffles, trustees 1 and 3 decrypting; the Go side checks the
// same folder with `scrutineer ranked count --expect`,
// cmd/scrutineer TestRankedCountPublished): the recount reproduces the
// published count and every change to the files is named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JS_DIR, TESTDATA } from '../testlib/helpers.mjs';

const V = await import(join(JS_DIR, 'dist', 'eballot-verifier.min.js'));
const D = join(TESTDATA, 'ranked_count_v1');
const bin = (f) => new Uint8Array(readFileSync(join(D, f)));
const files = () => ({
  contest: readFileSync(join(D, 'contest.json'), 'utf8'),
  mixes: [{ list: bin('mix-1.list'), proof: bin('mix-1.proof') }, { list: bin('mix-2.list'), proof: bin('mix-2.proof') }],
  decryptions: [bin('decrypt-1.bin'), bin('decrypt-3.bin')], result: readFileSync(join(D, 'result.json'), 'utf8'),
});
const checks = (r) => r.failures.map((f) => f.check);
const key = (r) => JSON.stringify(r);

test('ranked_count_v1: the recount reproduces the published count; the mixed ballots are the rankings cast', async () => {
  const r = await V.recountRanked(files());
  assert.deepEqual(r.failures, []);
  assert.equal(r.ok, true);
  const cast = JSON.parse(readFileSync(join(D, 'rankings.json'), 'utf8')).map(key).sort();
  assert.deepEqual(r.rankings.map(key).sort(), cast);
  assert.equal(JSON.stringify(r.count), JSON.stringify(r.result.count));
  assert.deepEqual(r.count.elected, [0, 2]);
  assert.ok(r.count.stages.some((s) => (s.notes ?? []).some((n) => n.includes('by lot'))), 'the fixture has a tie settled by lot');
});

test('ranked_count_v1: a published count that differs is named by stage, what and candidate', async () => {
  const f = files();
  const res = JSON.parse(f.result);
  res.count.stages[1].votes[1] = '6.00';
  res.count.stages[2].notes = [];
  res.count.elected = [0, 1];
  const r = await V.recountRanked({ ...f, result: JSON.stringify(res) });
  assert.equal(r.ok, false);
  const p = r.failures.map((x) => x.params);
  assert.ok(p.some((x) => x.stage === 2 && x.what === 'votes' && x.candidate === 'Candidate B' && x.published === '6.00' && x.recounted === '5.99'), JSON.stringify(p));
  assert.ok(p.some((x) => x.stage === 3 && x.what === 'notes'));
  assert.ok(p.some((x) => x.what === 'elected' && x.published.includes('Candidate B') && x.recounted.includes('Candidate C')));
  // A stage left out, and another lot.
  const cut = JSON.parse(f.result);
  cut.count.stages.pop();
  cut.lot = [0, 1, 2, 3];
  const r2 = await V.recountRanked({ ...f, result: JSON.stringify(cut) });
  assert.ok(r2.failures.some((x) => x.params.what === 'stage' && x.params.published === 'missing'));
  assert.ok(checks(r2).includes('ranked.lot'));
});

test('ranked_count_v1: a wrong decryption is named (trustee, row, column); too few left is named', async () => {
  const f = files();
  // Trustee 3's first part starts at 8 + 4 (after its length); its D_0 at 12 + 40 (version, kind,
  // manifest hash, u16 trustee, u32 count). Replace D_0 by D_1: a valid point, a false proof.
  const d3b = f.decryptions[1].slice();
  d3b.set(f.decryptions[1].subarray(12 + 40 + 128, 12 + 40 + 160), 12 + 40);
  const r = await V.recountRanked({ ...f, decryptions: [f.decryptions[0], d3b] });
  assert.deepEqual(r.failures.filter((x) => x.check === 'ranked.decryption').map((x) => x.params), [{ trustee: 3, row: 0, column: 0, detail: 'row 0, column 0' }]);
  assert.ok(checks(r).includes('ranked.threshold'));
  assert.equal(r.ok, false);
});

test('ranked_count_v1: the last mixer\'s list replaced by the first\'s is named: mixer 2, the final list, the decryptions', async () => {
  const f = files();
  const r = await V.recountRanked({ ...f, mixes: [f.mixes[0], { ...f.mixes[1], list: bin('mix-1.list') }] });
  assert.equal(r.ok, false);
  assert.deepEqual(r.failures.filter((x) => x.check === 'ranked.shuffle').map((x) => x.params.mixer), [2]);
  assert.ok(checks(r).includes('ranked.final_list'));
  assert.ok(checks(r).includes('ranked.decryption'));
});

test('ranked_count_v1: a shuffle left out is named', async () => {
  const f = files();
  const r = await V.recountRanked({ ...f, mixes: [f.mixes[1]] });
  assert.equal(r.ok, false);
  assert.deepEqual(r.failures.filter((x) => x.check === 'ranked.shuffle').map((x) => x.params.mixer), [1]);
  assert.ok(checks(r).includes('ranked.shuffles'));
  await assert.rejects(V.recountRanked({ ...f, mixes: [] }), /no shuffle/);
});

test('ranked_count_v1: contest files are read strictly', () => {
  const c = JSON.parse(files().contest);
  for (const bad of [{ ...c, version: 2 }, { ...c, extra: 1 }, { ...c, rule: 'borda' }, { ...c, seats: 4 }, { ...c, manifest_hash: 'AB' },
    { ...c, min_ranked: 3, max_ranked: 2 }, { ...c, independent_person: { name: '' } }]) {
    assert.throws(() => V.parseRankedContest(JSON.stringify(bad)), JSON.stringify(Object.keys(bad)));
  }
  assert.deepEqual(V.packing(4), { d: 4, w: 1 });
  assert.deepEqual(V.packing(10), { d: 5, w: 2 });
});

test('decodeRanking: Go\'s decode vectors (ranked_v1.json) and every kind of 10-candidate ranking, whatever the points\' representatives', (t) => {
  const v = JSON.parse(readFileSync(join(TESTDATA, 'ranked_v1.json'), 'utf8'));
  const c4 = { candidates: v.contest.candidates, minRanked: v.contest.min_ranked, maxRanked: v.contest.max_ranked };
  assert.ok(v.decode.length > 0);
  for (const d of v.decode) {
    const pts = d.points.map((h) => V.elementFromHex(h));
    if (d.error) assert.throws(() => V.decodeRanking(c4, pts), d.name);
    else assert.deepEqual(V.decodeRanking(c4, pts), d.ranking, d.name);
  }
  const n = 10;
  const c10 = { candidates: n, minRanked: 0, maxRanked: n };
  const { d, w } = V.packing(n);
  const pack = (ranking) => {
    const ranks = new Array(n).fill(0);
    ranking.forEach((cand, p) => { ranks[cand] = p + 1; });
    return Array.from({ length: w }, (_, m) => {
      let val = 0n;
      for (let cand = Math.min(n, (m + 1) * d) - 1; cand >= m * d; cand--) val = val * BigInt(n + 1) + BigInt(ranks[cand]);
      return val;
    });
  };
  const started = performance.now();
  for (const ranking of [[], [9], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0], [4, 7, 1], [5, 0]]) {
    const vals = pack(ranking);
    // m·G made three ways: by multiplication, decoded from bytes, and by sums (other Edwards representatives).
    const ways = [
      vals.map((x) => (x === 0n ? V.G.subtract(V.G) : V.G.multiply(x))),
      vals.map((x) => V.elementFromHex(Buffer.from((x === 0n ? V.G.subtract(V.G) : V.G.multiply(x)).toBytes()).toString('hex'))),
      vals.map((x) => V.G.multiply(x + 7n).subtract(V.G.multiply(7n))),
    ];
    for (const pts of ways) assert.deepEqual(V.decodeRanking(c10, pts), ranking, JSON.stringify(ranking));
  }
  t.diagnostic(`10 candidates: table of ${(n + 1) ** d} points built and 18 rows decoded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  // Not rankings: a repeated rank, a gap, a value beyond the table.
  assert.throws(() => V.decodeRanking(c10, [V.G.multiply(2n), V.G.multiply(2n)]), /repeated or out of range/);
  assert.throws(() => V.decodeRanking(c10, [V.G.multiply(2n), V.G.subtract(V.G)]), /repeated or out of range/);
  assert.throws(() => V.decodeRanking(c10, [V.G.multiply(11n ** 5n), V.G.subtract(V.G)]), /not a packed rank vector/);
  assert.throws(() => V.decodeRanking({ ...c10, minRanked: 2 }, [V.G, V.G.subtract(V.G)]), /preferences/);
});

test('ranked_tamper_v1.json (shared with Go, crypto/ranked TestTamperVectors): each tampered ballot, shuffle and decryption is named', async () => {
  const v = JSON.parse(readFileSync(join(TESTDATA, 'ranked_tamper_v1.json'), 'utf8'));
  assert.equal(v.folder, 'ranked_count_v1');
  assert.ok(v.cases.length >= 5);
  const hex = (h) => new Uint8Array(Buffer.from(h, 'hex'));
  for (const tc of v.cases) {
    const file = (name) => (tc.files[name] ? hex(tc.files[name]) : bin(name));
    const contest = JSON.parse(readFileSync(join(D, 'contest.json'), 'utf8'));
    for (const [k, h] of Object.entries(tc.ballots)) contest.ballots[Number(k) - 1] = h;
    const r = await V.recountRanked({
      contest: JSON.stringify(contest),
      mixes: [1, 2].map((t) => ({ list: file(`mix-${t}.list`), proof: file(`mix-${t}.proof`) })),
      decryptions: [file('decrypt-1.bin'), file('decrypt-3.bin')],
      result: readFileSync(join(D, 'result.json'), 'utf8'),
    });
    const of = (check) => r.failures.filter((f) => f.check === check).map((f) => f.params);
    assert.deepEqual({
      set_aside: of('ranked.ballot').map((p) => p.ballot),
      shuffles: of('ranked.shuffle').map((p) => p.mixer),
      decryptions: of('ranked.decryption').map(({ trustee, row, column }) => ({ trustee, row, column })),
    }, tc.expect, tc.name);
    assert.equal(r.ok, tc.name === 'honest', `${tc.name}: ${JSON.stringify(r.failures.slice(0, 5))}`);
    if (tc.expect.set_aside.length > 0) {
      assert.match(of('ranked.ballot')[0].detail, /^invalid ranking: /, tc.name);
      assert.ok(r.failures.some((f) => f.check === 'ranked.spoilt'), `${tc.name}: the published result set none aside`);
    }
  }
});

test('batchVerifyRanges: the ballots\' range proofs pass together, and any one false proof fails the batch as verifyRange fails it', () => {
  const c = V.parseRankedContest(files().contest);
  const rc = { manifestHash: c.manifestHash, K: c.pub.K, index: c.index, styles: c.styles, candidates: c.candidates, minRanked: c.minRanked, maxRanked: c.maxRanked };
  const items = c.ballotsHex.flatMap((h) => V.rankedRanges(rc, V.decodeRankedBallot(rc, new Uint8Array(Buffer.from(h, 'hex')))));
  assert.equal(items.length, 24 * 7, '4 positions and 3 steps a ballot');
  assert.equal(V.batchVerifyRanges(rc.K, items), true);
  assert.equal(V.batchVerifyRanges(rc.K, []), true);
  const at = 37;
  const it = items[at];
  const tampered = [
    // z of branch 0 changed (still canonical): an equation is false, the challenges still sum.
    (() => { const p = it.proof.slice(); p[96] ^= 1; return { ...it, proof: p, branches: undefined }; })(),
    // the branches' challenges swapped: the sum holds, the equations do not.
    (() => { const p = it.proof.slice(); p.set(it.proof.subarray(64, 96), 128 + 64); p.set(it.proof.subarray(128 + 64, 128 + 96), 64); return { ...it, proof: p, branches: undefined }; })(),
    // another option's context, another ciphertext.
    { ...it, ctx: { ...it.ctx, option: it.ctx.option + 1 } },
    { ...it, ct: items[at + 1].ct },
    // proof bytes that do not decode, and of the wrong length.
    (() => { const p = it.proof.slice(); p.fill(255, 96, 128); return { ...it, proof: p, branches: undefined }; })(),
    { ...it, proof: it.proof.subarray(0, 128), branches: undefined },
  ];
  for (const [k, bad] of tampered.entries()) {
    assert.equal(V.verifyRange(bad.ctx, bad.V, bad.ct, bad.proof), false, `case ${k}: verifyRange accepts it`);
    const all = items.slice();
    all[at] = bad;
    assert.equal(V.batchVerifyRanges(rc.K, all), false, `case ${k}: the batch passes`);
  }
});
